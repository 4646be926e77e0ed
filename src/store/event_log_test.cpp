// The delivery log and recovery sessions of the SQLite store: positions, order filters, bounds
// after pruning, commit-ordered hand-off, and sessions across a restart.
#include "store/sqlite_order_store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace fg::store {
namespace {

LogEntry Entry(const std::string& event, const std::string& order_id, int audience = 0) {
  LogEntry e;
  e.event = event;
  e.order_id = order_id;
  e.audience = audience;
  e.payload = "{}";
  return e;
}

std::vector<std::int64_t> Positions(const std::vector<LogEntry>& entries) {
  std::vector<std::int64_t> out;
  for (const auto& e : entries) out.push_back(e.pos);
  return out;
}

TEST(EventLog, PositionsGrowAndReadsFilterByOrder) {
  SqliteStore s(":memory:");
  std::vector<std::int64_t> seen;
  s.Transaction([&](Tx& tx) {
    for (const auto* order : {"a", "b", "a", ""}) {
      auto e = Entry("x", order, *order ? 0 : 1);
      tx.LogEvent(e);
      seen.push_back(e.pos);
    }
  });
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(Positions(s.ReadLog(0, std::nullopt, 100)), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(Positions(s.ReadLog(1, std::vector<std::string>{"a"}, 100)), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(Positions(s.ReadLog(0, std::vector<std::string>{"b", "a"}, 100)), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(Positions(s.ReadLog(0, std::nullopt, 2)), (std::vector<std::int64_t>{1, 2}));  // bounded reads
  EXPECT_EQ(s.LogBounds().head, 4);
  EXPECT_EQ(s.LogBounds().pruned_through, 0);
}

TEST(EventLog, AfterCommitRunsOnCommitOnlyAndInCommitOrder) {
  SqliteStore s(":memory:");
  std::vector<std::int64_t> handed;
  s.Transaction([&](Tx& tx) {
    auto e = Entry("x", "a");
    tx.LogEvent(e);
    tx.AfterCommit([&handed, pos = e.pos] { handed.push_back(pos); });
  });
  EXPECT_THROW(s.Transaction([&](Tx& tx) {
    auto e = Entry("x", "a");
    tx.LogEvent(e);
    tx.AfterCommit([&handed, pos = e.pos] { handed.push_back(pos); });
    throw std::runtime_error("rolled back");
  }),
               std::runtime_error);
  s.Transaction([&](Tx& tx) {
    auto e = Entry("x", "a");
    tx.LogEvent(e);
    tx.AfterCommit([&handed, pos = e.pos] { handed.push_back(pos); });
  });
  EXPECT_EQ(handed, (std::vector<std::int64_t>{1, 2}));  // the rolled-back one handed nothing, used no position
}

TEST(EventLog, PruningByAgeAndSizeMovesTheReplayFloor) {
  SqliteStore s(":memory:");
  s.Transaction([&](Tx& tx) {
    for (int i = 0; i < 10; ++i) {
      auto e = Entry("x", "a");
      tx.LogEvent(e);
    }
  });
  s.PruneLog(0, 4);  // keep the newest 4
  EXPECT_EQ(s.LogBounds().pruned_through, 6);
  EXPECT_EQ(Positions(s.ReadLog(0, std::nullopt, 100)), (std::vector<std::int64_t>{7, 8, 9, 10}));
  s.PruneLog(std::numeric_limits<std::int64_t>::max(), 100);  // everything is older than "now"
  const auto b = s.LogBounds();
  EXPECT_EQ(b.head, 10);
  EXPECT_EQ(b.pruned_through, 10);  // an offset below 10 can no longer be replayed
  s.Transaction([&](Tx& tx) {
    auto e = Entry("x", "a");
    tx.LogEvent(e);
    EXPECT_EQ(e.pos, 11);  // positions are never reused, even after the log emptied
  });
}

TEST(EventLog, SessionsSurviveARestartAndSettle) {
  const auto path =
      (std::filesystem::temp_directory_path() / ("fg-log-test-" + std::to_string(::getpid()) + ".db")).string();
  {
    SqliteStore s(path);
    s.SaveSession(SessionRow{"pid-live", "sid-1", "alice", false, 3, R"({"o1":3})", 0});
    s.SaveSession(SessionRow{"pid-old", "sid-2", "bob", false, 0, "{}", 1000});
    s.SaveSession(SessionRow{"pid-gone", "sid-3", "carol", true, 0, "{}", 0});
    s.DeleteSession("pid-gone");
  }
  {
    SqliteStore s(path);  // a restart after a crash
    s.SettleSessions(50'000, 10'000);
    const auto live = s.LoadSession("pid-live");
    ASSERT_TRUE(live);
    EXPECT_EQ(live->disconnected_ms, 50'000);  // disconnected as of the restart
    EXPECT_EQ(live->user_id, "alice");
    EXPECT_EQ(live->subscriptions_json, R"({"o1":3})");
    EXPECT_FALSE(s.LoadSession("pid-old"));   // past the window already
    EXPECT_FALSE(s.LoadSession("pid-gone"));  // an explicit disconnect
    s.SaveSession(SessionRow{"pid-now", "sid-4", "dave", false, 0, "{}", 0});
    s.PruneSessions(60'000);  // while running: disconnected sessions past the window go
    EXPECT_FALSE(s.LoadSession("pid-live"));
    EXPECT_TRUE(s.LoadSession("pid-now"));  // connected ones stay
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}

}  // namespace
}  // namespace fg::store

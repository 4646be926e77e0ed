// The delivery log and recovery sessions of the SQLite store: positions, order filters, bounds
// after pruning, commit-ordered hand-off, and sessions across a restart.
#include "store/sqlite_db.hpp"
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
  EXPECT_EQ(b.pruned_through, 9);  // the newest entry stays, so positions never go back
  EXPECT_EQ(Positions(s.ReadLog(9, std::nullopt, 100)), (std::vector<std::int64_t>{10}));
  s.PruneLog(std::numeric_limits<std::int64_t>::max(), 0);
  EXPECT_EQ(s.LogBounds().pruned_through, 9);
  s.Transaction([&](Tx& tx) {
    auto e = Entry("x", "a");
    tx.LogEvent(e);
    EXPECT_EQ(e.pos, 11);  // positions are never reused
  });
}

TEST(EventLog, TimelinesOutlivePruningAndUndeliveredEntriesAreNeverReplayed) {
  SqliteStore s(":memory:");
  s.UpsertOrder("o1", "alice", std::nullopt);
  s.Transaction([&](Tx& tx) {
    auto a = Entry("fulfillment:status-change", "o1");
    tx.LogEvent(a, Tx::Timeline::kRequired);  // pos 1, seq 1
    EXPECT_EQ(a.order_seq, 1);
    auto unknown = Entry("fulfillment:status-change", "nobody-knows");
    tx.LogEvent(unknown, Tx::Timeline::kIfOrder);  // pos 2, in no timeline
    EXPECT_EQ(unknown.order_seq, 0);
    auto admin = Entry("admin:job-queue", "o1", 1);
    tx.LogEvent(admin);                                            // pos 3, in no timeline
    EXPECT_EQ(tx.AppendEvent("o1", "key:revealed", "{}").seq, 2);  // pos 4, never delivered
    auto b = Entry("fulfillment:status-change", "o1");
    tx.LogEvent(b, Tx::Timeline::kIfOrder);  // pos 5, seq 3
    EXPECT_EQ(b.order_seq, 3);
    auto missing = Entry("fulfillment:status-change", "nobody-knows");
    EXPECT_THROW(tx.LogEvent(missing, Tx::Timeline::kRequired), StoreError);
  });
  EXPECT_EQ(Positions(s.ReadLog(0, std::nullopt, 100)), (std::vector<std::int64_t>{1, 2, 3, 5}));
  EXPECT_EQ(Positions(s.ReadLog(0, std::vector<std::string>{"o1"}, 100)), (std::vector<std::int64_t>{1, 3, 5}));
  s.PruneLog(std::numeric_limits<std::int64_t>::max(), 0);
  EXPECT_EQ(s.LogBounds().pruned_through, 4);
  std::vector<std::int64_t> seqs;
  s.Transaction([&](Tx& tx) {
    for (const auto& e : tx.Events("o1", 0, 100)) seqs.push_back(e.seq);
    EXPECT_EQ(tx.TimelineSeq("o1"), 3);
    EXPECT_TRUE(tx.Events("nobody-knows", 0, 100).empty());
  });
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2, 3}));  // the whole timeline, pruning or not
}

TEST(EventLog, Schema2TimelinesMoveIntoTheLogAndAreNotReplayed) {
  const auto path =
      (std::filesystem::temp_directory_path() / ("fg-schema2-test-" + std::to_string(::getpid()) + ".db")).string();
  std::filesystem::remove(path);
  {
    SqliteDb old(path);
    old.Exec(
        "CREATE TABLE orders (order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, status TEXT NOT NULL DEFAULT "
        "'created', fulfillment_status TEXT NOT NULL DEFAULT 'pending', currency TEXT NOT NULL DEFAULT 'USD', "
        "job_id TEXT NOT NULL DEFAULT '', job_progress INTEGER NOT NULL DEFAULT -1, error TEXT NOT NULL DEFAULT '', "
        "payment_status TEXT NOT NULL DEFAULT '', supplier_ref TEXT NOT NULL DEFAULT '', event_seq INTEGER NOT NULL "
        "DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
        "INSERT INTO orders(order_id, user_id, event_seq, created_at, updated_at) VALUES('o1', 'alice', 3, 'x', 'x');"
        "CREATE TABLE order_events (order_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, payload TEXT "
        "NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (order_id, seq));"
        "INSERT INTO order_events VALUES('o1', 1, 'fulfillment:status-change', '{\"a\":1}', "
        "'2026-11-01T10:00:00.000Z');"
        "INSERT INTO order_events VALUES('o1', 2, 'key:revealed', '{}', '2026-11-01T10:00:01.000Z');"
        "INSERT INTO order_events VALUES('o1', 3, 'fulfillment:status-change', '{\"a\":3}', "
        "'2026-11-01T10:00:02.500Z');"
        "CREATE TABLE event_log (pos INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL, audience INTEGER NOT "
        "NULL, order_id TEXT NOT NULL, order_seq INTEGER NOT NULL, payload TEXT NOT NULL, owner_id TEXT NOT NULL, "
        "owner_payload TEXT NOT NULL, created_ms INTEGER NOT NULL);"
        "INSERT INTO event_log(event, audience, order_id, order_seq, payload, owner_id, owner_payload, created_ms) "
        "VALUES('fulfillment:status-change', 0, 'o1', 3, '{\"a\":3}', '', '', 1793527202500);");
  }
  {
    SqliteStore s(path);
    std::vector<EventRow> rows;
    s.Transaction([&](Tx& tx) { rows = tx.Events("o1", 0, 100); });
    ASSERT_EQ(rows.size(), 3u);  // seq 3 was in both tables: once
    EXPECT_EQ(rows[0].seq, 1);
    EXPECT_EQ(rows[0].payload, R"({"a":1})");
    EXPECT_EQ(rows[0].created_at, "2026-11-01T10:00:00.000Z");
    EXPECT_EQ(rows[1].event, "key:revealed");
    EXPECT_EQ(rows[2].seq, 3);
    const auto b = s.LogBounds();
    EXPECT_EQ(b.head, 3);
    EXPECT_EQ(b.pruned_through, 3);  // carried-over entries are history, not something to replay
    s.Transaction([&](Tx& tx) {
      auto e = Entry("fulfillment:status-change", "o1");
      tx.LogEvent(e, Tx::Timeline::kRequired);
      EXPECT_EQ(e.pos, 4);
      EXPECT_EQ(e.order_seq, 4);
    });
  }
  SqliteStore again(path);  // opening a migrated database again changes nothing
  EXPECT_EQ(again.LogBounds().head, 4);
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}

TEST(EventLog, SessionWritesGoTogether) {
  SqliteStore s(":memory:");
  s.SaveSession(SessionRow{"pid-a", "sid-a", "alice", false, 0, "{}", 0});
  s.WriteSessions({{"pid-a", std::nullopt},
                   {"pid-b", SessionRow{"pid-b", "sid-b", "bob", false, 2, R"({"o1":2})", 5}},
                   {"pid-c", SessionRow{"pid-c", "sid-c", "carol", true, 0, "{}", 0}}});
  EXPECT_FALSE(s.LoadSession("pid-a"));
  ASSERT_TRUE(s.LoadSession("pid-b"));
  EXPECT_EQ(s.LoadSession("pid-b")->subscriptions_json, R"({"o1":2})");
  EXPECT_EQ(s.LoadSession("pid-b")->disconnected_ms, 5);
  EXPECT_TRUE(s.LoadSession("pid-c")->admin);
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

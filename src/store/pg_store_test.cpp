// What the PostgreSQL store adds to the contract (store_contract_test.cpp): several nodes on one
// database. Positions stay gap-free and in commit order whichever node commits, so a reader that
// sees position N has seen every position below it (how a node detects a missed message and fills
// the gap); a job is leased by one node; a node settles only its own sessions; a broken link fails
// a call and then heals.
#include "store/pg_store.hpp"
#include "store/pg_test_support.hpp"

#include "common/clock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

namespace fg::store::testing {
namespace {

LogEntry Entry(const std::string& order_id) {
  LogEntry e;
  e.event = "x";
  e.order_id = order_id;
  e.payload = "{}";
  return e;
}

TEST(PgStore, NodesCommittingAtOnceGetGapFreePositionsInCommitOrder) {
  PgSchema schema;
  PgStore a(schema.Url(), "node-a"), b(schema.Url(), "node-b");
  constexpr int kThreads = 4, kTx = 40, kPerTx = 3;
  std::atomic<bool> writing{true};
  std::atomic<int> reader_errors{0};
  // A reader on a third node: every read continues exactly where the last one ended.
  std::thread reader([&] {
    PgStore c(schema.Url(), "node-c");
    std::int64_t last = 0;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while ((writing || last < kThreads * kTx * kPerTx) && std::chrono::steady_clock::now() < give_up) {
      for (const auto& e : c.ReadLog(last, std::nullopt, 1000)) {
        if (e.pos != last + 1) ++reader_errors;
        last = e.pos;
      }
    }
  });
  std::vector<std::vector<std::int64_t>> handed(kThreads);
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      PgStore& node = t % 2 ? b : a;
      for (int i = 0; i < kTx; ++i) {
        node.Transaction([&](Tx& tx) {
          for (int k = 0; k < kPerTx; ++k) {
            auto e = Entry("o" + std::to_string(t));
            tx.LogEvent(e);
            tx.AfterCommit([&handed, t, pos = e.pos] { handed[t].push_back(pos); });
          }
        });
      }
    });
  }
  for (auto& w : writers) w.join();
  writing = false;
  reader.join();
  EXPECT_EQ(reader_errors, 0) << "a reader saw a position before one below it";
  std::set<std::int64_t> all;
  for (const auto& h : handed) {
    EXPECT_TRUE(std::is_sorted(h.begin(), h.end()));
    for (std::size_t i = 0; i + 1 < h.size(); i += kPerTx) EXPECT_EQ(h[i] + 1, h[i + 1]) << "a transaction's run";
    all.insert(h.begin(), h.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kTx * kPerTx));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kTx * kPerTx);
  EXPECT_EQ(a.LogBounds().head, kThreads * kTx * kPerTx);
}

TEST(PgStore, AJobIsLeasedByOneNodeOnly) {
  PgSchema schema;
  PgStore a(schema.Url(), "node-a"), b(schema.Url(), "node-b");
  constexpr int kJobs = 60;
  a.Transaction([&](Tx& tx) {
    for (int i = 0; i < kJobs; ++i) {
      JobRow j;
      j.job_id = "j" + std::to_string(i);
      j.order_id = "o" + std::to_string(i);
      tx.InsertJob(j);
    }
  });
  std::mutex mutex;
  std::multiset<std::string> leased;
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      PgStore& node = t % 2 ? b : a;
      for (;;) {
        std::optional<JobRow> job;
        node.Transaction([&](Tx& tx) { job = tx.LeaseNextJob("fulfillment", 1, 60'000); });
        if (!job) return;
        std::lock_guard lock(mutex);
        leased.insert(job->job_id);
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(leased.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(leased.begin(), leased.end()).size(), static_cast<std::size_t>(kJobs))
      << "a job was leased twice";
}

TEST(PgStore, ANodeSettlesOnlyItsOwnSessions) {
  PgSchema schema;
  PgStore a(schema.Url(), "node-a"), b(schema.Url(), "node-b");
  a.SaveSession(SessionRow{"pid-a", "sid-a", "alice", false, 0, "{}", 0, ""});
  b.SaveSession(SessionRow{"pid-b", "sid-b", "bob", false, 0, "{}", 0, ""});
  PgStore a_again(schema.Url(), "node-a");  // node a restarted
  a_again.SettleSessions(50'000, 10'000);
  EXPECT_EQ(a_again.LoadSession("pid-a")->disconnected_ms, 50'000);
  EXPECT_EQ(a_again.LoadSession("pid-b")->disconnected_ms, 0) << "node b's client is still connected";
  EXPECT_EQ(b.LoadSession("pid-a")->user_id, "alice") << "every node reads every session";
}

TEST(PgStore, ADeadNodesSessionsStayRecoverableForTheWindowThenGo) {
  PgSchema schema;
  PgStore a(schema.Url(), "node-a"), b(schema.Url(), "node-b"), c(schema.Url(), "node-c");
  a.RegisterNode("tag-a", "node-a", "127.0.0.1:1");
  b.RegisterNode("tag-b", "node-b", "127.0.0.1:2");
  c.RegisterNode("tag-c", "node-c", "127.0.0.1:3");
  a.SaveSession(SessionRow{"pid-a", "sid-a", "alice", false, 0, "{}", 0, ""});
  b.SaveSession(SessionRow{"pid-b", "sid-b", "bob", false, 0, "{}", 0, ""});
  c.SaveSession(SessionRow{"pid-c", "sid-c", "carol", false, 0, "{}", 0, ""});
  EXPECT_EQ(a.LoadSession("pid-b")->node, "node-b") << "a session says which node holds it";
  EXPECT_EQ(a.NodeAddress("tag-b"), "127.0.0.1:2");
  EXPECT_FALSE(a.NodeAddress("tag-x"));
  // node-b died long ago; node-c is alive (it touched its row just now).
  PgDb(schema.Url()).Exec("UPDATE nodes SET seen_ms = 1000 WHERE tag = 'tag-b'");
  c.TouchNode("tag-c");
  a.PruneSessions(UnixMillis() - 120'000);
  EXPECT_TRUE(a.LoadSession("pid-a")) << "this node's own, connected";
  EXPECT_FALSE(a.LoadSession("pid-b")) << "left connected by a node silent past the window";
  EXPECT_TRUE(a.LoadSession("pid-c")) << "a live node's client";
}

TEST(PgStore, ABrokenLinkFailsACallThenHeals) {
  PgSchema schema;
  const std::string name = "fg_broken_link_" + std::to_string(::getpid());
  PgStore s(schema.Url() + "&application_name=" + name, "node-a", 1);
  s.UpsertOrder("o1", "alice", std::nullopt);
  PgDb admin(TestDatabaseUrl());
  EXPECT_EQ(
      admin.Exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", {name})
          .Int(0, 0),
      1);
  bool failed = false;
  try {
    s.Transaction([](Tx& tx) { tx.GetOrder("o1"); });
  } catch (const StoreError&) {
    failed = true;
  }
  EXPECT_TRUE(failed) << "the call on the broken link reports it";
  EXPECT_EQ(s.GetOrder("o1")->user_id, "alice") << "the next call reconnects";
  s.UpsertOrder("o2", "bob", std::nullopt);
  EXPECT_EQ(s.GetOrder("o2")->user_id, "bob");
}

TEST(PgStore, NodesStartingTogetherMigrateOnce) {
  PgSchema schema;
  std::vector<std::thread> nodes;
  std::atomic<int> ok{0};
  for (int i = 0; i < 3; ++i)
    nodes.emplace_back([&, i] {
      PgStore s(schema.Url(), "node-" + std::to_string(i));
      s.UpsertOrder("o" + std::to_string(i), "u", std::nullopt);
      ++ok;
    });
  for (auto& t : nodes) t.join();
  EXPECT_EQ(ok, 3);
  PgDb db(schema.Url());
  EXPECT_EQ(db.Exec("SELECT count(*) FROM schema_migrations").Int(0, 0), PgStore::SchemaVersion());
  EXPECT_EQ(db.Exec("SELECT count(*) FROM orders").Int(0, 0), 3);
}

TEST(PgStore, AnUnreachableDatabaseIsOneErrorWithoutThePassword) {
  try {
    PgStore s("postgres://fg:secret-password-123@127.0.0.1:1/fg?connect_timeout=2", "node-a");
    FAIL() << "connected";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()).find("secret-password-123"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fg::store::testing

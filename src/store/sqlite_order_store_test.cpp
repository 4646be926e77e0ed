#include "store/sqlite_order_store.hpp"
#include "store/sqlite_db.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <thread>

#include <unistd.h>

namespace fg::store {
namespace {

TEST(SqliteStore, OwnerCacheIsFilledByReadsAndBounded) {
  const auto path = std::filesystem::temp_directory_path() / ("fg-owner-cache-" + std::to_string(::getpid()) + ".db");
  {
    SqliteStore writer(path.string());
    for (int i = 0; i < 10; ++i) writer.UpsertOrder("o" + std::to_string(i), "u" + std::to_string(i), std::nullopt);
  }
  {
    SqliteStore s(path.string(), 4);  // a fresh process: nothing cached until read
    EXPECT_FALSE(s.CachedOwner("o3"));
    EXPECT_EQ(s.GetOrder("o3")->user_id, "u3");
    EXPECT_EQ(s.CachedOwner("o3"), "u3");
    int cached = 0;
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(s.GetOrder("o" + std::to_string(i)));
    }
    for (int i = 0; i < 10; ++i) {
      if (auto owner = s.CachedOwner("o" + std::to_string(i))) {
        EXPECT_EQ(*owner, "u" + std::to_string(i));
        ++cached;
      }
    }
    EXPECT_EQ(cached, 4) << "at most the capacity";
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST(SqliteStore, RemembersUnknownOrdersUntilTheyAreCreated) {
  SqliteStore store(":memory:", 100, 2);
  EXPECT_FALSE(store.CachedMissing("o1"));
  EXPECT_FALSE(store.GetOrder("o1"));
  EXPECT_TRUE(store.CachedMissing("o1")) << "a lookup that found nothing is remembered";
  store.UpsertOrder("o1", "alice", std::nullopt);
  EXPECT_FALSE(store.CachedMissing("o1")) << "the creation's commit forgets it";
  EXPECT_EQ(store.CachedOwner("o1"), "alice");
  for (const char* id : {"a", "b", "c"}) store.GetOrder(id);
  EXPECT_EQ(static_cast<int>(store.CachedMissing("a")) + store.CachedMissing("b") + store.CachedMissing("c"), 2)
      << "bounded";
}

TEST(SqliteDb, ReusesStatementsAndCopesWithTheSameSqlOpenTwice) {
  SqliteDb db(":memory:");
  db.Exec("CREATE TABLE t(x INTEGER)");
  for (int i = 0; i < 3; ++i) Statement(db, "INSERT INTO t(x) VALUES(?)").Bind(1, std::int64_t{i}).Step();
  const char* sql = "SELECT x FROM t ORDER BY x";
  Statement outer(db, sql);
  int pairs = 0;
  while (outer.Step()) {
    Statement inner(db, sql);  // the cached one is in use: a second, uncached statement
    while (inner.Step()) ++pairs;
  }
  EXPECT_EQ(pairs, 9);
  // Reused after release: bindings cleared, state reset.
  for (int round = 0; round < 100; ++round) {
    Statement st(db, "SELECT count(*) FROM t WHERE x >= ?");
    st.Bind(1, std::int64_t{round % 3});
    ASSERT_TRUE(st.Step());
    EXPECT_EQ(st.Int(0), 3 - round % 3);
  }
  Statement unbound(db, "SELECT count(*) FROM t WHERE x >= ?");
  ASSERT_TRUE(unbound.Step());
  EXPECT_EQ(unbound.Int(0), 0) << "a NULL parameter matches nothing: earlier bindings were cleared";
}

TEST(SqliteDb, CheckpointsOnItsOwnThreadAndTheWalStaysBoundedUnderEndlessWrites) {
  const auto path = std::filesystem::temp_directory_path() / ("fg-wal-test-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  constexpr int kCommits = 5 * WalCheckpointer::kRestartPages;
  {
    SqliteDb db(path.string());
    ASSERT_NE(db.Checkpointer(), nullptr);
    // A disk slower than the writer: the background run holds the checkpoint lock 50 ms each time
    // (the writer commits far more than kRestartPages pages meanwhile).
    db.Checkpointer()->SlowDownForTest(std::chrono::milliseconds(50));
    db.Exec("CREATE TABLE t(x BLOB)");
    const std::string blob(4000, 'x');  // about a page per commit
    std::uintmax_t wal_max = 0;
    for (int i = 0; i < kCommits; ++i) {  // never a pause for a checkpoint to slip into
      db.Exec("BEGIN IMMEDIATE");
      Statement(db, "INSERT INTO t(x) VALUES(?)").Bind(1, blob).Step();
      db.Exec("COMMIT");
      wal_max = std::max(wal_max, std::filesystem::file_size(path.string() + "-wal"));
    }
    // However slow the background copy (a loaded disk), the writer waits for it past kRestartPages
    // and finishes the rest: the WAL started over there, plus one transaction (a few pages).
    constexpr std::uintmax_t kFrame = 24 + 4096;
    EXPECT_LE(wal_max, 32 + kFrame * (WalCheckpointer::kRestartPages + 8));
    EXPECT_GE(db.Checkpointer()->WriterCheckpoints(), 1u);
    // The background thread copied along the way (woken every kPages); on a loaded machine it may
    // only get its turn late, so give it a while rather than expecting a schedule.
    for (int i = 0; i < 1000 && db.Checkpointer()->Checkpoints() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_GT(db.Checkpointer()->Checkpoints(), 0u) << "the background thread did the copying";
    Statement count(db, "SELECT count(*) FROM t");
    ASSERT_TRUE(count.Step());
    EXPECT_EQ(count.Int(0), kCommits);
  }
  EXPECT_FALSE(std::filesystem::exists(path.string() + "-wal")) << "closing checkpoints the rest";
  EXPECT_GT(std::filesystem::file_size(path), 4000u * kCommits) << "every page reached the database file";
  std::filesystem::remove(path);
}

TEST(SqliteStore, SurvivesReopen) {
  const auto path = std::filesystem::temp_directory_path() / ("fg-store-test-" + std::to_string(::getpid()) + ".db");
  {
    SqliteStore s(path.string());
    s.UpsertOrder("o-persist", "carol", std::nullopt);
  }
  {
    SqliteStore s(path.string());
    ASSERT_TRUE(s.GetOrder("o-persist"));
    EXPECT_EQ(s.GetOrder("o-persist")->user_id, "carol");
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST(SqliteStore, ReportsUnopenableFile) {
  EXPECT_THROW(SqliteStore("/nonexistent-dir/x/y.db"), StoreError);
}

}  // namespace
}  // namespace fg::store

// What only the SQLite store does with its delivery log: carrying schema 2's timelines over. The
// log's contract, for every back-end, is in store_contract_test.cpp.
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

}  // namespace
}  // namespace fg::store

#include "store/sqlite_order_store.hpp"

#include "common/clock.hpp"

#include <sqlite3.h>

namespace fg::store {
namespace {

// One prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw StoreError(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  void Bind(int i, const std::string& v) { sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  bool Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("sqlite step: ") + sqlite3_errmsg(db_));
  }
  std::string Text(int col) {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

SqliteOrderStore::SqliteOrderStore(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  Exec("PRAGMA journal_mode=WAL");
  Exec("PRAGMA synchronous=NORMAL");  // WAL + NORMAL: a committed write survives a process crash
  Exec("PRAGMA foreign_keys=ON");
  Exec(R"(CREATE TABLE IF NOT EXISTS orders (
            order_id   TEXT PRIMARY KEY,
            user_id    TEXT NOT NULL,
            status     TEXT NOT NULL DEFAULT 'created',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL))");
}

SqliteOrderStore::~SqliteOrderStore() { sqlite3_close(db_); }

void SqliteOrderStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StoreError(std::string("sqlite: ") + msg);
  }
}

std::optional<OrderRecord> SqliteOrderStore::GetOrder(const std::string& order_id) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "SELECT order_id, user_id, status, created_at, updated_at FROM orders WHERE order_id = ?");
  st.Bind(1, order_id);
  if (!st.Step()) return std::nullopt;
  return OrderRecord{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4)};
}

UpsertResult SqliteOrderStore::UpsertOrder(const std::string& order_id, const std::string& user_id,
                                           const std::optional<std::string>& status) {
  std::lock_guard lock(mutex_);
  const std::string now = IsoTimestamp();
  Exec("BEGIN IMMEDIATE");
  try {
    bool exists = false;
    {
      Statement st(db_, "SELECT 1 FROM orders WHERE order_id = ?");
      st.Bind(1, order_id);
      exists = st.Step();
    }
    if (exists) {
      Statement st(db_, "UPDATE orders SET user_id = ?, status = COALESCE(?, status), updated_at = ? WHERE order_id = ?");
      st.Bind(1, user_id);
      if (status) st.Bind(2, *status);
      st.Bind(3, now);
      st.Bind(4, order_id);
      st.Step();
    } else {
      Statement st(db_, "INSERT INTO orders(order_id, user_id, status, created_at, updated_at) VALUES(?, ?, ?, ?, ?)");
      st.Bind(1, order_id);
      st.Bind(2, user_id);
      st.Bind(3, status.value_or("created"));
      st.Bind(4, now);
      st.Bind(5, now);
      st.Step();
    }
    UpsertResult r;
    r.created = !exists;
    {
      Statement st(db_, "SELECT order_id, user_id, status, created_at, updated_at FROM orders WHERE order_id = ?");
      st.Bind(1, order_id);
      st.Step();
      r.order = OrderRecord{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4)};
    }
    Exec("COMMIT");
    return r;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace fg::store

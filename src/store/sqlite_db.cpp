#include "store/sqlite_db.hpp"

#include <sqlite3.h>

namespace fg::store {

SqliteDb::SqliteDb(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  Exec("PRAGMA journal_mode=WAL");
  Exec("PRAGMA synchronous=NORMAL");  // WAL + NORMAL: a committed transaction survives a process crash
  Exec("PRAGMA foreign_keys=ON");
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, c] : cache_) sqlite3_finalize(c.stmt);
  sqlite3_close(db_);
}

sqlite3_stmt* SqliteDb::Acquire(const char* sql, bool& cached) const {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    cached = true;
    return it->second.stmt;
  }
  const bool keep = it == cache_.end() && cache_.size() < kMaxCached;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    throw StoreError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
  }
  if (keep) cache_.emplace(sql, Cached{stmt, true});
  cached = keep;
  return stmt;
}

void SqliteDb::Release(sqlite3_stmt* stmt, bool cached) const {
  if (!cached) {
    sqlite3_finalize(stmt);
    return;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (auto it = cache_.find(sqlite3_sql(stmt)); it != cache_.end() && it->second.stmt == stmt)
    it->second.in_use = false;
}

void SqliteDb::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StoreError(std::string("sqlite: ") + msg);
  }
}

std::int64_t SqliteDb::Changes() const {
  return sqlite3_changes(db_);
}

Statement::Statement(const SqliteDb& db, const char* sql) : owner_(db), db_(db.Handle()) {
  stmt_ = owner_.Acquire(sql, cached_);
}
Statement::~Statement() {
  owner_.Release(stmt_, cached_);
}
Statement& Statement::Bind(int i, const std::string& v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::Bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}
bool Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw StoreError(std::string("sqlite step: ") + sqlite3_errmsg(db_));
}
std::string Statement::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}
std::int64_t Statement::Int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}
bool Statement::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

}  // namespace fg::store

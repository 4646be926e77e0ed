// The one owner of a sqlite3* handle, and a prepared-statement helper. Used only by the SQLite
// adapters; callers serialize access (one mutex per database). Prepared statements are kept per
// SQL text and reused (reset, bindings cleared) instead of being compiled on every call.
#pragma once

#include "store/order_store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace fg::store {

class SqliteDb {
 public:
  explicit SqliteDb(const std::string& path);  // throws StoreError naming the file
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  void Exec(const char* sql);
  sqlite3* Handle() const { return db_; }
  std::int64_t Changes() const;

 private:
  friend class Statement;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  static constexpr std::size_t kMaxCached = 128;
  // A prepared statement for `sql`: the cached one when it is free, else a new one (cached when
  // there is room). `cached` says whether Release() returns it to the cache.
  sqlite3_stmt* Acquire(const char* sql, bool& cached) const;
  void Release(sqlite3_stmt* stmt, bool cached) const;

  sqlite3* db_ = nullptr;
  mutable std::unordered_map<std::string, Cached> cache_;
};

class Statement {
 public:
  Statement(const SqliteDb& db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& Bind(int i, const std::string& v);
  Statement& Bind(int i, std::int64_t v);
  Statement& BindNull(int i);
  Statement& Bind(int i, const std::optional<std::string>& v) { return v ? Bind(i, *v) : BindNull(i); }
  bool Step();  // true: a row is available
  std::string Text(int col) const;
  std::int64_t Int(int col) const;
  bool IsNull(int col) const;

 private:
  const SqliteDb& owner_;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool cached_ = false;
};

}  // namespace fg::store

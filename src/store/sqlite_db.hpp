// The one owner of a sqlite3* handle, and a prepared-statement helper. Used only by the SQLite
// adapters; callers serialize access (one mutex per database).
#pragma once

#include "store/order_store.hpp"

#include <cstdint>
#include <optional>
#include <string>

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
  sqlite3* db_ = nullptr;
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
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace fg::store

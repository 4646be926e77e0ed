#pragma once

#include "store/order_store.hpp"

#include <mutex>
#include <string>

struct sqlite3;

namespace fg::store {

// The embedded default: one SQLite database file (WAL mode) under --data-dir.
class SqliteOrderStore : public OrderStore {
 public:
  // Opens (creating if needed) `path`, ":memory:" for tests. Throws StoreError naming the file.
  explicit SqliteOrderStore(const std::string& path);
  ~SqliteOrderStore() override;
  SqliteOrderStore(const SqliteOrderStore&) = delete;
  SqliteOrderStore& operator=(const SqliteOrderStore&) = delete;

  std::optional<OrderRecord> GetOrder(const std::string& order_id) override;
  UpsertResult UpsertOrder(const std::string& order_id, const std::string& user_id,
                           const std::optional<std::string>& status) override;

 private:
  void Exec(const char* sql);
  sqlite3* db_ = nullptr;
  std::mutex mutex_;  // sqlite3* is used from the worker thread(s) only; the mutex keeps it safe with >1
};

}  // namespace fg::store

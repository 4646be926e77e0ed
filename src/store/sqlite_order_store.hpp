#pragma once

#include "store/fulfillment_store.hpp"
#include "store/order_store.hpp"
#include "store/sqlite_db.hpp"

#include <mutex>
#include <string>

namespace fg::store {

// The embedded default: one SQLite database file (WAL) under --data-dir, implementing both the
// gateway's OrderStore and the FulfillmentStore. One connection behind one mutex.
class SqliteStore : public OrderStore, public FulfillmentStore {
 public:
  // Opens (creating if needed) `path`, ":memory:" for tests. Throws StoreError naming the file.
  explicit SqliteStore(const std::string& path);

  std::optional<OrderRecord> GetOrder(const std::string& order_id) override;
  UpsertResult UpsertOrder(const std::string& order_id, const std::string& user_id,
                           const std::optional<std::string>& status) override;
  void Transaction(const std::function<void(Tx&)>& fn) override;

 private:
  SqliteDb db_;
  std::mutex mutex_;
};

}  // namespace fg::store

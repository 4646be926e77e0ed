// The order store port. Calls are synchronous and may block on disk: they run only on a
// StoreWorker (store/store_worker.hpp) thread, never on an event loop. Adapters: SQLite (default, embedded); PostgreSQL
// comes later behind the same interface.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace fg::store {

struct OrderRecord {
  std::string order_id;
  std::string user_id;
  std::string status;
  std::string created_at;
  std::string updated_at;
};

struct UpsertResult {
  bool created = false;
  OrderRecord order;
  std::string previous_user_id;  // the owner before an update (equal to order.user_id when unchanged)
};

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OrderStore {
 public:
  virtual ~OrderStore() = default;
  virtual std::optional<OrderRecord> GetOrder(const std::string& order_id) = 0;
  // Creates the order or updates its owner (and status when given). Throws StoreError.
  virtual UpsertResult UpsertOrder(const std::string& order_id, const std::string& user_id,
                                   const std::optional<std::string>& status) = 0;
  // The order's owner when it is known in memory (never blocks, may be called from an event
  // loop); nullopt means "ask GetOrder". Adapters without a cache keep this default.
  virtual std::optional<std::string> CachedOwner(const std::string& /*order_id*/) const { return std::nullopt; }
  // True when the order is known in memory not to exist (a bounded negative cache the store keeps
  // exact); false means "ask GetOrder". Never blocks.
  virtual bool CachedMissing(const std::string& /*order_id*/) const { return false; }
};

}  // namespace fg::store

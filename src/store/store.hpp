// The whole persistence port of a node: orders and their owners (OrderStore), the fulfillment
// flow's transactions (FulfillmentStore) and the delivery log with recovery sessions (EventLog).
// Two adapters: SqliteStore (embedded, the default) and PgStore (PostgreSQL, shared by a cluster).
#pragma once

#include "store/event_log.hpp"
#include "store/fulfillment_store.hpp"
#include "store/order_store.hpp"

namespace fg::store {

class Store : public OrderStore, public FulfillmentStore, public EventLog {
 public:
  // OrderStore::UpsertOrder, the same on every back-end: one transaction through Tx.
  UpsertResult UpsertOrder(const std::string& order_id, const std::string& user_id,
                           const std::optional<std::string>& status) override;
  // Another node changed this order's owner (or created it): forget what the caches say about it.
  virtual void ForgetOrder(const std::string& /*order_id*/) {}
};

}  // namespace fg::store

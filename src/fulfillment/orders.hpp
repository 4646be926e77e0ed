// Orders as shoppers and admins see them: creation (validated, owned by the caller), reads with
// access checks (others' orders are "not found"), the caller's list, and the order's timeline in
// pages. Blocking (store): call from the StoreWorker.
#pragma once

#include "fulfillment/keys.hpp"
#include "fulfillment/types.hpp"
#include "store/fulfillment_store.hpp"

#include <boost/json/object.hpp>

namespace fg::fulfillment {

class OrderService {
 public:
  OrderService(store::FulfillmentStore& store, const KeyLinks& links, EventSink sink)
      : store_(store), links_(links), sink_(std::move(sink)) {}

  Result Create(const Caller& caller, const boost::json::value& body);
  Result Get(const Caller& caller, const std::string& order_id);
  // What a subscribe ack carries (snapshot-then-tail): the order's view as GET shows it to
  // `caller`, the timeline seq and the log position it includes — read in one transaction — and,
  // with `since`, the timeline events after it up to that seq. Nothing when the order is unknown.
  struct Snapshot {
    boost::json::object order;
    std::int64_t seq = 0;
    std::int64_t log_head = 0;
    std::vector<store::EventRow> events;
  };
  std::optional<Snapshot> SnapshotFor(const Caller& caller, const std::string& order_id,
                                      std::optional<std::int64_t> since);
  Result List(const Caller& caller);
  Result Timeline(const Caller& caller, const std::string& order_id, std::int64_t after, std::int64_t limit);

  // The order snapshot clients get (GET /api/v1/orders/{id}); links only with `with_links` and
  // only once the order is fulfilled.
  boost::json::object View(store::Tx& tx, const store::OrderRow& order, bool with_links) const;

 private:
  store::FulfillmentStore& store_;
  const KeyLinks& links_;
  EventSink sink_;
};

bool CanSee(const Caller& caller, const store::OrderRow& order);

}  // namespace fg::fulfillment

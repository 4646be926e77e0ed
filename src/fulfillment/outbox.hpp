// The events one step of the flow causes. Each is written to the delivery log inside the step's
// transaction (order events also to the order's timeline), and the transaction's events are handed
// to the sink in one call right after it commits, in log order ("durable before visible": nothing
// is broadcast that is not committed, and a rolled-back step broadcasts nothing).
#pragma once

#include "fulfillment/types.hpp"
#include "store/fulfillment_store.hpp"

#include <memory>

namespace fg::fulfillment {

class Outbox {
 public:
  explicit Outbox(EventSink sink) : sink_(std::move(sink)) {}

  // An order event: appended to the order's timeline and the log. With `owner_id`, the order's
  // owner gets `owner_json` instead (e.g. with signed key links); the timeline keeps `json`.
  void Record(store::Tx& tx, events::Event event, const std::string& order_id, std::string json,
              std::string owner_id = {}, std::string owner_json = {});
  // An admin event (not part of an order's timeline): appended to the log only.
  void Emit(store::Tx& tx, events::Event event, const std::string& order_id, std::string json);

 private:
  void Log(store::Tx& tx, Emitted e, store::Tx::Timeline timeline);
  EventSink sink_;
  std::uint64_t tx_serial_ = 0;
  std::shared_ptr<std::vector<Emitted>> batch_;  // the current transaction's events
};

}  // namespace fg::fulfillment

// The events one step of the flow causes, kept until its transaction commits and then handed to
// the sink in one call ("durable before visible": nothing is broadcast that is not committed).
// Order events are also appended to the order's timeline, in the same transaction.
#pragma once

#include "fulfillment/types.hpp"
#include "store/fulfillment_store.hpp"

namespace fg::fulfillment {

class Outbox {
 public:
  // Appends the event to the order's timeline in `tx` and queues it; the returned entry may be
  // given an owner-only variant (owner_id/owner_json) before Flush.
  Emitted& Record(store::Tx& tx, events::Event event, const std::string& order_id, std::string json);
  // Queues an event that is not part of an order's timeline (the admin events).
  void Emit(events::Event event, const std::string& order_id, std::string json);
  // Hands what is queued to `sink` (one call) and clears.
  void Flush(const EventSink& sink);
  void Clear() { events_.clear(); }

 private:
  std::vector<Emitted> events_;
};

}  // namespace fg::fulfillment

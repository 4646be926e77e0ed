#include "fulfillment/outbox.hpp"

namespace fg::fulfillment {

Emitted& Outbox::Record(store::Tx& tx, events::Event event, const std::string& order_id, std::string json) {
  tx.AppendEvent(order_id, std::string(events::Name(event)), json);
  events_.push_back(Emitted{event, order_id, std::move(json), {}, {}});
  return events_.back();
}

void Outbox::Emit(events::Event event, const std::string& order_id, std::string json) {
  events_.push_back(Emitted{event, order_id, std::move(json), {}, {}});
}

void Outbox::Flush(const EventSink& sink) {
  if (sink && !events_.empty()) sink(events_);
  events_.clear();
}

}  // namespace fg::fulfillment

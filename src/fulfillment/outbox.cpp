#include "fulfillment/outbox.hpp"

namespace fg::fulfillment {

void Outbox::Record(store::Tx& tx, events::Event event, const std::string& order_id, std::string json,
                    std::string owner_id, std::string owner_json) {
  Log(tx, Emitted{event, order_id, std::move(json), std::move(owner_id), std::move(owner_json)},
      store::Tx::Timeline::kRequired);
}

void Outbox::Emit(store::Tx& tx, events::Event event, const std::string& order_id, std::string json) {
  Log(tx, Emitted{event, order_id, std::move(json), {}, {}}, store::Tx::Timeline::kNone);
}

void Outbox::Log(store::Tx& tx, Emitted e, store::Tx::Timeline timeline) {
  store::LogEntry entry;
  entry.event = std::string(events::Name(e.event));
  entry.audience = static_cast<int>(events::AudienceOf(e.event));
  entry.order_id = e.order_id;
  entry.payload = e.json;
  entry.owner_id = e.owner_id;
  entry.owner_payload = e.owner_json;
  tx.LogEvent(entry, timeline);
  e.pos = entry.pos;
  e.order_seq = entry.order_seq;
  if (!batch_ || tx_serial_ != tx.Serial()) {  // the first event of this transaction
    tx_serial_ = tx.Serial();
    batch_ = std::make_shared<std::vector<Emitted>>();
    tx.AfterCommit([sink = sink_, batch = batch_] {
      if (sink) sink(*batch);
    });
  }
  batch_->push_back(std::move(e));
}

}  // namespace fg::fulfillment

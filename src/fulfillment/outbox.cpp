#include "fulfillment/outbox.hpp"

namespace fg::fulfillment {

void Outbox::Record(store::Tx& tx, events::Event event, const std::string& order_id, std::string json,
                    std::string owner_id, std::string owner_json) {
  const auto row = tx.AppendEvent(order_id, std::string(events::Name(event)), json);
  Emitted e{event, order_id, std::move(json), std::move(owner_id), std::move(owner_json)};
  e.order_seq = row.seq;
  Log(tx, std::move(e));
}

void Outbox::Emit(store::Tx& tx, events::Event event, const std::string& order_id, std::string json) {
  Log(tx, Emitted{event, order_id, std::move(json), {}, {}});
}

void Outbox::Log(store::Tx& tx, Emitted e) {
  store::LogEntry entry;
  entry.event = std::string(events::Name(e.event));
  entry.audience = static_cast<int>(events::AudienceOf(e.event));
  entry.order_id = e.order_id;
  entry.order_seq = e.order_seq;
  entry.payload = e.json;
  entry.owner_id = e.owner_id;
  entry.owner_payload = e.owner_json;
  tx.LogEvent(entry);
  e.pos = entry.pos;
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

#include "gateway/log_writer.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace fg::gateway {

void LogWriter::Append(std::vector<Event> events, boost::asio::any_io_executor exec, Done done) {
  bool start = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Request{std::move(events), std::move(exec), std::move(done)});
    start = !draining_;
    draining_ = true;
  }
  if (start) worker_.Post([this] { Drain(); });
}

void LogWriter::Drain() {
  for (;;) {
    std::vector<Request> batch;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        draining_ = false;
        return;
      }
      batch.swap(queue_);
    }
    bool ok = true;
    try {
      store_.Transaction([&](store::Tx& tx) {
        auto entries = std::make_shared<std::vector<store::LogEntry>>();
        for (auto& r : batch) {
          for (auto& e : r.events) {
            store::LogEntry entry;
            entry.event = std::move(e.event);
            entry.audience = static_cast<int>(e.audience);
            entry.order_id = std::move(e.order_id);
            entry.payload = std::move(e.data_json);
            // Order events join their order's timeline (when the order is known), so a
            // subscription's `since` and the timeline API replay them too.
            tx.LogEvent(entry, e.audience == Audience::kOrderAndAdmins ? store::Tx::Timeline::kIfOrder
                                                                       : store::Tx::Timeline::kNone);
            entries->push_back(std::move(entry));
          }
        }
        tx.AfterCommit([this, entries] {
          std::vector<Gateway::Outgoing> out;
          out.reserve(entries->size());
          for (const auto& e : *entries) {
            out.push_back(Gateway::Outgoing{
                e.event, static_cast<Audience>(e.audience), e.order_id, e.payload, {}, {}, e.pos, e.order_seq});
          }
          gateway_.PublishAll(out);
        });
      });
    } catch (const std::exception& e) {
      spdlog::error("publish: the delivery log could not be written: {}", e.what());
      ok = false;
    }
    for (auto& r : batch) boost::asio::post(r.exec, [done = std::move(r.done), ok] { done(ok); });
  }
}

}  // namespace fg::gateway

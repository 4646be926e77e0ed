#include "http_api/emitter_intake.hpp"

#include "common/log.hpp"
#include "common/metrics.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace fg::http_api {

void EmitterIntake::Warn(const char* what, const std::string& why) {
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  auto last = last_warn_ms_.load();
  if (now - last < 1000 || !last_warn_ms_.compare_exchange_strong(last, now)) return;
  Log(spdlog::level::warn, what, {{"reason", why}});
}

void EmitterIntake::Take(const std::string& channel, std::string payload) {
  auto m = DecodeEmitter(channel, payload, max_order_id_);
  auto& counted = metrics::M().emitter_messages;
  if (m.kind != EmitterMessage::Kind::kEvent) {
    const bool invalid = m.kind == EmitterMessage::Kind::kInvalid;
    counted.Add({{"outcome", invalid ? "invalid" : "unsupported"}}).Increment();
    Warn(invalid ? "emitter: a message refused (not delivered)" : "emitter: an unsupported message (not delivered)",
         m.error);
    return;
  }
  if (pending_->fetch_add(1) >= max_pending_) {
    pending_->fetch_sub(1);
    counted.Add({{"outcome", "not_logged"}}).Increment();
    Warn("emitter: the log is behind; a message was dropped", std::to_string(max_pending_) + " appends pending");
    return;
  }
  std::vector<gateway::LogWriter::Event> events;
  events.push_back(
      {std::move(m.event.event), m.event.audience, std::move(m.event.order_id), std::move(m.event.data_json)});
  log_.Append(std::move(events), exec_, [this, pending = pending_](bool ok) {
    pending->fetch_sub(1);
    metrics::M().emitter_messages.Add({{"outcome", ok ? "logged" : "not_logged"}}).Increment();
    if (!ok) Warn("emitter: the store failed; a message was not delivered", "store unavailable");
  });
}

}  // namespace fg::http_api

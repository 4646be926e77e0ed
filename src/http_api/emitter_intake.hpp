// The node side of http_api/emitter.hpp: decoded messages into the delivery log.
#pragma once

#include "gateway/log_writer.hpp"
#include "http_api/emitter.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace fg::http_api {

// Takes the emitter's messages into the delivery log (the lease holder's subscriber thread calls
// Take, in the order Redis delivered them; LogWriter keeps that order). Bounded: past
// `max_pending` appends not yet committed a message is dropped (counted, warned) rather than queued.
// Counted in fg_emitter_messages_total{outcome}; refusals are logged at most once a second.
class EmitterIntake {
 public:
  EmitterIntake(gateway::LogWriter& log, boost::asio::any_io_executor exec, std::size_t max_order_id,
                std::size_t max_pending = 1000)
      : log_(log), exec_(std::move(exec)), max_order_id_(max_order_id), max_pending_(max_pending) {}
  void Take(const std::string& channel, std::string payload);

 private:
  void Warn(const char* what, const std::string& why);

  gateway::LogWriter& log_;
  boost::asio::any_io_executor exec_;  // where LogWriter's answers run
  const std::size_t max_order_id_;
  const std::size_t max_pending_;
  std::shared_ptr<std::atomic<std::size_t>> pending_ = std::make_shared<std::atomic<std::size_t>>(0);
  std::atomic<std::int64_t> last_warn_ms_{0};
};

}  // namespace fg::http_api

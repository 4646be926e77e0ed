// The durable job queue (`jobs` table): one job per paid order, leased to one worker at a time,
// retried with backoff, listed and manually retried by operators. Wake-ups let workers start a new
// job at once instead of at their next poll. Thread-safe; the store calls block.
#pragma once

#include "fulfillment/outbox.hpp"
#include "fulfillment/types.hpp"
#include "store/fulfillment_store.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

namespace fg::fulfillment {

class JobQueue {
 public:
  JobQueue(store::FulfillmentStore& store, EventSink sink, const ServiceConfig& config)
      : store_(store), sink_(std::move(sink)), config_(config) {}

  Result List(const std::optional<std::string>& state);
  // An operator's re-run of a failed job (never of an order whose payment is final-failed, nor
  // after a permanent failure: not_retryable).
  Result Retry(const std::string& job_id);
  // Jobs by state and webhook records by outcome, of those updated in the last `window_seconds`.
  Result Summary(std::int64_t window_seconds);
  // Every job in the store by state (queued, running, retry, completed, failed), for /metrics.
  std::map<std::string, std::int64_t> CountByState();
  // In the transaction that made `order_id` paid: its job, unless it has one. Returns the new id.
  std::optional<std::string> EnqueueFor(store::Tx& tx, Outbox& out, const std::string& order_id);
  // The next due job, leased to the caller.
  std::optional<store::JobRow> Lease();
  // Single node, at start: jobs a previous process left running are due again. Returns how many.
  std::int64_t TakeBackAbandoned();

  // Workers: Wake() after enqueueing; WaitForWork() sleeps up to the idle poll or until woken or
  // closed; false once Close() was called.
  void Wake();
  std::uint64_t Wakeups();
  bool WaitForWork(std::uint64_t seen);
  void Open();
  void Close();
  bool IsOpen();

 private:
  store::FulfillmentStore& store_;
  EventSink sink_;
  const ServiceConfig& config_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
  std::uint64_t wakeups_ = 0;
};

std::int64_t NowMs();
boost::json::object JobView(const store::JobRow& j);

}  // namespace fg::fulfillment

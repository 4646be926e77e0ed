#include "fulfillment/job_queue.hpp"

#include "common/clock.hpp"
#include "common/encoding.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>

namespace fg::fulfillment {

namespace json = boost::json;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json::object JobView(const store::JobRow& j) {
  json::object o{{"jobId", j.job_id},      {"queueName", j.queue},      {"orderId", j.order_id},
                 {"state", j.state},       {"attempts", j.attempts},    {"maxAttempts", j.max_attempts},
                 {"progress", j.progress}, {"createdAt", j.created_at}, {"updatedAt", j.updated_at}};
  if (!j.last_error.empty()) o["lastError"] = j.last_error;
  // Whether a manual retry can help: not after a permanent failure (e.g. the product is out of stock).
  o["retryable"] = j.state == "failed" && !j.permanent;
  if (j.state == "retry" || j.state == "queued") {
    o["nextRunAt"] = IsoTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(j.next_run_at_ms)));
  }
  if (!j.result.empty()) {
    boost::system::error_code ec;
    auto r = json::parse(j.result, ec);
    if (!ec) o["result"] = r;
  }
  return o;
}

Result JobQueue::List(const std::optional<std::string>& state) {
  static const std::vector<std::string> kStates{"queued", "running", "retry", "completed", "failed"};
  if (state && std::find(kStates.begin(), kStates.end(), *state) == kStates.end()) {
    return Fail(errc::invalid_state, "state must be one of queued, running, retry, completed, failed");
  }
  json::array jobs;
  store_.Transaction([&](store::Tx& tx) {
    for (const auto& j : tx.ListJobs(state, 500)) jobs.push_back(JobView(j));
  });
  return Ok(json::object{{"jobs", std::move(jobs)}}, true);
}

Result JobQueue::Summary(std::int64_t window_seconds) {
  const auto now = std::chrono::system_clock::now();
  const std::string since = IsoTimestamp(now - std::chrono::seconds(window_seconds));
  json::object jobs{{"queued", 0}, {"running", 0}, {"retry", 0}, {"completed", 0}, {"failed", 0}};
  json::object webhooks{{"received", 0}, {"verified", 0}, {"processed", 0}, {"failed", 0}};
  store_.Transaction([&](store::Tx& tx) {
    for (const auto& [state, n] : tx.CountJobs(since)) jobs[state] = n;
    for (const auto& [status, n] : tx.CountWebhooks(since)) webhooks[status] = n;
  });
  return Ok(json::object{{"windowSeconds", window_seconds},
                         {"since", since},
                         {"jobs", std::move(jobs)},
                         {"webhooks", std::move(webhooks)}},
            true);
}

std::map<std::string, std::int64_t> JobQueue::CountByState() {
  std::map<std::string, std::int64_t> out{{"queued", 0}, {"running", 0}, {"retry", 0}, {"completed", 0}, {"failed", 0}};
  store_.Transaction([&](store::Tx& tx) {
    for (const auto& [state, n] : tx.CountJobs("")) out[state] = n;
  });
  return out;
}

Result JobQueue::Retry(const std::string& job_id) {
  Result r = Fail(errc::not_found, "no such job");
  Outbox out(sink_);
  store_.Transaction([&](store::Tx& tx) {
    auto job = tx.GetJob(job_id);
    if (!job) return;
    if (job->state != "failed") {
      r = Fail(errc::not_failed, "only a failed job can be retried (it is " + job->state + ")");
      return;
    }
    if (job->permanent) {
      r = Fail(errc::not_retryable, "this job failed for good (" + job->last_error + "): retrying cannot help");
      return;
    }
    auto order = tx.GetOrder(job->order_id);
    if (order && IsFinalPaymentFailure(order->payment_status)) {
      // A refunded, failed or expired payment is final: re-running would deliver unpaid keys.
      r = Fail(errc::payment_not_completed,
               "the order's payment is " + order->payment_status + "; its job cannot be retried");
      return;
    }
    job->state = "queued";
    job->attempts = 0;
    job->next_run_at_ms = NowMs();
    job->lease_until_ms = 0;
    tx.UpdateJob(*job);
    if (order && order->status == ToString(OrderStatus::kFailed)) {
      // An operator's explicit re-run reopens the paid order; recorded in its timeline.
      spdlog::warn("order {}: manual retry of job {} reopens the failed order as paid", order->order_id, job_id);
      order->status = ToString(OrderStatus::kPaid);
      order->fulfillment_status = "pending";
      order->error.clear();
      tx.UpdateOrder(*order);
      events::StatusChange reopened;
      reopened.order_id = order->order_id;
      reopened.status = OrderStatus::kPaid;
      reopened.fulfillment_status = "pending";
      reopened.job_id = job_id;
      reopened.reason = "manual_retry";
      out.Record(tx, events::Event::kStatusChange, order->order_id, ToJson(reopened));
    }
    out.Emit(tx, events::Event::kJobQueue, job->order_id,
             ToJson(events::JobQueueEvent{job_id, "queued", job->order_id, json::object{{"manual", true}}}));
    r = Ok(JobView(*job));
  });
  if (r.ok()) Wake();
  return r;
}

std::optional<std::string> JobQueue::EnqueueFor(store::Tx& tx, Outbox& out, const std::string& order_id) {
  if (tx.GetJobForOrder(std::string(kQueue), order_id)) return std::nullopt;
  store::JobRow job;
  job.job_id = "job_" + RandomId(9);
  job.order_id = order_id;
  job.max_attempts = config_.max_attempts;
  job.next_run_at_ms = NowMs();
  tx.InsertJob(job);
  out.Emit(tx, events::Event::kJobQueue, order_id, ToJson(events::JobQueueEvent{job.job_id, "queued", order_id, {}}));
  return job.job_id;
}

std::optional<store::JobRow> JobQueue::Lease() {
  std::optional<store::JobRow> job;
  store_.Transaction(
      [&](store::Tx& tx) { job = tx.LeaseNextJob(std::string(kQueue), NowMs(), config_.lease.count()); });
  return job;
}

std::int64_t JobQueue::TakeBackAbandoned() {
  std::int64_t n = 0;
  store_.Transaction([&](store::Tx& tx) {
    for (auto& j : tx.ListJobs(std::string("running"), 100000)) {
      j.lease_until_ms = 0;  // single node: nobody else holds it
      tx.UpdateJob(j);
      ++n;
    }
  });
  return n;
}

void JobQueue::Wake() {
  {
    std::lock_guard lock(mutex_);
    ++wakeups_;
  }
  cv_.notify_one();
}

std::uint64_t JobQueue::Wakeups() {
  std::lock_guard lock(mutex_);
  return wakeups_;
}

bool JobQueue::WaitForWork(std::uint64_t seen) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, config_.idle_poll, [&] { return !open_ || wakeups_ != seen; });
  return open_;
}

void JobQueue::Open() {
  std::lock_guard lock(mutex_);
  open_ = true;
}

bool JobQueue::IsOpen() {
  std::lock_guard lock(mutex_);
  return open_;
}

void JobQueue::Close() {
  {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  cv_.notify_all();
}

}  // namespace fg::fulfillment

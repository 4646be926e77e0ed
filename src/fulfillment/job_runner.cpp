#include "fulfillment/job_runner.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <map>

namespace fg::fulfillment {

namespace json = boost::json;
using events::Event;
using store::ItemRow;
using store::JobRow;
using store::OrderRow;
using store::Tx;

namespace {
// fg_job_attempts_total{outcome}: succeeded | retried | failed | stopped.
void CountAttempt(const char* outcome) {
  metrics::M().jobs_finished.Add({{"outcome", outcome}}).Increment();
}

// Times one supplier call into fg_supplier_request_duration_seconds{operation} and counts its
// failures in fg_supplier_errors_total{operation, kind}; kind is a bounded set (the supplier's own
// error codes are free text and stay in the logs and events).
template <class Call>
auto SupplierCall(const char* operation, Call call) {
  auto& m = metrics::M();
  const auto start = std::chrono::steady_clock::now();
  const auto observe = [&] {
    m.supplier_calls.Add({{"operation", operation}}, metrics::Metrics::LatencyBuckets())
        .Observe(metrics::SecondsSince(start));
  };
  try {
    auto r = call();
    observe();
    return r;
  } catch (const SupplierError& e) {
    observe();
    const std::string& c = e.Code();
    const std::string kind = c == "timeout" || c == "network" || c == "bad_response" ? c
                             : e.Transient()                                         ? "refused_transient"
                                                                                     : "refused";
    m.supplier_errors.Add({{"operation", operation}, {"kind", kind}}).Increment();
    throw;
  } catch (...) {
    observe();
    m.supplier_errors.Add({{"operation", operation}, {"kind", "internal"}}).Increment();
    throw;
  }
}

std::int64_t Progress(const std::vector<ItemRow>& items) {
  if (items.empty()) return 0;
  const auto done = std::count_if(items.begin(), items.end(), [](const ItemRow& i) { return i.status == "delivered"; });
  return static_cast<std::int64_t>(done * 100 / static_cast<std::int64_t>(items.size()));
}

}  // namespace

JobRunner::JobRunner(store::FulfillmentStore& store, JobQueue& queue, ObjectStore& objects, const KeyCipher& cipher,
                     const KeyLinks& links, Supplier& supplier, EventSink sink, const ServiceConfig& config)
    : store_(store),
      queue_(queue),
      objects_(objects),
      cipher_(cipher),
      links_(links),
      supplier_(supplier),
      sink_(std::move(sink)),
      config_(config) {}

JobRunner::~JobRunner() {
  Stop();
}

void JobRunner::Start() {
  if (const auto n = config_.shared_store ? 0 : queue_.TakeBackAbandoned()) {
    spdlog::warn("{} job(s) were running when the previous process stopped; running them again", n);
  }
  queue_.Open();
  for (std::size_t i = 0; i < config_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void JobRunner::Stop() {
  queue_.Close();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

bool JobRunner::RunOnce() {
  auto job = queue_.Lease();
  if (!job) return false;
  Execute(std::move(*job));
  return true;
}

void JobRunner::WorkerLoop() {
  for (;;) {
    if (!queue_.IsOpen()) return;  // closed (stopping, draining): the job in hand was finished
    const std::uint64_t seen = queue_.Wakeups();
    bool worked = false;
    try {
      worked = RunOnce();
    } catch (const std::exception& e) {
      spdlog::error("job worker: {}", e.what());
    }
    if (worked) continue;
    if (!queue_.WaitForWork(seen)) return;
  }
}

void JobRunner::Execute(JobRow job) {
  Run run{std::move(job), {}, {}};
  if (!Begin(run)) return;
  Log(spdlog::level::info, "job attempt started",
      {{"jobId", run.job.job_id},
       {"orderId", run.order.order_id},
       {"attempt", run.job.attempts},
       {"maxAttempts", run.job.max_attempts}});
  const auto start = std::chrono::steady_clock::now();
  try {
    if (PlaceOrder(run) && SealKeys(run)) Complete(run);
  } catch (const std::exception& e) {
    OnFailure(run, e);
  }
  metrics::M().job_duration.Observe(metrics::SecondsSince(start));
}

bool JobRunner::StopIfOrderLeft(Tx& tx, Outbox& out, JobRow& job, const OrderRow& current) {
  if (current.status == ToString(OrderStatus::kProcessing)) return false;
  const std::string why = "order is " + current.status + (current.error.empty() ? "" : " (" + current.error + ")");
  job.state = "failed";
  job.last_error = "stopped: " + why;
  job.lease_until_ms = 0;
  tx.UpdateJob(job);
  for (auto& item : tx.GetItems(current.order_id)) {
    if (item.status == "failed") continue;
    item.status = "failed";  // keys of an order that is not fulfilled are never revealed
    tx.UpdateItem(item);
  }
  events::ErrorEvent stopped;
  stopped.order_id = current.order_id;
  stopped.severity = "critical";
  stopped.code = "fulfillment_stopped";
  stopped.error = "Fulfilment stopped: the " + why + "; no keys were delivered.";
  stopped.job_id = job.job_id;
  out.Record(tx, Event::kError, current.order_id, ToJson(stopped));
  out.Emit(tx, Event::kJobQueue, current.order_id,
           ToJson(events::JobQueueEvent{job.job_id, "failed", current.order_id,
                                        json::object{{"error", job.last_error},
                                                     {"attempt", job.attempts},
                                                     {"willRetry", false},
                                                     {"reason", "order_left_processing"}}}));
  Log(spdlog::level::warn, "job stopped", {{"jobId", job.job_id}, {"orderId", current.order_id}, {"why", why}});
  CountAttempt("stopped");
  return true;
}

namespace {
// The shopper's progress update while the job runs.
std::string ProcessingUpdate(const std::string& order_id, const std::string& job_id, std::int64_t progress) {
  events::StatusChange sc;
  sc.order_id = order_id;
  sc.status = OrderStatus::kProcessing;
  sc.fulfillment_status = "in_progress";
  sc.job_id = job_id;
  sc.job_status = "active";
  sc.job_progress = progress;
  return ToJson(sc);
}
}  // namespace

bool JobRunner::Begin(Run& run) {
  Outbox out(sink_);
  bool go = false;
  store_.Transaction([&](Tx& tx) {
    auto o = tx.GetOrder(run.job.order_id);
    const bool fulfilled = o && o->status == ToString(OrderStatus::kFulfilled);
    const bool runnable =
        o && (o->status == ToString(OrderStatus::kPaid) || o->status == ToString(OrderStatus::kProcessing));
    if (!runnable) {
      // Nothing to do: already fulfilled (a previous run finished), failed, or gone.
      run.job.state = fulfilled ? "completed" : "failed";
      run.job.last_error = !o ? "order missing" : (fulfilled ? "" : "order is " + o->status);
      run.job.lease_until_ms = 0;
      tx.UpdateJob(run.job);
      return;
    }
    run.order = *o;
    run.items = tx.GetItems(run.order.order_id);
    run.order.status = ToString(OrderStatus::kProcessing);
    run.order.fulfillment_status = "in_progress";
    run.order.job_id = run.job.job_id;
    run.order.job_progress = Progress(run.items);
    tx.UpdateOrder(run.order);
    out.Emit(tx, Event::kJobQueue, run.order.order_id,
             ToJson(events::JobQueueEvent{
                 run.job.job_id, "started", run.order.order_id,
                 json::object{{"attempt", run.job.attempts}, {"maxAttempts", run.job.max_attempts}}}));
    out.Record(tx, Event::kStatusChange, run.order.order_id,
               ProcessingUpdate(run.order.order_id, run.job.job_id, run.order.job_progress));
    go = true;
  });
  return go;
}

bool JobRunner::PlaceOrder(Run& run) {
  if (!run.order.supplier_ref.empty()) return true;
  std::map<std::string, std::int64_t> qty;
  std::vector<std::string> products;  // in the order's item order
  for (const auto& i : run.items) {
    if (!qty.count(i.product_id)) products.push_back(i.product_id);
    qty[i.product_id] += i.quantity;
  }
  std::vector<SupplierLine> lines;
  for (const auto& p : products) lines.push_back(SupplierLine{p, qty[p]});
  // A refund may have arrived since the job started: do not buy for an order that left processing.
  Outbox out(sink_);
  bool stopped = false;
  store_.Transaction([&](Tx& tx) { stopped = StopIfOrderLeft(tx, out, run.job, *tx.GetOrder(run.order.order_id)); });
  if (stopped) return false;
  const std::string ref = SupplierCall("place_order", [&] { return supplier_.PlaceOrder(run.order.order_id, lines); });
  store_.Transaction([&](Tx& tx) {
    auto o = tx.GetOrder(run.order.order_id);
    if (o->supplier_ref.empty()) {
      o->supplier_ref = ref;
      tx.UpdateOrder(*o);
    }
    run.order.supplier_ref = o->supplier_ref;
  });
  return true;
}

bool JobRunner::SealKeys(Run& run) {
  const auto keys = SupplierCall("get_keys", [&] { return supplier_.GetKeys(run.order.supplier_ref); });
  std::map<std::string, std::vector<const SupplierKey*>> by_product;
  for (const auto& k : keys) by_product[k.product_id].push_back(&k);
  std::map<std::string, std::size_t> used;
  for (auto& item : run.items) {
    auto& pool = by_product[item.product_id];
    const std::size_t from = used[item.product_id];
    used[item.product_id] += static_cast<std::size_t>(item.quantity);
    if (item.status == "delivered") continue;
    if (pool.size() < from + static_cast<std::size_t>(item.quantity)) {
      throw SupplierError(true, "keys_not_ready", "supplier returned too few keys for " + item.product_id);
    }
    std::string plain;
    for (std::int64_t q = 0; q < item.quantity; ++q) {
      if (q) plain += '\n';
      plain += pool[from + static_cast<std::size_t>(q)]->serial;
    }
    const std::string name = run.order.order_id + "/" + item.item_id;
    objects_.Put(name, cipher_.Seal(plain, run.order.order_id + ":" + item.item_id));
    item.status = "delivered";
    item.key_ref = name;
    item.key_type = pool[from]->type;
    const std::int64_t progress = Progress(run.items);
    Outbox out(sink_);
    bool stopped = false;
    store_.Transaction([&](Tx& tx) {
      auto o = tx.GetOrder(run.order.order_id);
      if ((stopped = StopIfOrderLeft(tx, out, run.job, *o))) return;  // the sealed key stays unreferenced
      tx.UpdateItem(item);
      o->job_progress = progress;
      tx.UpdateOrder(*o);
      run.job.progress = progress;
      tx.UpdateJob(run.job);
      out.Emit(tx, Event::kJobQueue, run.order.order_id,
               ToJson(events::JobQueueEvent{run.job.job_id, "progress", run.order.order_id,
                                            json::object{{"progress", progress}}}));
      if (progress < 100) {
        out.Record(tx, Event::kStatusChange, run.order.order_id,
                   ProcessingUpdate(run.order.order_id, run.job.job_id, progress));
      }
    });
    if (stopped) return false;
  }
  return true;
}

void JobRunner::Complete(Run& run) {
  Outbox out(sink_);
  bool stopped = false;
  store_.Transaction([&](Tx& tx) {
    auto o = tx.GetOrder(run.order.order_id);
    if (o->status == ToString(OrderStatus::kFulfilled)) return;  // another run got here first
    if ((stopped = StopIfOrderLeft(tx, out, run.job, *o))) return;
    o->status = ToString(OrderStatus::kFulfilled);
    o->fulfillment_status = "completed";
    o->job_progress = 100;
    o->error.clear();
    tx.UpdateOrder(*o);
    run.job.state = "completed";
    run.job.progress = 100;
    run.job.lease_until_ms = 0;
    run.job.result =
        json::serialize(json::object{{"itemCount", run.items.size()}, {"supplierRef", run.order.supplier_ref}});
    tx.UpdateJob(run.job);
    out.Record(tx, Event::kKeyDelivered, run.order.order_id,
               ToJson(events::KeyDelivered{run.order.order_id, run.items.size()}));
    const auto stored_items = tx.GetItems(run.order.order_id);
    events::StatusChange fulfilled;
    fulfilled.order_id = run.order.order_id;
    fulfilled.status = OrderStatus::kFulfilled;
    fulfilled.fulfillment_status = "completed";
    fulfilled.job_id = run.job.job_id;
    fulfilled.job_status = "completed";
    fulfilled.job_progress = 100;
    // Admins and the timeline get the items without links; the owner's copy carries them.
    fulfilled.items = links_.Items(*o, stored_items, false);
    std::string shared = ToJson(fulfilled);
    fulfilled.items = links_.Items(*o, stored_items, true);
    out.Record(tx, Event::kStatusChange, run.order.order_id, std::move(shared), o->user_id, ToJson(fulfilled));
    out.Emit(tx, Event::kJobQueue, run.order.order_id,
             ToJson(events::JobQueueEvent{
                 run.job.job_id, "completed", run.order.order_id,
                 json::object{{"progress", 100}, {"result", json::object{{"itemCount", run.items.size()}}}}}));
  });
  if (!stopped) {
    Log(spdlog::level::info, "job completed: order fulfilled",
        {{"jobId", run.job.job_id}, {"orderId", run.order.order_id}, {"items", run.items.size()}});
    CountAttempt("succeeded");
  }
}

void JobRunner::OnFailure(Run& run, const std::exception& e) {
  const auto* se = dynamic_cast<const SupplierError*>(&e);
  const bool transient = se ? se->Transient() : true;
  const std::string code = se ? se->Code() : "internal";
  const bool final = !transient || run.job.attempts >= run.job.max_attempts;
  JobRow& job = run.job;
  const std::string& order_id = run.order.order_id;
  Outbox out(sink_);
  bool stopped = false;
  store_.Transaction([&](Tx& tx) {
    auto o = tx.GetOrder(order_id);
    if ((stopped = StopIfOrderLeft(tx, out, job, *o))) return;  // nothing to retry for an order that left processing
    job.last_error = e.what();
    job.lease_until_ms = 0;
    events::ErrorEvent err;
    err.order_id = order_id;
    err.retryable = !final;
    err.code = code;
    err.error = e.what();
    err.job_id = job.job_id;
    err.attempt = job.attempts;
    err.max_attempts = job.max_attempts;
    if (final) {
      job.state = "failed";
      job.permanent = !transient;
      tx.UpdateJob(job);
      o->status = ToString(OrderStatus::kFailed);
      o->fulfillment_status = "failed";
      o->error = e.what();
      tx.UpdateOrder(*o);
      err.severity = "critical";
      out.Record(tx, Event::kError, order_id, ToJson(err));
      events::StatusChange failed;
      failed.order_id = order_id;
      failed.status = OrderStatus::kFailed;
      failed.fulfillment_status = "failed";
      failed.job_id = job.job_id;
      failed.job_status = "failed";
      failed.error = e.what();
      out.Record(tx, Event::kStatusChange, order_id, ToJson(failed));
      out.Emit(tx, Event::kJobQueue, order_id,
               ToJson(events::JobQueueEvent{
                   job.job_id, "failed", order_id,
                   json::object{{"error", e.what()}, {"attempt", job.attempts}, {"willRetry", false}}}));
      return;
    }
    double r;
    {
      std::lock_guard lock(rng_mutex_);
      r = std::uniform_real_distribution<double>(0, 1)(rng_);
    }
    job.state = "retry";
    job.next_run_at_ms = NowMs() + config_.backoff.Delay(static_cast<int>(job.attempts), r).count();
    tx.UpdateJob(job);
    const std::string next =
        IsoTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(job.next_run_at_ms)));
    err.severity = job.attempts + 1 >= job.max_attempts ? "error" : "warning";
    err.next_retry_at = next;
    out.Record(tx, Event::kError, order_id, ToJson(err));
    out.Emit(
        tx, Event::kJobQueue, order_id,
        ToJson(events::JobQueueEvent{
            job.job_id, "failed", order_id,
            json::object{{"error", e.what()}, {"attempt", job.attempts}, {"willRetry", true}, {"nextRunAt", next}}}));
  });
  if (stopped) return;
  CountAttempt(final ? "failed" : "retried");
  if (final) {
    Log(spdlog::level::err, "job failed for good", {{"jobId", job.job_id}, {"orderId", order_id}, {"error", e.what()}});
  } else {
    Log(spdlog::level::warn, "job attempt failed, will retry",
        {{"jobId", job.job_id},
         {"orderId", order_id},
         {"attempt", job.attempts},
         {"maxAttempts", job.max_attempts},
         {"error", e.what()}});
  }
}

}  // namespace fg::fulfillment

// The fulfillment flow's persistence port: orders with items, each order's event timeline, the
// durable job queue, webhook records and supplier references. Every change happens inside
// Transaction(), so a state change and the events it causes commit together ("durable before
// visible": callers broadcast only after Transaction returns).
//
// Job queue guarantees (see LeaseNextJob): at most one job per (queue, order); a job is leased to
// one worker at a time until lease_until; a lease that runs out (worker died or hung) makes the
// job eligible again, so job steps must be idempotent.
#pragma once

#include "store/event_log.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fg::store {

struct OrderRow {
  std::string order_id, user_id;
  std::string status = "created";
  std::string fulfillment_status = "pending";
  std::string currency = "USD";
  std::string job_id;              // empty: none
  std::int64_t job_progress = -1;  // -1: none
  std::string error;
  std::string payment_status;
  std::string supplier_ref;  // stored before it is used: a retried job never buys twice
  std::string created_at, updated_at;
  std::int64_t number = 0;   // the shop-facing order number (1, 2, …), assigned when inserted
  std::string payment_json;  // the payment:confirmed event, once paid (the snapshot shows it)
};

struct ItemRow {
  std::string item_id, order_id, product_id;
  std::int64_t quantity = 1;
  std::string status = "pending";  // pending | delivered | failed
  std::string key_ref;             // object-store name of the sealed key
  std::string key_type;
  std::string name;        // the product's name as sold (optional)
  std::string unit_price;  // decimal text, in the order's currency (optional)
};

struct EventRow {
  std::string order_id;
  std::int64_t seq = 0;
  std::string event, payload, created_at;
};

struct JobRow {
  std::string job_id, queue = "fulfillment", order_id;
  std::string state = "queued";  // queued | running | retry | completed | failed
  std::int64_t attempts = 0, max_attempts = 5;
  std::int64_t next_run_at_ms = 0, lease_until_ms = 0;
  std::int64_t progress = 0;
  std::string last_error, result, created_at, updated_at;
  bool permanent = false;  // failed for a reason a retry cannot change (e.g. out of stock)
};

struct WebhookRow {
  std::int64_t id = 0;
  std::string provider, event_type, external_id, order_id;
  std::string status = "received";  // received | verified | processed | failed
  std::string error;
  std::string raw_body;  // authentic calls: the whole body; failed ones: a bounded prefix only
  std::string body_sha256;
  std::int64_t body_size = 0;
  std::string created_at, updated_at;
};

class Tx {
 public:
  virtual ~Tx() = default;
  virtual std::optional<OrderRow> GetOrder(const std::string& order_id) = 0;
  virtual void InsertOrder(const OrderRow& o) = 0;
  virtual void UpdateOrder(const OrderRow& o) = 0;
  // Newest first; all users when `user_id` is empty.
  virtual std::vector<OrderRow> ListOrders(const std::string& user_id, std::int64_t limit) = 0;
  virtual std::vector<ItemRow> GetItems(const std::string& order_id) = 0;
  virtual void InsertItem(const ItemRow& i) = 0;
  virtual void UpdateItem(const ItemRow& i) = 0;
  // A timeline entry that is not delivered to anyone (e.g. `key:revealed`); throws for an unknown order.
  virtual EventRow AppendEvent(const std::string& order_id, const std::string& event, const std::string& payload) = 0;
  // The order's timeline (every order event logged with a Timeline, and AppendEvent's entries):
  virtual std::vector<EventRow> Events(const std::string& order_id, std::int64_t after_seq, std::int64_t limit) = 0;
  virtual std::optional<JobRow> GetJob(const std::string& job_id) = 0;
  virtual std::optional<JobRow> GetJobForOrder(const std::string& queue, const std::string& order_id) = 0;
  virtual void InsertJob(const JobRow& j) = 0;
  virtual void UpdateJob(const JobRow& j) = 0;
  // The next job due at `now_ms` (queued/retry with next_run_at ≤ now, or running with an expired
  // lease), now leased: state running, attempts + 1, lease_until = now + lease_ms.
  virtual std::optional<JobRow> LeaseNextJob(const std::string& queue, std::int64_t now_ms, std::int64_t lease_ms) = 0;
  virtual std::vector<JobRow> ListJobs(const std::optional<std::string>& state, std::int64_t limit) = 0;
  // Jobs by state and webhook records by status, of those last updated at or after `since` (ISO).
  virtual std::map<std::string, std::int64_t> CountJobs(const std::string& since) = 0;
  virtual std::map<std::string, std::int64_t> CountWebhooks(const std::string& since) = 0;
  virtual std::int64_t InsertWebhook(const WebhookRow& w) = 0;
  virtual void UpdateWebhook(const WebhookRow& w) = 0;
  // Deletes failed webhook records beyond the newest `keep`.
  virtual void PruneFailedWebhooks(std::int64_t keep) = 0;
  // Idempotency key of a provider notification; false when it was seen before.
  virtual bool RememberNotification(const std::string& provider, const std::string& key) = 0;
  // The newest delivery-log position and an order's newest timeline seq (0: none), as this
  // transaction sees them: with a view read in the same transaction they make a consistent snapshot.
  virtual std::int64_t LogHead() = 0;
  virtual std::int64_t TimelineSeq(const std::string& order_id) = 0;
  // Distinct for every transaction of a store (an Outbox tells its transactions apart by it).
  virtual std::uint64_t Serial() const = 0;
  // Appends `e` to the delivery log (store/event_log.hpp), setting its pos and created_ms — and, as
  // `timeline` says, to its order's timeline (setting order_seq): kIfOrder when the order exists
  // (a backend's event may name an order the gateway does not know), kRequired throws when not.
  enum class Timeline { kNone, kIfOrder, kRequired };
  virtual void LogEvent(LogEntry& e, Timeline timeline = Timeline::kNone) = 0;
  // Runs `fn` right after this transaction commits, still under the lock that orders commits
  // (never on rollback). Keep it short and non-blocking: it hands events to the gateway.
  virtual void AfterCommit(std::function<void()> fn) = 0;
};

class FulfillmentStore {
 public:
  virtual ~FulfillmentStore() = default;
  // Runs `fn` in one transaction; an exception rolls back and propagates.
  virtual void Transaction(const std::function<void(Tx&)>& fn) = 0;
};

}  // namespace fg::store

// The fulfillment flow: orders, payment IPNs, the durable job queue and its workers, the supplier,
// the key vault and signed download URLs. Every step emits its real-time event.
//
// Flow:  POST /api/v1/orders ─► created
//        IPN "finished" (signed) ─► paid + payment:confirmed + one job queued
//        worker leases the job ─► processing (progress per item) ─► supplier order (ref stored
//        first; the supplier dedupes by our order id) ─► keys sealed (AES-256-GCM) into the
//        object store ─► fulfilled + fulfillment:key-delivered + status-change with signed URLs
//        transient failure ─► retry with backoff (fulfillment:error warning/error, retryable)
//        permanent failure or attempts exhausted ─► failed (fulfillment:error critical)
// Guarantees: every state change and the order events it causes commit in one transaction before
// they are broadcast; replayed IPNs change nothing; each job step is idempotent, so a worker that
// dies (lease expiry, or restart) simply runs the job again.
// Threading: all methods block (SQLite, supplier HTTP, crypto): call them from the StoreWorker or
// the service's own worker threads, never from an event loop.
#pragma once

#include "fulfillment/crypto.hpp"
#include "fulfillment/object_store.hpp"
#include "fulfillment/policy.hpp"
#include "fulfillment/supplier.hpp"
#include "common/errc.hpp"
#include "common/rate_limit.hpp"
#include "store/fulfillment_store.hpp"

#include <boost/json/value.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace fg::fulfillment {

// One event to broadcast after commit: the app routes it (order subscribers + admins, or admins).
// `owner_json`, when set, is the variant for the order's owner (`owner_id`) only — it carries the
// signed key links; `json` (no links) goes to everyone else and is what the timeline stores.
struct Emitted {
  std::string event, order_id, json;
  std::string owner_id, owner_json;
};
using EventSink = std::function<void(const std::vector<Emitted>&)>;

// Who is asking, for access checks.
struct Caller {
  enum class Kind { kUser, kAdmin, kService } kind = Kind::kUser;
  std::string user_id;
};

// What a call returns: success with a JSON body, or an error of the one vocabulary (common/errc.hpp)
// with a message for people. Only http_api turns it into an HTTP status.
struct Result {
  errc code = errc::ok;
  std::string message;      // on failure
  boost::json::value body;  // on success
  bool created = false;     // success that made a new resource
  bool no_store = false;    // the answer must not be cached (it carries private data)
  long retry_after_s = 0;   // > 0: when to try again (rate_limited)
  bool ok() const { return code == errc::ok; }
};
Result Fail(errc code, std::string message);
Result Ok(boost::json::value body, bool no_store = false);
Result Created(boost::json::value body);

// The outcome of authenticating a provider webhook: pure CPU (HMAC over the canonical body), so
// it runs before and apart from any store work.
struct WebhookCheck {
  errc code = errc::ok;
  std::string message;
  bool ok() const { return code == errc::ok; }
};

struct ServiceConfig {
  std::vector<std::string> paid_statuses{"finished", "confirmed"};
  std::int64_t max_attempts = 5;
  Backoff backoff{};
  std::chrono::milliseconds lease{60000};
  std::chrono::seconds url_ttl{900};
  std::size_t workers = 2;
  std::string ipn_secret;      // empty: the IPN endpoint answers 503
  std::string kinguin_secret;  // empty: the Kinguin webhook answers 503
  std::chrono::milliseconds idle_poll{500};
  // Key reveals per order per minute (a signed link is the owner's; this bounds what a leaked or
  // scripted link can cost: each reveal decrypts and writes a timeline row). 0: unlimited.
  double reveals_per_minute = 20;
  // Failed (unauthenticated) webhook records kept; older ones are pruned.
  std::int64_t max_failed_webhooks = 10'000;
};

// The largest page of GET /api/v1/orders/{id}/events (?limit=).
inline constexpr std::int64_t kMaxTimelinePage = 500;
inline constexpr std::int64_t kDefaultTimelinePage = 100;

class Service {
 public:
  Service(store::FulfillmentStore& store, ObjectStore& objects, KeyCipher cipher, UrlSigner signer, Supplier& supplier,
          EventSink sink, ServiceConfig config);
  ~Service();

  Result CreateOrder(const Caller& caller, const boost::json::value& body);
  Result GetOrder(const Caller& caller, const std::string& order_id);
  // The caller's orders (admins and the backend: everyone's), newest first, at most 50.
  Result ListOrders(const Caller& caller);
  // Events with seq > after, oldest first, at most `limit` (1..kMaxTimelinePage); "nextAfter" names
  // the next page's cursor, null on the last page.
  Result GetTimeline(const Caller& caller, const std::string& order_id, std::int64_t after = 0,
                    std::int64_t limit = kDefaultTimelinePage);
  // Webhooks: the check (signature or secret, no store access, any thread) comes first; the
  // handler records and applies. The two-argument string forms do both (tests, simple callers).
  WebhookCheck CheckNowPaymentsSignature(std::string_view body, std::string_view signature) const;
  WebhookCheck CheckKinguinSecret(std::string_view secret) const;
  Result HandleNowPaymentsIpn(const std::string& body, const WebhookCheck& check);
  Result HandleKinguinWebhook(const std::string& body, const WebhookCheck& check);
  Result HandleNowPaymentsIpn(const std::string& body, const std::string& signature);
  Result HandleKinguinWebhook(const std::string& body, const std::string& secret);
  Result RevealKey(const std::string& order_id, const std::string& item_id, const std::string& expires, const std::string& sig);
  Result ListJobs(const std::optional<std::string>& state);
  Result RetryJob(const std::string& job_id);

  // Jobs left running by a previous process (single node) are made due again; then workers start.
  void Start();
  void Stop();
  // Runs at most one due job on the calling thread; false when none was due (tests use this).
  bool RunOnce();

 private:
  void WorkerLoop();
  void Process(store::JobRow job);
  // In a job's transaction: when the order left `processing` (refunded, failed, expired while the
  // job ran), ends the job without delivering anything, records why and returns true.
  bool StopIfOrderLeft(store::Tx& tx, std::vector<Emitted>& out, store::JobRow& job, const store::OrderRow& current);
  void Emit(std::vector<Emitted>& out, std::string event, const std::string& order_id, const boost::json::object& payload);
  // Appends to the order's timeline (same transaction) and queues for broadcast after commit.
  void Record(store::Tx& tx, std::vector<Emitted>& out, const std::string& event, const std::string& order_id,
              const std::string& payload_json);
  boost::json::object OrderView(store::Tx& tx, const store::OrderRow& o, bool with_urls);
  boost::json::array ItemsView(const store::OrderRow& o, const std::vector<store::ItemRow>& items, bool with_urls);
  void Publish(const std::vector<Emitted>& out);
  Result RejectWebhook(std::string_view provider, const std::string& body, const WebhookCheck& check);
  void Notify();
  std::int64_t NowMs() const;

  store::FulfillmentStore& store_;
  ObjectStore& objects_;
  KeyCipher cipher_;
  UrlSigner signer_;
  Supplier& supplier_;
  EventSink sink_;
  ServiceConfig config_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool running_ = false;
  std::uint64_t wakeups_ = 0;
  std::vector<std::thread> workers_;
  std::mt19937_64 rng_{std::random_device{}()};
  RateLimiter reveals_;
  RateLimiter rejected_log_{2, 10, 1};  // "webhook rejected" log lines: 2/s, bursts of 10
  std::atomic<std::uint64_t> rejected_unlogged_{0};
};

}  // namespace fg::fulfillment

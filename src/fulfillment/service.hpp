// The fulfillment flow: orders, payment IPNs, the durable job queue and its workers, the supplier,
// the key vault and signed download URLs. Every step emits its real-time event.
//
// Flow:  POST /api/v1/orders ─► created                                   (orders.hpp)
//        IPN "finished" (signed) ─► paid + payment:confirmed + one job     (payments.hpp, job_queue.hpp)
//        worker leases the job ─► processing ─► supplier order ─► keys sealed ─► fulfilled
//                                                                          (job_runner.hpp)
//        key links reach the owner only; a reveal checks the link first    (keys.hpp)
// Guarantees: every state change and the order events it causes commit in one transaction before
// they are broadcast (outbox.hpp); replayed IPNs change nothing; status only moves forward; each
// job step is idempotent, so a worker that dies (lease expiry, or restart) simply runs it again.
// Threading: all methods block (SQLite, supplier HTTP, crypto): call them from the StoreWorker or
// the flow's own worker threads, never from an event loop. This class wires the parts together
// and is what http_api and the app talk to.
#pragma once

#include "fulfillment/crypto.hpp"
#include "fulfillment/job_queue.hpp"
#include "fulfillment/job_runner.hpp"
#include "fulfillment/keys.hpp"
#include "fulfillment/object_store.hpp"
#include "fulfillment/orders.hpp"
#include "fulfillment/payments.hpp"
#include "fulfillment/supplier.hpp"
#include "fulfillment/types.hpp"
#include "store/fulfillment_store.hpp"

namespace fg::fulfillment {

class Service {
 public:
  Service(store::FulfillmentStore& store, ObjectStore& objects, KeyCipher cipher, UrlSigner signer, Supplier& supplier,
          EventSink sink, ServiceConfig config);
  ~Service();

  Result CreateOrder(const Caller& caller, const boost::json::value& body) { return orders_.Create(caller, body); }
  Result GetOrder(const Caller& caller, const std::string& order_id) { return orders_.Get(caller, order_id); }
  // The caller's orders (admins and the backend: everyone's), newest first, at most 50.
  Result ListOrders(const Caller& caller) { return orders_.List(caller); }
  std::optional<OrderService::Snapshot> OrderSnapshot(const Caller& caller, const std::string& order_id,
                                                      std::optional<std::int64_t> since) {
    return orders_.SnapshotFor(caller, order_id, since);
  }
  // Events with seq > after, oldest first, at most `limit` (1..kMaxTimelinePage); "nextAfter" names
  // the next page's cursor, null on the last page.
  Result GetTimeline(const Caller& caller, const std::string& order_id, std::int64_t after = 0,
                     std::int64_t limit = kDefaultTimelinePage) {
    return orders_.Timeline(caller, order_id, after, limit);
  }
  // Webhooks: the check (signature or secret, no store access, any thread) comes first; the
  // handler records and applies. The string forms do both (tests, simple callers).
  WebhookCheck CheckNowPaymentsSignature(std::string_view body, std::string_view signature) const {
    return payments_.CheckNowPayments(body, signature);
  }
  WebhookCheck CheckKinguinSecret(std::string_view secret) const { return payments_.CheckKinguin(secret); }
  Result HandleNowPaymentsIpn(const std::string& body, const WebhookCheck& check) {
    return payments_.NowPayments(body, check);
  }
  Result HandleKinguinWebhook(const std::string& body, const WebhookCheck& check) {
    return payments_.Kinguin(body, check);
  }
  Result HandleNowPaymentsIpn(const std::string& body, const std::string& signature) {
    return payments_.NowPayments(body, payments_.CheckNowPayments(body, signature));
  }
  Result HandleKinguinWebhook(const std::string& body, const std::string& secret) {
    return payments_.Kinguin(body, payments_.CheckKinguin(secret));
  }
  Result RevealKey(const std::string& order_id, const std::string& item_id, const std::string& expires,
                   const std::string& sig) {
    return keys_.Reveal(order_id, item_id, expires, sig);
  }
  Result ListJobs(const std::optional<std::string>& state) { return queue_.List(state); }
  Result RetryJob(const std::string& job_id) { return queue_.Retry(job_id); }
  Result Summary(std::int64_t window_seconds) { return queue_.Summary(window_seconds); }
  std::map<std::string, std::int64_t> JobCounts() { return queue_.CountByState(); }

  // Jobs left running by a previous process (single node) are made due again; then workers start.
  void Start() { runner_.Start(); }
  // A job became due elsewhere (another node): idle workers look now rather than at their next poll.
  void WakeWorkers() { queue_.Wake(); }
  // Draining: workers finish the job in hand and take no new one (never blocks; Stop joins them).
  void StopTakingJobs() { queue_.Close(); }
  void Stop() { runner_.Stop(); }
  // Runs at most one due job on the calling thread; false when none was due (tests use this).
  bool RunOnce() { return runner_.RunOnce(); }

 private:
  const ServiceConfig config_;
  const KeyCipher cipher_;
  const KeyLinks links_;
  JobQueue queue_;
  OrderService orders_;
  PaymentService payments_;
  KeyService keys_;
  JobRunner runner_;
};

}  // namespace fg::fulfillment

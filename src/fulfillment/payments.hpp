// Payment-provider webhooks: NOWPayments IPNs (HMAC-SHA512 of the canonical body) and the Kinguin
// webhook (shared secret). The check comes first and touches no store (it runs on the verifier
// thread); an authentic call is recorded in full and applied — payment status only moves forward,
// paying an order enqueues its one job — while a failed one leaves bounded metadata and one
// bounded summary for admins. Blocking (store): Handle* run on the StoreWorker.
#pragma once

#include "common/rate_limit.hpp"
#include "fulfillment/job_queue.hpp"
#include "fulfillment/outbox.hpp"
#include "fulfillment/types.hpp"
#include "store/fulfillment_store.hpp"

#include <atomic>

namespace fg::fulfillment {

class PaymentService {
 public:
  PaymentService(store::FulfillmentStore& store, JobQueue& queue, EventSink sink, const ServiceConfig& config)
      : store_(store), queue_(queue), sink_(std::move(sink)), config_(config) {}

  WebhookCheck CheckNowPayments(std::string_view body, std::string_view signature) const;
  WebhookCheck CheckKinguin(std::string_view secret) const;
  Result NowPayments(const std::string& body, const WebhookCheck& check);
  Result Kinguin(const std::string& body, const WebhookCheck& check);

 private:
  Result Reject(std::string_view provider, const std::string& body, const WebhookCheck& check);
  std::string ApplyPayment(store::Tx& tx, Outbox& out, const ParsedBody& fields, const store::WebhookRow& hook,
                           store::OrderRow& order, std::string& job_id);

  store::FulfillmentStore& store_;
  JobQueue& queue_;
  EventSink sink_;
  const ServiceConfig& config_;
  RateLimiter rejected_log_{2, 10, 1};  // "webhook rejected" log lines: 2/s, bursts of 10
  std::atomic<std::uint64_t> rejected_unlogged_{0};
};

}  // namespace fg::fulfillment

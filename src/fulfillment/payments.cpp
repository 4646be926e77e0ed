#include "fulfillment/payments.hpp"

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "fulfillment/js_json.hpp"
#include "fulfillment/outbox.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>

namespace fg::fulfillment {

namespace json = boost::json;
using events::Event;
using store::Tx;

namespace {

// What is kept of an unauthenticated webhook body: a printable sample for the operator.
constexpr std::size_t kFailedBodyPrefix = 256;

// A provider notification as first recorded: the raw body and the fields that identify it (read
// best-effort: the record is kept even when the body is not a JSON object).
store::WebhookRow ReadNotification(std::string provider, const std::string& body, const ParsedBody* parsed,
                                   std::string_view type_key, std::string_view external_key,
                                   std::string_view order_key) {
  store::WebhookRow hook;
  hook.provider = std::move(provider);
  hook.raw_body = body;
  if (parsed && parsed->is_object) {
    hook.event_type = parsed->Text(type_key);
    hook.external_id = parsed->Text(external_key);
    hook.order_id = parsed->Text(order_key);
    if (hook.order_id.size() > kMaxIdLength) hook.order_id.resize(kMaxIdLength);
  }
  return hook;
}

}  // namespace

WebhookCheck PaymentService::CheckNowPayments(std::string_view body, std::string_view signature) const {
  if (config_.ipn_secret.empty()) return WebhookCheck::Refused(errc::not_configured, "IPN_SECRET is not configured");
  // Cheap first: a signature that cannot be an HMAC-SHA512 is refused before the body is parsed.
  if (signature.empty()) return WebhookCheck::Refused(errc::invalid_signature, "missing x-nowpayments-sig");
  if (!IsHexDigest(signature, 128))
    return WebhookCheck::Refused(errc::invalid_signature, "x-nowpayments-sig is not 128 hex digits");
  auto parsed = ParseBody(body, true);
  if (!parsed || !SignatureMatches(NowPaymentsSignatureOf(parsed->canonical, config_.ipn_secret), signature)) {
    return WebhookCheck::Refused(errc::invalid_signature, "x-nowpayments-sig does not match the body");
  }
  WebhookCheck ok;
  ok.body = std::make_shared<const ParsedBody>(std::move(*parsed));
  return ok;
}

WebhookCheck PaymentService::CheckKinguin(std::string_view secret) const {
  if (config_.kinguin_secret.empty())
    return WebhookCheck::Refused(errc::not_configured, "KINGUIN_WEBHOOK_SECRET is not configured");
  if (!ConstantTimeEquals(secret, config_.kinguin_secret))
    return WebhookCheck::Refused(errc::invalid_secret, "missing or wrong X-Event-Secret");
  return WebhookCheck{};
}

namespace {
// fg_ipn_total{provider, outcome}: outcome is a wire error code or processed|duplicate|ignored|recorded.
void CountIpn(std::string_view provider, std::string_view outcome) {
  metrics::M().ipns.Add({{"provider", std::string(provider)}, {"outcome", std::string(outcome)}}).Increment();
}
}  // namespace

Result PaymentService::Reject(std::string_view provider, const std::string& body, const WebhookCheck& check) {
  CountIpn(provider, WireCode(check.code));
  if (check.code == errc::not_configured) return Fail(check.code, check.message);
  // Unauthenticated: only bounded metadata is kept, admins get one bounded summary, and the log
  // line is rate-limited (a flood of forged calls must not flood the disk or the dashboards).
  store::WebhookRow hook;
  hook.provider = std::string(provider);
  hook.status = "failed";
  hook.error = std::string(WireCode(check.code));
  hook.body_size = static_cast<std::int64_t>(body.size());
  hook.body_sha256 = HexEncode(Sha256(body));
  hook.raw_body = PrintablePrefix(body, kFailedBodyPrefix);
  Outbox out(sink_);
  store_.Transaction([&](Tx& tx) {
    hook.id = tx.InsertWebhook(hook);
    tx.PruneFailedWebhooks(config_.max_failed_webhooks);
    out.Emit(tx, Event::kWebhook, "",
             ToJson(events::WebhookEvent{hook.id, hook.provider, "failed", std::nullopt, std::nullopt, std::nullopt,
                                         std::string(WireCode(check.code)), hook.body_size}));
  });
  if (rejected_log_.Allow("webhook")) {
    const auto suppressed = rejected_unlogged_.exchange(0);
    spdlog::warn("{} webhook {} rejected: {} ({} bytes, sha256 {}){}", provider, hook.id, check.message, hook.body_size,
                 hook.body_sha256.substr(0, 16),
                 suppressed ? fmt::format("; {} more rejected since the last line", suppressed) : "");
  } else {
    ++rejected_unlogged_;
  }
  return Fail(check.code, check.message);
}

// One transaction per authentic IPN: the webhook record, the order's change, its timeline events,
// the job and the record's outcome commit together (or not at all: the provider retries).
Result PaymentService::NowPayments(const std::string& body, const WebhookCheck& check) {
  if (!check.ok()) return Reject("nowpayments", body, check);
  const ParsedBody* parsed = check.body.get();
  store::WebhookRow hook = ReadNotification("nowpayments", body, parsed, "payment_status", "payment_id", "order_id");
  Outbox out(sink_);
  auto hook_event = [&](Tx& tx, const std::string& status, const std::string& error) {
    out.Emit(tx, Event::kWebhook, hook.order_id,
             ToJson(events::WebhookEvent{hook.id, hook.provider, status, hook.event_type, hook.external_id,
                                         hook.order_id, error, std::nullopt}));
  };
  std::optional<errc> failure;
  bool duplicate = false, enqueued = false;
  std::string job_id, ignored;
  store_.Transaction([&](Tx& tx) {
    failure.reset();
    duplicate = enqueued = false;
    ignored.clear();
    // Authentic (signed with our secret): recorded in full, as verified.
    hook.status = "verified";
    hook.error.clear();
    hook.id = tx.InsertWebhook(hook);
    hook_event(tx, "received", "");
    hook_event(tx, "verified", "");
    const auto fail = [&](errc code, std::string message) {
      failure = code;
      hook.status = "failed";
      hook.error = std::move(message);
      tx.UpdateWebhook(hook);
      hook_event(tx, "failed", hook.error);
    };
    if (!parsed || !parsed->is_object) return fail(errc::invalid_body, "IPN body is not a JSON object");
    if (hook.order_id.empty() || hook.event_type.empty() || hook.external_id.empty())
      return fail(errc::invalid_body, "IPN needs order_id, payment_id and payment_status");
    auto order = tx.GetOrder(hook.order_id);
    if (!order) return fail(errc::order_not_found, "IPN for unknown order " + hook.order_id);
    if (!tx.RememberNotification("nowpayments", hook.external_id + ":" + hook.event_type)) {
      duplicate = true;
    } else {
      ignored = ApplyPayment(tx, out, *parsed, hook, *order, job_id);
      enqueued = !job_id.empty();
    }
    hook.status = "processed";
    if (duplicate) hook.error = "duplicate notification ignored";
    if (!ignored.empty()) hook.error = "recorded, not applied: " + ignored;
    tx.UpdateWebhook(hook);
    hook_event(tx, "processed", "");
  });
  if (failure) {
    Log(spdlog::level::warn, "IPN rejected",
        {{"webhookId", hook.id}, {"orderId", hook.order_id}, {"error", hook.error}});
    CountIpn("nowpayments", WireCode(*failure));
    return Fail(*failure, hook.error);
  }
  CountIpn("nowpayments", duplicate ? "duplicate" : (ignored.empty() ? "processed" : "ignored"));
  if (!ignored.empty())
    Log(spdlog::level::info, "IPN recorded, not applied",
        {{"webhookId", hook.id}, {"orderId", hook.order_id}, {"why", hook.error}});
  if (enqueued) {
    Log(spdlog::level::info, "order paid, job queued",
        {{"orderId", hook.order_id}, {"webhookId", hook.id}, {"jobId", job_id}});
    queue_.Wake();
  }
  json::object reply{{"status", duplicate ? "duplicate" : (ignored.empty() ? "processed" : "ignored")},
                     {"webhookId", hook.id}};
  return Ok(reply);
}

// Applies an authentic, new payment status to `order` inside the IPN's transaction. Returns why it
// changed nothing, or empty; sets `job_id` when it queued the fulfilment job.
std::string PaymentService::ApplyPayment(Tx& tx, Outbox& out, const ParsedBody& fields, const store::WebhookRow& hook,
                                         store::OrderRow& order, std::string& job_id) {
  const std::string& status = hook.event_type;
  const auto current = ParseOrderStatus(order.status).value_or(OrderStatus::kCreated);
  const auto status_change = [&](std::string message) {
    events::StatusChange sc;
    sc.order_id = order.order_id;
    sc.status = ParseOrderStatus(order.status).value_or(OrderStatus::kCreated);
    sc.fulfillment_status = order.fulfillment_status;
    sc.payment_status = order.payment_status;
    sc.message = std::move(message);
    out.Record(tx, Event::kStatusChange, order.order_id, ToJson(sc));
  };
  const bool paid =
      std::find(config_.paid_statuses.begin(), config_.paid_statuses.end(), status) != config_.paid_statuses.end();
  if (paid) {
    if (!CanTransition(current, OrderStatus::kPaid)) return "order is already " + order.status;
    order.status = ToString(OrderStatus::kPaid);
    order.payment_status = status;
    events::PaymentConfirmed confirmed;
    confirmed.order_id = order.order_id;
    confirmed.payment_id = hook.external_id;
    if (const auto* hash = fields.Find("payin_hash"); hash && hash->is_string) confirmed.tx_hash = hash->text;
    confirmed.currency =
        fields.Text("pay_currency").empty() ? fields.Text("price_currency") : fields.Text("pay_currency");
    // amounts keep the provider's exact number text
    const JsonField* amount = fields.Find("actually_paid");
    if (!amount || amount->raw == "null") amount = fields.Find("pay_amount");
    confirmed.amount_json = amount ? amount->raw : "null";
    if (const auto* price = fields.Find("price_amount")) confirmed.price_amount_json = price->raw;
    order.payment_json = ToJson(confirmed);  // the snapshot keeps showing what was paid
    tx.UpdateOrder(order);
    out.Record(tx, Event::kPaymentConfirmed, order.order_id, order.payment_json);
    status_change("");
    if (auto id = queue_.EnqueueFor(tx, out, order.order_id)) {
      order.job_id = *id;
      tx.UpdateOrder(order);
      job_id = *id;
    }
    return {};
  }
  if (status == "failed" || status == "expired" || status == "refunded") {
    if (CanTransition(current, OrderStatus::kFailed)) {
      order.status = ToString(OrderStatus::kFailed);
      order.fulfillment_status = "failed";
      order.error = "payment " + status;
      order.payment_status = status;
      tx.UpdateOrder(order);
      events::ErrorEvent err;
      err.order_id = order.order_id;
      err.severity = "error";
      err.code = "payment_" + status;
      err.error = "The payment was " + status + ".";
      out.Record(tx, Event::kError, order.order_id, ToJson(err));
      status_change("");
      return {};
    }
    if (order.payment_status != status && PaymentRank(status) > PaymentRank(order.payment_status)) {
      // e.g. refunded after the keys were delivered: the order stays fulfilled; its payment moved on.
      order.payment_status = status;
      tx.UpdateOrder(order);
      status_change("");
      return {};
    }
    return "order is " + order.status + " with payment " + order.payment_status;
  }
  // waiting, confirming, sending, partially_paid…: progress of a payment not yet complete. Applied
  // only while the order waits for payment and only forward; anything else changes nothing.
  if (current != OrderStatus::kCreated || PaymentRank(status) <= PaymentRank(order.payment_status)) {
    return "out of order: payment " + status + " after " +
           (order.payment_status.empty() ? order.status : order.payment_status);
  }
  order.payment_status = status;
  tx.UpdateOrder(order);
  status_change(status == "partially_paid" ? "A partial payment was received; the order waits for the rest." : "");
  return {};
}

Result PaymentService::Kinguin(const std::string& body, const WebhookCheck& check) {
  if (!check.ok()) return Reject("kinguin", body, check);
  const auto parsed = ParseBody(body, false);
  store::WebhookRow hook =
      ReadNotification("kinguin", body, parsed ? &*parsed : nullptr, "status", "orderId", "orderExternalId");
  const bool valid = parsed && parsed->is_object;
  hook.status = valid ? "processed" : "failed";
  hook.error = valid ? "" : "body is not a JSON object";
  Outbox out(sink_);
  store_.Transaction([&](Tx& tx) {
    hook.id = tx.InsertWebhook(hook);
    out.Emit(tx, Event::kWebhook, hook.order_id,
             ToJson(events::WebhookEvent{hook.id, "kinguin", hook.status, hook.event_type, hook.external_id,
                                         hook.order_id, hook.error, std::nullopt}));
  });
  CountIpn("kinguin", valid ? "recorded" : WireCode(errc::invalid_body));
  if (!valid) return Fail(errc::invalid_body, "body is not a JSON object");
  return Ok(json::object{{"status", "recorded"}, {"webhookId", hook.id}});
}

}  // namespace fg::fulfillment

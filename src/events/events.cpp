#include "events/events.hpp"

#include "common/clock.hpp"
#include "common/json_text.hpp"

#include <boost/json/serialize.hpp>

namespace fg::events {

namespace json = boost::json;

bool IsSafeId(std::string_view id, std::size_t max_len) {
  if (id.empty() || id.size() > max_len) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::string_view Name(Event e) {
  switch (e) {
    case Event::kStatusChange:
      return "fulfillment:status-change";
    case Event::kPaymentConfirmed:
      return "payment:confirmed";
    case Event::kKeyDelivered:
      return "fulfillment:key-delivered";
    case Event::kError:
      return "fulfillment:error";
    case Event::kJobQueue:
      return "admin:job-queue-event";
    case Event::kWebhook:
      return "admin:webhook-received";
  }
  return "";
}

std::optional<Event> Parse(std::string_view name) {
  for (auto e : kAllEvents) {
    if (Name(e) == name) return e;
  }
  return std::nullopt;
}

Audience AudienceOf(Event e) {
  return e == Event::kJobQueue || e == Event::kWebhook ? Audience::kAdminsOnly : Audience::kOrderAndAdmins;
}

std::optional<Audience> AudienceOf(std::string_view name) {
  const auto e = Parse(name);
  if (!e) return std::nullopt;
  return AudienceOf(*e);
}

std::string_view ToString(OrderStatus s) {
  switch (s) {
    case OrderStatus::kCreated:
      return "created";
    case OrderStatus::kPaid:
      return "paid";
    case OrderStatus::kProcessing:
      return "processing";
    case OrderStatus::kFulfilled:
      return "fulfilled";
    case OrderStatus::kFailed:
      return "failed";
  }
  return "created";
}

std::optional<OrderStatus> ParseOrderStatus(std::string_view s) {
  for (auto st : kAllStatuses) {
    if (ToString(st) == s) return st;
  }
  return std::nullopt;
}

namespace {
void PutIf(json::object& o, std::string_view key, const std::string& v) {
  if (!v.empty()) o[key] = v;
}
}  // namespace

std::string ToJson(const StatusChange& e) {
  json::object o{{"orderId", e.order_id}, {"status", ToString(e.status)}};
  PutIf(o, "fulfillmentStatus", e.fulfillment_status);
  PutIf(o, "paymentStatus", e.payment_status);
  PutIf(o, "jobId", e.job_id);
  PutIf(o, "jobStatus", e.job_status);
  if (e.job_progress) o["jobProgress"] = *e.job_progress;
  if (!e.items.is_null()) o["items"] = e.items;
  PutIf(o, "error", e.error);
  PutIf(o, "reason", e.reason);
  PutIf(o, "message", e.message);
  o["timestamp"] = IsoTimestamp();
  return json::serialize(o);
}

std::string ToJson(const ErrorEvent& e) {
  json::object o{{"orderId", e.order_id},    {"error", e.error}, {"severity", e.severity},
                 {"retryable", e.retryable}, {"code", e.code},   {"message", e.error}};
  PutIf(o, "jobId", e.job_id);
  if (e.attempt) o["attempt"] = *e.attempt;
  if (e.max_attempts) o["maxAttempts"] = *e.max_attempts;
  PutIf(o, "nextRetryAt", e.next_retry_at);
  o["timestamp"] = IsoTimestamp();
  return json::serialize(o);
}

std::string ToJson(const KeyDelivered& e) {
  return json::serialize(json::object{{"orderId", e.order_id},
                                      {"itemCount", e.item_count},
                                      {"deliveryMethod", "customer-reveal"},
                                      {"timestamp", IsoTimestamp()}});
}

std::string ToJson(const PaymentConfirmed& e) {
  json::object o{{"orderId", e.order_id}, {"paymentId", e.payment_id}, {"timestamp", IsoTimestamp()}};
  o["txHash"] = e.tx_hash ? json::value(*e.tx_hash) : json::value(nullptr);
  o["currency"] = e.currency;
  // amounts keep the provider's exact number text (JSON numbers re-serialised would change)
  std::string text = json_text::AppendMember(json::serialize(o), "amount", e.amount_json);
  if (e.price_amount_json) text = json_text::AppendMember(text, "priceAmount", *e.price_amount_json);
  return text;
}

std::string ToJson(const JobQueueEvent& e) {
  json::object o{{"jobId", e.job_id}, {"event", e.event}, {"queueName", "fulfillment"}, {"orderId", e.order_id}};
  for (const auto& kv : e.details) o[kv.key()] = kv.value();
  if (!o.contains("timestamp")) o["timestamp"] = IsoTimestamp();
  return json::serialize(o);
}

std::string ToJson(const WebhookEvent& e) {
  json::object o{{"webhookId", e.webhook_id}, {"provider", e.provider}};
  if (e.event_type) o["eventType"] = *e.event_type;
  if (e.external_id) o["externalId"] = *e.external_id;
  if (e.order_id) o["orderId"] = *e.order_id;
  o["status"] = e.status;
  PutIf(o, "error", e.error);
  if (e.body_bytes) o["bodyBytes"] = *e.body_bytes;
  o["timestamp"] = IsoTimestamp();
  return json::serialize(o);
}

}  // namespace fg::events

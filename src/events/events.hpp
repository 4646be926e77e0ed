// The server → client event vocabulary, in one place below `gateway` and `fulfillment`: each
// event's name and audience, the order status values, and typed builders of each payload. It
// mirrors web/src/lib/events.ts (events_test.cpp reads that file and checks that they agree).
// Pure: no I/O; the payloads are JSON text, with `timestamp` added by the builders.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fg::events {

inline constexpr std::string_view kNamespace = "/fulfillment";

// An id we accept in paths and payloads (orders, items, products): 1..max_len of [A-Za-z0-9._:-]
// (nothing that could climb a path or need escaping).
bool IsSafeId(std::string_view id, std::size_t max_len = 128);

// Who may see an event: the order's subscribers (its owner) and every admin, or admins only.
enum class Audience { kOrderAndAdmins, kAdminsOnly };

enum class Event { kStatusChange, kPaymentConfirmed, kKeyDelivered, kError, kJobQueue, kWebhook };
inline constexpr Event kAllEvents[] = {Event::kStatusChange, Event::kPaymentConfirmed, Event::kKeyDelivered,
                                       Event::kError,        Event::kJobQueue,         Event::kWebhook};

std::string_view Name(Event e);
std::optional<Event> Parse(std::string_view name);  // nullopt for any other name
Audience AudienceOf(Event e);
// The audience of a published event name; nullopt when it is not one of the six.
std::optional<Audience> AudienceOf(std::string_view name);

// created → paid → processing → fulfilled, and any non-terminal state → failed.
enum class OrderStatus { kCreated, kPaid, kProcessing, kFulfilled, kFailed };
inline constexpr OrderStatus kAllStatuses[] = {OrderStatus::kCreated, OrderStatus::kPaid, OrderStatus::kProcessing,
                                               OrderStatus::kFulfilled, OrderStatus::kFailed};
std::string_view ToString(OrderStatus s);
std::optional<OrderStatus> ParseOrderStatus(std::string_view s);

// `fulfillment:status-change`. Empty strings and absent optionals are left out of the payload.
struct StatusChange {
  std::string order_id;
  OrderStatus status = OrderStatus::kCreated;
  std::string fulfillment_status;
  std::string payment_status;
  std::string job_id, job_status;
  std::optional<std::int64_t> job_progress;
  boost::json::value items;  // null: absent
  std::string error, reason, message;
};
std::string ToJson(const StatusChange& e);

// `fulfillment:error`: the design guide's {orderId, error, severity, retryable, timestamp}, plus
// `code` (stable, for programs), `message` (the same text as `error`) and step details.
struct ErrorEvent {
  std::string order_id;
  std::string severity;  // warning | error | critical
  bool retryable = false;
  std::string code;
  std::string error;
  std::string job_id;
  std::optional<std::int64_t> attempt, max_attempts;
  std::string next_retry_at;
};
std::string ToJson(const ErrorEvent& e);

// `fulfillment:key-delivered`
struct KeyDelivered {
  std::string order_id;
  std::size_t item_count = 0;
};
std::string ToJson(const KeyDelivered& e);

// `payment:confirmed`; amounts are the provider's number text (nullopt: null / absent).
struct PaymentConfirmed {
  std::string order_id, payment_id, currency;
  std::optional<std::string> tx_hash;
  std::string amount_json = "null";              // raw JSON number text
  std::optional<std::string> price_amount_json;  // raw JSON number text
};
std::string ToJson(const PaymentConfirmed& e);

// `admin:job-queue-event`: queued | started | progress | completed | failed, plus details.
struct JobQueueEvent {
  std::string job_id, event, order_id;
  boost::json::object details;  // progress, error, attempt, willRetry, nextRunAt, result, manual, reason…
};
std::string ToJson(const JobQueueEvent& e);

// `admin:webhook-received`
struct WebhookEvent {
  std::int64_t webhook_id = 0;
  std::string provider, status;
  std::optional<std::string> event_type, external_id, order_id;  // authentic calls only
  std::string error;
  std::optional<std::int64_t> body_bytes;  // failed (unauthenticated) calls: only their size
};
std::string ToJson(const WebhookEvent& e);

}  // namespace fg::events

#include "fulfillment/service.hpp"

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/json_text.hpp"
#include "fulfillment/js_json.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

namespace fg::fulfillment {

namespace json = boost::json;
using store::ItemRow;
using store::JobRow;
using store::OrderRow;
using store::Tx;

namespace {

constexpr std::string_view kQueue = "fulfillment";
constexpr std::size_t kMaxItems = 50;
constexpr std::int64_t kMaxQuantity = 100;
constexpr std::size_t kMaxIdLength = 128;
// What is kept of an unauthenticated webhook body: a printable sample for the operator.
constexpr std::size_t kFailedBodyPrefix = 256;

std::string Str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return {};
}

// A provider notification as first recorded: the raw body and the fields that identify it (read
// best-effort: the record is kept even when the body is not JSON or not authentic).
struct Notification {
  store::WebhookRow hook;
  json::value parsed;
  bool is_object = false;
};
Notification ReadNotification(std::string provider, const std::string& body, std::string_view type_key, std::string_view external_key,
                              std::string_view order_key) {
  Notification n;
  n.hook.provider = std::move(provider);
  n.hook.raw_body = body;
  boost::system::error_code ec;
  n.parsed = json::parse(body, ec);
  n.is_object = !ec && n.parsed.is_object();
  if (n.is_object) {
    const auto& fields = n.parsed.as_object();
    n.hook.event_type = Str(fields, type_key);
    n.hook.external_id = Str(fields, external_key);
    n.hook.order_id = Str(fields, order_key);
    if (n.hook.order_id.size() > kMaxIdLength) n.hook.order_id.resize(kMaxIdLength);
  }
  return n;
}

// `fulfillment:error`: the design guide's {orderId, error, severity, retryable, timestamp}, plus
// `code` (stable, for programs), `message` (the same text as `error`) and any extra fields.
std::string ErrorPayload(const std::string& order_id, std::string_view severity, bool retryable, std::string_view code,
                         std::string_view message, json::object extra = {}) {
  json::object p{{"orderId", order_id}, {"error", message}, {"severity", severity}, {"retryable", retryable},
                 {"code", code}, {"message", message}};
  for (auto& kv : extra) p[kv.key()] = kv.value();
  p["timestamp"] = IsoTimestamp();
  return json::serialize(p);
}

// How far a NOWPayments payment has got; an IPN that does not move it forward changes nothing.
int PaymentRank(std::string_view status) {
  static constexpr std::pair<std::string_view, int> kRanks[] = {
      {"waiting", 1}, {"confirming", 2}, {"confirmed", 3}, {"sending", 4}, {"partially_paid", 5},
      {"finished", 6}, {"failed", 7}, {"expired", 7}, {"refunded", 8}};
  for (const auto& [name, rank] : kRanks) {
    if (name == status) return rank;
  }
  return 0;
}

bool CanSee(const Caller& c, const OrderRow& o) { return c.kind != Caller::Kind::kUser || c.user_id == o.user_id; }

json::object JobView(const JobRow& j) {
  json::object o{{"jobId", j.job_id},       {"queueName", j.queue},       {"orderId", j.order_id},
                 {"state", j.state},        {"attempts", j.attempts},     {"maxAttempts", j.max_attempts},
                 {"progress", j.progress},  {"createdAt", j.created_at},  {"updatedAt", j.updated_at}};
  if (!j.last_error.empty()) o["lastError"] = j.last_error;
  if (j.state == "retry" || j.state == "queued") o["nextRunAt"] = IsoTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(j.next_run_at_ms)));
  if (!j.result.empty()) {
    boost::system::error_code ec;
    auto r = json::parse(j.result, ec);
    if (!ec) o["result"] = r;
  }
  return o;
}

}  // namespace

Result Fail(errc code, std::string message) {
  Result r;
  r.code = code;
  r.message = std::move(message);
  return r;
}

Result Ok(boost::json::value body, bool no_store) {
  Result r;
  r.body = std::move(body);
  r.no_store = no_store;
  return r;
}

Result Created(boost::json::value body) {
  Result r = Ok(std::move(body));
  r.created = true;
  return r;
}

Service::Service(store::FulfillmentStore& store, ObjectStore& objects, KeyCipher cipher, UrlSigner signer, Supplier& supplier,
                 EventSink sink, ServiceConfig config)
    : store_(store),
      objects_(objects),
      cipher_(std::move(cipher)),
      signer_(std::move(signer)),
      supplier_(supplier),
      sink_(std::move(sink)),
      config_(std::move(config)),
      reveals_(config_.reveals_per_minute / 60.0, std::max(1.0, config_.reveals_per_minute)) {}

Service::~Service() { Stop(); }

std::int64_t Service::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Service::Emit(std::vector<Emitted>& out, std::string event, const std::string& order_id, const json::object& payload) {
  json::object p = payload;
  if (!p.contains("timestamp")) p["timestamp"] = IsoTimestamp();
  out.push_back(Emitted{std::move(event), order_id, json::serialize(p), {}, {}});
}

void Service::Record(Tx& tx, std::vector<Emitted>& out, const std::string& event, const std::string& order_id,
                     const std::string& payload_json) {
  tx.AppendEvent(order_id, event, payload_json);
  out.push_back(Emitted{event, order_id, payload_json, {}, {}});
}

void Service::Publish(const std::vector<Emitted>& out) {
  if (sink_ && !out.empty()) sink_(out);
}

void Service::Notify() {
  {
    std::lock_guard lock(mutex_);
    ++wakeups_;
  }
  cv_.notify_one();
}

json::array Service::ItemsView(const OrderRow& o, const std::vector<ItemRow>& items, bool with_urls) {
  json::array arr;
  const std::int64_t expires = UnixSeconds() + config_.url_ttl.count();
  for (const auto& i : items) {
    json::object it{{"itemId", i.item_id}, {"productId", i.product_id}, {"quantity", i.quantity}, {"status", i.status}};
    if (with_urls && i.status == "delivered") {
      it["signedUrl"] = signer_.SignedPath("/api/v1/keys/" + o.order_id + "/" + i.item_id, expires);
      it["signedUrlExpiresAt"] = IsoTimestamp(std::chrono::system_clock::time_point(std::chrono::seconds(expires)));
    }
    arr.push_back(std::move(it));
  }
  return arr;
}

json::object Service::OrderView(Tx& tx, const OrderRow& o, bool with_urls) {
  json::object v{{"orderId", o.order_id},
                 {"userId", o.user_id},
                 {"status", o.status},
                 {"fulfillmentStatus", o.fulfillment_status},
                 {"currency", o.currency},
                 {"items", ItemsView(o, tx.GetItems(o.order_id), with_urls && o.status == "fulfilled")},
                 {"createdAt", o.created_at},
                 {"updatedAt", o.updated_at}};
  if (!o.job_id.empty()) v["jobId"] = o.job_id;
  if (o.job_progress >= 0) v["jobProgress"] = o.job_progress;
  if (!o.error.empty()) v["error"] = o.error;
  if (!o.payment_status.empty()) v["paymentStatus"] = o.payment_status;
  return v;
}

// ---- orders ----

Result Service::CreateOrder(const Caller& caller, const json::value& body) {
  const auto* o = body.if_object();
  if (!o) return Fail(errc::invalid_body, "body must be a JSON object with \"items\"");
  std::string user_id = caller.user_id;
  if (caller.kind != Caller::Kind::kUser) {
    user_id = Str(*o, "userId");
    if (caller.kind == Caller::Kind::kAdmin && user_id.empty()) user_id = caller.user_id;
    if (user_id.empty() || user_id.size() > kMaxIdLength) {
      return Fail(errc::invalid_body, "\"userId\" is required when creating an order with the API key");
    }
  }
  const auto* items = o->if_contains("items");
  if (!items || !items->is_array() || items->as_array().empty() || items->as_array().size() > kMaxItems) {
    return Fail(errc::invalid_body, "\"items\" must be an array of 1-50 {productId, quantity}");
  }
  std::string currency = "USD";
  if (const auto* c = o->if_contains("currency")) {
    if (!c->is_string() || c->as_string().empty() || c->as_string().size() > 8) {
      return Fail(errc::invalid_body, "\"currency\" must be a short string such as \"USD\"");
    }
    currency = std::string(c->as_string());
  }
  std::vector<ItemRow> rows;
  const std::string order_id = "ord_" + RandomId(12);
  for (const auto& item : items->as_array()) {
    const auto* io = item.if_object();
    const auto* pid = io ? io->if_contains("productId") : nullptr;
    const auto* qty = io ? io->if_contains("quantity") : nullptr;
    if (!pid || !pid->is_string() || !IsSafeId(pid->as_string(), kMaxIdLength)) {
      return Fail(errc::invalid_body, "each item needs a \"productId\" of 1-128 characters of [A-Za-z0-9._:-]");
    }
    std::int64_t q = 1;
    if (qty) {
      if (!qty->is_int64() || qty->as_int64() < 1 || qty->as_int64() > kMaxQuantity) {
        return Fail(errc::invalid_body, "\"quantity\" must be an integer from 1 to 100");
      }
      q = qty->as_int64();
    }
    rows.push_back(ItemRow{"itm_" + RandomId(9), order_id, std::string(pid->as_string()), q, "pending", "", ""});
  }
  std::vector<Emitted> out;
  json::object view;
  store_.Transaction([&](Tx& tx) {
    OrderRow row;
    row.order_id = order_id;
    row.user_id = user_id;
    row.currency = currency;
    tx.InsertOrder(row);
    for (const auto& r : rows) tx.InsertItem(r);
    const auto stored = tx.GetOrder(order_id);
    Record(tx, out, "fulfillment:status-change", order_id,
           json::serialize(json::object{{"orderId", order_id}, {"status", "created"}, {"fulfillmentStatus", "pending"},
                                        {"timestamp", IsoTimestamp()}}));
    view = OrderView(tx, *stored, false);
  });
  Publish(out);
  spdlog::info("order {} created for user {} ({} items)", order_id, user_id, rows.size());
  return Created(view);
}

Result Service::GetOrder(const Caller& caller, const std::string& order_id) {
  Result r = Fail(errc::not_found, "no such order");
  store_.Transaction([&](Tx& tx) {
    auto o = tx.GetOrder(order_id);
    if (!o || !CanSee(caller, *o)) return;
    // Fresh signed URLs go to the order's owner (and the backend), not to other admins.
    const bool urls = caller.kind == Caller::Kind::kService || caller.user_id == o->user_id;
    r = Ok(OrderView(tx, *o, urls), true);
  });
  return r;
}

Result Service::ListOrders(const Caller& caller) {
  json::array orders;
  store_.Transaction([&](Tx& tx) {
    const std::string user = caller.kind == Caller::Kind::kUser ? caller.user_id : std::string();
    for (const auto& o : tx.ListOrders(user, 50)) orders.push_back(OrderView(tx, o, false));
  });
  return Ok(json::object{{"orders", std::move(orders)}}, true);
}

Result Service::GetTimeline(const Caller& caller, const std::string& order_id, std::int64_t after, std::int64_t limit) {
  Result r = Fail(errc::not_found, "no such order");
  if (after < 0 || limit < 1 || limit > kMaxTimelinePage) {
    return Fail(errc::invalid_query, "\"after\" must be a non-negative integer and \"limit\" 1-" + std::to_string(kMaxTimelinePage));
  }
  store_.Transaction([&](Tx& tx) {
    auto o = tx.GetOrder(order_id);
    if (!o || !CanSee(caller, *o)) return;
    json::array events;
    // One row more than asked tells whether another page follows.
    auto rows = tx.Events(order_id, after, limit + 1);
    const bool more = static_cast<std::int64_t>(rows.size()) > limit;
    if (more) rows.pop_back();
    for (const auto& e : rows) {
      boost::system::error_code ec;
      auto payload = json::parse(e.payload, ec);
      events.push_back(json::object{{"seq", e.seq}, {"event", e.event}, {"data", ec ? json::value(e.payload) : payload},
                                    {"createdAt", e.created_at}});
    }
    json::object body{{"orderId", order_id}, {"events", std::move(events)}};
    body["nextAfter"] = more ? json::value(rows.back().seq) : json::value(nullptr);
    r = Ok(std::move(body), true);
  });
  return r;
}

// ---- payment IPN ----

WebhookCheck Service::CheckNowPaymentsSignature(std::string_view body, std::string_view signature) const {
  if (config_.ipn_secret.empty()) return WebhookCheck{errc::not_configured, "IPN_SECRET is not configured"};
  // Cheap first: a signature that cannot be an HMAC-SHA512 is refused before the body is parsed.
  if (signature.empty()) return WebhookCheck{errc::invalid_signature, "missing x-nowpayments-sig"};
  if (!IsHexDigest(signature, 128)) return WebhookCheck{errc::invalid_signature, "x-nowpayments-sig is not 128 hex digits"};
  if (!VerifyNowPaymentsSignature(body, signature, config_.ipn_secret)) {
    return WebhookCheck{errc::invalid_signature, "x-nowpayments-sig does not match the body"};
  }
  return WebhookCheck{};
}

WebhookCheck Service::CheckKinguinSecret(std::string_view secret) const {
  if (config_.kinguin_secret.empty()) return WebhookCheck{errc::not_configured, "KINGUIN_WEBHOOK_SECRET is not configured"};
  if (!ConstantTimeEquals(secret, config_.kinguin_secret)) return WebhookCheck{errc::invalid_secret, "missing or wrong X-Event-Secret"};
  return WebhookCheck{};
}

Result Service::RejectWebhook(std::string_view provider, const std::string& body, const WebhookCheck& check) {
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
  store_.Transaction([&](Tx& tx) {
    hook.id = tx.InsertWebhook(hook);
    tx.PruneFailedWebhooks(config_.max_failed_webhooks);
  });
  std::vector<Emitted> out;
  Emit(out, "admin:webhook-received", "",
       json::object{{"webhookId", hook.id}, {"provider", hook.provider}, {"status", "failed"}, {"error", WireCode(check.code)},
                    {"bodyBytes", hook.body_size}});
  Publish(out);
  if (rejected_log_.Allow("webhook")) {
    const auto suppressed = rejected_unlogged_.exchange(0);
    spdlog::warn("{} webhook {} rejected: {} ({} bytes, sha256 {}){}", provider, hook.id, check.message, hook.body_size,
                 hook.body_sha256.substr(0, 16), suppressed ? fmt::format("; {} more rejected since the last line", suppressed) : "");
  } else {
    ++rejected_unlogged_;
  }
  return Fail(check.code, check.message);
}

Result Service::HandleNowPaymentsIpn(const std::string& body, const std::string& signature) {
  return HandleNowPaymentsIpn(body, CheckNowPaymentsSignature(body, signature));
}

Result Service::HandleNowPaymentsIpn(const std::string& body, const WebhookCheck& check) {
  if (!check.ok()) return RejectWebhook("nowpayments", body, check);
  Notification n = ReadNotification("nowpayments", body, "payment_status", "payment_id", "order_id");
  store::WebhookRow& hook = n.hook;
  const json::object empty;
  const json::object& fields = n.is_object ? n.parsed.as_object() : empty;
  auto hook_event = [&](std::vector<Emitted>& out, const std::string& status, const std::string& error) {
    json::object p{{"webhookId", hook.id},      {"provider", hook.provider}, {"eventType", hook.event_type},
                   {"externalId", hook.external_id}, {"orderId", hook.order_id}, {"status", status}};
    if (!error.empty()) p["error"] = error;
    Emit(out, "admin:webhook-received", hook.order_id, p);
  };
  std::vector<Emitted> out;
  // Authentic (signed with our secret): recorded in full, as verified.
  hook.status = "verified";
  store_.Transaction([&](Tx& tx) { hook.id = tx.InsertWebhook(hook); });
  hook_event(out, "received", "");
  hook_event(out, "verified", "");

  auto fail = [&](errc code, const std::string& message) {
    hook.status = "failed";
    hook.error = message;
    store_.Transaction([&](Tx& tx) { tx.UpdateWebhook(hook); });
    hook_event(out, "failed", message);
    Publish(out);
    spdlog::warn("nowpayments IPN {} rejected: {}", hook.id, message);
    return Fail(code, message);
  };
  if (!n.is_object) return fail(errc::invalid_body, "IPN body is not a JSON object");
  if (hook.order_id.empty() || hook.event_type.empty() || hook.external_id.empty()) {
    return fail(errc::invalid_body, "IPN needs order_id, payment_id and payment_status");
  }

  const std::string status = hook.event_type;
  const bool paid = std::find(config_.paid_statuses.begin(), config_.paid_statuses.end(), status) != config_.paid_statuses.end();
  const bool failing = status == "failed" || status == "expired" || status == "refunded";
  bool duplicate = false, unknown = false, enqueued = false;
  std::string job_id, ignored;
  store_.Transaction([&](Tx& tx) {
    auto order = tx.GetOrder(hook.order_id);
    if (!order) {
      unknown = true;
      return;
    }
    if (!tx.RememberNotification("nowpayments", hook.external_id + ":" + status)) {
      duplicate = true;
      return;
    }
    const auto current = ParseOrderStatus(order->status).value_or(OrderStatus::kCreated);
    const auto status_change = [&](json::object extra) {
      json::object p{{"orderId", order->order_id}, {"status", order->status}, {"fulfillmentStatus", order->fulfillment_status},
                     {"paymentStatus", order->payment_status}, {"timestamp", IsoTimestamp()}};
      for (auto& kv : extra) p[kv.key()] = kv.value();
      Record(tx, out, "fulfillment:status-change", order->order_id, json::serialize(p));
    };
    if (paid) {
      if (!CanTransition(current, OrderStatus::kPaid)) {
        ignored = "order is already " + order->status;
        return;
      }
      order->status = "paid";
      order->payment_status = status;
      tx.UpdateOrder(*order);
      // amounts keep the provider's exact number text
      json::object confirmed{{"orderId", order->order_id}, {"paymentId", hook.external_id}, {"timestamp", IsoTimestamp()}};
      const auto* hash = fields.if_contains("payin_hash");
      confirmed["txHash"] = hash && hash->is_string() ? json::value(hash->as_string()) : json::value(nullptr);
      const std::string cur = Str(fields, "pay_currency").empty() ? Str(fields, "price_currency") : Str(fields, "pay_currency");
      confirmed["currency"] = cur;
      std::string payload = json::serialize(confirmed);
      auto raw_amount = json_text::FindMember(body, "actually_paid");
      if (!raw_amount || *raw_amount == "null") raw_amount = json_text::FindMember(body, "pay_amount");
      payload = json_text::AppendMember(payload, "amount", raw_amount ? *raw_amount : "null");
      if (auto price = json_text::FindMember(body, "price_amount")) payload = json_text::AppendMember(payload, "priceAmount", *price);
      Record(tx, out, "payment:confirmed", order->order_id, payload);
      status_change({});
      if (!tx.GetJobForOrder(std::string(kQueue), order->order_id)) {
        JobRow job;
        job.job_id = "job_" + RandomId(9);
        job.order_id = order->order_id;
        job.max_attempts = config_.max_attempts;
        job.next_run_at_ms = NowMs();
        tx.InsertJob(job);
        order->job_id = job.job_id;
        tx.UpdateOrder(*order);
        job_id = job.job_id;
        enqueued = true;
        Emit(out, "admin:job-queue-event", order->order_id,
             json::object{{"jobId", job.job_id}, {"event", "queued"}, {"queueName", kQueue}, {"orderId", order->order_id}});
      }
      return;
    }
    if (failing) {
      if (CanTransition(current, OrderStatus::kFailed)) {
        order->status = "failed";
        order->fulfillment_status = "failed";
        order->error = "payment " + status;
        order->payment_status = status;
        tx.UpdateOrder(*order);
        Record(tx, out, "fulfillment:error", order->order_id,
               ErrorPayload(order->order_id, "error", false, "payment_" + status, "The payment was " + status + "."));
        status_change({});
      } else if (order->payment_status != status && PaymentRank(status) > PaymentRank(order->payment_status)) {
        // e.g. refunded after the keys were delivered: the order stays fulfilled; its payment moved on.
        order->payment_status = status;
        tx.UpdateOrder(*order);
        status_change({});
      } else {
        ignored = "order is " + order->status + " with payment " + order->payment_status;
      }
      return;
    }
    // waiting, confirming, sending, partially_paid…: progress of a payment not yet complete. Applied
    // only while the order waits for payment and only forward; anything else changes nothing.
    if (current != OrderStatus::kCreated || PaymentRank(status) <= PaymentRank(order->payment_status)) {
      ignored = "out of order: payment " + status + " after " + (order->payment_status.empty() ? order->status : order->payment_status);
      return;
    }
    order->payment_status = status;
    tx.UpdateOrder(*order);
    json::object extra;
    if (status == "partially_paid") extra["message"] = "A partial payment was received; the order waits for the rest.";
    status_change(std::move(extra));
  });
  if (unknown) return fail(errc::order_not_found, "IPN for unknown order " + hook.order_id);
  hook.status = "processed";
  if (duplicate) hook.error = "duplicate notification ignored";
  if (!ignored.empty()) {
    hook.error = "recorded, not applied: " + ignored;
    spdlog::info("IPN {} for order {}: {}", hook.id, hook.order_id, hook.error);
  }
  store_.Transaction([&](Tx& tx) { tx.UpdateWebhook(hook); });
  hook_event(out, "processed", "");
  Publish(out);
  if (enqueued) {
    spdlog::info("order {} paid (IPN {}), job {} queued", hook.order_id, hook.id, job_id);
    Notify();
  }
  json::object reply{{"status", duplicate ? "duplicate" : (ignored.empty() ? "processed" : "ignored")}, {"webhookId", hook.id}};
  return Ok(reply);
}

Result Service::HandleKinguinWebhook(const std::string& body, const std::string& secret) {
  return HandleKinguinWebhook(body, CheckKinguinSecret(secret));
}

Result Service::HandleKinguinWebhook(const std::string& body, const WebhookCheck& check) {
  if (!check.ok()) return RejectWebhook("kinguin", body, check);
  Notification n = ReadNotification("kinguin", body, "status", "orderId", "orderExternalId");
  store::WebhookRow& hook = n.hook;
  const bool valid = n.is_object;
  hook.status = valid ? "processed" : "failed";
  hook.error = valid ? "" : "body is not a JSON object";
  store_.Transaction([&](Tx& tx) { hook.id = tx.InsertWebhook(hook); });
  std::vector<Emitted> out;
  json::object p{{"webhookId", hook.id}, {"provider", "kinguin"}, {"eventType", hook.event_type}, {"externalId", hook.external_id},
                 {"orderId", hook.order_id}, {"status", hook.status}};
  if (!hook.error.empty()) p["error"] = hook.error;
  Emit(out, "admin:webhook-received", hook.order_id, p);
  Publish(out);
  if (!valid) return Fail(errc::invalid_body, "body is not a JSON object");
  return Ok(json::object{{"status", "recorded"}, {"webhookId", hook.id}});
}

// ---- keys ----

Result Service::RevealKey(const std::string& order_id, const std::string& item_id, const std::string& expires, const std::string& sig) {
  if (!IsSafeId(order_id, kMaxIdLength) || !IsSafeId(item_id, kMaxIdLength)) return Fail(errc::not_found, "no such key");
  const std::string path = "/api/v1/keys/" + order_id + "/" + item_id;
  switch (signer_.Check(path, expires, sig, UnixSeconds())) {
    case UrlCheck::kBadSignature: return Fail(errc::invalid_link_signature, "the link's signature is not valid");
    case UrlCheck::kExpired: return Fail(errc::link_expired, "the link has expired; reload the order page for a fresh one");
    case UrlCheck::kValid: break;
  }
  // After the signature (cheap) and before any store or crypto work: reveals per order are bounded.
  if (!reveals_.Allow(order_id)) {
    Result r = Fail(errc::rate_limited, "too many key reveals for this order; try again shortly");
    r.retry_after_s = reveals_.RetryAfterSeconds();
    return r;
  }
  std::optional<ItemRow> item;
  bool fulfilled = false;
  store_.Transaction([&](Tx& tx) {
    auto o = tx.GetOrder(order_id);
    fulfilled = o && o->status == "fulfilled";
    for (auto& i : tx.GetItems(order_id)) {
      if (i.item_id == item_id) item = i;
    }
  });
  // Keys are revealed only for a fulfilled order: never for one refunded or failed on the way.
  if (!fulfilled || !item || item->status != "delivered" || item->key_ref.empty()) {
    return Fail(errc::not_found, "no key for this item");
  }
  auto sealed = objects_.Get(item->key_ref);
  std::optional<std::string> key = sealed ? cipher_.Open(*sealed, order_id + ":" + item_id) : std::nullopt;
  if (!key) {
    spdlog::error("key integrity failure for order {} item {}: the sealed key is missing or does not authenticate", order_id, item_id);
    return Fail(errc::integrity_error, "the stored key failed its integrity check");
  }
  store_.Transaction([&](Tx& tx) {
    tx.AppendEvent(order_id, "key:revealed",
                   json::serialize(json::object{{"orderId", order_id}, {"itemId", item_id}, {"timestamp", IsoTimestamp()}}));
  });
  return Ok(json::object{{"key", *key}, {"type", item->key_type}}, true);
}

// ---- jobs ----

Result Service::ListJobs(const std::optional<std::string>& state) {
  static const std::vector<std::string> kStates{"queued", "running", "retry", "completed", "failed"};
  if (state && std::find(kStates.begin(), kStates.end(), *state) == kStates.end()) {
    return Fail(errc::invalid_state, "state must be one of queued, running, retry, completed, failed");
  }
  json::array jobs;
  store_.Transaction([&](Tx& tx) {
    for (const auto& j : tx.ListJobs(state, 500)) jobs.push_back(JobView(j));
  });
  return Ok(json::object{{"jobs", std::move(jobs)}}, true);
}

Result Service::RetryJob(const std::string& job_id) {
  Result r = Fail(errc::not_found, "no such job");
  std::vector<Emitted> out;
  store_.Transaction([&](Tx& tx) {
    auto job = tx.GetJob(job_id);
    if (!job) return;
    if (job->state != "failed") {
      r = Fail(errc::not_failed, "only a failed job can be retried (it is " + job->state + ")");
      return;
    }
    auto order = tx.GetOrder(job->order_id);
    if (order && PaymentRank(order->payment_status) >= PaymentRank("failed")) {
      // A refunded, failed or expired payment is final: re-running would deliver unpaid keys.
      r = Fail(errc::payment_not_completed, "the order's payment is " + order->payment_status + "; its job cannot be retried");
      return;
    }
    job->state = "queued";
    job->attempts = 0;
    job->next_run_at_ms = NowMs();
    job->lease_until_ms = 0;
    tx.UpdateJob(*job);
    if (order && order->status == "failed") {
      // An operator's explicit re-run reopens the paid order; recorded in its timeline.
      spdlog::warn("order {}: manual retry of job {} reopens the failed order as paid", order->order_id, job_id);
      order->status = "paid";
      order->fulfillment_status = "pending";
      order->error.clear();
      tx.UpdateOrder(*order);
      Record(tx, out, "fulfillment:status-change", order->order_id,
             json::serialize(json::object{{"orderId", order->order_id}, {"status", "paid"}, {"fulfillmentStatus", "pending"},
                                          {"jobId", job_id}, {"reason", "manual_retry"}, {"timestamp", IsoTimestamp()}}));
    }
    Emit(out, "admin:job-queue-event", job->order_id,
         json::object{{"jobId", job_id}, {"event", "queued"}, {"queueName", kQueue}, {"orderId", job->order_id}, {"manual", true}});
    r = Ok(JobView(*job));
  });
  Publish(out);
  if (r.ok()) Notify();
  return r;
}

// ---- workers ----

void Service::Start() {
  std::int64_t recovered = 0;
  store_.Transaction([&](Tx& tx) {
    for (auto& j : tx.ListJobs(std::string("running"), 100000)) {
      j.lease_until_ms = 0;  // single node: nobody else holds it
      tx.UpdateJob(j);
      ++recovered;
    }
  });
  if (recovered) spdlog::warn("{} job(s) were running when the previous process stopped; running them again", recovered);
  std::lock_guard lock(mutex_);
  running_ = true;
  for (std::size_t i = 0; i < config_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void Service::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    running_ = false;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

bool Service::RunOnce() {
  std::optional<JobRow> job;
  store_.Transaction([&](Tx& tx) { job = tx.LeaseNextJob(std::string(kQueue), NowMs(), config_.lease.count()); });
  if (!job) return false;
  Process(std::move(*job));
  return true;
}

void Service::WorkerLoop() {
  for (;;) {
    std::uint64_t seen;
    {
      std::lock_guard lock(mutex_);
      if (!running_) return;
      seen = wakeups_;
    }
    bool worked = false;
    try {
      worked = RunOnce();
    } catch (const std::exception& e) {
      spdlog::error("job worker: {}", e.what());
    }
    if (worked) continue;
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, config_.idle_poll, [&] { return !running_ || wakeups_ != seen; });
  }
}

bool Service::StopIfOrderLeft(Tx& tx, std::vector<Emitted>& out, JobRow& job, const OrderRow& current) {
  if (current.status == "processing") return false;
  // Status only moves forward: a refund (or a failed/expired payment) that arrived while the job
  // ran ends the job here, before anything more is bought, sealed or delivered.
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
  Record(tx, out, "fulfillment:error", current.order_id,
         ErrorPayload(current.order_id, "critical", false, "fulfillment_stopped",
                      "Fulfilment stopped: the " + why + "; no keys were delivered.",
                      json::object{{"jobId", job.job_id}}));
  Emit(out, "admin:job-queue-event", current.order_id,
       json::object{{"jobId", job.job_id}, {"event", "failed"}, {"queueName", kQueue}, {"orderId", current.order_id},
                    {"error", job.last_error}, {"attempt", job.attempts}, {"willRetry", false}, {"reason", "order_left_processing"}});
  spdlog::warn("job {} stopped: order {} {}", job.job_id, current.order_id, why);
  return true;
}

void Service::Process(JobRow job) {
  std::vector<Emitted> out;
  OrderRow order;
  std::vector<ItemRow> items;
  bool skip = false;
  // 1. start: processing, progress so far
  store_.Transaction([&](Tx& tx) {
    auto o = tx.GetOrder(job.order_id);
    if (!o || o->status == "fulfilled" || o->status == "failed" || o->status == "created") {
      job.state = o && o->status == "fulfilled" ? "completed" : "failed";
      job.last_error = o ? (o->status == "fulfilled" ? "" : "order is " + o->status) : "order missing";
      job.lease_until_ms = 0;
      tx.UpdateJob(job);
      skip = true;
      return;
    }
    order = *o;
    items = tx.GetItems(order.order_id);
    order.status = "processing";
    order.fulfillment_status = "in_progress";
    order.job_id = job.job_id;
    const auto done = std::count_if(items.begin(), items.end(), [](const ItemRow& i) { return i.status == "delivered"; });
    order.job_progress = items.empty() ? 0 : static_cast<std::int64_t>(done * 100 / static_cast<std::int64_t>(items.size()));
    tx.UpdateOrder(order);
    Emit(out, "admin:job-queue-event", order.order_id,
         json::object{{"jobId", job.job_id}, {"event", "started"}, {"queueName", kQueue}, {"orderId", order.order_id},
                      {"attempt", job.attempts}, {"maxAttempts", job.max_attempts}});
    Record(tx, out, "fulfillment:status-change", order.order_id,
           json::serialize(json::object{{"orderId", order.order_id}, {"status", "processing"}, {"fulfillmentStatus", "in_progress"},
                                        {"jobId", job.job_id}, {"jobStatus", "active"}, {"jobProgress", order.job_progress},
                                        {"timestamp", IsoTimestamp()}}));
  });
  Publish(out);
  out.clear();
  if (skip) return;
  spdlog::info("job {} (order {}) attempt {}/{}", job.job_id, order.order_id, job.attempts, job.max_attempts);

  bool stopped = false;
  try {
    // 2. the supplier order: reference stored before use; the supplier dedupes by our order id
    if (order.supplier_ref.empty()) {
      std::map<std::string, std::int64_t> qty;
      std::vector<std::string> order_of_products;
      for (const auto& i : items) {
        if (!qty.count(i.product_id)) order_of_products.push_back(i.product_id);
        qty[i.product_id] += i.quantity;
      }
      std::vector<SupplierLine> lines;
      for (const auto& p : order_of_products) lines.push_back(SupplierLine{p, qty[p]});
      // A refund may have arrived since the job started: do not buy for an order that left processing.
      store_.Transaction([&](Tx& tx) { stopped = StopIfOrderLeft(tx, out, job, *tx.GetOrder(order.order_id)); });
      if (stopped) {
        Publish(out);
        return;
      }
      const std::string ref = supplier_.PlaceOrder(order.order_id, lines);
      store_.Transaction([&](Tx& tx) {
        auto o = tx.GetOrder(order.order_id);
        if (o->supplier_ref.empty()) {
          o->supplier_ref = ref;
          tx.UpdateOrder(*o);
        }
        order.supplier_ref = o->supplier_ref;
      });
    }
    // 3. keys: seal and store each item's keys, one item at a time (progress per item)
    const auto keys = supplier_.GetKeys(order.supplier_ref);
    std::map<std::string, std::vector<const SupplierKey*>> by_product;
    for (const auto& k : keys) by_product[k.product_id].push_back(&k);
    std::map<std::string, std::size_t> used;
    for (std::size_t n = 0; n < items.size(); ++n) {
      auto& item = items[n];
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
      const std::string name = order.order_id + "/" + item.item_id;
      objects_.Put(name, cipher_.Seal(plain, order.order_id + ":" + item.item_id));
      item.status = "delivered";
      item.key_ref = name;
      item.key_type = pool[from]->type;
      const auto done = std::count_if(items.begin(), items.end(), [](const ItemRow& i) { return i.status == "delivered"; });
      const std::int64_t progress = static_cast<std::int64_t>(done * 100 / static_cast<std::int64_t>(items.size()));
      store_.Transaction([&](Tx& tx) {
        auto o = tx.GetOrder(order.order_id);
        if ((stopped = StopIfOrderLeft(tx, out, job, *o))) return;  // the sealed key stays unreferenced
        tx.UpdateItem(item);
        o->job_progress = progress;
        tx.UpdateOrder(*o);
        job.progress = progress;
        tx.UpdateJob(job);
        Emit(out, "admin:job-queue-event", order.order_id,
             json::object{{"jobId", job.job_id}, {"event", "progress"}, {"queueName", kQueue}, {"orderId", order.order_id},
                          {"progress", progress}});
        if (done < static_cast<std::int64_t>(items.size())) {
          Record(tx, out, "fulfillment:status-change", order.order_id,
                 json::serialize(json::object{{"orderId", order.order_id}, {"status", "processing"}, {"fulfillmentStatus", "in_progress"},
                                              {"jobId", job.job_id}, {"jobStatus", "active"}, {"jobProgress", progress},
                                              {"timestamp", IsoTimestamp()}}));
        }
      });
      Publish(out);
      out.clear();
      if (stopped) return;
    }
    // 4. fulfilled: key-delivered, then the final status — signed URLs for the owner only
    store_.Transaction([&](Tx& tx) {
      auto o = tx.GetOrder(order.order_id);
      if (o->status == "fulfilled") return;  // another run got here first
      if ((stopped = StopIfOrderLeft(tx, out, job, *o))) return;
      o->status = "fulfilled";
      o->fulfillment_status = "completed";
      o->job_progress = 100;
      o->error.clear();
      tx.UpdateOrder(*o);
      job.state = "completed";
      job.progress = 100;
      job.lease_until_ms = 0;
      job.result = json::serialize(json::object{{"itemCount", items.size()}, {"supplierRef", order.supplier_ref}});
      tx.UpdateJob(job);
      Record(tx, out, "fulfillment:key-delivered", order.order_id,
             json::serialize(json::object{{"orderId", order.order_id}, {"itemCount", items.size()},
                                          {"deliveryMethod", "customer-reveal"}, {"timestamp", IsoTimestamp()}}));
      const auto stored_items = tx.GetItems(order.order_id);
      json::object fulfilled{{"orderId", order.order_id}, {"status", "fulfilled"}, {"fulfillmentStatus", "completed"},
                             {"jobId", job.job_id}, {"jobStatus", "completed"}, {"jobProgress", 100},
                             {"items", ItemsView(*o, stored_items, false)}, {"timestamp", IsoTimestamp()}};
      // Admins and the timeline get the items without links; the owner's copy carries them.
      Record(tx, out, "fulfillment:status-change", order.order_id, json::serialize(fulfilled));
      fulfilled["items"] = ItemsView(*o, stored_items, true);
      out.back().owner_id = o->user_id;
      out.back().owner_json = json::serialize(fulfilled);
      Emit(out, "admin:job-queue-event", order.order_id,
           json::object{{"jobId", job.job_id}, {"event", "completed"}, {"queueName", kQueue}, {"orderId", order.order_id},
                        {"progress", 100}, {"result", json::object{{"itemCount", items.size()}}}});
    });
    Publish(out);
    if (!stopped) spdlog::info("job {} completed: order {} fulfilled ({} items)", job.job_id, order.order_id, items.size());
  } catch (const std::exception& e) {
    const auto* se = dynamic_cast<const SupplierError*>(&e);
    const bool transient = se ? se->Transient() : true;
    const std::string code = se ? se->Code() : "internal";
    bool final = !transient || job.attempts >= job.max_attempts;
    out.clear();
    store_.Transaction([&](Tx& tx) {
      auto o = tx.GetOrder(order.order_id);
      if ((stopped = StopIfOrderLeft(tx, out, job, *o))) return;  // nothing to retry for an order that left processing
      job.last_error = e.what();
      job.lease_until_ms = 0;
      if (final) {
        job.state = "failed";
        tx.UpdateJob(job);
        o->status = "failed";
        o->fulfillment_status = "failed";
        o->error = e.what();
        tx.UpdateOrder(*o);
        Record(tx, out, "fulfillment:error", order.order_id,
               ErrorPayload(order.order_id, "critical", false, code, e.what(),
                            json::object{{"jobId", job.job_id}, {"attempt", job.attempts}, {"maxAttempts", job.max_attempts}}));
        Record(tx, out, "fulfillment:status-change", order.order_id,
               json::serialize(json::object{{"orderId", order.order_id}, {"status", "failed"}, {"fulfillmentStatus", "failed"},
                                            {"jobId", job.job_id}, {"jobStatus", "failed"}, {"error", e.what()},
                                            {"timestamp", IsoTimestamp()}}));
        Emit(out, "admin:job-queue-event", order.order_id,
             json::object{{"jobId", job.job_id}, {"event", "failed"}, {"queueName", kQueue}, {"orderId", order.order_id},
                          {"error", e.what()}, {"attempt", job.attempts}, {"willRetry", false}});
      } else {
        std::uniform_real_distribution<double> u(0, 1);
        double r;
        {
          std::lock_guard lock(mutex_);
          r = u(rng_);
        }
        const auto delay = config_.backoff.Delay(static_cast<int>(job.attempts), r);
        job.state = "retry";
        job.next_run_at_ms = NowMs() + delay.count();
        tx.UpdateJob(job);
        const std::string next = IsoTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(job.next_run_at_ms)));
        Record(tx, out, "fulfillment:error", order.order_id,
               ErrorPayload(order.order_id, job.attempts + 1 >= job.max_attempts ? "error" : "warning", true, code, e.what(),
                            json::object{{"jobId", job.job_id}, {"attempt", job.attempts}, {"maxAttempts", job.max_attempts},
                                         {"nextRetryAt", next}}));
        Emit(out, "admin:job-queue-event", order.order_id,
             json::object{{"jobId", job.job_id}, {"event", "failed"}, {"queueName", kQueue}, {"orderId", order.order_id},
                          {"error", e.what()}, {"attempt", job.attempts}, {"willRetry", true}, {"nextRunAt", next}});
      }
    });
    Publish(out);
    if (stopped) return;
    if (final) {
      spdlog::error("job {} failed for good (order {}): {}", job.job_id, order.order_id, e.what());
    } else {
      spdlog::warn("job {} attempt {}/{} failed, will retry: {}", job.job_id, job.attempts, job.max_attempts, e.what());
    }
  }
}

}  // namespace fg::fulfillment

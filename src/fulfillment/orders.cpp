#include "fulfillment/orders.hpp"

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/log.hpp"
#include "fulfillment/outbox.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>

namespace fg::fulfillment {

namespace json = boost::json;

namespace {
constexpr std::size_t kMaxItems = 50;
constexpr std::int64_t kMaxQuantity = 100;
constexpr std::size_t kMaxNameLength = 120;

// A price as sold: a JSON number or a decimal string ("29.99"), at most 9 digits before the point
// and 4 after. Returns the decimal text, nullopt when it is none of that.
std::optional<std::string> PriceText(const json::value& v) {
  std::string text;
  if (v.is_string()) {
    text = std::string(v.as_string());
  } else if (v.is_number()) {
    const double d = v.to_number<double>();
    if (!(d >= 0) || d > 999'999'999) return std::nullopt;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", d);
    text = buf;
  } else {
    return std::nullopt;
  }
  const auto dot = text.find('.');
  const std::string_view whole = std::string_view(text).substr(0, dot);
  const std::string_view frac = dot == std::string::npos ? std::string_view() : std::string_view(text).substr(dot + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 9 || !digits(whole)) return std::nullopt;
  if (dot != std::string::npos && (frac.empty() || frac.size() > 4 || !digits(frac))) return std::nullopt;
  return text;
}

bool IsPrintable(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}
}  // namespace

bool CanSee(const Caller& c, const store::OrderRow& o) {
  return c.kind != Caller::Kind::kUser || c.user_id == o.user_id;
}

json::object OrderService::View(store::Tx& tx, const store::OrderRow& o, bool with_links) const {
  json::object v{
      {"orderId", o.order_id},
      {"userId", o.user_id},
      {"status", o.status},
      {"fulfillmentStatus", o.fulfillment_status},
      {"currency", o.currency},
      {"items", links_.Items(o, tx.GetItems(o.order_id), with_links && o.status == ToString(OrderStatus::kFulfilled))},
      {"createdAt", o.created_at},
      {"updatedAt", o.updated_at}};
  if (o.number > 0) v["orderNumber"] = o.number;
  if (!o.payment_json.empty()) {
    boost::system::error_code ec;
    auto payment = json::parse(o.payment_json, ec);
    if (!ec) v["payment"] = std::move(payment);
  }
  if (!o.job_id.empty()) v["jobId"] = o.job_id;
  if (o.job_progress >= 0) v["jobProgress"] = o.job_progress;
  if (!o.error.empty()) v["error"] = o.error;
  if (!o.payment_status.empty()) v["paymentStatus"] = o.payment_status;
  return v;
}

Result OrderService::Create(const Caller& caller, const json::value& body) {
  const auto* o = body.if_object();
  if (!o) return Fail(errc::invalid_body, "body must be a JSON object with \"items\"");
  std::string user_id = caller.user_id;
  if (caller.kind != Caller::Kind::kUser) {
    user_id = FieldText(*o, "userId");
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
  std::vector<store::ItemRow> rows;
  const std::string order_id = "ord_" + RandomId(12);
  for (const auto& item : items->as_array()) {
    const auto* io = item.if_object();
    const auto* pid = io ? io->if_contains("productId") : nullptr;
    const auto* qty = io ? io->if_contains("quantity") : nullptr;
    if (!pid || !pid->is_string() || !events::IsSafeId(pid->as_string(), kMaxIdLength)) {
      return Fail(errc::invalid_body, "each item needs a \"productId\" of 1-128 characters of [A-Za-z0-9._:-]");
    }
    std::int64_t q = 1;
    if (qty) {
      if (!qty->is_int64() || qty->as_int64() < 1 || qty->as_int64() > kMaxQuantity) {
        return Fail(errc::invalid_body, "\"quantity\" must be an integer from 1 to 100");
      }
      q = qty->as_int64();
    }
    store::ItemRow row{"itm_" + RandomId(9), order_id, std::string(pid->as_string()), q, "pending", "", "", "", ""};
    if (const auto* name = io->if_contains("name")) {
      if (!name->is_string() || name->as_string().empty() || name->as_string().size() > kMaxNameLength ||
          !IsPrintable(name->as_string())) {
        return Fail(errc::invalid_body, "an item's \"name\" must be 1-120 printable characters");
      }
      row.name = std::string(name->as_string());
    }
    if (const auto* price = io->if_contains("unitPrice")) {
      auto text = PriceText(*price);
      if (!text) return Fail(errc::invalid_body, "an item's \"unitPrice\" must be a non-negative amount such as 29.99");
      row.unit_price = std::move(*text);
    }
    rows.push_back(std::move(row));
  }
  Outbox out(sink_);
  json::object view;
  store_.Transaction([&](store::Tx& tx) {
    store::OrderRow row;
    row.order_id = order_id;
    row.user_id = user_id;
    row.currency = currency;
    tx.InsertOrder(row);
    for (const auto& r : rows) tx.InsertItem(r);
    const auto stored = tx.GetOrder(order_id);
    events::StatusChange created;
    created.order_id = order_id;
    created.status = OrderStatus::kCreated;
    created.fulfillment_status = "pending";
    out.Record(tx, events::Event::kStatusChange, order_id, ToJson(created));
    view = View(tx, *stored, false);
  });
  Log(spdlog::level::info, "order created", {{"orderId", order_id}, {"userId", user_id}, {"items", rows.size()}});
  return Created(view);
}

Result OrderService::Get(const Caller& caller, const std::string& order_id) {
  Result r = Fail(errc::not_found, "no such order");
  store_.Transaction([&](store::Tx& tx) {
    auto o = tx.GetOrder(order_id);
    if (!o || !CanSee(caller, *o)) return;
    // Fresh signed URLs go to the order's owner (and the backend), not to other admins.
    const bool links = caller.kind == Caller::Kind::kService || caller.user_id == o->user_id;
    r = Ok(View(tx, *o, links), true);
  });
  return r;
}

std::optional<OrderService::Snapshot> OrderService::SnapshotFor(const Caller& caller, const std::string& order_id,
                                                                std::optional<std::int64_t> since) {
  std::optional<Snapshot> out;
  store_.Transaction([&](store::Tx& tx) {
    Snapshot snap;
    snap.log_head = tx.LogHead();
    auto o = tx.GetOrder(order_id);
    if (!o || !CanSee(caller, *o)) {
      out = std::move(snap);  // admins may watch an order with no record yet: null, seq 0
      out->order.clear();
      return;
    }
    snap.seq = tx.TimelineSeq(order_id);
    snap.order = View(tx, *o, caller.kind == Caller::Kind::kService || caller.user_id == o->user_id);
    if (since && *since < snap.seq) snap.events = tx.Events(order_id, *since, snap.seq - *since);
    out = std::move(snap);
  });
  return out;
}

Result OrderService::List(const Caller& caller) {
  json::array orders;
  store_.Transaction([&](store::Tx& tx) {
    const std::string user = caller.kind == Caller::Kind::kUser ? caller.user_id : std::string();
    for (const auto& o : tx.ListOrders(user, 50)) orders.push_back(View(tx, o, false));
  });
  return Ok(json::object{{"orders", std::move(orders)}}, true);
}

Result OrderService::Timeline(const Caller& caller, const std::string& order_id, std::int64_t after,
                              std::int64_t limit) {
  if (after < 0 || limit < 1 || limit > kMaxTimelinePage) {
    return Fail(errc::invalid_query,
                "\"after\" must be a non-negative integer and \"limit\" 1-" + std::to_string(kMaxTimelinePage));
  }
  Result r = Fail(errc::not_found, "no such order");
  store_.Transaction([&](store::Tx& tx) {
    auto o = tx.GetOrder(order_id);
    if (!o || !CanSee(caller, *o)) return;
    // One row more than asked tells whether another page follows.
    auto rows = tx.Events(order_id, after, limit + 1);
    const bool more = static_cast<std::int64_t>(rows.size()) > limit;
    if (more) rows.pop_back();
    json::array events;
    for (const auto& e : rows) {
      boost::system::error_code ec;
      auto payload = json::parse(e.payload, ec);
      events.push_back(json::object{{"seq", e.seq},
                                    {"event", e.event},
                                    {"data", ec ? json::value(e.payload) : payload},
                                    {"createdAt", e.created_at}});
    }
    json::object body{{"orderId", order_id}, {"events", std::move(events)}};
    body["nextAfter"] = more ? json::value(rows.back().seq) : json::value(nullptr);
    r = Ok(std::move(body), true);
  });
  return r;
}

}  // namespace fg::fulfillment

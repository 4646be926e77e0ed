#include "http_api/api.hpp"

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/json_text.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

namespace fg::http_api {

namespace http = net::http;
namespace json = boost::json;

namespace {

net::Response JsonResponse(unsigned version, http::status status, const json::value& body) {
  net::Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = json::serialize(body);
  return res;
}

bool ValidOrderId(std::string_view id, std::size_t max_len) {
  if (id.empty() || id.size() > max_len) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

json::object OrderJson(const store::OrderRecord& o) {
  return json::object{{"orderId", o.order_id}, {"userId", o.user_id}, {"status", o.status},
                      {"createdAt", o.created_at}, {"updatedAt", o.updated_at}};
}

}  // namespace

net::Response ErrorResponse(unsigned version, Errc e, std::string_view message) {
  const auto info = Describe(e);
  return JsonResponse(version, static_cast<http::status>(info.status), json::object{{"error", info.code}, {"message", message}});
}

bool Api::Authorized(const net::Request& req) const {
  const auto header = req[http::field::authorization];
  constexpr std::string_view kPrefix = "Bearer ";
  if (header.size() <= kPrefix.size() || header.substr(0, kPrefix.size()) != kPrefix) return false;
  return ConstantTimeEquals(header.substr(kPrefix.size()), api_key_);
}

void Api::Handle(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) {
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const unsigned version = req.version();

  if (path == "/healthz") {
    conn->Respond(JsonResponse(version, http::status::ok, json::object{{"status", "ok"}}));
    return;
  }
  constexpr std::string_view kOrders = "/api/v1/orders/";
  const bool is_events = path == "/api/v1/events";
  const bool is_order = path.substr(0, kOrders.size()) == kOrders;
  if (!is_events && !is_order) {
    conn->Respond(ErrorResponse(version, Errc::kNotFound, "no such route: " + std::string(path)));
    return;
  }
  if (!Authorized(req)) {
    conn->Respond(ErrorResponse(version, Errc::kUnauthorized, "missing or invalid API key (Authorization: Bearer <API_KEY>)"));
    return;
  }
  if (is_events) {
    if (req.method() != http::verb::post) {
      conn->Respond(ErrorResponse(version, Errc::kMethodNotAllowed, "use POST"));
      return;
    }
    PostEvents(conn, req);
    return;
  }
  std::string order_id(path.substr(kOrders.size()));
  if (!ValidOrderId(order_id, limits_.max_order_id_length)) {
    conn->Respond(ErrorResponse(version, Errc::kInvalidOrderId, "order id must be 1-128 characters of [A-Za-z0-9._:-]"));
    return;
  }
  if (req.method() != http::verb::put) {
    conn->Respond(ErrorResponse(version, Errc::kMethodNotAllowed, "use PUT"));
    return;
  }
  PutOrder(conn, req, std::move(order_id));
}

void Api::PutOrder(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req, std::string order_id) {
  const unsigned version = req.version();
  boost::system::error_code ec;
  json::value v = json::parse(req.body(), ec);
  if (ec) {
    conn->Respond(ErrorResponse(version, Errc::kMalformedJson, "body is not valid JSON: " + ec.message()));
    return;
  }
  const auto* o = v.if_object();
  const auto* user = o ? o->if_contains("userId") : nullptr;
  if (!user || !user->is_string() || user->as_string().empty() || user->as_string().size() > 128) {
    conn->Respond(ErrorResponse(version, Errc::kInvalidBody, "\"userId\" must be a non-empty string (at most 128 characters)"));
    return;
  }
  std::optional<std::string> status;
  if (const auto* s = o->if_contains("status"); s && !s->is_null()) {
    if (!s->is_string() || s->as_string().empty() || s->as_string().size() > 64) {
      conn->Respond(ErrorResponse(version, Errc::kInvalidBody, "\"status\" must be a non-empty string (at most 64 characters)"));
      return;
    }
    status = std::string(s->as_string());
  }
  worker_.Submit(
      conn->Executor(),
      [this, order_id, user_id = std::string(user->as_string()), status] { return store_.UpsertOrder(order_id, user_id, status); },
      [conn, version](std::optional<store::UpsertResult> r, const std::string& err) {
        if (!r) {
          spdlog::error("order upsert failed: {}", err);
          conn->Respond(ErrorResponse(version, Errc::kStoreUnavailable, "the order store failed; retry later"));
          return;
        }
        conn->Respond(JsonResponse(version, r->created ? http::status::created : http::status::ok, OrderJson(r->order)));
      });
}

void Api::PostEvents(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req) {
  PublishRequest p;
  std::string message;
  if (auto err = ParsePublish(req.body(), limits_.max_order_id_length, p, message)) {
    conn->Respond(ErrorResponse(req.version(), *err, message));
    return;
  }
  gateway_.Publish(p.event, p.audience, p.order_id, p.data_json);
  json::object body{{"status", "accepted"}, {"event", p.event}};
  if (!p.order_id.empty()) body["orderId"] = p.order_id;
  conn->Respond(JsonResponse(req.version(), http::status::accepted, body));
}

}  // namespace fg::http_api

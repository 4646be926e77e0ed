#include "http_api/api.hpp"

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "net/query.hpp"

#include <boost/json.hpp>
#include <charconv>
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

json::object OrderJson(const store::OrderRecord& o) {
  return json::object{{"orderId", o.order_id}, {"userId", o.user_id}, {"status", o.status},
                      {"createdAt", o.created_at}, {"updatedAt", o.updated_at}};
}

// "/a/b/c" → {"a","b","c"}
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

std::string_view BearerOf(const net::Request& req) { return auth::BearerToken(req[http::field::authorization]); }

}  // namespace

net::Response ErrorResponse(unsigned version, errc e, std::string_view message) {
  return JsonResponse(version, static_cast<http::status>(HttpStatus(e)), json::object{{"error", WireCode(e)}, {"message", message}});
}

bool Api::IsApiKey(const net::Request& req) const {
  const auto token = BearerOf(req);
  return !token.empty() && ConstantTimeEquals(token, api_key_);
}

std::optional<fulfillment::Caller> Api::Authenticate(const net::Request& req) const {
  const auto token = BearerOf(req);
  if (token.empty()) return std::nullopt;
  if (ConstantTimeEquals(token, api_key_)) return fulfillment::Caller{fulfillment::Caller::Kind::kService, ""};
  auto r = verifier_.Verify(token, UnixSeconds());
  if (r.error != auth::TokenError::kNone) return std::nullopt;
  return fulfillment::Caller{r.principal.admin ? fulfillment::Caller::Kind::kAdmin : fulfillment::Caller::Kind::kUser,
                             r.principal.user_id};
}

void Api::RunService(const std::shared_ptr<net::HttpConnection>& conn, unsigned version, std::function<fulfillment::Result()> work) {
  worker_.Submit(conn->Executor(), std::move(work), [conn, version](std::optional<fulfillment::Result> r, const std::string& err) {
    if (!r) {
      spdlog::error("request failed: {}", err);
      conn->Respond(ErrorResponse(version, errc::store_unavailable, "the store failed; retry later"));
      return;
    }
    auto res = r->ok() ? JsonResponse(version, r->created ? http::status::created : http::status::ok, r->body)
                       : ErrorResponse(version, r->code, r->message);
    if (!r->no_store) res.erase(http::field::cache_control);
    if (r->retry_after_s > 0) res.set(http::field::retry_after, std::to_string(r->retry_after_s));
    conn->Respond(std::move(res));
  });
}

void Api::RunWebhook(const std::shared_ptr<net::HttpConnection>& conn, unsigned version, std::string body,
                     std::function<fulfillment::WebhookCheck(const std::string&)> check,
                     std::function<fulfillment::Result(const std::string&, const fulfillment::WebhookCheck&)> handle) {
  // The signature is checked on its own thread: canonicalising and hashing a hostile body never
  // delays the store thread that every other request waits on.
  auto shared_body = std::make_shared<std::string>(std::move(body));
  verifier_pool_.Submit(
      conn->Executor(), [shared_body, check = std::move(check)] { return check(*shared_body); },
      [this, conn, version, shared_body, handle = std::move(handle)](std::optional<fulfillment::WebhookCheck> c,
                                                                     const std::string& err) mutable {
        if (!c) {
          spdlog::error("webhook check failed: {}", err);
          conn->Respond(ErrorResponse(version, errc::store_unavailable, "the webhook could not be checked; retry later"));
          return;
        }
        RunService(conn, version, [shared_body, c = std::move(*c), handle = std::move(handle)] { return handle(*shared_body, c); });
      });
}

bool Api::Handle(const std::shared_ptr<net::HttpConnection>& conn, net::Request& req) {
  const std::string target(req.target());
  const std::string_view path = std::string_view(target).substr(0, target.find('?'));
  const unsigned version = req.version();
  const auto seg = Segments(path);
  const auto method = req.method();
  auto reply = [&](errc e, std::string_view msg) { conn->Respond(ErrorResponse(version, e, msg)); };

  if (path == "/healthz") {
    conn->Respond(JsonResponse(version, http::status::ok, json::object{{"status", "ok"}}));
    return true;
  }
  // Provider webhooks: authenticated by their signature / shared secret, not by our keys.
  if (seg.size() == 2 && seg[0] == "webhooks") {
    if (method != http::verb::post) {
      reply(errc::method_not_allowed, "use POST");
      return true;
    }
    if (!service_) {
      reply(errc::not_found, "webhooks are not enabled");
      return true;
    }
    if (seg[1] != "nowpayments" && seg[1] != "kinguin") {
      reply(errc::not_found, "no such webhook");
      return true;
    }
    if (req.body().size() > limits_.max_webhook_body) {
      reply(errc::body_too_large, "webhook bodies are at most " + std::to_string(limits_.max_webhook_body) + " bytes");
      return true;
    }
    auto* svc = service_;
    if (seg[1] == "nowpayments") {
      RunWebhook(
          conn, version, std::move(req.body()),
          [svc, sig = std::string(req["x-nowpayments-sig"])](const std::string& b) { return svc->CheckNowPaymentsSignature(b, sig); },
          [svc](const std::string& b, const fulfillment::WebhookCheck& c) { return svc->HandleNowPaymentsIpn(b, c); });
    } else {
      RunWebhook(
          conn, version, std::move(req.body()),
          [svc, secret = std::string(req["X-Event-Secret"])](const std::string&) { return svc->CheckKinguinSecret(secret); },
          [svc](const std::string& b, const fulfillment::WebhookCheck& c) { return svc->HandleKinguinWebhook(b, c); });
    }
    return true;
    reply(errc::not_found, "no such webhook");
    return true;
  }
  if (seg.size() < 2 || seg[0] != "api" || seg[1] != "v1") return false;
  const std::vector<std::string_view> rest(seg.begin() + 2, seg.end());

  // Signed key links carry their own authorization.
  if (!rest.empty() && rest[0] == "keys") {
    if (rest.size() != 3) {
      reply(errc::not_found, "no such key");
      return true;
    }
    if (method != http::verb::get) {
      reply(errc::method_not_allowed, "use GET");
      return true;
    }
    if (!service_) {
      reply(errc::not_found, "keys are not enabled");
      return true;
    }
    const net::Query q(target);
    RunService(conn, version, [svc = service_, o = std::string(rest[1]), i = std::string(rest[2]), e = q.GetOr("expires"), s = q.GetOr("sig")] {
      return svc->RevealKey(o, i, e, s);
    });
    return true;
  }

  const bool known = !rest.empty() && (rest[0] == "events" || rest[0] == "orders" || rest[0] == "jobs");
  if (!known) {
    reply(errc::not_found, "no such route: " + std::string(path));
    return true;
  }
  const auto caller = Authenticate(req);
  if (!caller) {
    reply(errc::unauthorized, "missing or invalid credentials (Authorization: Bearer <API_KEY or user JWT>)");
    return true;
  }
  const bool service_key = caller->kind == fulfillment::Caller::Kind::kService;

  if (rest[0] == "events") {
    if (rest.size() != 1) {
      reply(errc::not_found, "no such route");
    } else if (!service_key) {
      reply(errc::unauthorized, "publishing needs the API key");
    } else if (method != http::verb::post) {
      reply(errc::method_not_allowed, "use POST");
    } else {
      PostEvents(conn, req);
    }
    return true;
  }

  if (rest[0] == "jobs") {
    if (caller->kind == fulfillment::Caller::Kind::kUser) {
      reply(errc::forbidden, "jobs are for admins and the backend");
      return true;
    }
    if (!service_) {
      reply(errc::not_found, "the job queue is not enabled");
      return true;
    }
    if (rest.size() == 1 && method == http::verb::get) {
      std::optional<std::string> state = net::Query(target).Get("state");
      if (state && state->empty()) state.reset();
      RunService(conn, version, [svc = service_, state] { return svc->ListJobs(state); });
    } else if (rest.size() == 3 && rest[2] == "retry" && method == http::verb::post) {
      RunService(conn, version, [svc = service_, id = std::string(rest[1])] { return svc->RetryJob(id); });
    } else if (rest.size() == 1 || (rest.size() == 3 && rest[2] == "retry")) {
      reply(errc::method_not_allowed, rest.size() == 1 ? "use GET" : "use POST");
    } else {
      reply(errc::not_found, "no such route");
    }
    return true;
  }

  // orders
  if (rest.size() == 1 && method == http::verb::get && service_) {
    RunService(conn, version, [svc = service_, c = *caller] { return svc->ListOrders(c); });
    return true;
  }
  if (rest.size() == 1) {
    if (method != http::verb::post) {
      reply(errc::method_not_allowed, "use POST to create an order or GET to list them");
      return true;
    }
    if (!service_) {
      reply(errc::not_found, "order creation is not enabled");
      return true;
    }
    boost::system::error_code ec;
    json::value body = json::parse(req.body(), ec);
    if (ec) {
      reply(errc::malformed_json, "body is not valid JSON: " + ec.message());
      return true;
    }
    RunService(conn, version, [svc = service_, c = *caller, b = std::move(body)] { return svc->CreateOrder(c, b); });
    return true;
  }
  std::string order_id(rest[1]);
  if (!events::IsSafeId(order_id, limits_.max_order_id_length)) {
    reply(errc::invalid_order_id, "order id must be 1-128 characters of [A-Za-z0-9._:-]");
    return true;
  }
  if (rest.size() == 2 && method == http::verb::put) {
    if (!service_key) {
      reply(errc::unauthorized, "registering orders needs the API key");
      return true;
    }
    PutOrder(conn, req, std::move(order_id));
    return true;
  }
  if ((rest.size() == 2 || (rest.size() == 3 && rest[2] == "events")) && method == http::verb::get) {
    if (!service_) {
      reply(errc::not_found, "order reads are not enabled");
      return true;
    }
    const bool timeline = rest.size() == 3;
    std::int64_t after = 0, limit = fulfillment::kDefaultTimelinePage;
    if (timeline) {
      const net::Query q(target);
      const auto number = [&q](const char* key, std::int64_t& out) {
        const auto value = q.Get(key);
        if (!value) return true;
        const auto& v = *value;
        const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
        return r.ec == std::errc() && r.ptr == v.data() + v.size() && out >= 0;
      };
      if (!number("after", after) || !number("limit", limit) || limit < 1 || limit > fulfillment::kMaxTimelinePage) {
        reply(errc::invalid_query, "\"after\" must be a non-negative integer and \"limit\" 1-" +
                                       std::to_string(fulfillment::kMaxTimelinePage));
        return true;
      }
    }
    RunService(conn, version, [svc = service_, c = *caller, order_id, timeline, after, limit] {
      return timeline ? svc->GetTimeline(c, order_id, after, limit) : svc->GetOrder(c, order_id);
    });
    return true;
  }
  if (rest.size() == 2 || (rest.size() == 3 && rest[2] == "events")) {
    reply(errc::method_not_allowed, rest.size() == 2 ? "use GET or PUT" : "use GET");
  } else {
    reply(errc::not_found, "no such route");
  }
  return true;
}

void Api::PutOrder(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req, std::string order_id) {
  const unsigned version = req.version();
  boost::system::error_code ec;
  json::value v = json::parse(req.body(), ec);
  if (ec) {
    conn->Respond(ErrorResponse(version, errc::malformed_json, "body is not valid JSON: " + ec.message()));
    return;
  }
  const auto* o = v.if_object();
  const auto* user = o ? o->if_contains("userId") : nullptr;
  if (!user || !user->is_string() || user->as_string().empty() || user->as_string().size() > 128) {
    conn->Respond(ErrorResponse(version, errc::invalid_body, "\"userId\" must be a non-empty string (at most 128 characters)"));
    return;
  }
  std::optional<std::string> status;
  if (const auto* s = o->if_contains("status"); s && !s->is_null()) {
    if (!s->is_string() || s->as_string().empty() || s->as_string().size() > 64) {
      conn->Respond(ErrorResponse(version, errc::invalid_body, "\"status\" must be a non-empty string (at most 64 characters)"));
      return;
    }
    status = std::string(s->as_string());
  }
  worker_.Submit(
      conn->Executor(),
      [this, order_id, user_id = std::string(user->as_string()), status] { return store_.UpsertOrder(order_id, user_id, status); },
      [this, conn, version](std::optional<store::UpsertResult> r, const std::string& err) {
        if (!r) {
          spdlog::error("order upsert failed: {}", err);
          conn->Respond(ErrorResponse(version, errc::store_unavailable, "the order store failed; retry later"));
          return;
        }
        if (!r->created && r->previous_user_id != r->order.user_id) gateway_.RevokeOrder(r->order.order_id, r->order.user_id);
        conn->Respond(JsonResponse(version, r->created ? http::status::created : http::status::ok, OrderJson(r->order)));
      });
}

void Api::PostEvents(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req) {
  const std::string& text = req.body();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {  // the batch form
    std::vector<PublishRequest> batch;
    std::string message;
    if (auto err = ParsePublishBatch(text, limits_.max_order_id_length, batch, message)) {
      conn->Respond(ErrorResponse(req.version(), *err, message));
      return;
    }
    std::vector<gateway::Gateway::Outgoing> out;
    out.reserve(batch.size());
    for (const auto& p : batch) out.push_back({p.event, p.audience, p.order_id, p.data_json});
    gateway_.PublishAll(out);
    conn->Respond(JsonResponse(req.version(), http::status::accepted, json::object{{"status", "accepted"}, {"accepted", batch.size()}}));
    return;
  }
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

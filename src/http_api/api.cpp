#include "http_api/api.hpp"

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "net/query.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <charconv>

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
  return json::object{{"orderId", o.order_id},
                      {"userId", o.user_id},
                      {"status", o.status},
                      {"createdAt", o.created_at},
                      {"updatedAt", o.updated_at}};
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

std::string_view BearerOf(const net::Request& req) {
  return auth::BearerToken(req[http::field::authorization]);
}

}  // namespace

net::Response ErrorResponse(unsigned version, errc e, std::string_view message) {
  return JsonResponse(version, static_cast<http::status>(HttpStatus(e)),
                      json::object{{"error", WireCode(e)}, {"message", message}});
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

void Api::RunService(const std::shared_ptr<net::HttpConnection>& conn, unsigned version,
                     std::function<fulfillment::Result()> work) {
  worker_.Submit(
      conn->Executor(), std::move(work), [conn, version](std::optional<fulfillment::Result> r, const std::string& err) {
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
          conn->Respond(
              ErrorResponse(version, errc::store_unavailable, "the webhook could not be checked; retry later"));
          return;
        }
        RunService(conn, version,
                   [shared_body, c = std::move(*c), handle = std::move(handle)] { return handle(*shared_body, c); });
      });
}

// The route table: every REST route, who may call it, and its handler. Matching is by path
// segments ("{}" captures one); then, in this order: 404 for an unknown path under /api/v1 or
// /webhooks, 401 when the path needs a caller and none is authenticated, 405 when no route of the
// path takes the method, and the route's own access rule (API key, admin).
const std::vector<Api::Route>& Api::Routes() {
  using V = http::verb;
  static const std::vector<Route> routes{
      {V::get, "/healthz", Access::kAnyone, &Api::Health},
      {V::get, "/readyz", Access::kAnyone, &Api::Ready},
      {V::get, "/metrics", Access::kAnyone, &Api::Metrics},  // its own bearer token (ServeMetricsRequest)
      {V::post, "/webhooks/nowpayments", Access::kAnyone, &Api::NowPaymentsWebhook},
      {V::post, "/webhooks/kinguin", Access::kAnyone, &Api::KinguinWebhook},
      {V::get, "/api/v1/keys/{}/{}", Access::kAnyone, &Api::RevealKey},  // the link's signature is its authorization
      {V::post, "/api/v1/events", Access::kApiKey, &Api::PostEvents},
      {V::get, "/api/v1/jobs", Access::kStaff, &Api::ListJobs},
      {V::post, "/api/v1/jobs/{}/retry", Access::kStaff, &Api::RetryJob},
      {V::get, "/api/v1/admin/summary", Access::kStaff, &Api::Summary},
      {V::get, "/api/v1/orders", Access::kCaller, &Api::ListOrders},
      {V::post, "/api/v1/orders", Access::kCaller, &Api::CreateOrder},
      {V::get, "/api/v1/orders/{}", Access::kCaller, &Api::GetOrder},
      {V::put, "/api/v1/orders/{}", Access::kApiKey, &Api::PutOrder},
      {V::get, "/api/v1/orders/{}/events", Access::kCaller, &Api::GetTimeline},
  };
  return routes;
}

namespace {
// Captures of `pattern` in `path` ("{}" matches one non-empty segment), or nullopt.
std::optional<std::vector<std::string>> Match(std::string_view pattern, const std::vector<std::string_view>& path) {
  // Walks the pattern in place: no allocation for the routes that do not match.
  std::vector<std::string> captures;
  std::size_t i = 0;
  while (!pattern.empty()) {
    if (pattern.front() == '/') {
      pattern.remove_prefix(1);
      continue;
    }
    const auto slash = pattern.find('/');
    const std::string_view part = pattern.substr(0, slash);
    if (i >= path.size()) return std::nullopt;
    if (part == "{}") {
      captures.emplace_back(path[i]);
    } else if (part != path[i]) {
      return std::nullopt;
    }
    ++i;
    pattern.remove_prefix(slash == std::string_view::npos ? pattern.size() : slash);
  }
  if (i != path.size()) return std::nullopt;
  return captures;
}

std::string Allowed(const std::vector<http::verb>& methods) {
  std::string out = "use ";
  for (std::size_t i = 0; i < methods.size(); ++i) {
    if (i) out += i + 1 == methods.size() ? " or " : ", ";
    out += std::string(http::to_string(methods[i]));
  }
  return out;
}
}  // namespace

bool Api::Handle(const std::shared_ptr<net::HttpConnection>& conn, net::Request& req) {
  const std::string target(req.target());
  const std::string_view path = std::string_view(target).substr(0, target.find('?'));
  const auto seg = Segments(path);
  const bool ours = !seg.empty() && (seg[0] == "webhooks" || (seg.size() >= 2 && seg[0] == "api" && seg[1] == "v1"));
  const Route* route = nullptr;
  std::vector<std::string> captures;
  std::vector<http::verb> methods;
  std::string_view pattern = "unmatched";
  bool needs_caller = false;
  for (const auto& r : Routes()) {
    auto m = Match(r.pattern, seg);
    if (!m) continue;
    if (methods.empty()) pattern = r.pattern;
    methods.push_back(r.method);
    needs_caller = needs_caller || r.access != Access::kAnyone;
    if (r.method == req.method()) {
      route = &r;
      captures = std::move(*m);
    }
  }
  if (methods.empty() && !ours) return false;  // not an API route: the caller may serve a page
  Observe(conn, req, route ? route->pattern : pattern);
  Request call{conn, req, target, std::move(captures), std::nullopt};
  if (methods.empty()) {
    Fail(call, errc::not_found, seg[0] == "webhooks" ? "no such webhook" : "no such route: " + std::string(path));
    return true;
  }
  if (needs_caller) {
    call.caller = Authenticate(req);
    if (!call.caller && (!route || route->access != Access::kAnyone)) {
      Fail(call, errc::unauthorized, "missing or invalid credentials (Authorization: Bearer <API_KEY or user JWT>)");
      return true;
    }
  }
  if (!route) {
    auto res = ErrorResponse(req.version(), errc::method_not_allowed, Allowed(methods));
    std::string allow;  // RFC 9110 §15.5.6: a 405 lists the methods the resource has
    for (const auto m : methods) allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(m));
    res.set(http::field::allow, allow);
    conn->Respond(std::move(res));
    return true;
  }
  const auto kind = call.caller ? call.caller->kind : fulfillment::Caller::Kind::kUser;
  if (route->access == Access::kApiKey && kind != fulfillment::Caller::Kind::kService) {
    Fail(call, errc::unauthorized, "this call needs the API key");
    return true;
  }
  if (route->access == Access::kStaff && kind == fulfillment::Caller::Kind::kUser) {
    Fail(call, errc::forbidden, "jobs are for admins and the backend");
    return true;
  }
  if (OverRate(call)) return true;
  // Draining (SIGTERM): a change is refused rather than cut off by the exit, so a 503 always means
  // "not accepted" and the caller retries elsewhere; reads are still served.
  if (draining_ && req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = ErrorResponse(req.version(), errc::draining, "this node is shutting down; retry on another node");
    res.set(http::field::retry_after, "1");
    res.keep_alive(false);
    conn->Respond(std::move(res));
    return true;
  }
  (this->*(route->handler))(call);
  return true;
}

namespace {
// An X-Request-Id we pass on: 1-64 of [A-Za-z0-9._:-]; anything else is replaced by our own.
bool UsableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' && c != '-') return false;
  }
  return true;
}
}  // namespace

void Api::Observe(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req, std::string_view route) {
  const auto given = req["X-Request-Id"];
  std::string id = UsableRequestId(given) ? std::string(given) : RandomId(12);
  conn->SetResponseHook([id = std::move(id), route, method = req.method(), start = std::chrono::steady_clock::now(),
                         remote = conn->RemoteAddress()](net::Response& res) {
    res.set("X-Request-Id", id);
    const unsigned status = res.result_int();
    const std::string method_name(http::to_string(method));
    metrics::M()
        .http_requests.Add({{"route", std::string(route)}, {"method", method_name}, {"status", std::to_string(status)}})
        .Increment();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    // The route's pattern, never the path: ids in paths and key links' signatures stay out of logs.
    Log(status >= 500 ? spdlog::level::warn : spdlog::level::debug, "http request",
        {{"requestId", id},
         {"method", method_name},
         {"route", route},
         {"status", status},
         {"durationMs", static_cast<double>(us.count()) / 1000.0},
         {"remote", remote}});
  });
}

bool Api::OverRate(const Request& call) {
  if (!call.caller) return false;
  const bool key = call.caller->kind == fulfillment::Caller::Kind::kService;
  RateLimiter& limiter = key ? key_rate_ : user_rate_;
  if (!limiter.Enabled() || limiter.Allow(key ? std::string_view("api-key") : std::string_view(call.caller->user_id)))
    return false;
  metrics::M().rate_limited.Add({{"kind", key ? "api_key" : "api_user"}}).Increment();
  auto res = ErrorResponse(call.req.version(), errc::rate_limited,
                           key ? "too many requests with the API key (--api-key-rate)"
                               : "too many requests for this user (--api-user-rate)");
  res.set(http::field::retry_after, std::to_string(limiter.RetryAfterSeconds()));
  call.conn->Respond(std::move(res));
  return true;
}

void Api::Metrics(const Request& call) {
  if (!metrics_here_) {
    Fail(call, errc::not_found, "metrics are served on --metrics-listen");
    return;
  }
  ServeMetricsRequest(call.conn, call.req);
}

void Api::ServeMetricsRequest(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req) {
  if (!metrics_token_.empty() && !ConstantTimeEquals(BearerOf(req), metrics_token_)) {
    auto res = ErrorResponse(req.version(), errc::unauthorized,
                             "GET /metrics needs Authorization: Bearer <METRICS_TOKEN, or the API key>");
    res.set(http::field::www_authenticate, "Bearer");
    conn->Respond(std::move(res));
    return;
  }
  ServeMetrics(conn, req.version());
}

namespace {
net::Response Exposition(unsigned version) {
  net::Response res{http::status::ok, version};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.body() = metrics::M().Serialize();
  return res;
}
}  // namespace

void Api::ServeMetrics(const std::shared_ptr<net::HttpConnection>& conn, unsigned version) {
  if (!metrics_refresh_.Start(UnixMillis())) {  // the gauges are at most a second old
    conn->Respond(Exposition(version));
    return;
  }
  gateway_.GatherStats(conn->Executor(), [this, conn, version](gateway::GlobalStats st) {
    auto& m = metrics::M();
    for (int admin = 0; admin < 2; ++admin) {
      for (int ws = 0; ws < 2; ++ws) {
        m.connections.Add({{"transport", ws ? "websocket" : "polling"}, {"role", admin ? "admin" : "user"}})
            .Set(static_cast<double>(st.sockets[admin][ws]));
      }
    }
    m.subscriptions.Set(static_cast<double>(st.subscriptions));
    m.send_queue_bytes.Set(static_cast<double>(st.queued_bytes));
    worker_.Submit(
        conn->Executor(), [&service = service_] { return service.JobCounts(); },
        [this, conn, version](std::optional<std::map<std::string, std::int64_t>> jobs, const std::string& err) {
          if (jobs) {
            for (const auto& [state, n] : *jobs) metrics::M().jobs.Add({{"state", state}}).Set(static_cast<double>(n));
          } else {
            spdlog::warn("metrics: counting jobs failed: {}", err);  // the rest is still worth serving
          }
          metrics_refresh_.Done(UnixMillis());
          conn->Respond(Exposition(version));
        });
  });
}

void Api::Fail(const Request& call, errc e, std::string_view message) {
  call.conn->Respond(ErrorResponse(call.req.version(), e, message));
}

void Api::Health(const Request& call) {
  call.conn->Respond(JsonResponse(call.req.version(), http::status::ok, json::object{{"status", "ok"}}));
}

// Readiness, unlike /healthz (liveness): 200 only when a store transaction goes through, 503 when
// it fails and while the node is draining.
void Api::Ready(const Request& call) {
  const unsigned version = call.req.version();
  if (draining_) {
    call.conn->Respond(JsonResponse(version, http::status::service_unavailable, json::object{{"status", "draining"}}));
    return;
  }
  const auto answer = [version](const std::shared_ptr<net::HttpConnection>& conn, bool ready) {
    conn->Respond(ready ? JsonResponse(version, http::status::ok, json::object{{"status", "ready"}})
                        : JsonResponse(version, http::status::service_unavailable,
                                       json::object{{"status", "not_ready"}, {"reason", "store"}}));
  };
  if (!ready_probe_.Start(UnixMillis())) {
    answer(call.conn, last_ready_.load());
    return;
  }
  worker_.Submit(
      call.conn->Executor(),
      [&store = store_] {
        store.GetOrder("readyz-probe");  // a whole transaction: BEGIN IMMEDIATE … COMMIT
        return true;
      },
      [this, conn = call.conn, answer](std::optional<bool> ok, const std::string& err) {
        if (!ok) spdlog::warn("readiness: the store failed: {}", err);
        last_ready_ = ok.has_value();
        ready_probe_.Done(UnixMillis());
        answer(conn, ok.has_value());
      });
}

bool Api::WebhookTooLarge(const Request& call) {
  if (call.req.body().size() <= limits_.max_webhook_body) return false;
  Fail(call, errc::body_too_large, "webhook bodies are at most " + std::to_string(limits_.max_webhook_body) + " bytes");
  return true;
}

void Api::NowPaymentsWebhook(const Request& call) {
  if (WebhookTooLarge(call)) return;
  auto& svc = service_;
  RunWebhook(
      call.conn, call.req.version(), std::move(call.req.body()),
      [&svc, sig = std::string(call.req["x-nowpayments-sig"])](const std::string& b) {
        return svc.CheckNowPaymentsSignature(b, sig);
      },
      [&svc](const std::string& b, const fulfillment::WebhookCheck& c) { return svc.HandleNowPaymentsIpn(b, c); });
}

void Api::KinguinWebhook(const Request& call) {
  if (WebhookTooLarge(call)) return;
  auto& svc = service_;
  RunWebhook(
      call.conn, call.req.version(), std::move(call.req.body()),
      [&svc, secret = std::string(call.req["X-Event-Secret"])](const std::string&) {
        return svc.CheckKinguinSecret(secret);
      },
      [&svc](const std::string& b, const fulfillment::WebhookCheck& c) { return svc.HandleKinguinWebhook(b, c); });
}

void Api::RevealKey(const Request& call) {
  const net::Query q(call.target);
  RunService(call.conn, call.req.version(),
             [&svc = service_, o = call.captures[0], i = call.captures[1], e = q.GetOr("expires"), s = q.GetOr("sig")] {
               return svc.RevealKey(o, i, e, s);
             });
}

void Api::ListJobs(const Request& call) {
  std::optional<std::string> state = net::Query(call.target).Get("state");
  if (state && state->empty()) state.reset();
  RunService(call.conn, call.req.version(), [&svc = service_, state] { return svc.ListJobs(state); });
}

void Api::Summary(const Request& call) {
  std::int64_t window = 3600;
  if (const auto v = net::Query(call.target).Get("windowSeconds")) {
    const auto r = std::from_chars(v->data(), v->data() + v->size(), window);
    if (r.ec != std::errc() || r.ptr != v->data() + v->size() || window < 60 || window > kMaxSummaryWindow) {
      Fail(call, errc::invalid_query,
           "\"windowSeconds\" must be an integer from 60 to " + std::to_string(kMaxSummaryWindow));
      return;
    }
  }
  RunService(call.conn, call.req.version(), [&svc = service_, window] { return svc.Summary(window); });
}

void Api::RetryJob(const Request& call) {
  RunService(call.conn, call.req.version(), [&svc = service_, id = call.captures[0]] { return svc.RetryJob(id); });
}

void Api::ListOrders(const Request& call) {
  RunService(call.conn, call.req.version(), [&svc = service_, c = *call.caller] { return svc.ListOrders(c); });
}

void Api::CreateOrder(const Request& call) {
  boost::system::error_code ec;
  json::value body = json::parse(call.req.body(), ec);
  if (ec) {
    Fail(call, errc::malformed_json, "body is not valid JSON: " + ec.message());
    return;
  }
  RunService(call.conn, call.req.version(),
             [&svc = service_, c = *call.caller, b = std::move(body)] { return svc.CreateOrder(c, b); });
}

bool Api::BadOrderId(const Request& call) {
  if (events::IsSafeId(call.captures[0], limits_.max_order_id_length)) return false;
  Fail(call, errc::invalid_order_id, "order id must be 1-128 characters of [A-Za-z0-9._:-]");
  return true;
}

void Api::GetOrder(const Request& call) {
  if (BadOrderId(call)) return;
  RunService(call.conn, call.req.version(),
             [&svc = service_, c = *call.caller, id = call.captures[0]] { return svc.GetOrder(c, id); });
}

void Api::GetTimeline(const Request& call) {
  if (BadOrderId(call)) return;
  std::int64_t after = 0, limit = fulfillment::kDefaultTimelinePage;
  const net::Query q(call.target);
  const auto number = [&q](const char* key, std::int64_t& out) {
    const auto value = q.Get(key);
    if (!value) return true;
    const auto& v = *value;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
    return r.ec == std::errc() && r.ptr == v.data() + v.size() && out >= 0;
  };
  if (!number("after", after) || !number("limit", limit) || limit < 1 || limit > fulfillment::kMaxTimelinePage) {
    Fail(call, errc::invalid_query,
         "\"after\" must be a non-negative integer and \"limit\" 1-" + std::to_string(fulfillment::kMaxTimelinePage));
    return;
  }
  RunService(call.conn, call.req.version(), [&svc = service_, c = *call.caller, id = call.captures[0], after, limit] {
    return svc.GetTimeline(c, id, after, limit);
  });
}

void Api::PutOrder(const Request& call) {
  if (BadOrderId(call)) return;
  const auto& conn = call.conn;
  const auto& req = call.req;
  const std::string& order_id = call.captures[0];
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
    conn->Respond(
        ErrorResponse(version, errc::invalid_body, "\"userId\" must be a non-empty string (at most 128 characters)"));
    return;
  }
  std::optional<std::string> status;
  if (const auto* s = o->if_contains("status"); s && !s->is_null()) {
    if (!s->is_string() || s->as_string().empty() || s->as_string().size() > 64) {
      conn->Respond(
          ErrorResponse(version, errc::invalid_body, "\"status\" must be a non-empty string (at most 64 characters)"));
      return;
    }
    status = std::string(s->as_string());
  }
  worker_.Submit(
      conn->Executor(),
      [this, order_id, user_id = std::string(user->as_string()), status] {
        return store_.UpsertOrder(order_id, user_id, status);
      },
      [this, conn, version](std::optional<store::UpsertResult> r, const std::string& err) {
        if (!r) {
          spdlog::error("order upsert failed: {}", err);
          conn->Respond(ErrorResponse(version, errc::store_unavailable, "the order store failed; retry later"));
          return;
        }
        if (!r->created && r->previous_user_id != r->order.user_id)
          gateway_.RevokeOrder(r->order.order_id, r->order.user_id);
        auto response =
            JsonResponse(version, r->created ? http::status::created : http::status::ok, OrderJson(r->order));
        if (!owner_barrier_) {
          conn->Respond(std::move(response));
          return;
        }
        // A cluster: the other nodes must have forgotten the old owner before the caller hears "done".
        owner_barrier_(r->order.order_id, [conn, response = std::make_shared<net::Response>(std::move(response))] {
          boost::asio::post(conn->Executor(), [conn, response] { conn->Respond(std::move(*response)); });
        });
      });
}

void Api::PostEvents(const Request& call) {
  const auto& conn = call.conn;
  const auto& req = call.req;
  const std::string& text = req.body();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {  // the batch form
    std::vector<PublishRequest> batch;
    std::string message;
    if (auto err = ParsePublishBatch(text, limits_.max_order_id_length, batch, message)) {
      conn->Respond(ErrorResponse(req.version(), *err, message));
      return;
    }
    std::vector<gateway::LogWriter::Event> events;
    events.reserve(batch.size());
    for (auto& p : batch)
      events.push_back({std::move(p.event), p.audience, std::move(p.order_id), std::move(p.data_json)});
    const std::size_t n = events.size();
    Publish(call, std::move(events), json::object{{"status", "accepted"}, {"accepted", n}});
    return;
  }
  PublishRequest p;
  std::string message;
  if (auto err = ParsePublish(req.body(), limits_.max_order_id_length, p, message)) {
    conn->Respond(ErrorResponse(req.version(), *err, message));
    return;
  }
  json::object body{{"status", "accepted"}, {"event", p.event}};
  if (!p.order_id.empty()) body["orderId"] = p.order_id;
  std::vector<gateway::LogWriter::Event> events;
  events.push_back({std::move(p.event), p.audience, std::move(p.order_id), std::move(p.data_json)});
  Publish(call, std::move(events), std::move(body));
}

// Answers 202 once the events are durable in the delivery log and handed to the gateway.
void Api::Publish(const Request& call, std::vector<gateway::LogWriter::Event> events, json::object accepted) {
  log_.Append(std::move(events), call.conn->Executor(),
              [conn = call.conn, version = call.req.version(), accepted = std::move(accepted)](bool ok) {
                if (!ok) {
                  conn->Respond(ErrorResponse(version, errc::store_unavailable, "the event log is unavailable"));
                  return;
                }
                conn->Respond(JsonResponse(version, http::status::accepted, accepted));
              });
}

}  // namespace fg::http_api

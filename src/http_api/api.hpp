// The REST surface of the gateway: health, order registration and the publish API for backend
// services, and the fulfillment routes (orders, timeline, jobs, key reveal, provider webhooks).
// Blocking work (SQLite, crypto, the fulfillment service) runs on the StoreWorker; the loop only
// parses, authenticates and answers. Every error body is {"error":"<code>","message":"<text>"}.
#pragma once

#include "auth/jwt.hpp"
#include "common/rate_limit.hpp"
#include "fulfillment/service.hpp"
#include "gateway/gateway.hpp"
#include "gateway/log_writer.hpp"
#include "http_api/publish.hpp"
#include "net/http_connection.hpp"
#include "store/order_store.hpp"
#include "store/store_worker.hpp"

#include <atomic>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fg::http_api {

net::Response ErrorResponse(unsigned version, errc e, std::string_view message);

class Api {
 public:
  // From now on /readyz answers 503 (a node on its way out takes no new clients).
  void SetDraining() { draining_ = true; }
  Api(gateway::Gateway& gateway, gateway::LogWriter& log, store::OrderStore& store, store::StoreWorker& worker,
      std::string api_key, auth::JwtVerifier verifier, fulfillment::Service& service, const Limits& limits)
      : gateway_(gateway),
        log_(log),
        store_(store),
        worker_(worker),
        api_key_(std::move(api_key)),
        verifier_(std::move(verifier)),
        service_(service),
        limits_(limits),
        key_rate_(limits.api_key_requests_per_s, 2 * limits.api_key_requests_per_s, 16),
        user_rate_(limits.api_user_requests_per_s, 2 * limits.api_user_requests_per_s) {}

  // In a cluster, PUT /api/v1/orders/:id answers once every node has forgotten the order's old
  // owner: `barrier(order, then)` calls `then` (on any thread) when that is so.
  using OwnerBarrier = std::function<void(const std::string& order_id, std::function<void()> then)>;
  void SetOwnerBarrier(OwnerBarrier barrier) { owner_barrier_ = std::move(barrier); }

  // GET /metrics needs `Authorization: Bearer <token>` (none when `token` is empty); `served_here`
  // false: it is served on its own listener instead (ServeMetricsRequest) and this port answers 404.
  void SetMetricsAccess(std::string token, bool served_here) {
    metrics_token_ = std::move(token);
    metrics_here_ = served_here;
  }
  // A GET /metrics wherever it arrived: 401 without the token, else the Prometheus exposition.
  void ServeMetricsRequest(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req);

  // Returns false when the route is not an API route (the caller may serve static files).
  bool Handle(const std::shared_ptr<net::HttpConnection>& conn, net::Request& req);

 private:
  // Who may call a route: anyone (health, webhooks and key links carry their own proof), any
  // authenticated caller, admins and the API key ("staff"), or the API key alone.
  enum class Access { kAnyone, kCaller, kStaff, kApiKey };
  // One matched request: its connection, the request, the target, the pattern's captures, the caller.
  struct Request {
    const std::shared_ptr<net::HttpConnection>& conn;
    net::Request& req;
    const std::string& target;
    std::vector<std::string> captures;
    std::optional<fulfillment::Caller> caller;
  };
  struct Route {
    net::http::verb method;
    std::string_view pattern;
    Access access;
    void (Api::*handler)(const Request&);
  };
  static const std::vector<Route>& Routes();

  std::optional<fulfillment::Caller> Authenticate(const net::Request& req) const;
  void Fail(const Request& call, errc e, std::string_view message);
  bool WebhookTooLarge(const Request& call);
  bool BadOrderId(const Request& call);
  void Health(const Request& call);
  void Metrics(const Request& call);
  // The exposition; its gauges (from the loops and the store) are refreshed first, at most once a second.
  void ServeMetrics(const std::shared_ptr<net::HttpConnection>& conn, unsigned version);
  // Request id, access log and fg_http_requests_total for one API request.
  void Observe(const std::shared_ptr<net::HttpConnection>& conn, const net::Request& req, std::string_view route);
  bool OverRate(const Request& call);
  void NowPaymentsWebhook(const Request& call);
  void KinguinWebhook(const Request& call);
  void RevealKey(const Request& call);
  void PostEvents(const Request& call);
  void Ready(const Request& call);
  void Summary(const Request& call);
  static constexpr std::int64_t kMaxSummaryWindow = 30 * 24 * 3600;
  void Publish(const Request& call, std::vector<gateway::LogWriter::Event> events, boost::json::object accepted);
  void ListJobs(const Request& call);
  void RetryJob(const Request& call);
  void ListOrders(const Request& call);
  void CreateOrder(const Request& call);
  void GetOrder(const Request& call);
  void PutOrder(const Request& call);
  void GetTimeline(const Request& call);
  // Runs `work` (returning a Reply) on the StoreWorker and answers with it.
  void RunService(const std::shared_ptr<net::HttpConnection>& conn, unsigned version,
                  std::function<fulfillment::Result()> work);
  // A provider webhook: `check` (signature/secret, CPU only) on the verifier thread, then `handle`
  // (records and applies) on the StoreWorker.
  void RunWebhook(const std::shared_ptr<net::HttpConnection>& conn, unsigned version, std::string body,
                  std::function<fulfillment::WebhookCheck(const std::string&)> check,
                  std::function<fulfillment::Result(const std::string&, const fulfillment::WebhookCheck&)> handle);

  gateway::Gateway& gateway_;
  gateway::LogWriter& log_;
  store::OrderStore& store_;
  std::atomic<bool> draining_{false};
  // Work a caller without a credential can start (a store query, a walk over every socket) runs at
  // most once a second and one at a time; callers in between get the latest result. Anyone may call
  // /readyz, and --metrics-listen may have no token: neither may queue work on the store thread.
  struct OncePerSecond {
    std::atomic<bool> running{false};
    std::atomic<std::int64_t> last_ms{0};
    bool Start(std::int64_t now_ms) { return now_ms - last_ms.load() >= 1000 && !running.exchange(true); }
    void Done(std::int64_t now_ms) {
      last_ms = now_ms;
      running = false;
    }
  };
  OncePerSecond ready_probe_;
  std::atomic<bool> last_ready_{true};
  OncePerSecond metrics_refresh_;
  store::StoreWorker& worker_;
  std::string api_key_;
  auth::JwtVerifier verifier_;
  fulfillment::Service& service_;
  const Limits& limits_;
  OwnerBarrier owner_barrier_;
  store::StoreWorker verifier_pool_{1};  // webhook signature checks, apart from the store thread
  RateLimiter key_rate_;                 // requests with the API key
  RateLimiter user_rate_;                // requests per user token (by sub)
  std::string metrics_token_;
  bool metrics_here_ = true;
};

}  // namespace fg::http_api

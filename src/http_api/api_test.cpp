// The HTTP API's route table over the whole in-process stack (SQLite in memory, the fulfillment
// service with in-memory doubles): routing, 404/405 with Allow, who may call what, and the error
// body every failure has.
#include "http_api/api.hpp"

#include "auth/jwt.hpp"
#include "common/clock.hpp"
#include "fulfillment/fulfillment_test_support.hpp"
#include "fulfillment/js_json.hpp"
#include "net/loopback_test_support.hpp"
#include "store/sqlite_order_store.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace fg::http_api {
namespace {

namespace json = boost::json;
using net::http::verb;

constexpr const char* kJwtSecret = "0123456789abcdef-jwt";
constexpr const char* kApiKey = "test-api-key";

class Front : public net::HttpHandler {
 public:
  explicit Front(Api& a) : api(a) {}
  void OnRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) override {
    if (!api.Handle(conn, req)) conn->Respond(net::Response{net::http::status::not_implemented, req.version()});
  }
  void OnUpgrade(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) override {
    conn->RespondAndClose(net::Response{net::http::status::bad_request, req.version()});
  }
  net::Response OnBodyTooLarge(const net::http::request_parser<net::http::string_body>::value_type& h) override {
    return ErrorResponse(h.version(), errc::body_too_large, "too large");
  }
  Api& api;
};

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() {
    fulfillment::ServiceConfig sc;
    sc.ipn_secret = "ipn-secret-0123456789";
    sc.workers = 0;
    service = std::make_unique<fulfillment::Service>(
        store, objects, fulfillment::KeyCipher(std::string(32, 'k')), fulfillment::UrlSigner("url-secret-0123456789"),
        supplier, [](const std::vector<fulfillment::Emitted>&) {}, sc);
    gateway = std::make_shared<gateway::Gateway>(loops, store, worker, auth::JwtVerifier(kJwtSecret), limits);
    log = std::make_unique<gateway::LogWriter>(store, worker, *gateway);
    api =
        std::make_unique<Api>(*gateway, *log, store, worker, kApiKey, auth::JwtVerifier(kJwtSecret), *service, limits);
    front = std::make_unique<Front>(*api);
    server = std::make_unique<net::testing::LoopbackServer>(loops, *front, limits);
  }
  ~ApiTest() override {
    server.reset();
    worker.Stop();
  }
  static std::string Token(const std::string& sub, const std::string& role = "") {
    json::object claims{{"sub", sub}, {"exp", UnixSeconds() + 600}};
    if (!role.empty()) claims["role"] = role;
    return "Bearer " + auth::SignHs256(claims, kJwtSecret);
  }
  net::testing::HttpReply Call(verb v, const std::string& target, const std::string& auth = "", std::string body = {},
                               std::map<std::string, std::string> headers = {}) {
    if (!auth.empty()) headers["Authorization"] = auth;
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return net::testing::HttpCall(server->Port(), v, target, std::move(body), headers);
  }
  static std::string ErrorCode(const net::testing::HttpReply& r) {
    return std::string(json::parse(r.body).as_object().at("error").as_string());
  }

  Limits limits;
  net::Loops loops{1};
  store::StoreWorker worker{1};
  store::SqliteStore store{":memory:"};
  fulfillment::testing::MemoryObjects objects;
  fulfillment::testing::FakeSupplier supplier;
  std::unique_ptr<fulfillment::Service> service;
  std::shared_ptr<gateway::Gateway> gateway;
  std::unique_ptr<gateway::LogWriter> log;
  std::unique_ptr<Api> api;
  std::unique_ptr<Front> front;
  std::unique_ptr<net::testing::LoopbackServer> server;
};

TEST_F(ApiTest, RoutesByPathThenMethod) {
  EXPECT_EQ(Call(verb::get, "/healthz").status, 200u);
  EXPECT_EQ(Call(verb::get, "/index.html").status, 501u);  // not an API route: left to the caller
  auto r = Call(verb::get, "/api/v1/nothing-here", kApiKey);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(ErrorCode(r), "not_found");
  r = Call(verb::post, "/webhooks/elsewhere");
  EXPECT_EQ(r.status, 404u);
  r = Call(verb::delete_, "/api/v1/orders/o1", "Bearer " + std::string(kApiKey));
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.raw[net::http::field::allow], "GET, PUT");
  EXPECT_EQ(ErrorCode(r), "method_not_allowed");
}

TEST_F(ApiTest, AccessFollowsTheTable) {
  const std::string key = "Bearer " + std::string(kApiKey);
  // no credentials
  EXPECT_EQ(Call(verb::get, "/api/v1/orders").status, 401u);
  EXPECT_EQ(ErrorCode(Call(verb::get, "/api/v1/orders")), "unauthorized");
  // a user may list orders, not jobs, not publish, not register orders
  EXPECT_EQ(Call(verb::get, "/api/v1/orders", Token("alice")).status, 200u);
  EXPECT_EQ(Call(verb::get, "/api/v1/jobs", Token("alice")).status, 403u);
  EXPECT_EQ(Call(verb::post, "/api/v1/events", Token("alice"), R"({"event":"x","data":{}})").status, 401u);
  EXPECT_EQ(Call(verb::put, "/api/v1/orders/o1", Token("alice", "admin"), R"({"userId":"bob"})").status, 401u);
  // staff: admins and the API key
  EXPECT_EQ(Call(verb::get, "/api/v1/jobs", Token("root", "admin")).status, 200u);
  EXPECT_EQ(Call(verb::get, "/api/v1/jobs", key).status, 200u);
  // the API key registers orders and publishes
  EXPECT_EQ(Call(verb::put, "/api/v1/orders/o1", key, R"({"userId":"bob"})").status, 201u);
  auto r = Call(verb::post, "/api/v1/events", key, R"({"event":"fulfillment:status-change","data":{"orderId":"o1"}})");
  EXPECT_EQ(r.status, 202u) << r.body;
  EXPECT_EQ(ErrorCode(Call(verb::post, "/api/v1/events", key, R"({"event":"no:such","data":{}})")), "unknown_event");
  // a forged token is no credential
  EXPECT_EQ(Call(verb::get, "/api/v1/orders", "Bearer abc.def.ghi").status, 401u);
}

TEST_F(ApiTest, ReadyWhileTheStoreAnswersNotWhileDraining) {
  auto r = Call(verb::get, "/readyz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(json::parse(r.body).as_object().at("status"), "ready");
  api->SetDraining();
  r = Call(verb::get, "/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(json::parse(r.body).as_object().at("status"), "draining");
  EXPECT_EQ(Call(verb::get, "/healthz").status, 200u) << "liveness is not readiness";
}

TEST_F(ApiTest, SummaryIsForStaffWithABoundedWindow) {
  EXPECT_EQ(Call(verb::get, "/api/v1/admin/summary", Token("alice")).status, 403u);
  auto r = Call(verb::get, "/api/v1/admin/summary?windowSeconds=900", Token("root", "admin"));
  ASSERT_EQ(r.status, 200u) << r.body;
  const auto body = json::parse(r.body).as_object();
  EXPECT_EQ(body.at("windowSeconds"), 900);
  EXPECT_EQ(body.at("jobs").as_object().at("failed"), 0);
  EXPECT_TRUE(body.at("webhooks").as_object().contains("processed"));
  for (const char* bad : {"59", "2592001", "x", "-5", "60s"}) {
    r = Call(verb::get, std::string("/api/v1/admin/summary?windowSeconds=") + bad, Token("root", "admin"));
    EXPECT_EQ(r.status, 400u) << bad;
    EXPECT_EQ(ErrorCode(r), "invalid_query") << bad;
  }
}

TEST_F(ApiTest, CapturesReachTheHandler) {
  const std::string key = "Bearer " + std::string(kApiKey);
  ASSERT_EQ(Call(verb::put, "/api/v1/orders/ord-7", key, R"({"userId":"bob"})").status, 201u);
  auto r = Call(verb::get, "/api/v1/orders/ord-7", Token("bob"));
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json::parse(r.body).as_object().at("orderId").as_string(), "ord-7");
  EXPECT_EQ(Call(verb::get, "/api/v1/orders/ord-7", Token("mallory")).status, 404u);  // not hers: not found
  EXPECT_EQ(Call(verb::get, "/api/v1/orders/ord-7/events", Token("bob")).status, 200u);
  EXPECT_EQ(ErrorCode(Call(verb::get, "/api/v1/orders/ord-7/events?limit=x", Token("bob"))), "invalid_query");
}

TEST_F(ApiTest, WebhooksCheckTheirSignatureFirst) {
  auto r = Call(verb::post, "/webhooks/nowpayments", "", R"({"order_id":"o"})",
                {{"x-nowpayments-sig", std::string(128, '0')}});
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(ErrorCode(r), "invalid_signature");
  r = Call(verb::post, "/webhooks/kinguin", "", R"({})");
  EXPECT_EQ(r.status, 503u);  // no Kinguin secret configured
  EXPECT_EQ(ErrorCode(r), "not_configured");
}

}  // namespace
}  // namespace fg::http_api

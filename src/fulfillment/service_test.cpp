#include "fulfillment/service.hpp"

#include "common/clock.hpp"
#include "fulfillment/fulfillment_test_support.hpp"
#include "fulfillment/js_json.hpp"
#include "store/sqlite_order_store.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <map>

namespace fg::fulfillment {
namespace {

namespace json = boost::json;

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() { Make(5); }
  void Make(std::int64_t attempts) {
    ServiceConfig c;
    c.ipn_secret = "ipn-secret";
    c.kinguin_secret = "kg-secret";
    c.max_attempts = attempts;
    c.backoff = Backoff{std::chrono::milliseconds(0), std::chrono::milliseconds(0)};
    c.workers = 0;
    service = std::make_unique<Service>(
        store, objects, KeyCipher(std::string(32, 'k')), UrlSigner("url-secret"), supplier,
        [this](const std::vector<Emitted>& e) { events.insert(events.end(), e.begin(), e.end()); }, c);
  }
  std::string Create(const std::string& user, json::array items) {
    auto r = service->CreateOrder(Caller{Caller::Kind::kUser, user}, json::object{{"items", items}});
    EXPECT_TRUE(r.created);
    return std::string(r.body.as_object().at("orderId").as_string());
  }
  Result Ipn(const std::string& order_id, const std::string& status, long long payment_id = 77,
             const std::string& secret = "ipn-secret") {
    const std::string body =
        R"({"payment_id":)" + std::to_string(payment_id) + R"(,"payment_status":")" + status + R"(","order_id":")" +
        order_id +
        R"(","actually_paid":0.09853637216235617,"pay_currency":"eth","price_amount":50.0,"payin_hash":"0xabc"})";
    return service->HandleNowPaymentsIpn(body, *NowPaymentsSignature(body, secret));
  }
  std::vector<std::string> Names(const std::string& order_id = "") const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (order_id.empty() || e.order_id == order_id) out.emplace_back(events::Name(e.event));
    }
    return out;
  }
  json::object Last(const std::string& event) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (events::Name(it->event) == event) return json::parse(it->json).as_object();
    }
    return {};
  }
  json::object OrderOf(const std::string& id) {
    return service->GetOrder(Caller{Caller::Kind::kService, ""}, id).body.as_object();
  }

  store::SqliteStore store{":memory:"};
  testing::MemoryObjects objects;
  testing::FakeSupplier supplier;
  std::vector<Emitted> events;
  std::unique_ptr<Service> service;
};

TEST_F(ServiceTest, FullFlowFromPaymentToKeys) {
  const auto id = Create("alice", json::array{json::object{{"productId", "game-a"}, {"quantity", 2}},
                                              json::object{{"productId", "game-b"}}});
  EXPECT_TRUE(Ipn(id, "finished").ok());
  EXPECT_EQ(OrderOf(id).at("status"), "paid");
  const auto confirmed = Last("payment:confirmed");
  EXPECT_EQ(confirmed.at("txHash"), "0xabc");
  const auto raw = std::find_if(events.begin(), events.end(), [](const Emitted& e) {
                     return e.event == events::Event::kPaymentConfirmed;
                   })->json;
  EXPECT_NE(raw.find(R"("amount":0.09853637216235617)"), std::string::npos)
      << "the provider's number text is kept: " << raw;
  EXPECT_TRUE(service->RunOnce());
  EXPECT_FALSE(service->RunOnce()) << "one job only";
  const auto order = OrderOf(id);
  EXPECT_EQ(order.at("status"), "fulfilled");
  EXPECT_EQ(order.at("fulfillmentStatus"), "completed");
  EXPECT_EQ(order.at("jobProgress").as_int64(), 100);
  EXPECT_EQ(supplier.purchases, 1);
  const auto fulfilled = Last("fulfillment:status-change");
  EXPECT_EQ(fulfilled.at("status"), "fulfilled");
  ASSERT_EQ(fulfilled.at("items").as_array().size(), 2u);
  const auto names = Names(id);
  const auto pos = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
  EXPECT_LT(pos("payment:confirmed"), pos("fulfillment:key-delivered"));
  EXPECT_EQ(Last("fulfillment:key-delivered").at("itemCount").as_int64(), 2);
  EXPECT_EQ(Last("fulfillment:key-delivered").at("deliveryMethod"), "customer-reveal");
  // reveal through the signed URL
  const std::string url(order.at("items").as_array()[0].as_object().at("signedUrl").as_string());
  const auto q = url.find('?');
  const auto path = url.substr(0, q);
  const auto expires = url.substr(url.find("expires=") + 8, url.find('&') - url.find("expires=") - 8);
  const auto sig = url.substr(url.find("sig=") + 4);
  const std::string item_id = path.substr(path.rfind('/') + 1);
  auto key = service->RevealKey(id, item_id, expires, sig);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key.body.as_object().at("key"), "KEY-game-a-0\nKEY-game-a-1");
  EXPECT_TRUE(key.no_store);
  EXPECT_EQ(service->RevealKey(id, item_id, expires, sig + "0").code, errc::invalid_link_signature);
  EXPECT_EQ(service->RevealKey(id, item_id, "1", UrlSigner("url-secret").Signature(path, 1)).code, errc::link_expired);
  for (auto& [name, blob] : objects.objects) blob[blob.size() / 2] ^= 1;  // tamper with the sealed keys
  EXPECT_EQ(service->RevealKey(id, item_id, expires, sig).code, errc::integrity_error);
  // the timeline has every order event in order, with the reveal, and never the key
  auto timeline = service->GetTimeline(Caller{Caller::Kind::kUser, "alice"}, id);
  ASSERT_TRUE(timeline.ok());
  const auto& ev = timeline.body.as_object().at("events").as_array();
  for (std::size_t i = 0; i < ev.size(); ++i)
    EXPECT_EQ(ev[i].as_object().at("seq").as_int64(), static_cast<std::int64_t>(i + 1));
  EXPECT_EQ(ev.back().as_object().at("event"), "key:revealed");
  EXPECT_EQ(json::serialize(timeline.body).find("KEY-game"), std::string::npos);
}

TEST_F(ServiceTest, ReplayedIpnChangesNothing) {
  const auto id = Create("alice", json::array{json::object{{"productId", "p"}}});
  EXPECT_TRUE(Ipn(id, "finished").ok());
  const auto before = Names(id).size();
  for (int i = 0; i < 5; ++i) {
    auto r = Ipn(id, "finished");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.body.as_object().at("status"), "duplicate");
  }
  const auto names = Names(id);
  EXPECT_EQ(std::count(names.begin(), names.end(), "payment:confirmed"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "fulfillment:status-change"),
            std::count(names.begin(), names.begin() + static_cast<long>(before), "fulfillment:status-change"));
  EXPECT_TRUE(service->RunOnce());
  EXPECT_FALSE(service->RunOnce());
  EXPECT_TRUE(Ipn(id, "finished", 78).ok()) << "another payment id after fulfilment: recorded, no change";
  EXPECT_EQ(OrderOf(id).at("status"), "fulfilled");
}

TEST_F(ServiceTest, BadSignatureIsRejectedAndChangesNothing) {
  const auto id = Create("alice", json::array{json::object{{"productId", "p"}}});
  EXPECT_EQ(Ipn(id, "finished", 77, "wrong-secret").code, errc::invalid_signature);
  EXPECT_EQ(service->HandleNowPaymentsIpn(R"({"order_id":"x"})", "").code, errc::invalid_signature);
  EXPECT_EQ(OrderOf(id).at("status"), "created");
  EXPECT_EQ(Last("admin:webhook-received").at("status"), "failed");
  EXPECT_FALSE(service->RunOnce());
}

TEST_F(ServiceTest, TransientFailuresRetryThenSucceed) {
  const auto id = Create("alice", json::array{json::object{{"productId", "p"}}});
  Ipn(id, "finished");
  supplier.fail_next = 2;
  EXPECT_TRUE(service->RunOnce());
  auto err = Last("fulfillment:error");
  EXPECT_EQ(err.at("severity"), "warning");
  EXPECT_EQ(err.at("retryable"), true);
  EXPECT_TRUE(service->RunOnce());
  EXPECT_TRUE(service->RunOnce());
  EXPECT_EQ(OrderOf(id).at("status"), "fulfilled");
  EXPECT_EQ(supplier.purchases, 1);
}

TEST_F(ServiceTest, ExhaustedAttemptsFailTheOrder) {
  Make(3);
  const auto id = Create("alice", json::array{json::object{{"productId", "p"}}});
  Ipn(id, "finished");
  supplier.fail_next = 100;
  int runs = 0;
  while (service->RunOnce()) ++runs;
  EXPECT_EQ(runs, 3);
  const auto err = Last("fulfillment:error");
  EXPECT_EQ(err.at("severity"), "critical");
  EXPECT_EQ(err.at("retryable"), false);
  EXPECT_EQ(OrderOf(id).at("status"), "failed");
  auto jobs = service->ListJobs(std::string("failed"));
  ASSERT_EQ(jobs.body.as_object().at("jobs").as_array().size(), 1u);
  // an operator retry re-runs it
  const std::string job_id(jobs.body.as_object().at("jobs").as_array()[0].as_object().at("jobId").as_string());
  supplier.fail_next = 0;
  EXPECT_TRUE(service->RetryJob(job_id).ok());
  EXPECT_EQ(service->RetryJob(job_id).code, errc::not_failed);
  EXPECT_TRUE(service->RunOnce());
  EXPECT_EQ(OrderOf(id).at("status"), "fulfilled");
}

TEST_F(ServiceTest, PermanentFailureFailsAtOnce) {
  const auto id = Create("alice", json::array{json::object{{"productId", "p"}}});
  Ipn(id, "finished");
  supplier.out_of_stock = true;
  EXPECT_TRUE(service->RunOnce());
  EXPECT_FALSE(service->RunOnce());
  EXPECT_EQ(Last("fulfillment:error").at("severity"), "critical");
  EXPECT_EQ(OrderOf(id).at("status"), "failed");
  // A retry cannot bring the stock back: the job says so and the retry is refused.
  const auto jobs = service->ListJobs(std::string("failed")).body.as_object().at("jobs").as_array();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].as_object().at("retryable"), false);
  const std::string job_id(jobs[0].as_object().at("jobId").as_string());
  EXPECT_EQ(service->RetryJob(job_id).code, errc::not_retryable);
  EXPECT_EQ(OrderOf(id).at("status"), "failed");
  // An exhausted transient failure is different: the same check offers the retry.
  const auto id2 = Create("bob", json::array{json::object{{"productId", "p"}}});
  Ipn(id2, "finished", 7);
  supplier.out_of_stock = false;
  supplier.fail_next = 100;
  for (int i = 0; i < 10 && service->RunOnce(); ++i) {
  }
  int seen = 0;
  const auto failed = service->ListJobs(std::string("failed"));
  for (const auto& j : failed.body.as_object().at("jobs").as_array()) {
    if (j.as_object().at("orderId").as_string() != id2) continue;
    ++seen;
    EXPECT_EQ(j.as_object().at("retryable"), true);
  }
  EXPECT_EQ(seen, 1);
}

TEST_F(ServiceTest, SummaryCountsJobsAndWebhooksOfTheWindow) {
  const auto id = Create("alice", json::array{json::object{{"productId", "p"}}});
  Ipn(id, "finished");
  EXPECT_TRUE(service->RunOnce());
  const auto s = service->Summary(3600).body.as_object();
  EXPECT_EQ(s.at("windowSeconds"), 3600);
  EXPECT_EQ(s.at("jobs").as_object().at("completed"), 1);
  EXPECT_EQ(s.at("jobs").as_object().at("failed"), 0);
  EXPECT_EQ(s.at("webhooks").as_object().at("processed"), 1);
}

TEST_F(ServiceTest, PaymentFailureAndStatesOnlyMoveForward) {
  const auto id = Create("alice", json::array{json::object{{"productId", "p"}}});
  Ipn(id, "expired");
  EXPECT_EQ(OrderOf(id).at("status"), "failed");
  Ipn(id, "finished", 99);
  EXPECT_EQ(OrderOf(id).at("status"), "failed") << "failed never becomes paid";
  EXPECT_FALSE(service->RunOnce());
  const auto id2 = Create("bob", json::array{json::object{{"productId", "p"}}});
  Ipn(id2, "partially_paid", 5);
  EXPECT_EQ(OrderOf(id2).at("status"), "created");
  EXPECT_EQ(OrderOf(id2).at("paymentStatus"), "partially_paid");
}

TEST_F(ServiceTest, AccessRules) {
  const auto id = Create("alice", json::array{json::object{{"productId", "p"}}});
  EXPECT_TRUE(service->GetOrder(Caller{Caller::Kind::kUser, "alice"}, id).ok());
  EXPECT_EQ(service->GetOrder(Caller{Caller::Kind::kUser, "mallory"}, id).code, errc::not_found);
  EXPECT_EQ(service->GetTimeline(Caller{Caller::Kind::kUser, "mallory"}, id).code, errc::not_found);
  EXPECT_TRUE(service->GetOrder(Caller{Caller::Kind::kAdmin, "root"}, id).ok());
  EXPECT_EQ(service->GetOrder(Caller{Caller::Kind::kUser, "alice"}, "ord_missing").code, errc::not_found);
}

TEST_F(ServiceTest, OrdersCarryNumbersNamesPricesAndTheirPayment) {
  const Caller alice{Caller::Kind::kUser, "alice"};
  auto first = service->CreateOrder(
      alice, json::object{{"items", json::array{json::object{{"productId", "elden-ring-pc"},
                                                             {"name", "Elden Ring (PC)"},
                                                             {"unitPrice", 59.99},
                                                             {"quantity", 2}},
                                                json::object{{"productId", "gift"}, {"unitPrice", "25"}}}}});
  ASSERT_TRUE(first.created);
  const auto second = Create("bob", json::array{json::object{{"productId", "p"}}});
  const std::string id(first.body.as_object().at("orderId").as_string());
  auto o = OrderOf(id);
  EXPECT_EQ(o.at("orderNumber").as_int64() + 1, OrderOf(second).at("orderNumber").as_int64());
  const auto& items = o.at("items").as_array();
  EXPECT_EQ(items[0].as_object().at("name"), "Elden Ring (PC)");
  EXPECT_EQ(items[0].as_object().at("unitPrice"), "59.99");
  EXPECT_EQ(items[1].as_object().at("unitPrice"), "25");
  EXPECT_FALSE(items[1].as_object().contains("name"));
  EXPECT_FALSE(o.contains("payment"));
  Ipn(id, "finished");
  o = OrderOf(id);
  ASSERT_TRUE(o.contains("payment")) << "a reload still shows what was paid";
  EXPECT_EQ(o.at("payment").as_object().at("currency"), "eth");
  EXPECT_EQ(o.at("payment").as_object().at("paymentId"), "77");
  for (const auto& bad : {json::value("12.34567"), json::value(-1), json::value("1e3"), json::value(true)}) {
    EXPECT_EQ(service
                  ->CreateOrder(
                      alice, json::object{{"items", json::array{json::object{{"productId", "p"}, {"unitPrice", bad}}}}})
                  .code,
              errc::invalid_body)
        << json::serialize(bad);
  }
  EXPECT_EQ(
      service
          ->CreateOrder(alice, json::object{{"items", json::array{json::object{{"productId", "p"}, {"name", "a\nb"}}}}})
          .code,
      errc::invalid_body);
}

TEST_F(ServiceTest, ValidatesOrders) {
  const Caller alice{Caller::Kind::kUser, "alice"};
  EXPECT_EQ(service->CreateOrder(alice, json::object{}).code, errc::invalid_body);
  EXPECT_EQ(service->CreateOrder(alice, json::object{{"items", json::array{}}}).code, errc::invalid_body);
  EXPECT_EQ(service->CreateOrder(alice, json::object{{"items", json::array{json::object{{"productId", ""}}}}}).code,
            errc::invalid_body);
  EXPECT_EQ(
      service
          ->CreateOrder(alice, json::object{{"items", json::array{json::object{{"productId", "p"}, {"quantity", 0}}}}})
          .code,
      errc::invalid_body);
  EXPECT_EQ(service
                ->CreateOrder(alice,
                              json::object{{"items", json::array{json::object{{"productId", "p"}, {"quantity", 1.5}}}}})
                .code,
            errc::invalid_body);
  EXPECT_EQ(service
                ->CreateOrder(Caller{Caller::Kind::kService, ""},
                              json::object{{"items", json::array{json::object{{"productId", "p"}}}}})
                .code,
            errc::invalid_body)
      << "the API key must name the user";
  auto r =
      service->CreateOrder(Caller{Caller::Kind::kService, ""},
                           json::object{{"userId", "carol"}, {"items", json::array{json::object{{"productId", "p"}}}}});
  EXPECT_TRUE(r.created);
  EXPECT_EQ(r.body.as_object().at("userId"), "carol");
}

}  // namespace
}  // namespace fg::fulfillment

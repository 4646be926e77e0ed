#include "gateway/gateway.hpp"

#include "http_api/api.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace fg::gateway {
namespace {

TEST(Routing, AudienceOfEachEvent) {
  for (const char* e : {"fulfillment:status-change", "payment:confirmed", "fulfillment:key-delivered", "fulfillment:error"}) {
    EXPECT_EQ(AudienceOf(e), Audience::kOrderAndAdmins) << e;
  }
  for (const char* e : {"admin:job-queue-event", "admin:webhook-received"}) EXPECT_EQ(AudienceOf(e), Audience::kAdminsOnly) << e;
  for (const char* e : {"", "admin:connection-stats", "subscribe:order", "FULFILLMENT:ERROR"}) EXPECT_FALSE(AudienceOf(e)) << e;
}

TEST(Routing, EventFrameIsOneSocketIoEventPacket) {
  EXPECT_EQ(EncodeEventFrame("payment:confirmed", R"({"orderId":"o"})"), R"(42/fulfillment,["payment:confirmed",{"orderId":"o"}])");
}

TEST(Stats, JsonShape) {
  GlobalStats s;
  s.total = 3;
  s.admins = 1;
  s.users = 2;
  s.watched = {{"o1", 2}};
  auto j = s.ToJson();
  EXPECT_EQ(j.at("totalConnected").as_uint64(), 3u);
  EXPECT_EQ(j.at("admins").as_uint64(), 1u);
  EXPECT_EQ(j.at("adminSubscribersCount").as_uint64(), 1u);
  EXPECT_EQ(j.at("users").as_uint64(), 2u);
  EXPECT_EQ(j.at("ordersBeingWatched").as_uint64(), 1u);
  EXPECT_EQ(boost::json::serialize(j.at("watchedOrders")), R"([{"orderId":"o1","subscribers":2}])");
  EXPECT_TRUE(j.at("timestamp").is_string());
}

TEST(Publish, ValidatesAndKeepsPayloadText) {
  http_api::PublishRequest p;
  std::string msg;
  EXPECT_FALSE(http_api::ParsePublish(R"({"event":"payment:confirmed","data":{"orderId":"o","amount":50.0,"timestamp":"t"}})", 128, p, msg));
  EXPECT_EQ(p.order_id, "o");
  EXPECT_EQ(p.data_json, R"({"orderId":"o","amount":50.0,"timestamp":"t"})");
  EXPECT_FALSE(http_api::ParsePublish(R"({"event":"admin:job-queue-event","data":{}})", 128, p, msg));
  EXPECT_EQ(p.audience, Audience::kAdminsOnly);
  EXPECT_EQ(p.data_json.rfind(R"({"timestamp":")", 0), 0u);
  EXPECT_EQ(http_api::ParsePublish("{", 128, p, msg), http_api::Errc::kMalformedJson);
  EXPECT_EQ(http_api::ParsePublish(R"({"event":"x","data":{}})", 128, p, msg), http_api::Errc::kUnknownEvent);
  EXPECT_EQ(http_api::ParsePublish(R"({"event":"payment:confirmed","data":{}})", 128, p, msg), http_api::Errc::kMissingOrderId);
  EXPECT_EQ(http_api::ParsePublish(R"({"event":"payment:confirmed","data":1})", 128, p, msg), http_api::Errc::kInvalidBody);
  EXPECT_EQ(http_api::ParsePublish(R"({"event":"payment:confirmed","data":{"orderId":"xxxx"}})", 3, p, msg), http_api::Errc::kInvalidOrderId);
}

TEST(Publish, DuplicateDataKeysForwardTheValueThatWasValidated) {
  http_api::PublishRequest p;
  std::string msg;
  ASSERT_FALSE(http_api::ParsePublish(R"({"event":"payment:confirmed","data":"paymeed","data":{"orderId":"o"}})", 128, p, msg));
  EXPECT_EQ(p.data_json.rfind(R"({"orderId":"o","timestamp":")", 0), 0u) << p.data_json;
}

TEST(Publish, BatchIsAllOrNothing) {
  std::vector<http_api::PublishRequest> out;
  std::string msg;
  ASSERT_FALSE(http_api::ParsePublishBatch(
      R"([{"event":"payment:confirmed","data":{"orderId":"a","n":1.50}}, {"event":"admin:job-queue-event","data":{"jobId":"j"}}])", 128, out,
      msg));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].order_id, "a");
  EXPECT_NE(out[0].data_json.find(R"("n":1.50)"), std::string::npos) << "numbers forwarded verbatim";
  EXPECT_EQ(out[1].audience, Audience::kAdminsOnly);
  EXPECT_EQ(http_api::ParsePublishBatch("[]", 128, out, msg), http_api::Errc::kInvalidBody);
  EXPECT_EQ(http_api::ParsePublishBatch(R"([{"event":"payment:confirmed","data":{"orderId":"a"}},{"event":"nope","data":{}}])", 128, out, msg),
            http_api::Errc::kUnknownEvent);
  EXPECT_NE(msg.find("element 1"), std::string::npos) << msg;
  EXPECT_EQ(http_api::ParsePublishBatch("[1,", 128, out, msg), http_api::Errc::kMalformedJson);
  std::string big = "[";
  for (std::size_t i = 0; i <= http_api::kMaxBatch; ++i) big += std::string(i ? "," : "") + R"({"event":"admin:job-queue-event","data":{}})";
  EXPECT_EQ(http_api::ParsePublishBatch(big + "]", 128, out, msg), http_api::Errc::kInvalidBody);
}

TEST(ErrorTable, MapsEveryCode) {
  EXPECT_EQ(http_api::Describe(http_api::Errc::kUnauthorized).status, 401);
  EXPECT_EQ(http_api::Describe(http_api::Errc::kPayloadTooLarge).status, 400);
  EXPECT_STREQ(http_api::Describe(http_api::Errc::kUnknownEvent).code, "unknown_event");
}

}  // namespace
}  // namespace fg::gateway

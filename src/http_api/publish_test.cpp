#include "http_api/publish.hpp"

#include <gtest/gtest.h>

namespace fg::http_api {
namespace {

TEST(Publish, ValidatesAndKeepsPayloadText) {
  PublishRequest p;
  std::string msg;
  EXPECT_FALSE(ParsePublish(R"({"event":"payment:confirmed","data":{"orderId":"o","amount":50.0,"timestamp":"t"}})",
                            128, p, msg));
  EXPECT_EQ(p.order_id, "o");
  EXPECT_EQ(p.data_json, R"({"orderId":"o","amount":50.0,"timestamp":"t"})");
  EXPECT_FALSE(ParsePublish(R"({"event":"admin:job-queue-event","data":{}})", 128, p, msg));
  EXPECT_EQ(p.audience, gateway::Audience::kAdminsOnly);
  EXPECT_EQ(p.data_json.rfind(R"({"timestamp":")", 0), 0u);
  EXPECT_EQ(ParsePublish("{", 128, p, msg), errc::malformed_json);
  EXPECT_EQ(ParsePublish(R"({"event":"x","data":{}})", 128, p, msg), errc::unknown_event);
  EXPECT_EQ(ParsePublish(R"({"event":"payment:confirmed","data":{}})", 128, p, msg), errc::missing_order_id);
  EXPECT_EQ(ParsePublish(R"({"event":"payment:confirmed","data":1})", 128, p, msg), errc::invalid_body);
  EXPECT_EQ(ParsePublish(R"({"event":"payment:confirmed","data":{"orderId":"xxxx"}})", 3, p, msg),
            errc::invalid_order_id);
}

TEST(Publish, DuplicateDataKeysForwardTheValueThatWasValidated) {
  PublishRequest p;
  std::string msg;
  ASSERT_FALSE(ParsePublish(R"({"event":"payment:confirmed","data":"paymeed","data":{"orderId":"o"}})", 128, p, msg));
  EXPECT_EQ(p.data_json.rfind(R"({"orderId":"o","timestamp":")", 0), 0u) << p.data_json;
}

TEST(Publish, BatchIsAllOrNothing) {
  std::vector<PublishRequest> out;
  std::string msg;
  ASSERT_FALSE(ParsePublishBatch(
      R"([{"event":"payment:confirmed","data":{"orderId":"a","n":1.50}}, {"event":"admin:job-queue-event","data":{"jobId":"j"}}])",
      128, out, msg));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].order_id, "a");
  EXPECT_NE(out[0].data_json.find(R"("n":1.50)"), std::string::npos) << "numbers forwarded verbatim";
  EXPECT_EQ(out[1].audience, gateway::Audience::kAdminsOnly);
  EXPECT_EQ(ParsePublishBatch("[]", 128, out, msg), errc::invalid_body);
  EXPECT_EQ(ParsePublishBatch(R"([{"event":"payment:confirmed","data":{"orderId":"a"}},{"event":"nope","data":{}}])",
                              128, out, msg),
            errc::unknown_event);
  EXPECT_NE(msg.find("element 1"), std::string::npos) << msg;
  EXPECT_EQ(ParsePublishBatch("[1,", 128, out, msg), errc::malformed_json);
  std::string big = "[";
  for (std::size_t i = 0; i <= kMaxBatch; ++i)
    big += std::string(i ? "," : "") + R"({"event":"admin:job-queue-event","data":{}})";
  EXPECT_EQ(ParsePublishBatch(big + "]", 128, out, msg), errc::invalid_body);
}

TEST(ErrorTable, MapsEveryCodeToAStatusAndAWireCode) {
  EXPECT_EQ(HttpStatus(errc::unauthorized), 401);
  EXPECT_EQ(HttpStatus(errc::payload_too_large), 400);
  EXPECT_EQ(HttpStatus(errc::invalid_link_signature), 403);
  EXPECT_EQ(HttpStatus(errc::rate_limited), 429);
  EXPECT_EQ(WireCode(errc::unknown_event), "unknown_event");
  EXPECT_EQ(WireCode(errc::invalid_argument), "invalid");
  for (int e = 0; e <= static_cast<int>(errc::internal); ++e) {
    const auto code = static_cast<errc>(e);
    EXPECT_GE(HttpStatus(code), code == errc::ok ? 200 : 400) << WireCode(code);
    EXPECT_FALSE(WireCode(code).empty());
    EXPECT_EQ(std::error_code(code).message(), WireCode(code));
  }
}

}  // namespace
}  // namespace fg::http_api

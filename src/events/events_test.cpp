#include "events/events.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace fg::events {
namespace {

namespace json = boost::json;

std::string WebEventsTs() {
  std::ifstream in(std::string(FG_SOURCE_DIR) + "/web/src/lib/events.ts");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The C++ vocabulary and the TypeScript one (web/src/lib/events.ts) name the same events and the
// same order statuses.
TEST(Events, AgreeWithTheWebClientTypes) {
  const std::string ts = WebEventsTs();
  ASSERT_FALSE(ts.empty()) << "web/src/lib/events.ts not found";
  const auto start = ts.find("export interface ServerToClientEvents");
  ASSERT_NE(start, std::string::npos);
  const std::string block = ts.substr(start, ts.find('}', start) - start);
  std::set<std::string> in_ts;
  const std::regex name_re("\"([a-z]+:[a-z-]+)\":");
  for (auto it = std::sregex_iterator(block.begin(), block.end(), name_re); it != std::sregex_iterator(); ++it) {
    in_ts.insert((*it)[1]);
  }
  in_ts.erase("admin:connection-stats");  // the answer to admin:get-connections, not a published event
  in_ts.erase("auth:expiring");           // a socket's own token lifetime, not published events
  in_ts.erase("auth:expired");
  std::set<std::string> in_cpp;
  for (auto e : kAllEvents) in_cpp.insert(std::string(Name(e)));
  EXPECT_EQ(in_ts, in_cpp);

  std::smatch m;
  ASSERT_TRUE(std::regex_search(ts, m, std::regex("export type OrderStatus = ([^;]+);")));
  const std::string statuses = m[1];
  std::set<std::string> ts_statuses;
  const std::regex status_re("\"([a-z_]+)\"");
  for (auto it = std::sregex_iterator(statuses.begin(), statuses.end(), status_re); it != std::sregex_iterator();
       ++it) {
    ts_statuses.insert((*it)[1]);
  }
  std::set<std::string> cpp_statuses;
  for (auto s : kAllStatuses) cpp_statuses.insert(std::string(ToString(s)));
  EXPECT_EQ(ts_statuses, cpp_statuses);
}

TEST(Events, NamesAudiencesAndStatusesRoundTrip) {
  for (auto e : kAllEvents) EXPECT_EQ(Parse(Name(e)), e);
  EXPECT_EQ(AudienceOf("admin:job-queue-event"), Audience::kAdminsOnly);
  EXPECT_EQ(AudienceOf("admin:webhook-received"), Audience::kAdminsOnly);
  EXPECT_EQ(AudienceOf("fulfillment:error"), Audience::kOrderAndAdmins);
  for (const char* e : {"", "admin:connection-stats", "subscribe:order", "FULFILLMENT:ERROR"})
    EXPECT_FALSE(AudienceOf(e)) << e;
  for (auto s : kAllStatuses) EXPECT_EQ(ParseOrderStatus(ToString(s)), s);
  EXPECT_FALSE(ParseOrderStatus("shipped"));
}

TEST(Events, PayloadBuildersLeaveOutWhatIsNotSet) {
  auto sc = json::parse(
      ToJson(StatusChange{"o1", OrderStatus::kProcessing, "in_progress", "", "j1", "active", 50, nullptr, "", "", ""}));
  EXPECT_EQ(sc.at("orderId"), "o1");
  EXPECT_EQ(sc.at("status"), "processing");
  EXPECT_EQ(sc.at("jobProgress"), 50);
  EXPECT_FALSE(sc.as_object().contains("paymentStatus"));
  EXPECT_FALSE(sc.as_object().contains("items"));
  EXPECT_TRUE(sc.at("timestamp").is_string());

  auto err = json::parse(ToJson(ErrorEvent{"o1", "critical", false, "out_of_stock", "gone", "j1", 2, 5, ""}));
  EXPECT_EQ(err.at("error"), "gone");
  EXPECT_EQ(err.at("message"), "gone");
  EXPECT_EQ(err.at("severity"), "critical");
  EXPECT_EQ(err.at("retryable"), false);
  EXPECT_FALSE(err.as_object().contains("nextRetryAt"));

  PaymentConfirmed pc{"o1", "77", "eth", std::nullopt, "0.09853637216235617", std::string("50.0")};
  const std::string text = ToJson(pc);
  EXPECT_NE(text.find("\"amount\":0.09853637216235617"), std::string::npos) << text;
  EXPECT_NE(text.find("\"priceAmount\":50.0"), std::string::npos) << text;
  EXPECT_NE(text.find("\"txHash\":null"), std::string::npos) << text;

  auto hook = json::parse(ToJson(
      WebhookEvent{7, "nowpayments", "failed", std::nullopt, std::nullopt, std::nullopt, "invalid_signature", 1234}));
  EXPECT_FALSE(hook.as_object().contains("orderId"));
  EXPECT_EQ(hook.at("bodyBytes"), 1234);
}

TEST(IsSafeId, CharsetAndLength) {
  EXPECT_TRUE(IsSafeId("ord_AZ-09.x:y"));
  EXPECT_FALSE(IsSafeId(""));
  EXPECT_FALSE(IsSafeId("a b"));
  EXPECT_FALSE(IsSafeId("../etc"));  // '/' is not allowed
  EXPECT_FALSE(IsSafeId(std::string(129, 'a')));
  EXPECT_TRUE(IsSafeId(std::string(128, 'a')));
  EXPECT_FALSE(IsSafeId("abcd", 3));
}

}  // namespace
}  // namespace fg::events

#include "common/log.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace fg {
namespace {

using log_detail::Encode;

std::string Text(std::string_view message, std::initializer_list<LogField> fields) {
  std::string out;
  log_detail::RenderText(Encode(message, fields), out);
  return out;
}

boost::json::object Json(std::string_view message, std::initializer_list<LogField> fields) {
  std::string out = "{";
  log_detail::RenderJsonMembers(Encode(message, fields), out);
  out += "}";
  return boost::json::parse(out).as_object();  // throws when it is not valid JSON
}

TEST(Log, TextPutsFieldsAfterTheMessage) {
  EXPECT_EQ(Text("job completed", {{"jobId", "job_1"}, {"orderId", "ord_2"}}),
            "job completed jobId=job_1 orderId=ord_2");
  EXPECT_EQ(Text("x", {{"why", "order is \"failed\" now"}}), R"(x why="order is \"failed\" now")");
  EXPECT_EQ(Text("x", {{"empty", ""}, {"k", "v"}}), "x k=v") << "empty values are left out";
}

TEST(Log, JsonHasTheFieldsAsMembersAndStaysValidOnHostileText) {
  auto o = Json("socket connected", {{"sid", "abc"}, {"userId", "u\"1\\"}});
  EXPECT_EQ(o.at("message"), "socket connected");
  EXPECT_EQ(o.at("sid"), "abc");
  EXPECT_EQ(o.at("userId"), "u\"1\\");
  // Control characters cannot split a record or forge a field; fields never shadow the record's own.
  o = Json(
      "line\nbreak\x1f"
      "forged\x1e"
      "x",
      {{"message", "shadow"},
       {"k",
        "a\x1f"
        "b\x1e"
        "c\r\n"}});
  EXPECT_EQ(o.at("message"), "line break forged x");
  EXPECT_EQ(o.at("k"), "a b c  ");
  EXPECT_FALSE(o.contains("forged"));
  EXPECT_EQ(o.size(), 2u);
}

TEST(Log, NumbersAreJsonNumbersAndTextStaysText) {
  const auto o = Json("http request", {{"status", 404},
                                       {"durationMs", 1.23456},
                                       {"items", std::size_t{3}},
                                       {"orderId", "123"},
                                       {"pos", std::int64_t{-7}}});
  EXPECT_TRUE(o.at("status").is_int64());
  EXPECT_EQ(o.at("status").as_int64(), 404);
  EXPECT_DOUBLE_EQ(o.at("durationMs").to_number<double>(), 1.235);
  EXPECT_EQ(o.at("items").as_int64(), 3);
  EXPECT_EQ(o.at("pos").as_int64(), -7);
  EXPECT_TRUE(o.at("orderId").is_string()) << "an id that looks like a number stays a string";
  EXPECT_EQ(Text("x", {{"status", 200}, {"durationMs", 0.5}}), "x status=200 durationMs=0.500");
}

TEST(Log, SetupRejectsUnknownLevelsAndFormats) {
  EXPECT_THROW(SetupLogging("loud", "text"), std::invalid_argument);
  EXPECT_THROW(SetupLogging("info", "xml"), std::invalid_argument);
  EXPECT_NO_THROW(SetupLogging("info", "json"));
  EXPECT_NO_THROW(SetupLogging("info", "text"));
}

}  // namespace
}  // namespace fg

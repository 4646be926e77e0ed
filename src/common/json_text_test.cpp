#include "common/json_text.hpp"

#include <gtest/gtest.h>

namespace fg::json_text {
namespace {

TEST(JsonText, FindsMembersVerbatim) {
  const std::string body =
      R"({"event":"x","data":{"orderId":"o1","price":0.09853637216235617,"big":1e21,"s":"a}b\"c"},"z":[1,{"data":2}]})";
  auto data = FindMember(body, "data");
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, R"({"orderId":"o1","price":0.09853637216235617,"big":1e21,"s":"a}b\"c"})");
  EXPECT_EQ(FindMember(body, "event"), std::optional<std::string_view>(R"("x")"));
  EXPECT_EQ(FindMember(body, "z"), std::optional<std::string_view>(R"([1,{"data":2}])"));
  EXPECT_FALSE(FindMember(body, "missing"));
  EXPECT_FALSE(FindMember("[1,2]", "data"));
}

TEST(JsonText, HandlesWhitespaceAndEscapedKeys) {
  const std::string body = " { \"a\" : 1 ,\n \"d\\u0061ta\" :\t{ \"k\" : true } } ";
  EXPECT_EQ(FindMember(body, "data"), std::optional<std::string_view>(R"({ "k" : true })"));
  EXPECT_EQ(FindMember(body, "a"), std::optional<std::string_view>("1"));
}

TEST(JsonText, DuplicateKeysLastWins) {
  // Found by fuzz/json_text_fuzz.cpp: the first "data" was a string, the parsed value the last one.
  EXPECT_EQ(FindMember(R"({"data":"x","data":{"a":1}})", "data"), std::optional<std::string_view>(R"({"a":1})"));
}

TEST(JsonText, AppendsMembers) {
  EXPECT_EQ(AppendMember(R"({"a":1})", "timestamp", R"("t")"), R"({"a":1,"timestamp":"t"})");
  EXPECT_EQ(AppendMember("{}", "timestamp", R"("t")"), R"({"timestamp":"t"})");
  EXPECT_EQ(AppendMember("{ }", "k", "1"), R"({ "k":1})");
}

TEST(JsonText, QuotesLikeJavaScript) {
  std::string out;
  AppendEscaped(out, "a\"b\\c\n\x01/é");
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\u0001/é");
}

TEST(JsonText, SkipValueStopsOnGarbage) {
  EXPECT_EQ(SkipValue("\"unterminated", 0), std::string_view::npos);
  EXPECT_EQ(SkipValue("[1,2", 0), std::string_view::npos);
  EXPECT_EQ(SkipValue("", 0), std::string_view::npos);
  EXPECT_EQ(SkipValue("  true,", 0), 6u);
}

}  // namespace
}  // namespace fg::json_text

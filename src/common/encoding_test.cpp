#include "common/encoding.hpp"

#include <gtest/gtest.h>

namespace fg {
namespace {

TEST(Base64, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
    bytes += static_cast<char>(i * 37);
  }
}

TEST(Base64, KnownVectors) {
  EXPECT_EQ(Base64Encode("\x01\x02\x03\x04"), "AQIDBA==");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64Decode("AQIDBA=="), std::string("\x01\x02\x03\x04"));
}

TEST(Base64, RejectsGarbage) {
  EXPECT_FALSE(Base64Decode("A"));
  EXPECT_FALSE(Base64Decode("AQ!D"));
  EXPECT_FALSE(Base64UrlDecode("ab+c"));
}

TEST(RandomId, IsUniqueAndUrlSafe) {
  const auto a = RandomId(), b = RandomId();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 20u);
  EXPECT_EQ(a.find_first_of("+/="), std::string::npos);
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret1"));
}

}  // namespace
}  // namespace fg

namespace fg {
namespace {

TEST(IsSafeId, CharsetAndLength) {
  EXPECT_TRUE(IsSafeId("ord_AZ-09.x:y"));
  EXPECT_FALSE(IsSafeId(""));
  EXPECT_FALSE(IsSafeId("a b"));
  EXPECT_FALSE(IsSafeId("../etc"));  // '/' is not allowed
  EXPECT_FALSE(IsSafeId(std::string(129, 'a')));
  EXPECT_TRUE(IsSafeId(std::string(128, 'a')));
  EXPECT_FALSE(IsSafeId("abcd", 3));
}

TEST(BearerToken, SchemeIsCaseInsensitive) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer abc"), "abc");
  EXPECT_EQ(BearerToken("BEARER abc"), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken("Bearer "), "");
  EXPECT_EQ(BearerToken("abc"), "");
}

}  // namespace
}  // namespace fg

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

#include "common/encoding.hpp"
#include "common/rate_limit.hpp"

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
  // one spelling per byte string: no padding, no non-zero trailing bits
  EXPECT_EQ(Base64UrlDecode("YQ"), "a");
  EXPECT_FALSE(Base64UrlDecode("YQ=="));
  EXPECT_FALSE(Base64UrlDecode("YR")) << "trailing bits set";
  EXPECT_EQ(Base64UrlDecode("YWI"), "ab");
  EXPECT_FALSE(Base64UrlDecode("YWJ"));
  EXPECT_FALSE(Base64UrlDecode("YWI="));
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

TEST(Encoding, PrintablePrefixAndHexDigest) {
  EXPECT_EQ(PrintablePrefix(std::string("ab\x00\xff\ncd", 7), 5), "ab???");
  EXPECT_TRUE(IsHexDigest(std::string(128, 'a'), 128));
  EXPECT_FALSE(IsHexDigest(std::string(127, 'a'), 128));
  EXPECT_FALSE(IsHexDigest(std::string(128, 'g'), 128));
}

TEST(RateLimiter, BurstThenRateAndBoundedKeys) {
  RateLimiter limiter(2, 3, 2);
  const auto t0 = RateLimiter::Clock::now();
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_FALSE(limiter.Allow("a", t0)) << "burst of 3 spent";
  EXPECT_TRUE(limiter.Allow("b", t0)) << "keys are independent";
  EXPECT_TRUE(limiter.Allow("a", t0 + std::chrono::milliseconds(500))) << "2/s refills one token in 0.5 s";
  EXPECT_FALSE(limiter.Allow("a", t0 + std::chrono::milliseconds(500)));
  limiter.Allow("c", t0);
  EXPECT_EQ(limiter.Keys(), 2u);
  RateLimiter off(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.Allow("x"));
}

TEST(TokenBucket, StartsFullRefillsUpToTheBurstAndIgnoresAClockGoingBack) {
  TokenBucket b;  // a socket's own bucket: 1/s, burst 2
  const auto t0 = TokenBucket::Clock::now();
  EXPECT_TRUE(b.Take(1, 2, t0));
  EXPECT_TRUE(b.Take(1, 2, t0));
  EXPECT_FALSE(b.Take(1, 2, t0));
  EXPECT_FALSE(b.Take(1, 2, t0 - std::chrono::seconds(5))) << "no tokens from a clock going back";
  EXPECT_TRUE(b.Take(1, 2, t0 + std::chrono::hours(1)));
  EXPECT_TRUE(b.Take(1, 2, t0 + std::chrono::hours(1)));
  EXPECT_FALSE(b.Take(1, 2, t0 + std::chrono::hours(1))) << "an hour idle refills the burst, not more";
}

}  // namespace
TEST(Encoding, Utf8IsStrict) {
  EXPECT_TRUE(ValidUtf8("héllo 日本 😀"));
  EXPECT_FALSE(ValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(ValidUtf8("\xE0\x80\xAF"));      // overlong, three bytes
  EXPECT_FALSE(ValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(ValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(ValidUtf8("\xE6\x97"));          // truncated
  EXPECT_FALSE(ValidUtf8("a\x80"));             // lone continuation byte
  EXPECT_EQ(Utf8SequenceLength("a日", 1), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xE6\x97", 0), 0u);
}

}  // namespace fg

#include "auth/jwt.hpp"

#include "common/encoding.hpp"

#include <gtest/gtest.h>

namespace fg::auth {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
const std::string kSecret = "test-secret";

std::string Token(const std::string& header, const std::string& payload, const std::string& secret = kSecret) {
  const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  return input + "." + Base64UrlEncode(HmacSha256(secret, input));
}

TEST(Jwt, AcceptsValidToken) {
  JwtVerifier v(kSecret);
  auto r = v.Verify(
      Token(R"({"alg":"HS256","typ":"JWT"})", R"({"sub":"u1","email":"a@b.c","role":"admin","exp":1800000100})"), kNow);
  ASSERT_EQ(r.error, TokenError::kNone) << r.detail;
  EXPECT_EQ(r.principal.user_id, "u1");
  EXPECT_EQ(r.principal.email, "a@b.c");
  EXPECT_TRUE(r.principal.admin);
}

TEST(Jwt, KnownVectorFromRfc7515StyleSigner) {
  // Made with Node: crypto.createHmac('sha256','test-secret') over base64url(header).base64url(payload)
  const std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEifQ.jrhp35eX9Tksd7v5c492XZ8p0_h7DbLv7APqcGPmKwo";
  JwtVerifier v(kSecret);
  auto r = v.Verify(token, kNow);
  EXPECT_EQ(r.error, TokenError::kNone) << r.detail;
  EXPECT_EQ(r.principal.user_id, "user-1");
  EXPECT_FALSE(r.principal.admin);
}

TEST(Jwt, SignedBySignHs256Verifies) {
  JwtVerifier v(kSecret);
  auto r = v.Verify(SignHs256(boost::json::object{{"sub", "x"}}, kSecret), kNow);
  EXPECT_EQ(r.error, TokenError::kNone);
}

TEST(Jwt, ExpiredAndNotYetValid) {
  JwtVerifier v(kSecret, std::chrono::seconds(10));
  EXPECT_EQ(v.Verify(Token(R"({"alg":"HS256"})", R"({"sub":"u","exp":1799999000})"), kNow).error, TokenError::kExpired);
  EXPECT_EQ(v.Verify(Token(R"({"alg":"HS256"})", R"({"sub":"u","exp":1799999995})"), kNow).error, TokenError::kNone)
      << "within leeway";
  EXPECT_EQ(v.Verify(Token(R"({"alg":"HS256"})", R"({"sub":"u","nbf":1800001000})"), kNow).error, TokenError::kInvalid);
  EXPECT_EQ(v.Verify(Token(R"({"alg":"HS256"})", R"({"sub":"u","nbf":1799999000})"), kNow).error, TokenError::kNone);
  EXPECT_EQ(v.Verify(Token(R"({"alg":"HS256"})", R"({"sub":"u","exp":"soon"})"), kNow).error, TokenError::kInvalid);
}

TEST(Jwt, RotationAcceptsThePreviousSecretUntilItIsRemoved) {
  const std::string old_token = Token(R"({"alg":"HS256"})", R"({"sub":"u"})", "old-secret");
  const std::string new_token = Token(R"({"alg":"HS256"})", R"({"sub":"u"})", "new-secret");
  const JwtVerifier rotating("new-secret", "old-secret");
  EXPECT_EQ(rotating.Verify(old_token, kNow).error, TokenError::kNone);
  EXPECT_EQ(rotating.Verify(new_token, kNow).error, TokenError::kNone);
  EXPECT_EQ(rotating.Verify(Token(R"({"alg":"HS256"})", R"({"sub":"u"})", "third"), kNow).error, TokenError::kInvalid);
  const JwtVerifier rotated("new-secret");
  EXPECT_EQ(rotated.Verify(old_token, kNow).error, TokenError::kInvalid);
  EXPECT_EQ(rotated.Verify(new_token, kNow).error, TokenError::kNone);
  const JwtVerifier no_previous("new-secret", "");  // an empty previous secret never matches
  EXPECT_EQ(no_previous.Verify(Token(R"({"alg":"HS256"})", R"({"sub":"u"})", ""), kNow).error, TokenError::kInvalid);
}

TEST(Jwt, RejectsWrongSignatureAndAlgorithms) {
  JwtVerifier v(kSecret);
  EXPECT_EQ(v.Verify(Token(R"({"alg":"HS256"})", R"({"sub":"u"})", "other"), kNow).error, TokenError::kInvalid);
  const std::string none = Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(R"({"sub":"u"})") + ".";
  EXPECT_EQ(v.Verify(none, kNow).error, TokenError::kInvalid);
  EXPECT_EQ(v.Verify(Token(R"({"alg":"none"})", R"({"sub":"u"})"), kNow).error, TokenError::kInvalid);
  EXPECT_EQ(v.Verify(Token(R"({"alg":"HS512"})", R"({"sub":"u"})"), kNow).error, TokenError::kInvalid);
  EXPECT_EQ(v.Verify(Token(R"({"alg":"RS256"})", R"({"sub":"u"})"), kNow).error, TokenError::kInvalid);
  EXPECT_EQ(v.Verify(Token(R"({"typ":"JWT"})", R"({"sub":"u"})"), kNow).error, TokenError::kInvalid);
}

TEST(Jwt, RejectsGarbage) {
  JwtVerifier v(kSecret);
  EXPECT_EQ(v.Verify("", kNow).error, TokenError::kMissing);
  for (const char* t : {"abc", "a.b", "a.b.c.d", "!!.??.##", "e30.e30.", "...", "e30.e30.e30"}) {
    EXPECT_EQ(v.Verify(t, kNow).error, TokenError::kInvalid) << t;
  }
  EXPECT_EQ(v.Verify(std::string(9000, 'a'), kNow).error, TokenError::kInvalid);
  EXPECT_EQ(v.Verify(Token("[]", R"({"sub":"u"})"), kNow).error, TokenError::kInvalid);
  EXPECT_EQ(v.Verify(Token(R"({"alg":"HS256"})", "[1]"), kNow).error, TokenError::kInvalid);
  EXPECT_EQ(v.Verify(Token(R"({"alg":"HS256"})", R"({"sub":""})"), kNow).error, TokenError::kInvalid);
  EXPECT_EQ(v.Verify(Token(R"({"alg":"HS256"})", R"({"sub":42})"), kNow).error, TokenError::kInvalid);
}

TEST(Jwt, ErrorCodesForClients) {
  EXPECT_STREQ(ToCode(TokenError::kMissing), "token_missing");
  EXPECT_STREQ(ToCode(TokenError::kInvalid), "token_invalid");
  EXPECT_STREQ(ToCode(TokenError::kExpired), "token_expired");
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
}  // namespace fg::auth

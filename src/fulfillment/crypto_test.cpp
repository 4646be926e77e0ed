#include "fulfillment/crypto.hpp"
#include "fulfillment/policy.hpp"

#include "common/encoding.hpp"

#include <gtest/gtest.h>

namespace fg::fulfillment {
namespace {

const std::string kKey(32, '\x42');

TEST(KeyCipher, RoundTrip) {
  KeyCipher c(kKey);
  const auto sealed = c.Seal("AAAA-BBBB-CCCC", "o1:i1");
  EXPECT_EQ(sealed.find("AAAA"), std::string::npos) << "no plaintext in the blob";
  EXPECT_EQ(c.Open(sealed, "o1:i1"), std::string("AAAA-BBBB-CCCC"));
  EXPECT_NE(c.Seal("AAAA-BBBB-CCCC", "o1:i1"), sealed) << "fresh nonce per seal";
}

TEST(KeyCipher, DetectsTampering) {
  KeyCipher c(kKey);
  const auto sealed = c.Seal("secret-key", "o1:i1");
  for (std::size_t i = 4; i < sealed.size(); ++i) {  // nonce, ciphertext and tag bytes
    std::string t = sealed;
    t[i] = static_cast<char>(t[i] ^ 0x01);
    EXPECT_FALSE(c.Open(t, "o1:i1")) << "flipped byte " << i;
  }
  EXPECT_FALSE(c.Open(sealed, "o1:i2")) << "AAD binds the item";
  EXPECT_FALSE(c.Open(sealed, "o2:i1"));
  EXPECT_FALSE(c.Open(sealed.substr(0, 20), "o1:i1"));
  EXPECT_FALSE(c.Open("", "o1:i1"));
  EXPECT_FALSE(KeyCipher(std::string(32, '\x43')).Open(sealed, "o1:i1")) << "other master key";
}

TEST(KeyCipher, MasterKeyMustBe32Bytes) {
  EXPECT_THROW(KeyCipher(std::string(16, 'k')), std::invalid_argument);
  EXPECT_TRUE(ParseMasterKey(Base64Encode(kKey)));
  EXPECT_FALSE(ParseMasterKey(Base64Encode(std::string(31, 'k'))));
  EXPECT_FALSE(ParseMasterKey("not base64!"));
}

TEST(UrlSigner, ValidExpiredAndAltered) {
  UrlSigner s("url-secret");
  const std::string path = "/api/v1/keys/o1/i1";
  const std::int64_t exp = 1'000'000;
  const std::string sig = s.Signature(path, exp);
  EXPECT_EQ(s.Check(path, "1000000", sig, exp - 1), UrlCheck::kValid);
  EXPECT_EQ(s.Check(path, "1000000", sig, exp), UrlCheck::kValid);
  EXPECT_EQ(s.Check(path, "1000000", sig, exp + 1), UrlCheck::kExpired);
  EXPECT_EQ(s.Check("/api/v1/keys/o1/i2", "1000000", sig, 0), UrlCheck::kBadSignature);
  EXPECT_EQ(s.Check(path, "2000000", sig, 0), UrlCheck::kBadSignature) << "extending the expiry breaks the signature";
  std::string bad = sig;
  bad[0] = bad[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(s.Check(path, "1000000", bad, 0), UrlCheck::kBadSignature);
  EXPECT_EQ(s.Check(path, "", sig, 0), UrlCheck::kBadSignature);
  EXPECT_EQ(s.Check(path, "10x", sig, 0), UrlCheck::kBadSignature);
  EXPECT_EQ(UrlSigner("other").Check(path, "1000000", sig, 0), UrlCheck::kBadSignature);
  EXPECT_EQ(s.SignedPath(path, exp), path + "?expires=1000000&sig=" + sig);
}

}  // namespace
}  // namespace fg::fulfillment

// Key vault crypto and signed download URLs.
//
// Keys are sealed with AES-256-GCM (OpenSSL EVP): a random 96-bit nonce per key, a 128-bit tag,
// and AAD binding the ciphertext to "orderId:itemId" so a blob moved to another item fails to open.
// Sealed layout: "FGK1" | nonce(12) | ciphertext | tag(16).
// Signed URLs: sig = hex HMAC-SHA256(URL_SIGNING_SECRET, "<path>\n<expires>"), checked in constant
// time before the expiry (so an altered expiry is a bad signature, not an extension).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fg::fulfillment {

class KeyCipher {
 public:
  static constexpr std::size_t kKeySize = 32;
  // `master_key` must be 32 bytes; throws std::invalid_argument otherwise.
  explicit KeyCipher(std::string master_key);
  std::string Seal(std::string_view plaintext, std::string_view aad) const;
  // nullopt when the blob, its nonce, tag or AAD do not match: an integrity failure.
  std::optional<std::string> Open(std::string_view sealed, std::string_view aad) const;

 private:
  std::string key_;
};

// Base64 text → 32-byte key; nullopt when it does not decode to exactly 32 bytes.
std::optional<std::string> ParseMasterKey(std::string_view base64);

enum class UrlCheck { kValid, kBadSignature, kExpired };

class UrlSigner {
 public:
  explicit UrlSigner(std::string secret) : secret_(std::move(secret)) {}
  std::string Signature(std::string_view path, std::int64_t expires) const;
  // "<path>?expires=<unix>&sig=<hex>"
  std::string SignedPath(std::string_view path, std::int64_t expires) const;
  UrlCheck Check(std::string_view path, std::string_view expires, std::string_view sig, std::int64_t now) const;

 private:
  std::string secret_;
};

}  // namespace fg::fulfillment

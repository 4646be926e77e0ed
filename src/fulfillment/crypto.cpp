#include "fulfillment/crypto.hpp"

#include "common/encoding.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <memory>
#include <stdexcept>

namespace fg::fulfillment {
namespace {

constexpr std::string_view kMagic = "FGK1";
constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

KeyCipher::KeyCipher(std::string master_key) : key_(std::move(master_key)) {
  if (key_.size() != kKeySize) throw std::invalid_argument("KEY_ENCRYPTION_KEY must decode to 32 bytes");
}

std::string KeyCipher::Seal(std::string_view plaintext, std::string_view aad) const {
  std::string out(kMagic);
  out.resize(kMagic.size() + kNonce + plaintext.size() + kTag);
  auto* nonce = reinterpret_cast<unsigned char*>(out.data() + kMagic.size());
  if (RAND_bytes(nonce, kNonce) != 1) throw std::runtime_error("RAND_bytes failed");
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* ct = nonce + kNonce;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(key_), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct, &len, U(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, ct + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return out;
}

std::optional<std::string> KeyCipher::Open(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < kMagic.size() + kNonce + kTag || sealed.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  const auto* nonce = U(sealed) + kMagic.size();
  const std::size_t ct_len = sealed.size() - kMagic.size() - kNonce - kTag;
  const auto* ct = nonce + kNonce;
  std::string tag(sealed.substr(sealed.size() - kTag));
  std::string out(ct_len, '\0');
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* pt = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(key_), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), pt, &len, ct, static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), pt + len, &len) != 1) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> ParseMasterKey(std::string_view base64) {
  auto raw = Base64Decode(base64);
  if (!raw || raw->size() != KeyCipher::kKeySize) return std::nullopt;
  return raw;
}

std::string UrlSigner::Signature(std::string_view path, std::int64_t expires) const {
  return HexEncode(HmacSha256(secret_, std::string(path) + "\n" + std::to_string(expires)));
}

std::string UrlSigner::SignedPath(std::string_view path, std::int64_t expires) const {
  return std::string(path) + "?expires=" + std::to_string(expires) + "&sig=" + Signature(path, expires);
}

UrlCheck UrlSigner::Check(std::string_view path, std::string_view expires, std::string_view sig,
                          std::int64_t now) const {
  std::int64_t exp = 0;
  const auto r = std::from_chars(expires.data(), expires.data() + expires.size(), exp);
  if (expires.empty() || r.ec != std::errc() || r.ptr != expires.data() + expires.size())
    return UrlCheck::kBadSignature;
  if (!ConstantTimeEquals(Signature(path, exp), sig)) return UrlCheck::kBadSignature;
  return now > exp ? UrlCheck::kExpired : UrlCheck::kValid;
}

}  // namespace fg::fulfillment

// HS256 JSON Web Tokens (RFC 7519) for user authentication at Socket.IO CONNECT.
// Only "alg":"HS256" is accepted: "none" and every other algorithm are rejected before any
// signature work. exp/nbf are honoured when present, with a small leeway; a token without exp
// is accepted. Claims: sub (user id, required), email, role ("admin" makes an admin).
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace fg::auth {

// The token of an "Authorization: Bearer <token>" header (scheme case-insensitive, RFC 6750);
// empty when the header is not of that form.
std::string_view BearerToken(std::string_view authorization);

struct Principal {
  std::string user_id;
  std::string email;
  std::string role;
  bool admin = false;
  std::int64_t expires_at = 0;  // the token's exp (Unix seconds); 0: it never expires
};

enum class TokenError { kNone, kMissing, kInvalid, kExpired };
// The code sent to clients in CONNECT_ERROR data.code: token_missing | token_invalid | token_expired.
const char* ToCode(TokenError e);

struct VerifyResult {
  TokenError error = TokenError::kNone;
  std::string detail;  // for logs only, never sent to a client
  Principal principal;
};

class JwtVerifier {
 public:
  static constexpr std::size_t kMaxTokenLength = 8192;
  explicit JwtVerifier(std::string secret, std::chrono::seconds leeway = std::chrono::seconds(10))
      : secret_(std::move(secret)), leeway_(leeway) {}
  // Secret rotation: tokens signed with `previous` are accepted too until it is removed.
  JwtVerifier(std::string secret, std::string previous) : secret_(std::move(secret)), previous_(std::move(previous)) {}
  VerifyResult Verify(std::string_view token, std::int64_t now_unix) const;

 private:
  std::string secret_;
  std::string previous_;
  std::chrono::seconds leeway_{10};
};

// Signs claims with HS256: for tests, the demo and operators' tooling.
std::string SignHs256(const boost::json::object& claims, std::string_view secret);

}  // namespace fg::auth

#include "auth/jwt.hpp"

#include "common/encoding.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <cmath>

namespace fg::auth {

std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  }
  return authorization.substr(kScheme.size());
}

const char* ToCode(TokenError e) {
  switch (e) {
    case TokenError::kNone:
      return "ok";
    case TokenError::kMissing:
      return "token_missing";
    case TokenError::kInvalid:
      return "token_invalid";
    case TokenError::kExpired:
      return "token_expired";
  }
  return "token_invalid";
}

namespace {

VerifyResult Invalid(std::string detail) {
  return VerifyResult{TokenError::kInvalid, std::move(detail), {}};
}

// A NumericDate claim: a JSON number (integer or not). nullopt when absent; error when malformed.
bool ReadTime(const boost::json::object& o, std::string_view key, std::optional<double>& out) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  const auto& v = it->value();
  if (v.is_int64())
    out = static_cast<double>(v.as_int64());
  else if (v.is_uint64())
    out = static_cast<double>(v.as_uint64());
  else if (v.is_double() && std::isfinite(v.as_double()))
    out = v.as_double();
  else
    return false;
  return true;
}

}  // namespace

VerifyResult JwtVerifier::Verify(std::string_view token, std::int64_t now) const {
  if (token.empty()) return VerifyResult{TokenError::kMissing, "no token", {}};
  if (token.size() > kMaxTokenLength) return Invalid("token too long");
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Invalid("not three segments");
  }
  const auto header_json = Base64UrlDecode(token.substr(0, dot1));
  const auto payload_json = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!header_json || !payload_json || !signature) return Invalid("bad base64url");

  boost::system::error_code ec;
  auto header = boost::json::parse(*header_json, ec);
  if (ec || !header.is_object()) return Invalid("header is not a JSON object");
  const auto* alg = header.as_object().if_contains("alg");
  if (!alg || !alg->is_string() || alg->as_string() != "HS256") return Invalid("alg is not HS256");

  // During a rotation a token may be signed with the secret being retired.
  const std::string_view signed_part = token.substr(0, dot2);
  if (!ConstantTimeEquals(HmacSha256(secret_, signed_part), *signature) &&
      (previous_.empty() || !ConstantTimeEquals(HmacSha256(previous_, signed_part), *signature)))
    return Invalid("bad signature");

  auto payload = boost::json::parse(*payload_json, ec);
  if (ec || !payload.is_object()) return Invalid("payload is not a JSON object");
  const auto& claims = payload.as_object();

  std::optional<double> exp, nbf;
  if (!ReadTime(claims, "exp", exp) || !ReadTime(claims, "nbf", nbf)) return Invalid("exp/nbf not numeric");
  const double leeway = static_cast<double>(leeway_.count());
  if (exp && static_cast<double>(now) > *exp + leeway) return VerifyResult{TokenError::kExpired, "expired", {}};
  if (nbf && static_cast<double>(now) + leeway < *nbf) return Invalid("not yet valid");

  VerifyResult r;
  if (exp) r.principal.expires_at = static_cast<std::int64_t>(*exp);
  const auto* sub = claims.if_contains("sub");
  if (!sub || !sub->is_string() || sub->as_string().empty()) return Invalid("sub missing");
  r.principal.user_id = std::string(sub->as_string());
  if (const auto* email = claims.if_contains("email"); email && email->is_string()) {
    r.principal.email = std::string(email->as_string());
  }
  if (const auto* role = claims.if_contains("role"); role && role->is_string()) {
    r.principal.role = std::string(role->as_string());
  }
  r.principal.admin = r.principal.role == "admin";
  return r;
}

std::string SignHs256(const boost::json::object& claims, std::string_view secret) {
  const std::string signing_input =
      Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(boost::json::serialize(claims));
  return signing_input + "." + Base64UrlEncode(HmacSha256(secret, signing_input));
}

}  // namespace fg::auth

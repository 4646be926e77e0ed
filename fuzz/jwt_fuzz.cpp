// libFuzzer target: JWT verification on arbitrary tokens.
#include "auth/jwt.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fg::auth::JwtVerifier verifier("fuzz-secret");
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = verifier.Verify(in, 1'800'000'000);
  if (r.error == fg::auth::TokenError::kNone && r.principal.user_id.empty()) __builtin_trap();
  return 0;
}

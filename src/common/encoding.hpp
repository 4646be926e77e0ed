// Byte encodings and secrets helpers shared by every layer: base64 (standard and URL-safe),
// hex, cryptographically random identifiers and constant-time comparison.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fg {

std::string Base64Encode(std::string_view bytes);
// Accepts padded or unpadded input; nullopt on any character outside the alphabet.
std::optional<std::string> Base64Decode(std::string_view text);
std::string Base64UrlEncode(std::string_view bytes);  // no padding (RFC 7515 style)
// Canonical only (JWT segments): no padding, zero trailing bits; nullopt otherwise.
std::optional<std::string> Base64UrlDecode(std::string_view text);
std::string HexEncode(std::string_view bytes);

// `bytes` bytes from OpenSSL's CSPRNG, base64url-encoded. Used for Engine.IO sids and socket ids.
std::string RandomId(std::size_t bytes = 15);

// Compares without an early exit, so timing does not leak the common prefix length.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

std::string HmacSha256(std::string_view key, std::string_view data);
std::string Sha256(std::string_view data);  // raw 32 bytes

// True when `s` is exactly `digits` hexadecimal digits (either case).
bool IsHexDigest(std::string_view s, std::size_t digits);

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no
// surrogates, at most U+10FFFF), or 0 when none starts there. The one UTF-8 rule of the project.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i);
// Strict UTF-8 throughout, as RFC 6455 requires of WebSocket text.
bool ValidUtf8(std::string_view s);

// At most `max` bytes of `s` with every byte outside printable ASCII replaced by '?': a sample of
// untrusted input that is safe to store, log and show.
std::string PrintablePrefix(std::string_view s, std::size_t max);

}  // namespace fg

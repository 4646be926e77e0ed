// JavaScript-compatible canonical JSON, for payment-provider signatures.
//
// NOWPayments signs `JSON.stringify(sortObject(body))`: keys sorted recursively, numbers in JS's
// shortest round-trip form (50.0 → 50, 1e21 → 1e+21, 1e-7 → 1e-7, 0.000001 → 0.000001), strings
// escaped as JS does (non-ASCII kept as UTF-8, "/" not escaped, lone surrogates as \udxxx).
// Generic serializers differ (Boost.JSON 1.81 prints 5E1 and parses doubles imprecisely), so this
// is a small parser + printer of its own. Bounded: depth ≤ 64, input size is the caller's bound.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fg::fulfillment {

// One top-level member of a parsed body: a string's decoded text, and every value's raw text as
// sent (an amount keeps the provider's exact digits).
struct JsonField {
  bool is_string = false;
  std::string text;  // decoded, when is_string
  std::string raw;   // the value's JSON text
};

// A webhook body parsed once: its canonical form (what the provider signed; empty unless asked
// for) and its top-level members (the last of duplicate keys, as JSON.parse keeps).
struct ParsedBody {
  std::string canonical;
  bool is_object = false;
  std::vector<std::pair<std::string, JsonField>> fields;

  const JsonField* Find(std::string_view key) const;
  // A string member's text, an integer member's digits, else empty (an identifier's forms).
  std::string Text(std::string_view key) const;
};
// nullopt if `json` is not valid JSON (or exceeds the depth and value bounds).
std::optional<ParsedBody> ParseBody(std::string_view json, bool canonical);

// The canonical (sorted-keys, JS-formatted) serialization of `json`, or nullopt if it is not valid JSON.
std::optional<std::string> CanonicalJson(std::string_view json);

// JavaScript's Number.prototype.toString() for a finite double.
std::string JsNumber(double d);

// Hex HMAC-SHA512 of the canonical form, keyed with `secret`; nullopt if `body` is not JSON.
std::optional<std::string> NowPaymentsSignature(std::string_view body, std::string_view secret);
// Hex HMAC-SHA512 of an already canonical text.
std::string NowPaymentsSignatureOf(std::string_view canonical, std::string_view secret);
// Constant-time, case-insensitive comparison of a hex signature header with the expected one.
bool SignatureMatches(std::string_view expected_hex, std::string_view signature_hex);
// Constant-time check of the x-nowpayments-sig header.
bool VerifyNowPaymentsSignature(std::string_view body, std::string_view signature_hex, std::string_view secret);

}  // namespace fg::fulfillment

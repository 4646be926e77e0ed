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

namespace fg::fulfillment {

// The canonical (sorted-keys, JS-formatted) serialization of `json`, or nullopt if it is not valid JSON.
std::optional<std::string> CanonicalJson(std::string_view json);

// JavaScript's Number.prototype.toString() for a finite double.
std::string JsNumber(double d);

// Hex HMAC-SHA512 of the canonical form, keyed with `secret`; nullopt if `body` is not JSON.
std::optional<std::string> NowPaymentsSignature(std::string_view body, std::string_view secret);
// Constant-time check of the x-nowpayments-sig header.
bool VerifyNowPaymentsSignature(std::string_view body, std::string_view signature_hex, std::string_view secret);

}  // namespace fg::fulfillment

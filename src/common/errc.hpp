// The one error vocabulary of the gateway: every failure a caller can see, whichever layer finds
// it (store, fulfillment, HTTP API, Socket.IO handlers), as an `errc` in a std::error_category.
// `WireCode` is the stable string clients get ("error" in HTTP bodies and Socket.IO acks); the
// HTTP status of each lives in one table in http_api (HttpStatus), nowhere else.
#pragma once

#include <string_view>
#include <system_error>

namespace fg {

enum class errc {
  ok = 0,
  // the request itself
  malformed_json,
  invalid_body,
  invalid_query,
  invalid_state,
  invalid_order_id,
  missing_order_id,
  unknown_event,
  payload_too_large,
  body_too_large,
  invalid_argument,  // a Socket.IO event's arguments ("invalid")
  method_not_allowed,
  // who is asking
  unauthorized,
  forbidden,
  invalid_signature,       // a webhook's signature
  invalid_secret,          // a webhook's shared secret
  invalid_link_signature,  // a key link's signature
  // what is asked for
  not_found,
  order_not_found,
  link_expired,
  not_failed,
  not_retryable,
  payment_not_completed,
  too_many_subscriptions,
  // load and faults
  rate_limited,
  not_configured,
  store_unavailable,
  draining,
  integrity_error,
  internal,
};

const std::error_category& error_category();
std::error_code make_error_code(errc e);
// The stable code clients see, e.g. "not_found".
std::string_view WireCode(errc e);

}  // namespace fg

template <>
struct std::is_error_code_enum<fg::errc> : std::true_type {};

#include "common/errc.hpp"

#include <string>

namespace fg {
namespace {

class Category : public std::error_category {
 public:
  const char* name() const noexcept override { return "fulfillment-gateway"; }
  std::string message(int value) const override { return std::string(WireCode(static_cast<errc>(value))); }
};

}  // namespace

const std::error_category& error_category() {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc e) {
  return {static_cast<int>(e), error_category()};
}

std::string_view WireCode(errc e) {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::malformed_json:
      return "malformed_json";
    case errc::invalid_body:
      return "invalid_body";
    case errc::invalid_query:
      return "invalid_query";
    case errc::invalid_state:
      return "invalid_state";
    case errc::invalid_order_id:
      return "invalid_order_id";
    case errc::missing_order_id:
      return "missing_order_id";
    case errc::unknown_event:
      return "unknown_event";
    case errc::payload_too_large:
      return "payload_too_large";
    case errc::body_too_large:
      return "body_too_large";
    case errc::invalid_argument:
      return "invalid";
    case errc::method_not_allowed:
      return "method_not_allowed";
    case errc::unauthorized:
      return "unauthorized";
    case errc::forbidden:
      return "forbidden";
    case errc::invalid_signature:
      return "invalid_signature";
    case errc::invalid_secret:
      return "invalid_secret";
    case errc::invalid_link_signature:
      return "invalid_signature";
    case errc::not_found:
      return "not_found";
    case errc::order_not_found:
      return "order_not_found";
    case errc::link_expired:
      return "link_expired";
    case errc::not_failed:
      return "not_failed";
    case errc::not_retryable:
      return "not_retryable";
    case errc::payment_not_completed:
      return "payment_not_completed";
    case errc::too_many_subscriptions:
      return "too_many_subscriptions";
    case errc::rate_limited:
      return "rate_limited";
    case errc::not_configured:
      return "not_configured";
    case errc::store_unavailable:
      return "store_unavailable";
    case errc::draining:
      return "draining";
    case errc::integrity_error:
      return "integrity_error";
    case errc::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace fg

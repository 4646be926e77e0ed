#include "http_api/publish.hpp"

#include "common/clock.hpp"
#include "common/json_text.hpp"

#include <boost/json.hpp>

namespace fg::http_api {

namespace json = boost::json;

int HttpStatus(errc e) {
  switch (e) {
    case errc::ok:
      return 200;
    case errc::malformed_json:
    case errc::invalid_body:
    case errc::invalid_query:
    case errc::invalid_state:
    case errc::invalid_order_id:
    case errc::missing_order_id:
    case errc::unknown_event:
    case errc::payload_too_large:
    case errc::invalid_argument:
      return 400;
    case errc::unauthorized:
    case errc::invalid_signature:
    case errc::invalid_secret:
      return 401;
    case errc::forbidden:
    case errc::invalid_link_signature:
      return 403;
    case errc::not_found:
    case errc::order_not_found:
      return 404;
    case errc::method_not_allowed:
      return 405;
    case errc::not_failed:
    case errc::not_retryable:
    case errc::payment_not_completed:
      return 409;
    case errc::link_expired:
      return 410;
    case errc::body_too_large:
      return 413;
    case errc::too_many_subscriptions:
    case errc::rate_limited:
      return 429;
    case errc::integrity_error:
    case errc::internal:
      return 500;
    case errc::not_configured:
    case errc::store_unavailable:
    case errc::draining:
      return 503;
  }
  return 500;
}

namespace {

// Validates one parsed {event, data} object; `raw` is its text, from which data's bytes are kept
// as they were sent.
std::optional<errc> FromValue(const json::value& v, std::string_view raw, std::size_t max_order_id, PublishRequest& out,
                              std::string& message, bool admins_only = false) {
  if (!v.is_object()) {
    message = "body must be a JSON object {\"event\": ..., \"data\": {...}}";
    return errc::invalid_body;
  }
  const auto& o = v.as_object();
  const auto* event = o.if_contains("event");
  if (!event || !event->is_string()) {
    message = "\"event\" must be a string";
    return errc::unknown_event;
  }
  auto audience = gateway::AudienceOf(event->as_string());
  if (audience && admins_only) audience = gateway::Audience::kAdminsOnly;
  if (!audience) {
    message = "unknown event '" + std::string(event->as_string()) + "'";
    return errc::unknown_event;
  }
  const auto* data = o.if_contains("data");
  if (!data || !data->is_object()) {
    message = "\"data\" must be a JSON object";
    return errc::invalid_body;
  }
  const auto* order_id = data->as_object().if_contains("orderId");
  if (order_id && order_id->is_string() && !order_id->as_string().empty()) {
    if (order_id->as_string().size() > max_order_id) {
      message = "data.orderId is too long";
      return errc::invalid_order_id;
    }
    out.order_id = std::string(order_id->as_string());
  } else if (*audience == gateway::Audience::kOrderAndAdmins) {
    message = "data.orderId must be a non-empty string for " + std::string(event->as_string());
    return errc::missing_order_id;
  }
  out.event = std::string(event->as_string());
  out.audience = *audience;
  const auto data_text = json_text::FindMember(raw, "data");
  if (!data_text) {
    message = "\"data\" could not be located";
    return errc::invalid_body;
  }
  out.data_json =
      data->as_object().contains("timestamp")
          ? std::string(*data_text)
          : json_text::AppendMember(*data_text, "timestamp", json::serialize(json::string_view(IsoTimestamp())));
  return std::nullopt;
}

std::optional<errc> ParseJson(std::string_view body, json::value& out, std::string& message) {
  boost::system::error_code ec;
  out = json::parse(body, ec);
  if (!ec) return std::nullopt;
  message = "body is not valid JSON: " + ec.message();
  return errc::malformed_json;
}

}  // namespace

// The body is parsed once into a tree (validation, fields); its raw text is only scanned to find
// where each "data" member starts and ends, so the payload goes out byte-for-byte as published.
std::optional<errc> ParsePublish(std::string_view body, std::size_t max_order_id, PublishRequest& out,
                                 std::string& message, bool admins_only) {
  json::value v;
  if (auto err = ParseJson(body, v, message)) return err;
  return FromValue(v, body, max_order_id, out, message, admins_only);
}

std::optional<errc> ParsePublishBatch(std::string_view body, std::size_t max_order_id, std::vector<PublishRequest>& out,
                                      std::string& message) {
  json::value v;
  if (auto err = ParseJson(body, v, message)) return err;
  const auto elements = v.is_array() ? json_text::ArrayElements(body) : std::nullopt;
  if (!elements || elements->empty() || elements->size() > kMaxBatch || elements->size() != v.as_array().size()) {
    message = "a batch is an array of 1-" + std::to_string(kMaxBatch) + " {event, data} objects";
    return errc::invalid_body;
  }
  out.clear();
  out.reserve(elements->size());
  for (std::size_t i = 0; i < elements->size(); ++i) {
    PublishRequest p;
    if (auto err = FromValue(v.as_array()[i], (*elements)[i], max_order_id, p, message)) {
      message = "element " + std::to_string(i) + ": " + message;
      return err;
    }
    out.push_back(std::move(p));
  }
  return std::nullopt;
}

}  // namespace fg::http_api

#include "http_api/publish.hpp"

#include "common/clock.hpp"
#include "common/json_text.hpp"

#include <boost/json.hpp>

namespace fg::http_api {

namespace json = boost::json;

ErrorInfo Describe(Errc e) {
  switch (e) {
    case Errc::kUnauthorized: return {401, "unauthorized"};
    case Errc::kForbidden: return {403, "forbidden"};
    case Errc::kNotFound: return {404, "not_found"};
    case Errc::kMethodNotAllowed: return {405, "method_not_allowed"};
    case Errc::kMalformedJson: return {400, "malformed_json"};
    case Errc::kInvalidBody: return {400, "invalid_body"};
    case Errc::kUnknownEvent: return {400, "unknown_event"};
    case Errc::kMissingOrderId: return {400, "missing_order_id"};
    case Errc::kInvalidOrderId: return {400, "invalid_order_id"};
    case Errc::kPayloadTooLarge: return {400, "payload_too_large"};
    case Errc::kStoreUnavailable: return {503, "store_unavailable"};
    case Errc::kBodyTooLarge: return {413, "body_too_large"};
    case Errc::kInvalidQuery: return {400, "invalid_query"};
    case Errc::kTooManyRequests: return {429, "rate_limited"};
  }
  return {500, "internal"};
}

std::optional<Errc> ParsePublish(std::string_view body, std::size_t max_order_id, PublishRequest& out, std::string& message) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) {
    message = "body is not valid JSON: " + ec.message();
    return Errc::kMalformedJson;
  }
  if (!v.is_object()) {
    message = "body must be a JSON object {\"event\": ..., \"data\": {...}}";
    return Errc::kInvalidBody;
  }
  const auto& o = v.as_object();
  const auto* event = o.if_contains("event");
  if (!event || !event->is_string()) {
    message = "\"event\" must be a string";
    return Errc::kUnknownEvent;
  }
  const auto audience = gateway::AudienceOf(event->as_string());
  if (!audience) {
    message = "unknown event '" + std::string(event->as_string()) + "'";
    return Errc::kUnknownEvent;
  }
  const auto* data = o.if_contains("data");
  if (!data || !data->is_object()) {
    message = "\"data\" must be a JSON object";
    return Errc::kInvalidBody;
  }
  const auto* order_id = data->as_object().if_contains("orderId");
  if (order_id && order_id->is_string() && !order_id->as_string().empty()) {
    if (order_id->as_string().size() > max_order_id) {
      message = "data.orderId is too long";
      return Errc::kInvalidOrderId;
    }
    out.order_id = std::string(order_id->as_string());
  } else if (*audience == gateway::Audience::kOrderAndAdmins) {
    message = "data.orderId must be a non-empty string for " + std::string(event->as_string());
    return Errc::kMissingOrderId;
  }
  out.event = std::string(event->as_string());
  out.audience = *audience;
  const auto raw = json_text::FindMember(body, "data");
  if (!raw) {
    message = "\"data\" could not be located";
    return Errc::kInvalidBody;
  }
  out.data_json = data->as_object().contains("timestamp")
                      ? std::string(*raw)
                      : json_text::AppendMember(*raw, "timestamp", json_text::Quote(IsoTimestamp()));
  return std::nullopt;
}

std::optional<Errc> ParsePublishBatch(std::string_view body, std::size_t max_order_id, std::vector<PublishRequest>& out,
                                      std::string& message) {
  boost::system::error_code ec;
  json::parse(body, ec);
  if (ec) {
    message = "body is not valid JSON: " + ec.message();
    return Errc::kMalformedJson;
  }
  auto elements = json_text::ArrayElements(body);
  if (!elements || elements->empty() || elements->size() > kMaxBatch) {
    message = "a batch is an array of 1-" + std::to_string(kMaxBatch) + " {event, data} objects";
    return Errc::kInvalidBody;
  }
  out.clear();
  out.reserve(elements->size());
  for (std::size_t i = 0; i < elements->size(); ++i) {
    PublishRequest p;
    if (auto err = ParsePublish((*elements)[i], max_order_id, p, message)) {
      message = "element " + std::to_string(i) + ": " + message;
      return err;
    }
    out.push_back(std::move(p));
  }
  return std::nullopt;
}

}  // namespace fg::http_api

// Publish-request validation and the API's error vocabulary. Pure (no sockets): fuzzed by
// fuzz/json_text_fuzz.cpp.
#pragma once

#include "common/errc.hpp"

#include "gateway/events.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fg::http_api {

// The one errc → HTTP status table (common/errc.hpp has the vocabulary and the wire codes).
int HttpStatus(errc e);

// What a validated publish request carries.
struct PublishRequest {
  std::string event;
  gateway::Audience audience;
  std::string order_id;   // empty for admin events without one
  std::string data_json;  // original text, with "timestamp" appended when absent
};
// Parses and validates a POST /api/v1/events body; on failure returns the error and sets `message`.
// `admins_only`: the event goes to admins only, whatever its name says (no orderId needed).
std::optional<errc> ParsePublish(std::string_view body, std::size_t max_order_id, PublishRequest& out,
                                 std::string& message, bool admins_only = false);

// The batch form: a JSON array of {event, data} (1..kMaxBatch). All or nothing: the first invalid
// element fails the request, naming its index.
inline constexpr std::size_t kMaxBatch = 1000;
std::optional<errc> ParsePublishBatch(std::string_view body, std::size_t max_order_id, std::vector<PublishRequest>& out,
                                      std::string& message);

}  // namespace fg::http_api

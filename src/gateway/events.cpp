#include "gateway/events.hpp"

#include "socketio/packet.hpp"

#include <charconv>

namespace fg::gateway {

std::string EncodeEventMessage(std::string_view event, std::string_view data_json, std::int64_t offset) {
  if (offset <= 0) return socketio::EncodeEvent(kNamespace, event, data_json);
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, offset).ptr;
  return socketio::EncodeEvent(kNamespace, event, data_json, std::string_view(digits, end - digits));
}

}  // namespace fg::gateway

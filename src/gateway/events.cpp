#include "gateway/events.hpp"

#include "socketio/packet.hpp"

namespace fg::gateway {

std::string EncodeEventMessage(std::string_view event, std::string_view data_json) {
  return socketio::EncodeEvent(kNamespace, event, data_json);
}

}  // namespace fg::gateway

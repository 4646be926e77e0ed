// The gateway's use of the event vocabulary (events/events.hpp): the wire frame every recipient of
// a published event gets. Pure: used by the router, the publish API and the fuzz targets.
#pragma once

#include <cstdint>

#include "events/events.hpp"

#include <string>
#include <string_view>

namespace fg::gateway {

using events::Audience;
using events::AudienceOf;
using events::kNamespace;

// `42/fulfillment,["<event>",<data_json>,"<offset>"]`, encoded by Socket.IO once for every
// recipient; `offset` is the event's position in the delivery log (0: none, no last argument).
std::string EncodeEventMessage(std::string_view event, std::string_view data_json, std::int64_t offset = 0);

}  // namespace fg::gateway

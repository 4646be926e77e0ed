// The server → client event vocabulary and its wire frame. Pure: used by the router, the
// publish API and the fuzz targets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fg::gateway {

inline constexpr std::string_view kNamespace = "/fulfillment";

enum class Audience { kOrderAndAdmins, kAdminsOnly };

// The six server → client events and who may see them; nullopt for any other name.
std::optional<Audience> AudienceOf(std::string_view event);

// `42/fulfillment,["<event>",<data_json>]` — the Engine.IO frame every recipient gets.
std::string EncodeEventFrame(std::string_view event, std::string_view data_json);

}  // namespace fg::gateway

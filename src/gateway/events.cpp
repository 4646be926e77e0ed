#include "gateway/events.hpp"

#include "common/json_text.hpp"

namespace fg::gateway {

std::optional<Audience> AudienceOf(std::string_view event) {
  if (event == "fulfillment:status-change" || event == "payment:confirmed" || event == "fulfillment:key-delivered" ||
      event == "fulfillment:error") {
    return Audience::kOrderAndAdmins;
  }
  if (event == "admin:job-queue-event" || event == "admin:webhook-received") return Audience::kAdminsOnly;
  return std::nullopt;
}

std::string EncodeEventFrame(std::string_view event, std::string_view data_json) {
  std::string frame;
  frame.reserve(event.size() + data_json.size() + 24);
  frame += "42";
  frame += kNamespace;
  frame += ",[";
  frame += json_text::Quote(event);
  frame += ',';
  frame += data_json;
  frame += ']';
  return frame;
}

}  // namespace fg::gateway

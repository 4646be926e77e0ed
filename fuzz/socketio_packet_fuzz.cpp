// libFuzzer target: Socket.IO packets (what follows the Engine.IO "4").
#include "socketio/packet.hpp"

#include <boost/json/serialize.hpp>

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = fg::socketio::Decode(in);
  if (r.error == fg::socketio::DecodeError::kNone) {
    const auto& p = r.packet;
    const std::string frame = fg::socketio::EncodePacketText(
        p.type, p.nsp, p.id, p.attachments, p.has_payload ? boost::json::serialize(p.payload) : std::string());
    auto again = fg::socketio::Decode(std::string_view(frame).substr(1));
    if (again.error != fg::socketio::DecodeError::kNone || again.packet.nsp != p.nsp || again.packet.id != p.id)
      __builtin_trap();
  }
  return 0;
}

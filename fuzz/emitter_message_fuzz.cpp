// libFuzzer target: @socket.io/redis-emitter messages (MessagePack) as the emitter lease holder
// decodes them. Whatever decodes to an event carries JSON that parses, for an audience and order
// the rooms allow; MessagePack that converts converts to JSON that serializes and parses again.
#include "http_api/emitter.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (const auto v = fg::http_api::MsgpackToJson(in, error)) {
    boost::system::error_code ec;
    (void)boost::json::parse(boost::json::serialize(*v), ec);
    if (ec) __builtin_trap();
  }
  for (const char* channel : {"socket.io#/fulfillment#", "socket.io-request#/fulfillment#"}) {
    const auto m = fg::http_api::DecodeEmitter(channel, in, 128);
    if (m.kind == fg::http_api::EmitterMessage::Kind::kEvent) {
      boost::system::error_code ec;
      const auto d = boost::json::parse(m.event.data_json, ec);
      if (ec || !d.is_object() || m.event.event.empty()) __builtin_trap();
    } else if (m.error.empty()) {
      __builtin_trap();
    }
  }
  return 0;
}

// libFuzzer target: Engine.IO polling payloads and single packets.
#include "engineio/packet.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<fg::engineio::Packet> out;
  if (fg::engineio::DecodePayload(in, out, 64) == fg::engineio::PayloadError::kNone) {
    std::string again;
    for (const auto& p : out) fg::engineio::AppendToPayload(again, fg::engineio::EncodePacket(p), p.binary);
    std::vector<fg::engineio::Packet> round;
    if (fg::engineio::DecodePayload(again, round, 64) != fg::engineio::PayloadError::kNone || round != out)
      __builtin_trap();
  }
  (void)fg::engineio::DecodePacket(in, false);
  return 0;
}

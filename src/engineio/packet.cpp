#include "engineio/packet.hpp"

#include "common/encoding.hpp"

namespace fg::engineio {

std::optional<Packet> DecodePacket(std::string_view frame, bool binary) {
  if (binary) return Packet{PacketType::kMessage, std::string(frame), true};
  if (frame.empty() || frame[0] < '0' || frame[0] > '6') return std::nullopt;
  return Packet{static_cast<PacketType>(frame[0]), std::string(frame.substr(1)), false};
}

std::optional<Packet> DecodeOwnedPacket(std::string&& frame, bool binary) {
  if (binary) return Packet{PacketType::kMessage, std::move(frame), true};
  if (frame.empty() || frame[0] < '0' || frame[0] > '6') return std::nullopt;
  const auto type = static_cast<PacketType>(frame[0]);
  frame.erase(0, 1);  // in place: a move of the bytes, no allocation
  return Packet{type, std::move(frame), false};
}

PayloadError DecodePayload(std::string_view body, std::vector<Packet>& out, std::size_t max_packets) {
  if (body.empty()) return PayloadError::kEmpty;
  std::size_t start = 0;
  while (true) {
    if (out.size() >= max_packets) return PayloadError::kTooManyPackets;
    const std::size_t end = body.find(kRecordSeparator, start);
    const std::string_view item = body.substr(start, end == std::string_view::npos ? end : end - start);
    if (!item.empty() && item[0] == 'b') {
      auto bytes = Base64Decode(item.substr(1));
      if (!bytes) return PayloadError::kBadPacket;
      out.push_back(Packet{PacketType::kMessage, std::move(*bytes), true});
    } else {
      auto p = DecodePacket(item, false);
      if (!p) return PayloadError::kBadPacket;
      out.push_back(std::move(*p));
    }
    if (end == std::string_view::npos) return PayloadError::kNone;
    start = end + 1;
  }
}

std::string EncodePacket(const Packet& p) {
  if (p.binary) return p.data;
  std::string out;
  out.reserve(p.data.size() + 1);
  out += static_cast<char>(p.type);
  out += p.data;
  return out;
}

void AppendToPayload(std::string& payload, std::string_view frame, bool binary) {
  if (!payload.empty()) payload += kRecordSeparator;
  if (binary) {
    payload += 'b';
    payload += Base64Encode(frame);
  } else {
    payload.append(frame);
  }
}

}  // namespace fg::engineio

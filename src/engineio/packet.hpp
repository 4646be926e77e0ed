// Engine.IO v4 packet and payload codec. Pure: no sockets, no allocation beyond the output.
//   packet (text)   = <type digit 0-6><data>
//   packet (binary) = a binary WebSocket frame, or "b<base64>" inside a polling payload
//   payload         = packet *( "\x1e" packet )          (HTTP long-polling bodies)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fg::engineio {

enum class PacketType : char {
  kOpen = '0',
  kClose = '1',
  kPing = '2',
  kPong = '3',
  kMessage = '4',
  kUpgrade = '5',
  kNoop = '6',
};

struct Packet {
  PacketType type = PacketType::kMessage;
  std::string data;
  bool binary = false;  // only for kMessage
  bool operator==(const Packet&) const = default;
};

inline constexpr char kRecordSeparator = '\x1e';

// A text frame ("4hello") or, with binary = true, raw bytes (always a binary message).
std::optional<Packet> DecodePacket(std::string_view frame, bool binary);
// The same, taking the frame's buffer: the packet's data reuses it (no copy of the message).
std::optional<Packet> DecodeOwnedPacket(std::string&& frame, bool binary);

enum class PayloadError { kNone, kEmpty, kBadPacket, kTooManyPackets };
// Splits a polling body. On error `out` holds the packets decoded before the bad one.
PayloadError DecodePayload(std::string_view body, std::vector<Packet>& out, std::size_t max_packets = 1024);

// Encoded form of one packet for a WebSocket frame (binary: the raw bytes).
std::string EncodePacket(const Packet& p);
// Appends one already-encoded frame to a polling payload under construction.
void AppendToPayload(std::string& payload, std::string_view frame, bool binary);

}  // namespace fg::engineio

// Socket.IO v5 packet codec. Pure and bounded; the fuzz target fuzz/socketio_packet_fuzz.cpp feeds it.
//   <type 0-6>[<attachments>-][<nsp>,][<ack id>][<JSON payload>]
// Payload rules (as the reference parser): CONNECT: absent or object; DISCONNECT: absent;
// CONNECT_ERROR: object or string; EVENT: non-empty array starting with a string; ACK: array.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fg::socketio {

enum class PacketType : int {
  kConnect = 0,
  kDisconnect = 1,
  kEvent = 2,
  kAck = 3,
  kConnectError = 4,
  kBinaryEvent = 5,
  kBinaryAck = 6,
};

struct Packet {
  PacketType type = PacketType::kEvent;
  std::string nsp = "/";
  std::optional<std::uint64_t> id;
  std::size_t attachments = 0;
  boost::json::value payload;  // null when absent
  bool has_payload = false;
};

enum class DecodeError { kNone, kEmpty, kBadType, kBadAttachments, kBadNamespace, kBadId, kBadJson, kBadPayload };
const char* ToString(DecodeError e);

struct DecodeResult {
  DecodeError error = DecodeError::kNone;
  Packet packet;
};

struct DecodeLimits {
  std::size_t max_attachments = 16;
  std::size_t max_namespace_length = 128;
};

DecodeResult Decode(std::string_view text, const DecodeLimits& limits = {});

// The whole Engine.IO message ("4" prefix included) carrying a Socket.IO packet whose payload is
// already serialized JSON text (may be empty).
std::string EncodePacketText(PacketType type, std::string_view nsp, std::optional<std::uint64_t> id,
                             std::size_t attachments, std::string_view payload_json);

// The whole Engine.IO message of an EVENT packet `["<event>",<arg_json>]` on `nsp`, built in one
// pass (a broadcast is encoded once; its argument is already JSON text).
// With `offset` (Socket.IO connection state recovery), it is appended as one last string
// argument: `["<event>",<arg_json>,"<offset>"]`; the stock client stores it and strips it.
std::string EncodeEvent(std::string_view nsp, std::string_view event, std::string_view arg_json,
                        std::string_view offset = {});

}  // namespace fg::socketio

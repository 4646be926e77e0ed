// RFC 6455 framing, pure and bounded (fuzzed by fuzz/ws_frame_fuzz.cpp). The server side only:
// client frames must be masked, server frames are not; no extensions are negotiated, so the RSV
// bits must be zero.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace fg::net::ws {

enum Opcode : std::uint8_t { kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA };

enum CloseCode : std::uint16_t {
  kNormal = 1000,
  kGoingAway = 1001,
  kProtocolError = 1002,
  kInvalidPayload = 1007,
  kPolicyViolation = 1008,
  kTooBig = 1009,
};

struct FrameHeader {
  bool fin = false;
  std::uint8_t opcode = 0;
  bool masked = false;
  std::uint64_t length = 0;
  std::array<std::uint8_t, 4> mask{};
  std::size_t header_size = 0;
};

enum class Parse { kOk, kNeedMore, kProtocolError };
// Parses the header at the start of `in`. kProtocolError for RSV bits, an unmasked client frame,
// a reserved opcode, a fragmented or oversized (>125) control frame, or a non-minimal length.
Parse ParseHeader(std::string_view in, FrameHeader& out);

// Writes a server (unmasked) frame header into `out`; returns its size (2, 4 or 10).
std::size_t EncodeHeader(std::array<char, 10>& out, bool fin, std::uint8_t opcode, std::uint64_t length);
// The size EncodeHeader gives for a payload of `length` bytes.
constexpr std::size_t HeaderSize(std::uint64_t length) {
  return length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
}

// XORs `data` with the mask; `offset` is the position of data[0] within the payload.
void Unmask(char* data, std::size_t n, const std::array<std::uint8_t, 4>& mask, std::size_t offset);

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string AcceptKey(std::string_view client_key);

}  // namespace fg::net::ws

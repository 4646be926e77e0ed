#include "net/ws_frame.hpp"

#include "common/encoding.hpp"

#include <openssl/sha.h>

namespace fg::net::ws {

Parse ParseHeader(std::string_view in, FrameHeader& h) {
  if (in.size() < 2) return Parse::kNeedMore;
  const auto b0 = static_cast<std::uint8_t>(in[0]);
  const auto b1 = static_cast<std::uint8_t>(in[1]);
  h.fin = (b0 & 0x80) != 0;
  if (b0 & 0x70) return Parse::kProtocolError;  // RSV1-3: no extension negotiated
  h.opcode = b0 & 0x0F;
  const bool control = (h.opcode & 0x08) != 0;
  if (h.opcode != kContinuation && h.opcode != kText && h.opcode != kBinary && h.opcode != kClose &&
      h.opcode != kPing && h.opcode != kPong) {
    return Parse::kProtocolError;
  }
  h.masked = (b1 & 0x80) != 0;
  if (!h.masked) return Parse::kProtocolError;  // clients must mask
  std::uint64_t len = b1 & 0x7F;
  std::size_t pos = 2;
  if (len == 126) {
    if (in.size() < 4) return Parse::kNeedMore;
    len = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(in[2])) << 8) | static_cast<std::uint8_t>(in[3]);
    if (len < 126) return Parse::kProtocolError;
    pos = 4;
  } else if (len == 127) {
    if (in.size() < 10) return Parse::kNeedMore;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<std::uint8_t>(in[2 + static_cast<std::size_t>(i)]);
    if (len < 65536 || (len >> 63) != 0) return Parse::kProtocolError;
    pos = 10;
  }
  if (control && (!h.fin || len > 125)) return Parse::kProtocolError;
  if (in.size() < pos + 4) return Parse::kNeedMore;
  for (std::size_t i = 0; i < 4; ++i) h.mask[i] = static_cast<std::uint8_t>(in[pos + i]);
  h.length = len;
  h.header_size = pos + 4;
  return Parse::kOk;
}

std::size_t EncodeHeader(std::array<char, 10>& out, bool fin, std::uint8_t opcode, std::uint64_t length) {
  out[0] = static_cast<char>((fin ? 0x80 : 0) | (opcode & 0x0F));
  if (length < 126) {
    out[1] = static_cast<char>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<char>((length >> 8) & 0xFF);
    out[3] = static_cast<char>(length & 0xFF);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + static_cast<std::size_t>(i)] = static_cast<char>((length >> (56 - 8 * i)) & 0xFF);
  return 10;
}

void Unmask(char* data, std::size_t n, const std::array<std::uint8_t, 4>& mask, std::size_t offset) {
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>(data[i] ^ static_cast<char>(mask[(offset + i) & 3]));
}

std::string AcceptKey(std::string_view client_key) {
  const std::string input = std::string(client_key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace fg::net::ws

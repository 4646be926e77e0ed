#include "net/ws_frame.hpp"

#include <gtest/gtest.h>

namespace fg::net::ws {
namespace {

std::string ClientFrame(bool fin, std::uint8_t opcode, std::string payload,
                        std::array<std::uint8_t, 4> mask = {1, 2, 3, 4}) {
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0) | opcode);
  if (payload.size() < 126) {
    out += static_cast<char>(0x80 | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((payload.size() >> (8 * i)) & 0xFF);
  }
  for (auto m : mask) out += static_cast<char>(m);
  Unmask(payload.data(), payload.size(), mask, 0);  // masking is its own inverse
  return out + payload;
}

TEST(WsFrame, ParsesMaskedFramesOfEveryLengthForm) {
  for (std::size_t len : {0u, 5u, 125u, 126u, 65535u, 65536u, 70000u}) {
    const std::string payload(len, 'x');
    const std::string f = ClientFrame(true, kText, payload);
    FrameHeader h;
    ASSERT_EQ(ParseHeader(f, h), Parse::kOk) << len;
    EXPECT_EQ(h.length, len);
    EXPECT_TRUE(h.fin);
    EXPECT_EQ(h.opcode, kText);
    std::string body = f.substr(h.header_size);
    Unmask(body.data(), body.size(), h.mask, 0);
    EXPECT_EQ(body, payload);
    // every split of the header needs more bytes, never errors
    for (std::size_t cut = 0; cut < h.header_size; ++cut) {
      FrameHeader partial;
      EXPECT_EQ(ParseHeader(std::string_view(f).substr(0, cut), partial), Parse::kNeedMore) << len << " cut " << cut;
    }
  }
}

TEST(WsFrame, RejectsWhatRfc6455Forbids) {
  FrameHeader h;
  std::string unmasked = "\x81\x05hello";
  EXPECT_EQ(ParseHeader(unmasked, h), Parse::kProtocolError) << "client frames must be masked";
  std::string rsv = ClientFrame(true, kText, "a");
  rsv[0] = static_cast<char>(rsv[0] | 0x40);
  EXPECT_EQ(ParseHeader(rsv, h), Parse::kProtocolError) << "no extension negotiated";
  EXPECT_EQ(ParseHeader(ClientFrame(true, 0x3, "a"), h), Parse::kProtocolError) << "reserved opcode";
  EXPECT_EQ(ParseHeader(ClientFrame(false, kPing, "a"), h), Parse::kProtocolError) << "fragmented control frame";
  EXPECT_EQ(ParseHeader(ClientFrame(true, kPing, std::string(126, 'a')), h), Parse::kProtocolError)
      << "control frame > 125";
  const std::string nonminimal("\x81\xFE\x00\x05\x01\x02\x03\x04", 8);
  EXPECT_EQ(ParseHeader(nonminimal, h), Parse::kProtocolError) << "16-bit length below 126";
}

TEST(WsFrame, EncodesServerHeaders) {
  std::array<char, 10> out{};
  EXPECT_EQ(EncodeHeader(out, true, kText, 5), 2u);
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x81);
  EXPECT_EQ(out[1], 5);
  EXPECT_EQ(EncodeHeader(out, true, kBinary, 300), 4u);
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 126);
  EXPECT_EQ(EncodeHeader(out, true, kBinary, 70000), 10u);
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 127);
}

TEST(WsFrame, AcceptKeyFromRfc6455) {
  EXPECT_EQ(AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

}  // namespace
}  // namespace fg::net::ws

#include "engineio/packet.hpp"

#include <gtest/gtest.h>

namespace fg::engineio {
namespace {

TEST(EngineIoPacket, DecodesEveryType) {
  for (char t = '0'; t <= '6'; ++t) {
    auto p = DecodePacket(std::string(1, t) + "data", false);
    ASSERT_TRUE(p);
    EXPECT_EQ(static_cast<char>(p->type), t);
    EXPECT_EQ(p->data, "data");
    EXPECT_FALSE(p->binary);
  }
}

TEST(EngineIoPacket, RejectsMalformed) {
  EXPECT_FALSE(DecodePacket("", false));
  EXPECT_FALSE(DecodePacket("7", false));
  EXPECT_FALSE(DecodePacket("abc", false));
  EXPECT_FALSE(DecodePacket("b4", false));
}

TEST(EngineIoPacket, BinaryFrameIsAMessage) {
  auto p = DecodePacket(std::string("\x01\x02", 2), true);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, PacketType::kMessage);
  EXPECT_TRUE(p->binary);
  EXPECT_EQ(p->data, std::string("\x01\x02", 2));
}

TEST(EngineIoPayload, SplitsTextAndBinary) {
  std::vector<Packet> out;
  ASSERT_EQ(DecodePayload("4hello\x1e"
                          "bAQIDBA==\x1e"
                          "2",
                          out),
            PayloadError::kNone);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], (Packet{PacketType::kMessage, "hello", false}));
  EXPECT_EQ(out[1], (Packet{PacketType::kMessage, std::string("\x01\x02\x03\x04"), true}));
  EXPECT_EQ(out[2].type, PacketType::kPing);
}

TEST(EngineIoPayload, ReportsErrors) {
  std::vector<Packet> out;
  EXPECT_EQ(DecodePayload("", out), PayloadError::kEmpty);
  out.clear();
  EXPECT_EQ(DecodePayload("4a\x1e", out), PayloadError::kBadPacket);  // empty trailing packet
  out.clear();
  EXPECT_EQ(DecodePayload("4a\x1e"
                          "x",
                          out),
            PayloadError::kBadPacket);
  EXPECT_EQ(out.size(), 1u);
  out.clear();
  EXPECT_EQ(DecodePayload("b***", out), PayloadError::kBadPacket);
  out.clear();
  EXPECT_EQ(DecodePayload("6\x1e"
                          "6\x1e"
                          "6",
                          out, 2),
            PayloadError::kTooManyPackets);
}

TEST(EngineIoPayload, EncodesAsItDecodes) {
  std::string payload;
  AppendToPayload(payload, "4hello", false);
  AppendToPayload(payload, std::string("\x01\x02\x03\x04"), true);
  EXPECT_EQ(payload,
            "4hello\x1e"
            "bAQIDBA==");
  std::vector<Packet> out;
  ASSERT_EQ(DecodePayload(payload, out), PayloadError::kNone);
  EXPECT_EQ(EncodePacket(out[0]), "4hello");
  EXPECT_EQ(EncodePacket(out[1]), std::string("\x01\x02\x03\x04"));
}

// Every split of a payload between two reads must not matter once it is whole; here: every prefix
// either decodes or reports an error, never crashes, and the whole decodes the same each time.
TEST(EngineIoPayload, EveryPrefixIsSafe) {
  const std::string whole =
      "4hello\x1e"
      "bAQIDBA==\x1e"
      "3\x1e"
      "4\xc3\xa9";
  for (std::size_t i = 0; i <= whole.size(); ++i) {
    std::vector<Packet> out;
    (void)DecodePayload(std::string_view(whole).substr(0, i), out);
  }
  std::vector<Packet> out;
  EXPECT_EQ(DecodePayload(whole, out), PayloadError::kNone);
  EXPECT_EQ(out.size(), 4u);
}

}  // namespace
TEST(EnginePacket, DecodingAnOwnedFrameReusesItsBuffer) {
  std::string frame = "4" + std::string(1000, 'x');
  const char* buffer = frame.data();
  auto p = DecodeOwnedPacket(std::move(frame), false);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, PacketType::kMessage);
  EXPECT_EQ(p->data, std::string(1000, 'x'));
  EXPECT_EQ(p->data.data(), buffer);
  EXPECT_FALSE(DecodeOwnedPacket(std::string("9x"), false));
  std::string bytes("\x00\x01", 2);
  auto b = DecodeOwnedPacket(std::move(bytes), true);
  ASSERT_TRUE(b && b->binary);
  EXPECT_EQ(b->data.size(), 2u);
}

}  // namespace fg::engineio

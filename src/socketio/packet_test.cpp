#include "socketio/packet.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

namespace fg::socketio {
namespace {

TEST(SocketIoPacket, DecodesConnectWithAndWithoutNamespace) {
  auto r = Decode("0");
  ASSERT_EQ(r.error, DecodeError::kNone);
  EXPECT_EQ(r.packet.nsp, "/");
  EXPECT_FALSE(r.packet.has_payload);
  r = Decode(R"(0/fulfillment,{"token":"abc"})");
  ASSERT_EQ(r.error, DecodeError::kNone);
  EXPECT_EQ(r.packet.nsp, "/fulfillment");
  EXPECT_EQ(r.packet.payload.as_object().at("token").as_string(), "abc");
  r = Decode("0/random");
  ASSERT_EQ(r.error, DecodeError::kNone);
  EXPECT_EQ(r.packet.nsp, "/random");
}

TEST(SocketIoPacket, DecodesEventWithAckId) {
  auto r = Decode(R"(2/fulfillment,12["subscribe:order",{"orderId":"o1"}])");
  ASSERT_EQ(r.error, DecodeError::kNone);
  EXPECT_EQ(r.packet.type, PacketType::kEvent);
  EXPECT_EQ(r.packet.id, 12u);
  EXPECT_EQ(r.packet.payload.as_array()[0].as_string(), "subscribe:order");
}

TEST(SocketIoPacket, DecodesBinaryEvent) {
  auto r = Decode(R"(52-789["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  ASSERT_EQ(r.error, DecodeError::kNone);
  EXPECT_EQ(r.packet.type, PacketType::kBinaryEvent);
  EXPECT_EQ(r.packet.attachments, 2u);
  EXPECT_EQ(r.packet.id, 789u);
}

TEST(SocketIoPacket, RejectsMalformed) {
  EXPECT_EQ(Decode("").error, DecodeError::kEmpty);
  EXPECT_EQ(Decode("9").error, DecodeError::kBadType);
  EXPECT_EQ(Decode("abc").error, DecodeError::kBadType);
  EXPECT_EQ(Decode("2{}").error, DecodeError::kBadPayload);
  EXPECT_EQ(Decode("2[]").error, DecodeError::kBadPayload);
  EXPECT_EQ(Decode("2[1]").error, DecodeError::kBadPayload);
  EXPECT_EQ(Decode(R"(2abc["x"])").error, DecodeError::kBadJson);
  EXPECT_EQ(Decode("2[\"x\"").error, DecodeError::kBadJson);
  // A number past a double's range parses as infinity, which JSON cannot carry back (found by the fuzzer).
  EXPECT_EQ(Decode(R"(401{"or":40E080160})").error, DecodeError::kBadJson);
  EXPECT_EQ(Decode(R"(2["x",[1e999]])").error, DecodeError::kBadJson);
  EXPECT_EQ(Decode(R"(2["x",[1e300]])").error, DecodeError::kNone);
  EXPECT_EQ(Decode("0[]").error, DecodeError::kBadPayload);
  EXPECT_EQ(Decode("1{}").error, DecodeError::kBadPayload);
  EXPECT_EQ(Decode("3{}").error, DecodeError::kBadPayload);
  EXPECT_EQ(Decode("4").error, DecodeError::kBadPayload);
  EXPECT_EQ(Decode(R"(5["x"])").error, DecodeError::kBadAttachments);
  EXPECT_EQ(Decode(R"(5x-["x"])").error, DecodeError::kBadAttachments);
  EXPECT_EQ(Decode(R"(599-["x"])").error, DecodeError::kBadAttachments);  // over max_attachments
  EXPECT_EQ(Decode(R"(21234567890123456["x"])").error, DecodeError::kBadId);
  EXPECT_EQ(Decode("0/" + std::string(200, 'n') + ",").error, DecodeError::kBadNamespace);
}

TEST(SocketIoPacket, EncodesFrames) {
  EXPECT_EQ(EncodePacketText(PacketType::kConnect, "/fulfillment", std::nullopt, 0, R"({"sid":"x"})"),
            R"(40/fulfillment,{"sid":"x"})");
  EXPECT_EQ(EncodePacketText(PacketType::kAck, "/", 7, 0, "[1]"), "437[1]");
  EXPECT_EQ(EncodePacketText(PacketType::kBinaryAck, "/", 789, 2, "[]"), "462-789[]");
  EXPECT_EQ(EncodePacketText(PacketType::kDisconnect, "/a", std::nullopt, 0, ""), "41/a,");
}

TEST(SocketIoPacket, EncodedFramesDecodeBack) {
  const std::string frame = EncodePacketText(PacketType::kEvent, "/fulfillment", 3, 0, R"(["e",{"a":1}])");
  auto r = Decode(std::string_view(frame).substr(1));
  ASSERT_EQ(r.error, DecodeError::kNone);
  EXPECT_EQ(r.packet.nsp, "/fulfillment");
  EXPECT_EQ(r.packet.id, 3u);
  EXPECT_EQ(boost::json::serialize(r.packet.payload), R"(["e",{"a":1}])");
}

}  // namespace
}  // namespace fg::socketio

#include "http_api/emitter.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>
extern "C" {  // libmpack's header declares no C linkage itself
#include <mpack.h>
}
// …and defines `bool` as `unsigned` whenever it is not a macro (always in C++): its functions do
// return unsigned; the macro must not reach any code after this line.
#undef bool

namespace fg::http_api {
namespace {
namespace json = boost::json;

std::string FromHex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// JSON → MessagePack with libmpack's writer, for building test messages.
void PackInto(const json::value& v, std::string& out) {
  mpack_tokbuf_t tb;
  mpack_tokbuf_init(&tb);
  const auto write = [&](mpack_token_t t) {
    char buf[64];
    char* p = buf;
    std::size_t left = sizeof buf;
    ASSERT_EQ(mpack_write(&tb, &p, &left, &t), MPACK_OK);
    out.append(buf, sizeof buf - left);
  };
  const auto str = [&](std::string_view s) {
    write(mpack_pack_str(static_cast<mpack_uint32_t>(s.size())));
    out.append(s);  // the bytes follow the header as they are
  };
  switch (v.kind()) {
    case json::kind::null:
      write(mpack_pack_nil());
      break;
    case json::kind::bool_:
      write(mpack_pack_boolean(v.as_bool()));
      break;
    case json::kind::int64:
      write(mpack_pack_sint(v.as_int64()));
      break;
    case json::kind::uint64:
      write(mpack_pack_uint(v.as_uint64()));
      break;
    case json::kind::double_:
      write(mpack_pack_float_fast(v.as_double()));
      break;
    case json::kind::string:
      str(v.as_string());
      break;
    case json::kind::array:
      write(mpack_pack_array(static_cast<mpack_uint32_t>(v.as_array().size())));
      for (const auto& e : v.as_array()) PackInto(e, out);
      break;
    case json::kind::object:
      write(mpack_pack_map(static_cast<mpack_uint32_t>(v.as_object().size())));
      for (const auto& [k, e] : v.as_object()) {
        str(k);
        PackInto(e, out);
      }
      break;
  }
}
std::string Pack(const json::value& v) {
  std::string out;
  PackInto(v, out);
  return out;
}

// What the emitter publishes for .to(rooms).emit(event, args...).
std::string Emitted(const json::array& rooms, const json::array& data, const json::array& except = {}, int type = 2,
                    std::string_view nsp = "/fulfillment") {
  return Pack(json::array{"emitter", json::object{{"type", type}, {"data", data}, {"nsp", nsp}},
                          json::object{{"rooms", rooms}, {"flags", json::object{}}, {"except", except}}});
}
const std::string kChannel = "socket.io#/fulfillment#";

TEST(Msgpack, WhatTheEmitterPackageSendsDecodesToItsJson) {
  // notepack.io (the emitter's encoder) of ["emitter", {type: 2, data: ["fulfillment:status-change",
  // {orderId: "o-1", status: "paid", n: 1.5, big: 2 ** 40, neg: -3, t: true, z: null, arr: [1, "é"]}],
  // nsp: "/fulfillment"}, {rooms: ["order:o-1"], flags: {}, except: []}]
  const std::string bytes = FromHex(
      "93a7656d697474657283a47479706502a46461746192b966756c66696c6c6d656e743a7374617475732d6368616e676588a76f726465"
      "724964a36f2d31a6737461747573a470616964a16ecb3ff8000000000000a3626967cf0000010000000000a36e6567fda174c3a17ac0"
      "a36172729201a2c3a9a36e7370ac2f66756c66696c6c6d656e7483a5726f6f6d7391a96f726465723a6f2d31a5666c61677380a66578"
      "6365707490");
  std::string error;
  const auto v = MsgpackToJson(bytes, error);
  ASSERT_TRUE(v) << error;
  const auto& data = v->at(1).at("data").at(1).as_object();
  EXPECT_EQ(data.at("status"), "paid");
  EXPECT_EQ(data.at("n").as_double(), 1.5);
  EXPECT_EQ(data.at("big").to_number<std::int64_t>(), std::int64_t{1} << 40);
  EXPECT_EQ(data.at("neg").as_int64(), -3);
  EXPECT_EQ(data.at("t"), true);
  EXPECT_TRUE(data.at("z").is_null());
  EXPECT_EQ(data.at("arr").as_array()[1], "\xc3\xa9");

  const auto m = DecodeEmitter(kChannel + "order:o-1#", bytes, 128);
  ASSERT_EQ(m.kind, EmitterMessage::Kind::kEvent) << m.error;
  EXPECT_EQ(m.event.event, "fulfillment:status-change");
  EXPECT_EQ(m.event.order_id, "o-1");
  EXPECT_EQ(m.event.audience, gateway::Audience::kOrderAndAdmins);
  const auto out = json::parse(m.event.data_json).as_object();
  EXPECT_EQ(out.at("status"), "paid");
  EXPECT_TRUE(out.contains("timestamp"));  // added, as for POST /api/v1/events
}

TEST(Msgpack, RoundTripsNestedValues) {
  const json::value v = json::parse(R"({"a":[1,-2,3.25,"x",null,true,{"b":{"c":[[]]}}],"u":18446744073709551615})");
  std::string error;
  const auto back = MsgpackToJson(Pack(v), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, v);
}

TEST(Msgpack, RefusesWhatJsonCannotCarryOrWhatIsNotOneWholeValue) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += '\x91';  // [[[[… 40 levels
  deep += '\xc0';
  const std::string cases[] = {
      "",                          // nothing
      std::string("\x92\x01", 2),  // truncated array
      std::string("\xa5"
                  "ab",
                  3),                                          // truncated string
      std::string("\x01\x02", 2),                              // bytes after the value
      std::string("\xc4\x01x", 3),                             // bin
      std::string("\xd4\x00\x00", 3),                          // fixext (notepack's undefined)
      std::string("\x81\x01\x02", 3),                          // a number as a map key
      std::string("\xa2\xff\xfe", 3),                          // not UTF-8
      std::string("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 9),  // NaN
      std::string("\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00", 9),  // infinity
      std::string("\xc1", 1),                                  // never used
      std::string("\xdd\xff\xff\xff\xff\xc0", 6),              // claims 4 billion elements, has one
      std::string("\xdf\xff\xff\xff\xff", 5),                  // a map that claims as many
      deep,
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(MsgpackToJson(c, error)) << json::serialize(json::string(c.size() < 64 ? c : c.substr(0, 8)));
    EXPECT_FALSE(error.empty());
  }
}

TEST(Emitter, RoomsMapToTheAudienceAPostWouldReach) {
  const json::object data{{"orderId", "o-7"}, {"status", "processing"}};
  // An order room: its subscribers (and admins); data.orderId from the room when absent.
  auto m = DecodeEmitter(kChannel + "order:o-7#",
                         Emitted({"order:o-7"}, {"fulfillment:status-change", json::object{{"status", "paid"}}}), 128);
  ASSERT_EQ(m.kind, EmitterMessage::Kind::kEvent) << m.error;
  EXPECT_EQ(m.event.order_id, "o-7");
  EXPECT_EQ(json::parse(m.event.data_json).at("orderId"), "o-7");
  // admins alone: admins only, even for an order event.
  m = DecodeEmitter(kChannel + "admins#", Emitted({"admins"}, {"fulfillment:status-change", data}), 128);
  ASSERT_EQ(m.kind, EmitterMessage::Kind::kEvent) << m.error;
  EXPECT_EQ(m.event.audience, gateway::Audience::kAdminsOnly);
  m = DecodeEmitter(kChannel + "admins#", Emitted({"admins"}, {"admin:job-queue-event", json::object{{"queued", 3}}}),
                    128);
  ASSERT_EQ(m.kind, EmitterMessage::Kind::kEvent) << m.error;
  EXPECT_EQ(m.event.audience, gateway::Audience::kAdminsOnly);
  // Order and admins together: the order's audience.
  m = DecodeEmitter(kChannel, Emitted({"admins", "order:o-7"}, {"fulfillment:status-change", data}), 128);
  ASSERT_EQ(m.kind, EmitterMessage::Kind::kEvent) << m.error;
  EXPECT_EQ(m.event.audience, gateway::Audience::kOrderAndAdmins);
  // No room: the event's own audience, as a POST.
  m = DecodeEmitter(kChannel, Emitted({}, {"fulfillment:status-change", data}), 128);
  ASSERT_EQ(m.kind, EmitterMessage::Kind::kEvent) << m.error;
  EXPECT_EQ(m.event.order_id, "o-7");
  EXPECT_EQ(m.event.audience, gateway::Audience::kOrderAndAdmins);
}

TEST(Emitter, RefusesWhatItCannotDeliverExactly) {
  using K = EmitterMessage::Kind;
  const json::object data{{"orderId", "o-7"}, {"status", "paid"}};
  const struct {
    std::string channel, payload;
    K kind;
  } cases[] = {
      {kChannel, Emitted({"order:o-8"}, {"fulfillment:status-change", data}), K::kInvalid},  // another order's data
      {kChannel, Emitted({"order:../x"}, {"fulfillment:status-change", data}), K::kInvalid},
      {kChannel, Emitted({}, {"fulfillment:status-change", json::object{{"status", "paid"}}}),
       K::kInvalid},  // no order
      {kChannel, Emitted({}, {"made-up", data}), K::kInvalid},
      {kChannel, Emitted({}, {"fulfillment:status-change", "text"}), K::kInvalid},
      {kChannel, Emitted({"order:o-7"}, {"fulfillment:status-change", data}, {}, 2, "/"), K::kInvalid},
      {kChannel, Pack(json::array{"emitter", 1, 2}), K::kInvalid},
      {kChannel, "not msgpack", K::kInvalid},
      {"socket.io#/other#", Emitted({}, {"fulfillment:status-change", data}), K::kInvalid},
      {kChannel, Emitted({"lobby"}, {"fulfillment:status-change", data}), K::kUnsupported},
      {kChannel, Emitted({"order:o-7", "order:o-8"}, {"fulfillment:status-change", data}), K::kUnsupported},
      {kChannel, Emitted({"admins"}, {"fulfillment:status-change", data}, {"order:o-7"}), K::kUnsupported},
      {kChannel, Emitted({}, {"fulfillment:status-change", data, 2}), K::kUnsupported},
      {kChannel, Emitted({}, {"fulfillment:status-change", data}, {}, 5), K::kUnsupported},
      {"socket.io-request#/fulfillment#", Pack(json::object{{"type", 2}}), K::kUnsupported},
  };
  for (const auto& c : cases) {
    const auto m = DecodeEmitter(c.channel, c.payload, 128);
    EXPECT_EQ(m.kind, c.kind) << c.channel << " " << m.error;
    EXPECT_FALSE(m.error.empty());
  }
  EXPECT_EQ(DecodeEmitter(kChannel, std::string(kMaxEmitterMessage + 1, '\x90'), 128).kind, K::kInvalid);
}

}  // namespace
}  // namespace fg::http_api

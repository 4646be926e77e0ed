#include "http_api/emitter.hpp"

#include "common/encoding.hpp"
#include "events/events.hpp"

#include <boost/json.hpp>
extern "C" {  // libmpack's header declares no C linkage itself
#include <mpack.h>
}
// …and defines `bool` as `unsigned` whenever it is not a macro (always in C++): its functions do
// return unsigned; the macro must not reach any code after this line.
#undef bool

#include <cmath>
#include <cstring>

namespace fg::http_api {
namespace json = boost::json;

namespace {

// A token reader over the whole message (libmpack yields a str/bin header, then its bytes as chunks).
class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), left_(in.size()) { mpack_tokbuf_init(&tb_); }

  bool Value(json::value& out, int depth, std::string& error) {
    mpack_token_t t;
    if (!Next(t, error)) return false;
    switch (t.type) {
      case MPACK_TOKEN_NIL:
        out = nullptr;
        return true;
      case MPACK_TOKEN_BOOLEAN:
        out = mpack_unpack_boolean(t) != 0;  // unsigned (see the include)
        return true;
      case MPACK_TOKEN_UINT: {
        const auto u = static_cast<std::uint64_t>(mpack_unpack_uint(t));
        if (u <= static_cast<std::uint64_t>(INT64_MAX))
          out = static_cast<std::int64_t>(u);
        else
          out = u;
        return true;
      }
      case MPACK_TOKEN_SINT:
        out = static_cast<std::int64_t>(mpack_unpack_sint(t));
        return true;
      case MPACK_TOKEN_FLOAT: {
        const double d = mpack_unpack_float(t);
        if (!std::isfinite(d)) return Fail(error, "a number JSON cannot carry (NaN or infinite)");
        out = d;
        return true;
      }
      case MPACK_TOKEN_STR: {
        std::string s;
        if (!Bytes(t.length, s, error)) return false;
        out = json::string(s);
        return true;
      }
      case MPACK_TOKEN_ARRAY: {
        if (depth <= 0) return Fail(error, "nested too deep");
        json::array a;
        a.reserve(std::min<std::size_t>(t.length, left_));  // each element takes a byte at least
        for (std::uint32_t i = 0; i < t.length; ++i) {
          json::value v;
          if (!Value(v, depth - 1, error)) return false;
          a.push_back(std::move(v));
        }
        out = std::move(a);
        return true;
      }
      case MPACK_TOKEN_MAP: {
        if (depth <= 0) return Fail(error, "nested too deep");
        json::object o;
        for (std::uint32_t i = 0; i < t.length; ++i) {
          mpack_token_t k;
          if (!Next(k, error)) return false;
          if (k.type != MPACK_TOKEN_STR) return Fail(error, "a map key that is not a string");
          std::string key;
          if (!Bytes(k.length, key, error)) return false;
          json::value v;
          if (!Value(v, depth - 1, error)) return false;
          o[key] = std::move(v);
        }
        out = std::move(o);
        return true;
      }
      case MPACK_TOKEN_BIN:
        return Fail(error, "binary data (events carry JSON only)");
      case MPACK_TOKEN_EXT:
        return Fail(error, "a MessagePack extension (Date, undefined, …): events carry JSON only");
      default:
        return Fail(error, "an unexpected MessagePack token");
    }
  }

  bool AtEnd() const { return left_ == 0; }

 private:
  static bool Fail(std::string& error, const char* why) {
    error = why;
    return false;
  }
  bool Next(mpack_token_t& t, std::string& error) {
    if (left_ == 0) return Fail(error, "truncated");  // mpack_read requires bytes (it asserts so)
    const int r = mpack_read(&tb_, &p_, &left_, &t);
    if (r == MPACK_OK) return true;
    return Fail(error, r == MPACK_EOF ? "truncated" : "not MessagePack");
  }
  // The `length` bytes of a str, as libmpack's chunks; strictly UTF-8.
  bool Bytes(std::uint32_t length, std::string& out, std::string& error) {
    if (length > left_) return Fail(error, "truncated");
    out.reserve(length);
    while (out.size() < length) {
      mpack_token_t c;
      if (!Next(c, error)) return false;
      if (c.type != MPACK_TOKEN_CHUNK) return Fail(error, "not MessagePack");
      out.append(c.data.chunk_ptr, c.length);
    }
    if (!ValidUtf8(out)) return Fail(error, "a string that is not UTF-8");
    return true;
  }

  mpack_tokbuf_t tb_;
  const char* p_;
  std::size_t left_;
};

EmitterMessage Invalid(std::string why) {
  EmitterMessage m;
  m.kind = EmitterMessage::Kind::kInvalid;
  m.error = std::move(why);
  return m;
}
EmitterMessage Unsupported(std::string why) {
  EmitterMessage m;
  m.kind = EmitterMessage::Kind::kUnsupported;
  m.error = std::move(why);
  return m;
}

}  // namespace

std::optional<json::value> MsgpackToJson(std::string_view in, std::string& error, int max_depth) {
  Reader r(in);
  json::value v;
  if (!r.Value(v, max_depth, error)) return std::nullopt;
  if (!r.AtEnd()) {
    error = "bytes after the value";
    return std::nullopt;
  }
  return v;
}

EmitterMessage DecodeEmitter(std::string_view channel, std::string_view payload, std::size_t max_order_id) {
  if (channel == kEmitterRequestChannel)
    return Unsupported("emitter requests (socketsJoin, socketsLeave, disconnectSockets, serverSideEmit)");
  if (channel.substr(0, kEmitterPrefix.size()) != kEmitterPrefix) return Invalid("not an emitter channel");
  if (payload.size() > kMaxEmitterMessage) return Invalid("larger than 1 MiB");
  std::string error;
  auto v = MsgpackToJson(payload, error);
  if (!v) return Invalid(error);
  const auto* top = v->if_array();
  if (!top || top->size() != 3 || !(*top)[1].is_object() || !(*top)[2].is_object())
    return Invalid("not [uid, packet, options]");
  const auto& packet = (*top)[1].as_object();
  const auto& opts = (*top)[2].as_object();
  const auto* type = packet.if_contains("type");
  const auto* nsp = packet.if_contains("nsp");
  const auto* data = packet.if_contains("data");
  if (!type || !type->is_int64()) return Invalid("packet.type is not a number");
  if (type->as_int64() == 5) return Unsupported("binary events");
  if (type->as_int64() != 2) return Unsupported("packets other than EVENT");
  if (!nsp || !nsp->is_string() || nsp->as_string() != events::kNamespace)
    return Invalid("not the /fulfillment namespace");
  if (!data || !data->is_array() || data->as_array().empty() || !data->as_array()[0].is_string())
    return Invalid("packet.data is not [event, data]");
  const auto& args = data->as_array();
  if (args.size() != 2) return Unsupported("events carry exactly one argument, the data object");
  if (const auto* except = opts.if_contains("except"); except && !(except->is_array() && except->as_array().empty()))
    return Unsupported("except()");

  bool admins = false;
  std::optional<std::string> order;
  if (const auto* rooms = opts.if_contains("rooms")) {
    if (!rooms->is_array()) return Invalid("options.rooms is not an array");
    for (const auto& room : rooms->as_array()) {
      if (!room.is_string()) return Invalid("a room is not a string");
      const std::string_view name = room.as_string();
      if (name == "admins") {
        admins = true;
      } else if (name.substr(0, 6) == "order:") {
        const auto id = name.substr(6);
        if (!events::IsSafeId(id, max_order_id)) return Invalid("room " + std::string(name) + ": not an order id");
        if (order && *order != id) return Unsupported("more than one order room");
        order = std::string(id);
      } else {
        return Unsupported("room " + std::string(name.substr(0, 64)) + " (rooms are order:<id> and admins)");
      }
    }
  }
  json::value arg = args[1];
  if (order) {
    auto* o = arg.if_object();
    if (!o) return Invalid("the data is not an object");
    if (const auto* id = o->if_contains("orderId")) {
      if (!id->is_string() || id->as_string() != *order) return Invalid("data.orderId is not the room's order");
    } else {
      (*o)["orderId"] = *order;
    }
  }
  const std::string body = json::serialize(json::object{{"event", args[0]}, {"data", std::move(arg)}});
  EmitterMessage m;
  std::string message;
  // Only admins: to("admins") alone; an order room reaches the order's owner (and the admins).
  if (auto err = ParsePublish(body, max_order_id, m.event, message, admins && !order)) return Invalid(message);
  m.kind = EmitterMessage::Kind::kEvent;
  return m;
}

}  // namespace fg::http_api

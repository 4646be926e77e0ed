// The messages of @socket.io/redis-emitter (npm, Socket.IO's official package), so Node backends
// keep `new Emitter(redis).of("/fulfillment").to("order:<id>").emit(event, data)`. The emitter
// PUBLISHes on `socket.io#/fulfillment#` (`…#<room>#` with one room) a MessagePack array
// ["emitter", {type: 2, data: [event, data], nsp}, {rooms, except, flags}]. One node (the holder of
// a lease, cluster/node.hpp) decodes each and logs it like `POST /api/v1/events`, so it is
// delivered exactly like one and recovery covers it:
//   - no room:                  the event's own audience (what the same POST would reach);
//   - `order:<id>` (+ `admins`): the order's subscribers and every admin (data.orderId is the
//                                room's id, set when absent, refused when different);
//   - `admins`:                 admins only, whatever the event.
// Anything else is refused, never delivered in part: other rooms, several order rooms, `except`,
// binary or several arguments, the request channel (socketsJoin, disconnectSockets, …).
// Decoding is pure (fuzz/emitter_message_fuzz.cpp): MessagePack through libmpack (Debian's
// libmpack-dev), bounded depth, strict UTF-8, no value JSON cannot carry.
#pragma once

#include "http_api/publish.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fg::http_api {

inline constexpr std::string_view kEmitterPrefix = "socket.io#/fulfillment#";
inline constexpr std::string_view kEmitterRequestChannel = "socket.io-request#/fulfillment#";
inline constexpr std::size_t kMaxEmitterMessage = 1024 * 1024;

// MessagePack → JSON: maps with string keys only, no bin/ext, finite numbers, valid UTF-8, at
// most `max_depth` levels, nothing after the value. nullopt with `error` set otherwise.
std::optional<boost::json::value> MsgpackToJson(std::string_view in, std::string& error, int max_depth = 32);

struct EmitterMessage {
  enum class Kind { kEvent, kInvalid, kUnsupported } kind = Kind::kInvalid;
  std::string error;     // kInvalid / kUnsupported: why, for the log
  PublishRequest event;  // kEvent
};
EmitterMessage DecodeEmitter(std::string_view channel, std::string_view payload, std::size_t max_order_id);

}  // namespace fg::http_api

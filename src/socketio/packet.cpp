#include "socketio/packet.hpp"

#include "common/json_text.hpp"

#include <boost/json/parse.hpp>

#include <charconv>
#include <cmath>

namespace fg::socketio {

const char* ToString(DecodeError e) {
  switch (e) {
    case DecodeError::kNone:
      return "none";
    case DecodeError::kEmpty:
      return "empty packet";
    case DecodeError::kBadType:
      return "unknown packet type";
    case DecodeError::kBadAttachments:
      return "illegal attachments";
    case DecodeError::kBadNamespace:
      return "illegal namespace";
    case DecodeError::kBadId:
      return "illegal ack id";
    case DecodeError::kBadJson:
      return "invalid JSON payload";
    case DecodeError::kBadPayload:
      return "invalid payload";
  }
  return "unknown";
}

namespace {
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// JSON numbers past a double's range parse as infinity, which JSON cannot carry back out: such a
// payload is refused like malformed JSON (the parser's depth bound keeps the recursion short).
bool AllFinite(const boost::json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double());
  if (v.is_array()) {
    for (const auto& e : v.get_array())
      if (!AllFinite(e)) return false;
  }
  if (v.is_object()) {
    for (const auto& kv : v.get_object())
      if (!AllFinite(kv.value())) return false;
  }
  return true;
}

bool PayloadValid(PacketType type, const Packet& p) {
  const auto& v = p.payload;
  switch (type) {
    case PacketType::kConnect:
      return !p.has_payload || v.is_object();
    case PacketType::kDisconnect:
      return !p.has_payload;
    case PacketType::kConnectError:
      return p.has_payload && (v.is_object() || v.is_string());
    case PacketType::kEvent:
    case PacketType::kBinaryEvent:
      return p.has_payload && v.is_array() && !v.as_array().empty() && v.as_array()[0].is_string();
    case PacketType::kAck:
    case PacketType::kBinaryAck:
      return p.has_payload && v.is_array();
  }
  return false;
}
}  // namespace

DecodeResult Decode(std::string_view t, const DecodeLimits& limits) {
  DecodeResult r;
  if (t.empty()) {
    r.error = DecodeError::kEmpty;
    return r;
  }
  if (t[0] < '0' || t[0] > '6') {
    r.error = DecodeError::kBadType;
    return r;
  }
  Packet& p = r.packet;
  p.type = static_cast<PacketType>(t[0] - '0');
  std::size_t i = 1;
  if (p.type == PacketType::kBinaryEvent || p.type == PacketType::kBinaryAck) {
    const std::size_t start = i;
    while (i < t.size() && IsDigit(t[i])) ++i;
    if (i == start || i >= t.size() || t[i] != '-' || i - start > 3) {
      r.error = DecodeError::kBadAttachments;
      return r;
    }
    std::from_chars(t.data() + start, t.data() + i, p.attachments);
    if (p.attachments > limits.max_attachments) {
      r.error = DecodeError::kBadAttachments;
      return r;
    }
    ++i;  // '-'
  }
  if (i < t.size() && t[i] == '/') {
    const std::size_t comma = t.find(',', i);
    const std::size_t end = comma == std::string_view::npos ? t.size() : comma;
    if (end - i > limits.max_namespace_length) {
      r.error = DecodeError::kBadNamespace;
      return r;
    }
    p.nsp = std::string(t.substr(i, end - i));
    i = comma == std::string_view::npos ? t.size() : comma + 1;
  }
  if (i < t.size() && IsDigit(t[i])) {
    const std::size_t start = i;
    while (i < t.size() && IsDigit(t[i])) ++i;
    if (i - start > 15) {  // beyond JavaScript's safe integers
      r.error = DecodeError::kBadId;
      return r;
    }
    std::uint64_t id = 0;
    std::from_chars(t.data() + start, t.data() + i, id);
    p.id = id;
  }
  if (i < t.size()) {
    boost::system::error_code ec;
    p.payload = boost::json::parse(t.substr(i), ec);
    if (ec || !AllFinite(p.payload)) {
      r.error = DecodeError::kBadJson;
      return r;
    }
    p.has_payload = true;
  }
  if (!PayloadValid(p.type, p)) r.error = DecodeError::kBadPayload;
  return r;
}

std::string EncodePacketText(PacketType type, std::string_view nsp, std::optional<std::uint64_t> id,
                             std::size_t attachments, std::string_view payload_json) {
  std::string out;
  out.reserve(payload_json.size() + nsp.size() + 24);
  out += '4';
  out += static_cast<char>('0' + static_cast<int>(type));
  if (type == PacketType::kBinaryEvent || type == PacketType::kBinaryAck) {
    out += std::to_string(attachments);
    out += '-';
  }
  if (!nsp.empty() && nsp != "/") {
    out.append(nsp);
    out += ',';
  }
  if (id) out += std::to_string(*id);
  out.append(payload_json);
  return out;
}

std::string EncodeEvent(std::string_view nsp, std::string_view event, std::string_view arg_json,
                        std::string_view offset) {
  std::string out;
  out.reserve(nsp.size() + event.size() + arg_json.size() + offset.size() + 20);
  out += "42";
  if (!nsp.empty() && nsp != "/") {
    out.append(nsp);
    out += ',';
  }
  out += '[';
  out += '"';
  json_text::AppendEscaped(out, event);
  out += '"';
  out += ',';
  out.append(arg_json);
  if (!offset.empty()) {  // connection state recovery: the offset is the last argument, a string
    out += ",\"";
    out.append(offset);  // digits only: nothing to escape
    out += '"';
  }
  out += ']';
  return out;
}

}  // namespace fg::socketio

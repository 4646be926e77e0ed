#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <cstdio>

namespace fg::json_text {
namespace {

std::size_t SkipWs(std::string_view t, std::size_t p) {
  while (p < t.size() && (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r')) ++p;
  return p;
}

std::size_t SkipString(std::string_view t, std::size_t p) {
  // t[p] == '"'
  for (++p; p < t.size(); ++p) {
    if (t[p] == '\\') {
      ++p;
    } else if (t[p] == '"') {
      return p + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::size_t SkipValue(std::string_view t, std::size_t p) {
  p = SkipWs(t, p);
  if (p >= t.size()) return std::string_view::npos;
  const char c = t[p];
  if (c == '"') return SkipString(t, p);
  if (c == '{' || c == '[') {
    int depth = 0;
    while (p < t.size()) {
      const char d = t[p];
      if (d == '"') {
        p = SkipString(t, p);
        if (p == std::string_view::npos) return p;
        continue;
      }
      if (d == '{' || d == '[') ++depth;
      if (d == '}' || d == ']') {
        if (--depth == 0) return p + 1;
      }
      ++p;
    }
    return std::string_view::npos;
  }
  // number, true, false, null
  while (p < t.size() && t[p] != ',' && t[p] != '}' && t[p] != ']' && t[p] != ' ' && t[p] != '\t' && t[p] != '\n' &&
         t[p] != '\r') {
    ++p;
  }
  return p;
}

std::optional<std::string_view> FindMember(std::string_view t, std::string_view key) {
  std::optional<std::string_view> found;  // the last occurrence wins, as in JSON.parse and Boost.JSON
  std::size_t p = SkipWs(t, 0);
  if (p >= t.size() || t[p] != '{') return std::nullopt;
  p = SkipWs(t, p + 1);
  while (p < t.size() && t[p] == '"') {
    const std::size_t key_end = SkipString(t, p);
    if (key_end == std::string_view::npos) return std::nullopt;
    std::string_view raw_key = t.substr(p + 1, key_end - p - 2);
    bool match = false;
    if (raw_key.find('\\') == std::string_view::npos) {
      match = raw_key == key;
    } else {
      boost::system::error_code ec;
      auto v = boost::json::parse(t.substr(p, key_end - p), ec);
      match = !ec && v.is_string() && std::string_view(v.as_string()) == key;
    }
    p = SkipWs(t, key_end);
    if (p >= t.size() || t[p] != ':') return std::nullopt;
    const std::size_t value_start = SkipWs(t, p + 1);
    const std::size_t value_end = SkipValue(t, value_start);
    if (value_end == std::string_view::npos) return std::nullopt;
    if (match) found = t.substr(value_start, value_end - value_start);
    p = SkipWs(t, value_end);
    if (p < t.size() && t[p] == ',') p = SkipWs(t, p + 1);
  }
  return found;
}

std::optional<std::vector<std::string_view>> ArrayElements(std::string_view t) {
  std::size_t p = SkipWs(t, 0);
  if (p >= t.size() || t[p] != '[') return std::nullopt;
  std::vector<std::string_view> out;
  p = SkipWs(t, p + 1);
  if (p < t.size() && t[p] == ']') return out;
  while (p < t.size()) {
    const std::size_t end = SkipValue(t, p);
    if (end == std::string_view::npos) return std::nullopt;
    out.push_back(t.substr(p, end - p));
    p = SkipWs(t, end);
    if (p < t.size() && t[p] == ',') {
      p = SkipWs(t, p + 1);
      continue;
    }
    if (p < t.size() && t[p] == ']') return out;
    return std::nullopt;
  }
  return std::nullopt;
}

std::string AppendMember(std::string_view t, std::string_view key, std::string_view raw_value) {
  std::size_t close = t.find_last_of('}');
  if (close == std::string_view::npos) return std::string(t);
  std::size_t open = t.find('{');
  const bool empty = SkipWs(t, open + 1) == close;
  std::string out;
  out.reserve(t.size() + key.size() + raw_value.size() + 8);
  out.append(t.substr(0, close));
  if (!empty) out += ',';
  out += '"';
  AppendEscaped(out, key);
  out += '"';
  out += ':';
  out.append(raw_value);
  out.append(t.substr(close));
  return out;
}

void AppendEscaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

}  // namespace fg::json_text

#include "fulfillment/js_json.hpp"

#include "common/encoding.hpp"
#include "common/json_text.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace fg::fulfillment {
namespace {

constexpr int kMaxDepth = 64;
// Members and elements in one document: an IPN has a few dozen; this bounds the work and memory
// an unauthenticated body can cause whatever the caller's size limit.
constexpr std::size_t kMaxValues = 10'000;

struct Value;
using Member = std::pair<std::string, std::unique_ptr<Value>>;
struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  bool b = false;
  double n = 0;
  std::string s;  // UTF-8; lone surrogates kept as WTF-8-ish escape markers (see below)
  std::vector<std::unique_ptr<Value>> items;
  std::vector<Member> members;
  std::string_view raw;  // the value's text in the document
};

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}
  std::unique_ptr<Value> ParseDocument() {
    auto v = ParseValue(0);
    if (!v) return nullptr;
    SkipWs();
    return p_ == t_.size() ? std::move(v) : nullptr;
  }

 private:
  void SkipWs() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r')) ++p_;
  }
  bool Lit(std::string_view w) {
    if (t_.substr(p_, w.size()) != w) return false;
    p_ += w.size();
    return true;
  }
  std::unique_ptr<Value> ParseValue(int depth) {
    SkipWs();
    const std::size_t start = p_;
    auto v = ParseValueAt(depth);
    if (v) v->raw = t_.substr(start, p_ - start);
    return v;
  }
  std::unique_ptr<Value> ParseValueAt(int depth) {
    if (depth > kMaxDepth) return nullptr;
    if (p_ >= t_.size()) return nullptr;
    auto v = std::make_unique<Value>();
    const char c = t_[p_];
    if (c == '{') {
      v->kind = Value::Kind::kObject;
      std::unordered_map<std::string, std::size_t> index;
      ++p_;
      SkipWs();
      if (p_ < t_.size() && t_[p_] == '}') {
        ++p_;
        return v;
      }
      for (;;) {
        SkipWs();
        std::string key;
        if (!ParseString(key)) return nullptr;
        SkipWs();
        if (p_ >= t_.size() || t_[p_] != ':') return nullptr;
        ++p_;
        auto child = ParseValue(depth + 1);
        if (!child) return nullptr;
        // JSON.parse keeps the last duplicate. Found by hashing, so a body of many keys costs
        // linear time (a linear scan per key was quadratic: 90k keys held a thread for seconds).
        if (++values_ > kMaxValues) return nullptr;
        auto [it, fresh] = index.try_emplace(key, v->members.size());
        if (!fresh) {
          v->members[it->second].second = std::move(child);
        } else {
          v->members.emplace_back(std::move(key), std::move(child));
        }
        SkipWs();
        if (p_ < t_.size() && t_[p_] == ',') {
          ++p_;
          continue;
        }
        if (p_ < t_.size() && t_[p_] == '}') {
          ++p_;
          return v;
        }
        return nullptr;
      }
    }
    if (c == '[') {
      v->kind = Value::Kind::kArray;
      ++p_;
      SkipWs();
      if (p_ < t_.size() && t_[p_] == ']') {
        ++p_;
        return v;
      }
      for (;;) {
        auto child = ParseValue(depth + 1);
        if (!child || ++values_ > kMaxValues) return nullptr;
        v->items.push_back(std::move(child));
        SkipWs();
        if (p_ < t_.size() && t_[p_] == ',') {
          ++p_;
          continue;
        }
        if (p_ < t_.size() && t_[p_] == ']') {
          ++p_;
          return v;
        }
        return nullptr;
      }
    }
    if (c == '"') {
      v->kind = Value::Kind::kString;
      return ParseString(v->s) ? std::move(v) : nullptr;
    }
    if (Lit("true")) {
      v->kind = Value::Kind::kBool;
      v->b = true;
      return v;
    }
    if (Lit("false")) {
      v->kind = Value::Kind::kBool;
      return v;
    }
    if (Lit("null")) return v;
    // number: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
    const std::size_t start = p_;
    if (p_ < t_.size() && t_[p_] == '-') ++p_;
    if (p_ >= t_.size() || !std::isdigit(static_cast<unsigned char>(t_[p_]))) return nullptr;
    if (t_[p_] == '0')
      ++p_;
    else
      while (p_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[p_]))) ++p_;
    if (p_ < t_.size() && t_[p_] == '.') {
      ++p_;
      if (p_ >= t_.size() || !std::isdigit(static_cast<unsigned char>(t_[p_]))) return nullptr;
      while (p_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[p_]))) ++p_;
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      ++p_;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
      if (p_ >= t_.size() || !std::isdigit(static_cast<unsigned char>(t_[p_]))) return nullptr;
      while (p_ < t_.size() && std::isdigit(static_cast<unsigned char>(t_[p_]))) ++p_;
    }
    v->kind = Value::Kind::kNumber;
    // from_chars is correctly rounded; out-of-range gives ±inf in JS, which stringifies as null.
    const auto r = std::from_chars(t_.data() + start, t_.data() + p_, v->n);
    if (r.ec == std::errc::result_out_of_range) {
      // distinguish overflow (→ Infinity → "null") from underflow (→ 0)
      std::string digits(t_.substr(start, p_ - start));
      v->n = std::strtod(digits.c_str(), nullptr);
    } else if (r.ec != std::errc()) {
      return nullptr;
    }
    return v;
  }
  static void AppendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool Hex4(std::uint32_t& out) {
    if (p_ + 4 > t_.size()) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = t_[p_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }
  bool ParseString(std::string& out) {
    if (p_ >= t_.size() || t_[p_] != '"') return false;
    ++p_;
    while (p_ < t_.size()) {
      const unsigned char c = static_cast<unsigned char>(t_[p_]);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {  // decode as Node does: each invalid byte becomes U+FFFD
        const std::size_t n = Utf8SequenceLength(t_, p_);
        if (n == 0) {
          out += "\xEF\xBF\xBD";
          ++p_;
        } else {
          out.append(t_.substr(p_, n));
          p_ += n;
        }
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++p_;
        continue;
      }
      if (++p_ >= t_.size()) return false;
      const char e = t_[p_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && t_.substr(p_, 2) == "\\u") {
            const std::size_t save = p_;
            p_ += 2;
            std::uint32_t lo = 0;
            if (Hex4(lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
              AppendUtf8(out, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
              break;
            }
            p_ = save;
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) {
            // lone surrogate: JSON.stringify writes it back as an escape; keep a marker that the
            // printer recognises (0xFF never occurs in UTF-8).
            char buf[8];
            std::snprintf(buf, sizeof buf, "\xff%04x", cp);
            out += buf;
          } else {
            AppendUtf8(out, cp);
          }
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  std::string_view t_;
  std::size_t values_ = 0;
  std::size_t p_ = 0;
};

void PrintString(std::string& out, const std::string& s) {
  out += '"';
  std::size_t start = 0;
  for (std::size_t i = s.find('\xFF'); i != std::string::npos; i = s.find('\xFF', start)) {
    json_text::AppendEscaped(out, std::string_view(s).substr(start, i - start));
    out += "\\u";  // a lone surrogate marker: \xff + 4 hex digits, written back as JS does
    out.append(s, i + 1, 4);
    start = i + 5;
  }
  json_text::AppendEscaped(out, std::string_view(s).substr(start));
  out += '"';
}

// UTF-16 code units of a UTF-8 key, for JavaScript's default sort order.
std::u16string Utf16(const std::string& s) {
  std::u16string out;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    int extra = 0;
    if (c == 0xFF && i + 4 < s.size()) {
      cp = static_cast<std::uint32_t>(std::stoul(s.substr(i + 1, 4), nullptr, 16));
      i += 5;
      out += static_cast<char16_t>(cp);
      continue;
    }
    if (c >= 0xF0) {
      cp = c & 0x07;
      extra = 3;
    } else if (c >= 0xE0) {
      cp = c & 0x0F;
      extra = 2;
    } else if (c >= 0xC0) {
      cp = c & 0x1F;
      extra = 1;
    }
    ++i;
    for (int k = 0; k < extra && i < s.size(); ++k, ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (cp >> 10));
      out += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

// A canonical array index ("0", "17", not "017" or "4294967295") — JS lists those first, ascending.
std::optional<std::uint32_t> ArrayIndex(const std::string& k) {
  if (k.empty() || k.size() > 10 || (k.size() > 1 && k[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : k) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v >= 4294967295ull) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

void Print(std::string& out, const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += v.b ? "true" : "false";
      return;
    case Value::Kind::kNumber:
      out += std::isfinite(v.n) ? JsNumber(v.n) : "null";
      return;
    case Value::Kind::kString:
      PrintString(out, v.s);
      return;
    case Value::Kind::kArray:
      out += '[';
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ',';
        Print(out, *v.items[i]);
      }
      out += ']';
      return;
    case Value::Kind::kObject: {
      std::vector<const Member*> sorted;
      for (const auto& m : v.members) sorted.push_back(&m);
      std::stable_sort(sorted.begin(), sorted.end(), [](const Member* a, const Member* b) {
        const auto ia = ArrayIndex(a->first), ib = ArrayIndex(b->first);
        if (ia && ib) return *ia < *ib;
        if (ia || ib) return static_cast<bool>(ia);
        return Utf16(a->first) < Utf16(b->first);
      });
      out += '{';
      for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i) out += ',';
        PrintString(out, sorted[i]->first);
        out += ':';
        Print(out, *sorted[i]->second);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string JsNumber(double d) {
  if (d == 0) return "0";  // also -0
  if (!std::isfinite(d)) return std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity");
  char buf[64];
  // shortest round-trip digits in scientific form: d[.ddd]e±x
  auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  const auto e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp10 = std::stoi(sci.substr(e + 1));
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // position of the decimal point
  std::string out = d < 0 ? "-" : "";
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<std::size_t>(n));
    out += '.';
    out += digits.substr(static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

namespace {

// A decoded string as UTF-8 for storage and display: the parser's lone-surrogate markers
// (0xFF + 4 hex digits, kept for the canonical form) become U+FFFD.
std::string DisplayText(const std::string& s) {
  if (s.find('\xFF') == std::string::npos) return s;
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\xFF' && i + 4 < s.size()) {
      out += "\xEF\xBF\xBD";
      i += 4;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool IsInteger(std::string_view raw) {
  if (!raw.empty() && raw[0] == '-') raw.remove_prefix(1);
  return !raw.empty() && std::all_of(raw.begin(), raw.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

const JsonField* ParsedBody::Find(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string ParsedBody::Text(std::string_view key) const {
  const auto* f = Find(key);
  if (!f) return {};
  if (f->is_string) return f->text;
  return IsInteger(f->raw) ? f->raw : std::string();
}

std::optional<ParsedBody> ParseBody(std::string_view json, bool canonical) {
  Parser p(json);
  auto v = p.ParseDocument();
  if (!v) return std::nullopt;
  ParsedBody out;
  if (canonical) {
    out.canonical.reserve(json.size());
    Print(out.canonical, *v);
  }
  out.is_object = v->kind == Value::Kind::kObject;
  for (const auto& [key, child] : v->members) {
    JsonField f;
    f.is_string = child->kind == Value::Kind::kString;
    if (f.is_string) f.text = DisplayText(child->s);
    f.raw = std::string(child->raw);
    out.fields.emplace_back(DisplayText(key), std::move(f));
  }
  return out;
}

std::optional<std::string> CanonicalJson(std::string_view json) {
  auto body = ParseBody(json, true);
  if (!body) return std::nullopt;
  return std::move(body->canonical);
}

std::string NowPaymentsSignatureOf(std::string_view canonical, std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  HMAC(EVP_sha512(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), md.data(), &len);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md.data()), len));
}

std::optional<std::string> NowPaymentsSignature(std::string_view body, std::string_view secret) {
  auto canonical = CanonicalJson(body);
  if (!canonical) return std::nullopt;
  return NowPaymentsSignatureOf(*canonical, secret);
}

bool SignatureMatches(std::string_view expected_hex, std::string_view signature_hex) {
  if (signature_hex.empty()) return false;
  std::string given(signature_hex);
  std::transform(given.begin(), given.end(), given.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ConstantTimeEquals(expected_hex, given);
}

bool VerifyNowPaymentsSignature(std::string_view body, std::string_view signature_hex, std::string_view secret) {
  auto expected = NowPaymentsSignature(body, secret);
  return expected && SignatureMatches(*expected, signature_hex);
}

}  // namespace fg::fulfillment

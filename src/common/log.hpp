// Logging: spdlog's default logger, one record per line on stderr, as text or as JSON.
//
// Structured fields (orderId, jobId, sid, userId, event, requestId, …) ride in the record through
// fg::Log(): in text they follow the message as ` key=value`, in JSON they are members beside
// time, level, thread and message. Plain spdlog calls still work in both formats (message only).
// Never put secrets, tokens, keys or request bodies in a message or a field (docs/operations.md).
#pragma once

#include <spdlog/spdlog.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace fg {

// Configures the default logger: `level` one of trace|debug|info|warn|error|off, `format` text or
// json. Throws std::invalid_argument on an unknown level or format.
void SetupLogging(const std::string& level, const std::string& format = "text");

// A field: text (a JSON string) or a number (a JSON number: counts, ids, durations).
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) LogField(std::string_view k, T n)
      : key(k), number(std::to_string(n)), is_number(true) {}
  LogField(std::string_view k, double d);
  std::string_view Value() const { return is_number ? std::string_view(number) : value; }

  std::string_view key;
  std::string_view value;
  std::string number;
  bool is_number = false;
};

// One record with fields. Empty text values are left out.
void Log(spdlog::level::level_enum level, std::string_view message, std::initializer_list<LogField> fields);

namespace log_detail {
// The record's payload: message, then for each field \x1f key \x1e value (\x1d instead of \x1e
// for a number). Exposed for tests.
std::string Encode(std::string_view message, std::initializer_list<LogField> fields);
// Renders a payload as text (`message key=value …`) or as the members of a JSON object (no braces).
void RenderText(std::string_view payload, std::string& out);
void RenderJsonMembers(std::string_view payload, std::string& out);
}  // namespace log_detail

}  // namespace fg

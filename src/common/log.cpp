#include "common/log.hpp"

#include "common/clock.hpp"
#include "common/json_text.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cctype>
#include <stdexcept>

namespace fg {

namespace log_detail {

constexpr char kField = '\x1f';
constexpr char kValue = '\x1e';
constexpr char kNumber = '\x1d';

namespace {
// Control characters never reach a log line (a hostile value cannot forge a record or a field).
void AppendClean(std::string& out, std::string_view s) {
  for (const char c : s) out += static_cast<unsigned char>(c) < 0x20 || c == '\x7f' ? ' ' : c;
}

// fn(key, value, is_number) for each field of `payload`; `message` is the text before them.
template <class Fn>
void ForEachField(std::string_view payload, std::string_view& message, Fn&& fn) {
  auto cut = payload.find(kField);
  message = payload.substr(0, cut);
  while (cut != std::string_view::npos) {
    payload.remove_prefix(cut + 1);
    cut = payload.find(kField);
    const std::string_view field = payload.substr(0, cut);
    const auto eq = field.find_first_of("\x1e\x1d");
    if (eq != std::string_view::npos) fn(field.substr(0, eq), field.substr(eq + 1), field[eq] == kNumber);
  }
}

// A JSON number as std::to_string / fmt print them: -?digits(.digits)?
bool JsonNumber(std::string_view v) {
  if (!v.empty() && v.front() == '-') v.remove_prefix(1);
  if (v.empty() || !std::isdigit(static_cast<unsigned char>(v.front()))) return false;
  bool dot = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '.' && !dot && i + 1 < v.size()) {
      dot = true;
    } else if (!std::isdigit(static_cast<unsigned char>(v[i]))) {
      return false;
    }
  }
  return true;
}
}  // namespace

std::string Encode(std::string_view message, std::initializer_list<LogField> fields) {
  std::string out;
  out.reserve(message.size() + 64);
  AppendClean(out, message);
  for (const auto& f : fields) {
    if (f.Value().empty()) continue;
    out += kField;
    AppendClean(out, f.key);
    out += f.is_number ? kNumber : kValue;
    AppendClean(out, f.Value());
  }
  return out;
}

void RenderText(std::string_view payload, std::string& out) {
  std::string_view message;
  std::string fields;
  ForEachField(payload, message, [&](std::string_view k, std::string_view v, bool) {
    fields += ' ';
    fields.append(k);
    fields += '=';
    const bool quote = v.find(' ') != std::string_view::npos || v.find('"') != std::string_view::npos;
    if (quote) {
      fields += '"';
      json_text::AppendEscaped(fields, v);
      fields += '"';
    } else {
      fields.append(v);
    }
  });
  out.append(message);
  out += fields;
}

void RenderJsonMembers(std::string_view payload, std::string& out) {
  std::string_view message;
  std::string fields;
  ForEachField(payload, message, [&](std::string_view k, std::string_view v, bool number) {
    if (k == "time" || k == "level" || k == "message" || k == "thread") return;  // never shadows the record's own
    fields += ",\"";
    json_text::AppendEscaped(fields, k);
    if (number && JsonNumber(v)) {
      fields += "\":";
      fields.append(v);
      return;
    }
    fields += "\":\"";
    json_text::AppendEscaped(fields, v);
    fields += '"';
  });
  out += "\"message\":\"";
  json_text::AppendEscaped(out, message);
  out += '"';
  out += fields;
}

}  // namespace log_detail

LogField::LogField(std::string_view k, double d) : key(k), number(fmt::format("{:.3f}", d)), is_number(true) {}

namespace {

// `%*` in a text pattern: the message followed by its fields.
class TextFields : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string out;
    log_detail::RenderText(std::string_view(msg.payload.data(), msg.payload.size()), out);
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<TextFields>(); }
};

// One JSON object per record: {"time","level","thread","message", fields…}.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string out = "{\"time\":\"" + IsoTimestamp(msg.time) + "\",\"level\":\"";
    // the names --log-level takes: "warn", not spdlog's "warning"
    const auto level =
        msg.level == spdlog::level::warn ? spdlog::string_view_t("warn") : spdlog::level::to_string_view(msg.level);
    out.append(level.data(), level.size());
    out += "\",\"thread\":" + std::to_string(msg.thread_id) + ",";
    log_detail::RenderJsonMembers(std::string_view(msg.payload.data(), msg.payload.size()), out);
    out += "}\n";
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void SetupLogging(const std::string& level, const std::string& format) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") throw std::invalid_argument("unknown log level: " + level);
  if (format != "text" && format != "json") throw std::invalid_argument("unknown log format: " + format);
  auto logger = spdlog::get("fg");
  if (!logger) logger = spdlog::stderr_color_mt("fg");
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<TextFields>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %*");
    logger->set_formatter(std::move(f));
  }
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

void Log(spdlog::level::level_enum level, std::string_view message, std::initializer_list<LogField> fields) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;  // nothing is built for a record nobody keeps
  logger->log(level, "{}", log_detail::Encode(message, fields));
}

}  // namespace fg

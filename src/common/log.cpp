#include "common/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <stdexcept>

namespace fg {

void SetupLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("fg");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") throw std::invalid_argument("unknown log level: " + level);
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

}  // namespace fg

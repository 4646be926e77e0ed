#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace fg {

// Configures the default spdlog logger: one line per record on stderr, `level` one of
// trace|debug|info|warn|error. Throws std::invalid_argument on an unknown level.
void SetupLogging(const std::string& level);

}  // namespace fg

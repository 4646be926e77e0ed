#pragma once

#include <chrono>
#include <string>

namespace fg {

// ISO-8601 UTC with milliseconds, e.g. 2026-11-26T00:32:44.123Z (JavaScript's toISOString()).
std::string IsoTimestamp(std::chrono::system_clock::time_point tp = std::chrono::system_clock::now());
std::int64_t UnixSeconds();
// Milliseconds since the Unix epoch (system clock).
std::int64_t UnixMillis();

}  // namespace fg

#pragma once

#include <string>

namespace fg::app {

struct ConformanceOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  std::size_t threads = 0;  // 0: one per core
};

// Runs the servers the official Engine.IO v4 / Socket.IO v5 test suites expect, until SIGINT/SIGTERM.
int RunConformance(const ConformanceOptions& options);

}  // namespace fg::app

#pragma once

#include <string>

namespace fg::app {

struct ConformanceOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  std::size_t threads = 0;    // 0: one per core
  bool client_suite = false;  // socket.io-client's own suite instead (its test/support/server.ts)
};

// Runs the servers the official Engine.IO v4 / Socket.IO v5 test suites expect (or, with
// client_suite, socket.io-client's own), until SIGINT/SIGTERM.
int RunConformance(const ConformanceOptions& options);

}  // namespace fg::app

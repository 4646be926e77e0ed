// Server wiring: the only place that knows every part. Builds store → fulfillment → gateway →
// Socket.IO → Engine.IO → HTTP from a finished Config, runs one loop per core, drains on
// SIGINT/SIGTERM.
#pragma once

#include "app/config.hpp"

namespace fg::app {

// Runs the gateway until SIGINT/SIGTERM. `c` has been through Finish. Returns the exit code; a
// start-up failure prints one line to stderr and returns 2.
int Serve(Config c);

// Prints "fulfillment-gateway: error: <message>" to stderr and returns 2 (the exit code).
int Fatal(const std::string& message);

}  // namespace fg::app

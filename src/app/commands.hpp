// The subcommands beside serving: tools for development, tests and operators.
#pragma once

#include "supplier_sim/supplier_sim.hpp"

#include <string>

namespace fg::app {

// `token`: prints an HS256 user token (ttl_s 0: no exp claim).
int PrintToken(const std::string& jwt_secret, const std::string& sub, const std::string& email, const std::string& role,
               long ttl_s);

// `ipn-sign`: prints the x-nowpayments-sig header for the JSON body in `file` (- for stdin).
int PrintIpnSignature(const std::string& ipn_secret, const std::string& file);

// `supplier-sim`: runs the Kinguin-style supplier simulator until SIGINT/SIGTERM.
int RunSupplierSim(const std::string& host, unsigned short port, const supplier_sim::SimOptions& options);

}  // namespace fg::app

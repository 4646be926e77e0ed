// fulfillment-gateway: parses the command line (flags over environment, src/app/config.cpp) and
// runs the chosen command: serve (the default, src/app/serve.cpp), conformance, token, ipn-sign,
// supplier-sim (src/app/commands.cpp).
#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/conformance.hpp"
#include "app/serve.hpp"
#include "common/log.hpp"

#include <CLI/CLI.hpp>

#include <malloc.h>

#include <cstdio>

int main(int argc, char** argv) {
  using namespace fg::app;
  // glibc returns the top of a thread's heap to the kernel as soon as 128 KiB are free there, and
  // faults it back in on the next allocation: the store thread's commits (SQLite's statement and
  // page buffers) made that a madvise + page faults per statement. Keep up to 64 MiB.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  CLI::App app{"fulfillment-gateway: a Socket.IO v4 real-time gateway for order-fulfillment updates"};
  app.require_subcommand(0, 1);
  Config c;
  AddServeOptions(app, c);

  ConformanceOptions conf;
  auto* conformance =
      app.add_subcommand("conformance", "serve the handlers the official Engine.IO/Socket.IO test suites expect");
  conformance->add_option("--port", conf.port, "port (the suites use 3000)")->capture_default_str();
  conformance->add_option("--host", conf.host, "address")->capture_default_str();
  conformance->add_flag("--client-suite", conf.client_suite,
                        "serve socket.io-client's own test suite instead (its server on port 3210 unless --port)");

  std::string sub, email, role;
  long ttl = 3600;
  auto* token = app.add_subcommand("token", "print an HS256 user token signed with JWT_SECRET (development and tests)");
  token->add_option("--sub", sub, "user id")->required();
  token->add_option("--email", email, "email claim");
  token->add_option("--role", role, "role claim (admin makes an admin)");
  token->add_option("--ttl", ttl, "seconds until exp (0: no exp claim)")->capture_default_str();

  std::string sign_file = "-";
  auto* ipn_sign = app.add_subcommand(
      "ipn-sign", "print the x-nowpayments-sig header for an IPN body (file or - for stdin), keyed with IPN_SECRET");
  ipn_sign->add_option("body", sign_file, "file with the JSON body, - for stdin")->capture_default_str();

  std::string sim_host = "127.0.0.1";
  unsigned short sim_port = 4001;
  fg::supplier_sim::SimOptions sim;
  auto sim_latency = sim.latency.count();
  auto* supplier_sim = app.add_subcommand("supplier-sim", "run the Kinguin-style supplier simulator");
  supplier_sim->add_option("--host", sim_host)->capture_default_str();
  supplier_sim->add_option("--port", sim_port)->capture_default_str();
  supplier_sim->add_option("--latency", sim_latency, "ms per request")->capture_default_str();
  supplier_sim->add_option("--failure-rate", sim.failure_rate, "share of requests answered 503")->capture_default_str();
  supplier_sim->add_option("--fail-first", sim.fail_first, "the first N requests answer 503")->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  try {
    fg::SetupLogging(c.log_level, c.log_format);
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  if (*conformance) {
    if (conf.client_suite && conformance->count("--port") == 0) conf.port = 3210;
    return RunConformance(conf);
  }
  if (*token) return PrintToken(c.jwt_secret, sub, email, role, ttl);
  if (*ipn_sign) return PrintIpnSignature(c.service.ipn_secret, sign_file);
  if (*supplier_sim) {
    sim.latency = std::chrono::milliseconds(sim_latency);
    sim.api_key = c.supplier_api_key;
    return RunSupplierSim(sim_host, sim_port, sim);
  }
  if (c.demo && !c.host_given) {
    // The demo hands out admin tokens to anyone who asks: never on a public interface by default.
    c.host = "127.0.0.1";
    std::fprintf(
        stderr,
        "demo mode: listening on 127.0.0.1 only (its sign-in page hands out admin tokens); pass --host to change\n");
  }
  if (auto error = Finish(c)) return Fatal(*error);
  return Serve(std::move(c));
}

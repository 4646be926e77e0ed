// The gateway's configuration: one struct made of the parts' own option structs, so each default
// lives once, beside the code that uses it (Limits, engineio::ServerConfig, socketio::ServerOptions,
// fulfillment::ServiceConfig, supplier_sim::SimOptions). AddServeOptions is the one table of flags
// and environment variables; Finish derives what depends on several flags and checks the result.
#pragma once

#include "common/limits.hpp"
#include "engineio/server.hpp"
#include "fulfillment/types.hpp"
#include "socketio/server.hpp"
#include "supplier_sim/supplier_sim.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fg::app {

struct Config {
  std::string host = "0.0.0.0";
  unsigned short port = 4000;
  std::string data_dir = "./data";
  std::size_t threads = 0;  // 0: one per core
  std::string jwt_secret;
  std::string api_key;
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
  // Accepted beside jwt_secret while a rotation is under way (docs/operations.md).
  std::string jwt_secret_previous;
  // GET /metrics: bearer token (empty: the API key); with metrics_listen ("host:port"), served on
  // that address alone, without a token unless one is set.
  std::string metrics_token;
  std::string metrics_listen;
  // PEM certificate chain and key: the main port speaks HTTPS and WSS (reloaded on SIGHUP).
  std::string tls_cert;
  std::string tls_key;
  // PostgreSQL instead of the embedded SQLite file (a cluster's shared store); its pool size; the
  // name of this node among those sharing it (default host name:port, stable across restarts).
  std::string database_url;
  std::string redis_url;  // with database_url: this node joins the others through Redis
  std::string advertise;  // ip:port the other nodes reach this one at (default: host:port)
  // SIGTERM closes the sessions spread over this long (-1: 10 s in a cluster, else at once).
  std::chrono::seconds drain{-1};
  std::size_t db_pool = 4;
  std::string node_id;

  Limits limits;
  engineio::ServerConfig engine;
  socketio::ServerOptions sio;
  fulfillment::ServiceConfig service;

  // Secrets of the fulfillment flow kept in the data dir when not given.
  std::string url_signing_secret;
  std::string key_encryption_key;

  // Supplier: empty URL runs the simulator in-process.
  std::string supplier_url;
  std::string supplier_api_key;
  std::chrono::milliseconds supplier_timeout{10000};
  supplier_sim::SimOptions sim;
  std::optional<double> sim_failure_rate;  // unset: 0, or 0.15 in demo mode

  bool demo = false;
  std::chrono::milliseconds demo_interval{5000};
  std::string public_url;
  std::string web_dir;  // empty: <binary dir>/../web/dist, else ./web/dist
  bool host_given = false;
};

// Shortest secret accepted for HMAC keys (JWT, signed URLs): shorter ones are guessable offline.
inline constexpr std::size_t kMinSecretBytes = 16;

// Registers every serve flag (each with its environment variable) on `app`, bound to `c`.
void AddServeOptions(CLI::App& app, Config& c);

// After parsing: applies the defaults that depend on other settings or on the machine (the
// connection bound from the open-files limit, the public URL's origin, demo mode's host and
// failure rate) and checks what the flags cannot. Returns an error message, or nothing.
std::optional<std::string> Finish(Config& c);

// "a, b,c" → {"a", "b", "c"}: blanks around items and empty items dropped.
std::vector<std::string> SplitList(const std::string& s);

}  // namespace fg::app

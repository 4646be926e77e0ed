// fulfillment-gateway: the only place that knows every part. Reads config (flags over env),
// wires store → gateway → Socket.IO → Engine.IO → HTTP, runs one loop per core, drains on
// SIGINT/SIGTERM.
#include "app/conformance.hpp"
#include "app/router.hpp"
#include "auth/jwt.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "gateway/gateway.hpp"
#include "http_api/api.hpp"
#include "net/listener.hpp"
#include "net/loops.hpp"
#include "socketio/server.hpp"
#include "store/sqlite_order_store.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

namespace {

struct ServeConfig {
  std::string host = "0.0.0.0";
  unsigned short port = 4000;
  std::string data_dir = "./data";
  std::size_t threads = 0;
  std::string jwt_secret;
  std::string api_key;
  std::string cors_origins = "http://localhost:3000";
  unsigned ping_interval_ms = 25000;
  unsigned ping_timeout_ms = 20000;
  unsigned connect_timeout_ms = 45000;
  std::size_t max_payload = 1'000'000;
  std::size_t max_body = 1'000'000;
  std::size_t max_send_queue = 4 * 1024 * 1024;
  std::size_t max_subscriptions = 256;
  std::string log_level = "info";
};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

int Fatal(const std::string& message) {
  std::fprintf(stderr, "fulfillment-gateway: error: %s\n", message.c_str());
  return 2;
}

int Serve(const ServeConfig& c) {
  if (c.jwt_secret.empty()) return Fatal("JWT_SECRET is not set (the HS256 secret for user tokens)");
  if (c.api_key.empty()) return Fatal("API_KEY is not set (the bearer key for the server-to-server API)");
  if (c.ping_interval_ms == 0 || c.ping_timeout_ms == 0) return Fatal("ping interval and timeout must be positive");

  fg::Limits limits;
  limits.max_payload = c.max_payload;
  limits.max_api_body = c.max_body;
  limits.max_send_queue_bytes = c.max_send_queue;
  limits.max_subscriptions_per_socket = c.max_subscriptions;

  std::error_code fs_ec;
  std::filesystem::create_directories(c.data_dir, fs_ec);
  if (fs_ec) return Fatal("cannot create data directory '" + c.data_dir + "': " + fs_ec.message());

  std::unique_ptr<fg::store::SqliteOrderStore> store;
  try {
    store = std::make_unique<fg::store::SqliteOrderStore>((std::filesystem::path(c.data_dir) / "gateway.db").string());
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  fg::store::StoreWorker worker(1);

  const std::size_t threads = c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  fg::net::Loops loops(threads);

  auto gateway = std::make_shared<fg::gateway::Gateway>(loops, *store, worker, fg::auth::JwtVerifier(c.jwt_secret), limits);
  fg::socketio::ServerOptions sio_options;
  sio_options.connect_timeout = std::chrono::milliseconds(c.connect_timeout_ms);
  fg::socketio::Server sio(sio_options);
  sio.AddNamespace(std::string(fg::gateway::kNamespace), gateway);

  fg::engineio::ServerConfig eio_config;
  eio_config.path = "/socket.io/";
  eio_config.options.ping_interval = std::chrono::milliseconds(c.ping_interval_ms);
  eio_config.options.ping_timeout = std::chrono::milliseconds(c.ping_timeout_ms);
  eio_config.options.max_payload = c.max_payload;
  eio_config.cors_origins = SplitList(c.cors_origins);
  fg::engineio::Server engine(eio_config, limits, [&sio](const std::shared_ptr<fg::engineio::Session>& s) { sio.OnSession(s); });

  fg::http_api::Api api(*gateway, *store, worker, c.api_key, limits);
  fg::app::Router router({&engine}, [&api](const std::shared_ptr<fg::net::HttpConnection>& conn, fg::net::Request req) {
    api.Handle(conn, std::move(req));
  });

  std::shared_ptr<fg::net::Listener> listener;
  try {
    listener = std::make_shared<fg::net::Listener>(loops, c.host, c.port, router, limits);
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  listener->Start();

  boost::asio::signal_set signals(loops.At(0), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: closing {} sessions and stopping", sig, engine.SessionCount());
    listener->Stop();
    engine.CloseAll("server shutting down");
    // Give the close packets a moment to flush before the loops stop.
    auto timer = std::make_shared<boost::asio::steady_timer>(loops.At(0), std::chrono::milliseconds(200));
    timer->async_wait([&loops, timer](boost::system::error_code) { loops.Stop(); });
  });

  spdlog::info("fulfillment-gateway listening on http://{}:{} ({} loops, data dir {})", c.host, listener->Port(), threads, c.data_dir);
  std::printf("READY port=%u\n", listener->Port());
  std::fflush(stdout);
  loops.Start();
  loops.Join();
  worker.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fulfillment-gateway: a Socket.IO v4 real-time gateway for order-fulfillment updates"};
  app.require_subcommand(0, 1);
  ServeConfig c;
  app.add_option("--host", c.host, "address to listen on")->envname("HOST")->capture_default_str();
  app.add_option("--port", c.port, "port for HTTP, WebSocket and Socket.IO (0: any free port)")->envname("PORT")->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "directory of the embedded SQLite database")->envname("DATA_DIR")->capture_default_str();
  app.add_option("--threads", c.threads, "event loops (0: one per core)")->envname("THREADS")->capture_default_str();
  app.add_option("--jwt-secret", c.jwt_secret, "HS256 secret for user tokens (required)")->envname("JWT_SECRET");
  app.add_option("--api-key", c.api_key, "bearer key for the server-to-server API (required)")->envname("API_KEY");
  app.add_option("--cors-origins", c.cors_origins, "comma list of allowed browser origins, or *")->envname("CORS_ORIGINS")->capture_default_str();
  app.add_option("--ping-interval", c.ping_interval_ms, "Engine.IO ping interval, ms")->envname("PING_INTERVAL")->capture_default_str();
  app.add_option("--ping-timeout", c.ping_timeout_ms, "Engine.IO ping timeout, ms")->envname("PING_TIMEOUT")->capture_default_str();
  app.add_option("--connect-timeout", c.connect_timeout_ms, "ms a client has to join a namespace")->envname("CONNECT_TIMEOUT")->capture_default_str();
  app.add_option("--max-payload", c.max_payload, "Engine.IO maxPayload, bytes")->envname("MAX_PAYLOAD")->capture_default_str();
  app.add_option("--max-body", c.max_body, "largest REST request body, bytes")->envname("MAX_BODY")->capture_default_str();
  app.add_option("--max-send-queue", c.max_send_queue, "bytes queued to one client before it is cut off as a slow consumer")
      ->envname("MAX_SEND_QUEUE")->capture_default_str();
  app.add_option("--max-subscriptions", c.max_subscriptions, "order subscriptions per socket")->envname("MAX_SUBSCRIPTIONS")->capture_default_str();
  app.add_option("--log-level", c.log_level, "trace|debug|info|warn|error")->envname("LOG_LEVEL")->capture_default_str();

  fg::app::ConformanceOptions conf;
  auto* conformance = app.add_subcommand("conformance", "serve the handlers the official Engine.IO/Socket.IO test suites expect");
  conformance->add_option("--port", conf.port, "port (the suites use 3000)")->capture_default_str();
  conformance->add_option("--host", conf.host, "address")->capture_default_str();

  std::string sub, email, role;
  long ttl = 3600;
  auto* token = app.add_subcommand("token", "print an HS256 user token signed with JWT_SECRET (development and tests)");
  token->add_option("--sub", sub, "user id")->required();
  token->add_option("--email", email, "email claim");
  token->add_option("--role", role, "role claim (admin makes an admin)");
  token->add_option("--ttl", ttl, "seconds until exp (0: no exp claim)")->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  try {
    fg::SetupLogging(c.log_level);
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  if (*conformance) return fg::app::RunConformance(conf);
  if (*token) {
    if (c.jwt_secret.empty()) return Fatal("JWT_SECRET is not set");
    boost::json::object claims{{"sub", sub}};
    if (!email.empty()) claims["email"] = email;
    if (!role.empty()) claims["role"] = role;
    claims["iat"] = fg::UnixSeconds();
    if (ttl > 0) claims["exp"] = fg::UnixSeconds() + ttl;
    std::cout << fg::auth::SignHs256(claims, c.jwt_secret) << "\n";
    return 0;
  }
  return Serve(c);
}

// fulfillment-gateway: the only place that knows every part. Reads config (flags over env),
// wires store → fulfillment → gateway → Socket.IO → Engine.IO → HTTP, runs one loop per core,
// drains on SIGINT/SIGTERM. Subcommands: conformance, token, ipn-sign, supplier-sim.
#include "app/conformance.hpp"
#include "app/demo.hpp"
#include "app/router.hpp"
#include "app/static_files.hpp"
#include "auth/jwt.hpp"
#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/log.hpp"
#include "fulfillment/js_json.hpp"
#include "fulfillment/service.hpp"
#include "gateway/gateway.hpp"
#include "http_api/api.hpp"
#include "net/listener.hpp"
#include "net/loops.hpp"
#include "socketio/server.hpp"
#include "store/sqlite_order_store.hpp"
#include "supplier_sim/supplier_sim.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;

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
  unsigned connect_timeout_ms = 10000;
  std::size_t max_payload = 1'000'000;
  std::size_t max_body = 1'000'000;
  std::size_t max_send_queue = 4 * 1024 * 1024;
  std::size_t max_combined_frames = 1 << 18;
  std::size_t max_subscriptions = 256;
  std::size_t max_sessions = 100'000;
  fg::Limits limits;  // the hardening limits below are set on it directly
  unsigned header_timeout_s = 10;
  unsigned body_timeout_s = 30;
  double reveals_per_minute = 20;
  std::string log_level = "info";
  // fulfillment
  std::string ipn_secret;
  std::string kinguin_secret;
  std::string url_signing_secret;
  std::string key_encryption_key;
  std::string supplier_url;
  std::string supplier_api_key;
  unsigned supplier_timeout_ms = 10000;
  double sim_failure_rate = -1;  // <0: default (0 normally, 0.15 in demo)
  unsigned sim_latency_ms = 50;
  std::uint64_t sim_fail_first = 0;
  std::string paid_statuses = "finished,confirmed";
  std::size_t job_workers = 2;
  long job_max_attempts = 5;
  unsigned job_backoff_base_ms = 1000;
  unsigned job_backoff_cap_ms = 60000;
  unsigned job_lease_ms = 60000;
  long signed_url_ttl_s = 900;
  bool demo = false;
  unsigned demo_interval_ms = 5000;
  std::string public_url;
  std::string web_dir;  // empty: <binary dir>/../web/dist, else ./web/dist
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

// Shortest secret accepted for HMAC keys (JWT, signed URLs): shorter ones are guessable offline.
constexpr std::size_t kMinSecretBytes = 16;

// Writes `text` to `file` so that a crash leaves either the old file or the whole new one: a
// temporary file (0600) is written and fsynced, renamed over `file`, then the directory is fsynced.
void WriteFileAtomically(const fs::path& file, const std::string& text) {
  const fs::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    throw std::runtime_error("cannot sync " + tmp.string() + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), file.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp.string() + ": " + std::strerror(errno));
  const int dir =
      ::open(file.parent_path().empty() ? "." : file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

// A secret kept in the data dir (mode 0600), created with `bytes` random bytes on first use. An
// existing file shorter than `min_length` (empty, truncated) is an error, never a weak key.
std::string DataDirSecret(const fs::path& file, std::size_t bytes, std::size_t min_length) {
  if (fs::exists(file)) {
    std::ifstream in(file);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.size() < min_length) {
      throw std::runtime_error(file.string() + " holds " +
                               (s.empty() ? std::string("an empty secret")
                                          : "a secret of only " + std::to_string(s.size()) + " characters") +
                               " (at least " + std::to_string(min_length) +
                               " needed); delete it to generate a new one, or set the secret in the environment");
    }
    return s;
  }
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  const std::string text = fg::Base64Encode(raw);
  WriteFileAtomically(file, text + "\n");
  return text;
}

std::string DefaultWebDir() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto candidate = exe.parent_path().parent_path() / "web" / "dist";
    if (fs::exists(candidate / "index.html")) return candidate.string();
  }
  return "web/dist";
}

int Serve(ServeConfig c) {
  if (c.jwt_secret.empty()) return Fatal("JWT_SECRET is not set (the HS256 secret for user tokens)");
  if (c.jwt_secret.size() < kMinSecretBytes) {
    return Fatal("JWT_SECRET is too short (" + std::to_string(c.jwt_secret.size()) + " characters; at least " +
                 std::to_string(kMinSecretBytes) + ")");
  }
  if (c.api_key.empty()) return Fatal("API_KEY is not set (the bearer key for the server-to-server API)");
  if (c.ping_interval_ms == 0 || c.ping_timeout_ms == 0) return Fatal("ping interval and timeout must be positive");
  if (c.job_max_attempts < 1) return Fatal("JOB_MAX_ATTEMPTS must be at least 1");

  fg::Limits limits = c.limits;
  limits.header_timeout = std::chrono::seconds(std::max(1u, c.header_timeout_s));
  limits.body_timeout = std::chrono::seconds(std::max(1u, c.body_timeout_s));
  if (limits.max_connections == 0) {
    rlimit rl{};
    const std::size_t fds = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : 65536;
    limits.max_connections = fds > 512 ? fds - 256 : fds / 2;
  }
  limits.max_payload = c.max_payload;
  limits.max_api_body = c.max_body;
  limits.max_send_queue_bytes = c.max_send_queue;
  limits.max_combined_frames = std::max<std::size_t>(1, c.max_combined_frames);
  limits.max_subscriptions_per_socket = c.max_subscriptions;
  limits.max_sessions = c.max_sessions;

  // Everything under the data dir (database, WAL, keys, secrets) is the owner's alone.
  ::umask(077);
  std::error_code fs_ec;
  fs::create_directories(c.data_dir, fs_ec);
  if (fs_ec) return Fatal("cannot create data directory '" + c.data_dir + "': " + fs_ec.message());
  const fs::path data(c.data_dir);
  fs::permissions(data, fs::perms::owner_all, fs::perm_options::replace, fs_ec);
  if (fs_ec) return Fatal("cannot restrict data directory '" + c.data_dir + "' to its owner: " + fs_ec.message());

  std::unique_ptr<fg::store::SqliteStore> store;
  try {
    store =
        std::make_unique<fg::store::SqliteStore>((data / "gateway.db").string(), 100'000, limits.unknown_order_cache);
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  for (const char* name : {"gateway.db", "gateway.db-wal", "gateway.db-shm"}) {  // files made by an older version
    if (fs::exists(data / name))
      fs::permissions(data / name, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, fs_ec);
  }

  // Secrets of the fulfillment flow: from the environment, else kept in the data dir. Notes are
  // logged once the port is bound, so a start-up failure stays one line.
  std::vector<std::string> notes;
  std::string master_source = "KEY_ENCRYPTION_KEY";
  try {
    if (c.key_encryption_key.empty()) {
      master_source = (data / "master.key").string();
      c.key_encryption_key = DataDirSecret(data / "master.key", 32, 1);
      notes.push_back("KEY_ENCRYPTION_KEY not set: using the generated key in " + master_source);
    }
    if (c.url_signing_secret.empty()) {
      c.url_signing_secret = DataDirSecret(data / "url-signing.secret", 32, kMinSecretBytes);
    } else if (c.url_signing_secret.size() < kMinSecretBytes) {
      return Fatal("URL_SIGNING_SECRET is too short (" + std::to_string(c.url_signing_secret.size()) +
                   " characters; at least " + std::to_string(kMinSecretBytes) + ")");
    }
    if (c.demo && c.ipn_secret.empty()) c.ipn_secret = DataDirSecret(data / "ipn.secret", 24, kMinSecretBytes);
    if (c.demo && c.kinguin_secret.empty())
      c.kinguin_secret = DataDirSecret(data / "kinguin.secret", 24, kMinSecretBytes);
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  auto master = fg::fulfillment::ParseMasterKey(c.key_encryption_key);
  if (!master) return Fatal("the master key in " + master_source + " must be base64 of exactly 32 bytes");
  if (c.ipn_secret.empty()) notes.push_back("IPN_SECRET not set: POST /webhooks/nowpayments answers 503");

  const std::size_t threads = c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  fg::net::Loops loops(threads);
  fg::store::StoreWorker worker(1);

  // Supplier: SUPPLIER_URL, else the simulator in-process on a loopback port.
  std::unique_ptr<fg::net::Loops> sim_loops;
  std::unique_ptr<fg::supplier_sim::SupplierSim> sim;
  std::shared_ptr<fg::net::Listener> sim_listener;
  if (c.supplier_url.empty()) {
    fg::supplier_sim::SimOptions so;
    so.latency = std::chrono::milliseconds(c.sim_latency_ms);
    so.failure_rate = c.sim_failure_rate >= 0 ? c.sim_failure_rate : (c.demo ? 0.15 : 0.0);
    so.api_key = c.supplier_api_key;
    so.fail_first = c.sim_fail_first;
    sim = std::make_unique<fg::supplier_sim::SupplierSim>(so);
    sim_loops = std::make_unique<fg::net::Loops>(1);
    sim_listener = std::make_shared<fg::net::Listener>(*sim_loops, "127.0.0.1", 0, *sim, limits);
    sim_listener->Start();
    sim_loops->Start();
    c.supplier_url = "http://127.0.0.1:" + std::to_string(sim_listener->Port());
    notes.push_back("SUPPLIER_URL not set: using the built-in supplier simulator at " + c.supplier_url +
                    " (failure rate " + std::to_string(so.failure_rate) + ")");
  }
  std::unique_ptr<fg::fulfillment::HttpSupplier> supplier;
  try {
    supplier = std::make_unique<fg::fulfillment::HttpSupplier>(c.supplier_url, c.supplier_api_key,
                                                               std::chrono::milliseconds(c.supplier_timeout_ms));
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  std::unique_ptr<fg::fulfillment::LocalObjectStore> objects;
  try {
    objects = std::make_unique<fg::fulfillment::LocalObjectStore>((data / "keys").string());
  } catch (const std::exception& e) {
    return Fatal(std::string("cannot use the key directory: ") + e.what());
  }

  auto gateway =
      std::make_shared<fg::gateway::Gateway>(loops, *store, worker, fg::auth::JwtVerifier(c.jwt_secret), limits);
  fg::fulfillment::ServiceConfig sc;
  sc.paid_statuses = SplitList(c.paid_statuses);
  sc.max_attempts = c.job_max_attempts;
  sc.backoff = fg::fulfillment::Backoff{std::chrono::milliseconds(c.job_backoff_base_ms),
                                        std::chrono::milliseconds(c.job_backoff_cap_ms)};
  sc.lease = std::chrono::milliseconds(c.job_lease_ms);
  sc.url_ttl = std::chrono::seconds(c.signed_url_ttl_s);
  sc.workers = c.job_workers;
  sc.ipn_secret = c.ipn_secret;
  sc.kinguin_secret = c.kinguin_secret;
  sc.reveals_per_minute = c.reveals_per_minute;
  fg::fulfillment::Service service(
      *store, *objects, fg::fulfillment::KeyCipher(*master), fg::fulfillment::UrlSigner(c.url_signing_secret),
      *supplier,
      [gw = gateway.get()](const std::vector<fg::fulfillment::Emitted>& events) {
        std::vector<fg::gateway::Gateway::Outgoing> out;
        out.reserve(events.size());
        for (const auto& e : events) {
          out.push_back({fg::events::Name(e.event), fg::events::AudienceOf(e.event), e.order_id, e.json, e.owner_id,
                         e.owner_json});
        }
        gw->PublishAll(out);
      },
      sc);

  fg::socketio::ServerOptions sio_options;
  sio_options.connect_timeout = std::chrono::milliseconds(c.connect_timeout_ms);
  sio_options.max_packet_bytes = c.max_payload;
  fg::socketio::Server sio(sio_options);
  sio.AddNamespace(std::string(fg::gateway::kNamespace), gateway);

  fg::engineio::ServerConfig eio_config;
  eio_config.path = "/socket.io/";
  eio_config.options.ping_interval = std::chrono::milliseconds(c.ping_interval_ms);
  eio_config.options.ping_timeout = std::chrono::milliseconds(c.ping_timeout_ms);
  eio_config.options.max_payload = c.max_payload;
  eio_config.cors_origins = SplitList(c.cors_origins);
  if (!c.public_url.empty()) {  // the pages' own origin when served behind another name
    std::string origin = c.public_url;
    if (const auto scheme = origin.find("://"); scheme != std::string::npos) {
      if (const auto path = origin.find('/', scheme + 3); path != std::string::npos) origin.resize(path);
    }
    eio_config.cors_origins.push_back(origin);
  }
  fg::engineio::Server engine(eio_config, limits,
                              [&sio](const std::shared_ptr<fg::engineio::Session>& s) { sio.OnSession(s); });

  fg::http_api::Api api(*gateway, *store, worker, c.api_key, fg::auth::JwtVerifier(c.jwt_secret), service, limits);
  fg::app::StaticFiles web;
  const std::string web_dir = c.web_dir.empty() ? DefaultWebDir() : c.web_dir;
  if (web.Load(web_dir)) {
    notes.push_back("serving the web app from " + web_dir + " (" + std::to_string(web.Count()) + " files)");
  } else {
    notes.push_back("no web app at " + web_dir + " (build it with scripts/build.sh); pages answer 404");
  }
  auto demo_token = [&c](const std::string& sub, const std::string& role) {
    boost::json::object claims{{"sub", sub}, {"email", sub + "@demo.example"}, {"exp", fg::UnixSeconds() + 7 * 86400}};
    if (!role.empty()) claims["role"] = role;
    return fg::auth::SignHs256(claims, c.jwt_secret);
  };
  fg::app::Router router({&engine}, [&](const std::shared_ptr<fg::net::HttpConnection>& conn, fg::net::Request req) {
    if (c.demo && req.target() == "/api/v1/demo/users" && req.method() == fg::net::http::verb::get) {
      // Demo mode only: the login page's user list. Not routed at all outside demo mode.
      boost::json::array users;
      for (const char* u : fg::app::kDemoUsers)
        users.push_back(boost::json::object{{"userId", u}, {"role", "user"}, {"token", demo_token(u, "")}});
      users.push_back(boost::json::object{
          {"userId", fg::app::kDemoAdmin}, {"role", "admin"}, {"token", demo_token(fg::app::kDemoAdmin, "admin")}});
      fg::net::Response res{fg::net::http::status::ok, req.version()};
      res.set(fg::net::http::field::content_type, "application/json");
      res.set(fg::net::http::field::cache_control, "no-store");
      res.body() = boost::json::serialize(boost::json::object{{"users", users}});
      conn->Respond(std::move(res));
      return;
    }
    if (api.Handle(conn, req)) return;
    if (auto page = web.Serve(req)) {
      conn->Respond(std::move(*page));
      return;
    }
    conn->Respond(fg::app::Router::JsonError(req.version(), fg::net::http::status::not_found, "not_found",
                                             "no such route: " + std::string(req.target())));
  });

  std::shared_ptr<fg::net::Listener> listener;
  try {
    listener = std::make_shared<fg::net::Listener>(loops, c.host, c.port, router, limits);
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  for (const auto& n : notes) spdlog::warn("{}", n);
  listener->Start();
  service.Start();

  std::unique_ptr<fg::app::DemoDriver> demo;
  if (c.demo && c.demo_interval_ms > 0) {
    fg::app::DemoConfig dc;
    dc.port = listener->Port();
    dc.api_key = c.api_key;
    dc.ipn_secret = c.ipn_secret;
    dc.interval = std::chrono::milliseconds(c.demo_interval_ms);
    demo = std::make_unique<fg::app::DemoDriver>(dc);
  }
  if (c.demo) {
    const std::string base =
        c.public_url.empty() ? "http://localhost:" + std::to_string(listener->Port()) : c.public_url;
    if (demo) {
      std::printf(
          "\nDemo mode: a new order every %.1f s (signed IPNs, job queue, supplier simulator with transient "
          "failures).\n",
          static_cast<double>(c.demo_interval_ms) / 1000.0);
    } else {
      std::printf("\nDemo mode (no automatic orders).\n");
    }
    std::printf("  Sign in:          %s/login\n", base.c_str());
    for (const char* user : fg::app::kDemoUsers) {
      std::printf("  %-6s orders:    %s/#token=%s\n", user, base.c_str(), demo_token(user, "").c_str());
    }
    std::printf("  Admin dashboard:  %s/admin#token=%s\n\n", base.c_str(),
                demo_token(fg::app::kDemoAdmin, "admin").c_str());
  }

  boost::asio::signal_set signals(loops.At(0), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: closing {} sessions and stopping", sig, engine.SessionCount());
    listener->Stop();
    engine.CloseAll("server shutting down");
    auto timer = std::make_shared<boost::asio::steady_timer>(loops.At(0), std::chrono::milliseconds(200));
    timer->async_wait([&loops, timer](boost::system::error_code) { loops.Stop(); });
  });

  spdlog::info("fulfillment-gateway listening on http://{}:{} ({} loops, data dir {})", c.host, listener->Port(),
               threads, c.data_dir);
  std::printf("READY port=%u\n", listener->Port());
  std::fflush(stdout);
  if (demo) demo->Start();
  loops.Start();
  loops.Join();
  if (demo) demo->Stop();
  service.Stop();
  worker.Stop();
  if (sim_loops) {
    sim_loops->Stop();
    sim_loops->Join();
  }
  spdlog::info("stopped");
  return 0;
}

int RunSupplierSim(const std::string& host, unsigned short port, const fg::supplier_sim::SimOptions& so) {
  fg::Limits limits;
  fg::supplier_sim::SupplierSim sim(so);
  fg::net::Loops loops(1);
  std::shared_ptr<fg::net::Listener> listener;
  try {
    listener = std::make_shared<fg::net::Listener>(loops, host, port, sim, limits);
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  listener->Start();
  boost::asio::signal_set signals(loops.At(0), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) { loops.Stop(); });
  std::printf("READY port=%u\n", listener->Port());
  std::fflush(stdout);
  spdlog::info("supplier simulator on http://{}:{} (latency {} ms, failure rate {})", host, listener->Port(),
               so.latency.count(), so.failure_rate);
  loops.Start();
  loops.Join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fulfillment-gateway: a Socket.IO v4 real-time gateway for order-fulfillment updates"};
  app.require_subcommand(0, 1);
  ServeConfig c;
  auto* host_option = app.add_option("--host", c.host, "address to listen on (demo mode: 127.0.0.1 unless given)")
                          ->envname("HOST")
                          ->capture_default_str();
  app.add_option("--port", c.port, "port for HTTP, WebSocket and Socket.IO (0: any free port)")
      ->envname("PORT")
      ->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "directory of the embedded SQLite database and sealed keys")
      ->envname("DATA_DIR")
      ->capture_default_str();
  app.add_option("--threads", c.threads, "event loops (0: one per core)")->envname("THREADS")->capture_default_str();
  app.add_option("--jwt-secret", c.jwt_secret, "HS256 secret for user tokens (required)")->envname("JWT_SECRET");
  app.add_option("--api-key", c.api_key, "bearer key for the server-to-server API (required)")->envname("API_KEY");
  app.add_option("--cors-origins", c.cors_origins, "comma list of allowed browser origins, or *")
      ->envname("CORS_ORIGINS")
      ->capture_default_str();
  app.add_option("--ping-interval", c.ping_interval_ms, "Engine.IO ping interval, ms")
      ->envname("PING_INTERVAL")
      ->capture_default_str();
  app.add_option("--ping-timeout", c.ping_timeout_ms, "Engine.IO ping timeout, ms")
      ->envname("PING_TIMEOUT")
      ->capture_default_str();
  app.add_option("--connect-timeout", c.connect_timeout_ms, "ms a client has to join a namespace")
      ->envname("CONNECT_TIMEOUT")
      ->capture_default_str();
  app.add_option("--max-payload", c.max_payload, "Engine.IO maxPayload, bytes")
      ->envname("MAX_PAYLOAD")
      ->capture_default_str();
  app.add_option("--max-body", c.max_body, "largest REST request body, bytes")
      ->envname("MAX_BODY")
      ->capture_default_str();
  app.add_option("--max-send-queue", c.max_send_queue,
                 "bytes queued to one client before it is cut off as a slow consumer")
      ->envname("MAX_SEND_QUEUE")
      ->capture_default_str();
  app.add_option("--max-combined-frames", c.max_combined_frames,
                 "frames a loop combines into one write pass before flushing early")
      ->envname("MAX_COMBINED_FRAMES")
      ->capture_default_str();
  app.add_option("--max-subscriptions", c.max_subscriptions, "order subscriptions per socket")
      ->envname("MAX_SUBSCRIPTIONS")
      ->capture_default_str();
  app.add_option("--max-sessions", c.max_sessions, "open Engine.IO sessions before new ones get 503")
      ->envname("MAX_SESSIONS")
      ->capture_default_str();
  app.add_option("--max-connections", c.limits.max_connections,
                 "open TCP connections (0: the open-files limit minus 256)")
      ->envname("MAX_CONNECTIONS")
      ->capture_default_str();
  app.add_option("--connection-reserve", c.limits.connection_reserve,
                 "connections kept for health checks and the REST API (Engine.IO gets 503 past max - reserve)")
      ->envname("CONNECTION_RESERVE")
      ->capture_default_str();
  app.add_option("--max-connections-per-ip", c.limits.max_connections_per_ip,
                 "open TCP connections from one client address")
      ->envname("MAX_CONNECTIONS_PER_IP")
      ->capture_default_str();
  app.add_option("--max-sessions-per-ip", c.limits.max_sessions_per_ip, "Engine.IO sessions from one client address")
      ->envname("MAX_SESSIONS_PER_IP")
      ->capture_default_str();
  app.add_option("--max-pending-sessions", c.limits.max_pending_sessions,
                 "sessions not yet in a namespace (oldest closed past it)")
      ->envname("MAX_PENDING_SESSIONS")
      ->capture_default_str();
  app.add_option("--max-pending-sessions-per-ip", c.limits.max_pending_sessions_per_ip,
                 "sessions not yet in a namespace, per client address")
      ->envname("MAX_PENDING_SESSIONS_PER_IP")
      ->capture_default_str();
  app.add_option("--handshakes-per-ip", c.limits.handshakes_per_ip_per_s,
                 "Engine.IO handshakes per second per client address (0: no limit)")
      ->envname("HANDSHAKES_PER_IP")
      ->capture_default_str();
  app.add_option("--handshake-burst-per-ip", c.limits.handshake_burst_per_ip,
                 "handshakes one client address may make at once")
      ->envname("HANDSHAKE_BURST_PER_IP")
      ->capture_default_str();
  app.add_flag("--trust-proxy", c.limits.trust_proxy,
               "take the client address from X-Forwarded-For (only behind a proxy that sets it)")
      ->envname("TRUST_PROXY");
  app.add_option("--header-timeout", c.header_timeout_s, "seconds to send a request header (and idle keep-alive)")
      ->envname("HEADER_TIMEOUT")
      ->capture_default_str();
  app.add_option("--body-timeout", c.body_timeout_s, "seconds to send a request body after its header")
      ->envname("BODY_TIMEOUT")
      ->capture_default_str();
  app.add_option("--max-inflight-body", c.limits.max_inflight_body_bytes,
                 "bytes of request bodies still arriving, all connections together")
      ->envname("MAX_INFLIGHT_BODY")
      ->capture_default_str();
  app.add_option("--max-webhook-body", c.limits.max_webhook_body, "largest provider webhook body, bytes")
      ->envname("MAX_WEBHOOK_BODY")
      ->capture_default_str();
  app.add_option("--unknown-order-cache", c.limits.unknown_order_cache, "unknown order ids remembered for subscribe")
      ->envname("UNKNOWN_ORDER_CACHE")
      ->capture_default_str();
  app.add_option("--reveals-per-minute", c.reveals_per_minute, "key reveals per order per minute (0: no limit)")
      ->envname("REVEALS_PER_MINUTE")
      ->capture_default_str();
  app.add_option("--log-level", c.log_level, "trace|debug|info|warn|error")
      ->envname("LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--ipn-secret", c.ipn_secret, "NOWPayments IPN secret (HMAC-SHA512 key)")->envname("IPN_SECRET");
  app.add_option("--kinguin-webhook-secret", c.kinguin_secret,
                 "shared secret of POST /webhooks/kinguin (X-Event-Secret)")
      ->envname("KINGUIN_WEBHOOK_SECRET");
  app.add_option("--url-signing-secret", c.url_signing_secret,
                 "HMAC key of signed key URLs (default: generated in the data dir)")
      ->envname("URL_SIGNING_SECRET");
  app.add_option("--key-encryption-key", c.key_encryption_key,
                 "base64 of the 32-byte AES-256-GCM master key (default: generated in the data dir)")
      ->envname("KEY_ENCRYPTION_KEY");
  app.add_option("--supplier-url", c.supplier_url, "Kinguin-style supplier API base URL (default: built-in simulator)")
      ->envname("SUPPLIER_URL");
  app.add_option("--supplier-api-key", c.supplier_api_key, "supplier API key (X-Api-Key)")->envname("SUPPLIER_API_KEY");
  app.add_option("--supplier-timeout", c.supplier_timeout_ms, "per-request supplier timeout, ms")
      ->envname("SUPPLIER_TIMEOUT_MS")
      ->capture_default_str();
  app.add_option("--sim-failure-rate", c.sim_failure_rate,
                 "built-in simulator: share of requests that fail transiently (default 0, demo 0.15)")
      ->envname("SUPPLIER_SIM_FAILURE_RATE");
  app.add_option("--sim-latency", c.sim_latency_ms, "built-in simulator: latency per request, ms")
      ->envname("SUPPLIER_SIM_LATENCY_MS")
      ->capture_default_str();
  app.add_option("--sim-fail-first", c.sim_fail_first, "built-in simulator: the first N requests fail with 503 (tests)")
      ->envname("SUPPLIER_SIM_FAIL_FIRST")
      ->capture_default_str();
  app.add_option("--paid-statuses", c.paid_statuses, "IPN payment_status values that mark an order paid")
      ->envname("PAID_STATUSES")
      ->capture_default_str();
  app.add_option("--job-workers", c.job_workers, "fulfillment worker threads")
      ->envname("JOB_WORKERS")
      ->capture_default_str();
  app.add_option("--job-max-attempts", c.job_max_attempts, "attempts before a job fails for good")
      ->envname("JOB_MAX_ATTEMPTS")
      ->capture_default_str();
  app.add_option("--job-backoff-base", c.job_backoff_base_ms, "first retry delay, ms (doubles each retry, with jitter)")
      ->envname("JOB_BACKOFF_BASE_MS")
      ->capture_default_str();
  app.add_option("--job-backoff-cap", c.job_backoff_cap_ms, "largest retry delay, ms")
      ->envname("JOB_BACKOFF_CAP_MS")
      ->capture_default_str();
  app.add_option("--job-lease", c.job_lease_ms, "ms a worker holds a job before another may take it")
      ->envname("JOB_LEASE_MS")
      ->capture_default_str();
  app.add_option("--signed-url-ttl", c.signed_url_ttl_s, "seconds a key download link stays valid")
      ->envname("SIGNED_URL_TTL")
      ->capture_default_str();
  app.add_flag("--demo", c.demo, "demo mode: demo users and a stream of orders through the real flow")->envname("DEMO");
  app.add_option("--demo-interval", c.demo_interval_ms, "demo: ms between new orders (0: no automatic orders)")
      ->envname("DEMO_INTERVAL_MS")
      ->capture_default_str();
  app.add_option("--public-url", c.public_url, "URL users reach the gateway at (for printed links)")
      ->envname("PUBLIC_URL");
  app.add_option("--web-dir", c.web_dir, "built web app to serve at / (default: web/dist next to the build)")
      ->envname("WEB_DIR");

  fg::app::ConformanceOptions conf;
  auto* conformance =
      app.add_subcommand("conformance", "serve the handlers the official Engine.IO/Socket.IO test suites expect");
  conformance->add_option("--port", conf.port, "port (the suites use 3000)")->capture_default_str();
  conformance->add_option("--host", conf.host, "address")->capture_default_str();

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
  fg::supplier_sim::SimOptions sim_options;
  unsigned sim_latency = 50;
  auto* supplier_sim = app.add_subcommand("supplier-sim", "run the Kinguin-style supplier simulator");
  supplier_sim->add_option("--host", sim_host)->capture_default_str();
  supplier_sim->add_option("--port", sim_port)->capture_default_str();
  supplier_sim->add_option("--latency", sim_latency, "ms per request")->capture_default_str();
  supplier_sim->add_option("--failure-rate", sim_options.failure_rate, "share of requests answered 503")
      ->capture_default_str();
  supplier_sim->add_option("--fail-first", sim_options.fail_first, "the first N requests answer 503")
      ->capture_default_str();

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
  if (*ipn_sign) {
    if (c.ipn_secret.empty()) return Fatal("IPN_SECRET is not set");
    std::string body;
    if (sign_file == "-") {
      body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(sign_file, std::ios::binary);
      if (!in) return Fatal("cannot read " + sign_file);
      body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto sig = fg::fulfillment::NowPaymentsSignature(body, c.ipn_secret);
    if (!sig) return Fatal("the body is not valid JSON");
    std::cout << "x-nowpayments-sig: " << *sig << "\n";
    return 0;
  }
  if (*supplier_sim) {
    sim_options.latency = std::chrono::milliseconds(sim_latency);
    sim_options.api_key = c.supplier_api_key;
    return RunSupplierSim(sim_host, sim_port, sim_options);
  }
  if (c.demo && host_option->count() == 0) {
    // The demo hands out admin tokens to anyone who asks: never on a public interface by default.
    c.host = "127.0.0.1";
    std::fprintf(
        stderr,
        "demo mode: listening on 127.0.0.1 only (its sign-in page hands out admin tokens); pass --host to change\n");
  }
  return Serve(c);
}

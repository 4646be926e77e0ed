#include "app/config.hpp"

#include "cluster/redis_bus.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <sstream>

namespace fg::app {
namespace {

// One row of the flag table: --flag, ENV, the field it sets (its current value is the default
// shown by --help), and what it means.
template <class T>
CLI::Option* Opt(CLI::App& app, const char* flag, const char* env, T& field, const char* what) {
  return app.add_option(flag, field, what)->envname(env)->capture_default_str();
}

// A duration flag in whole units of the field (ms for milliseconds, s for seconds).
template <class Rep, class Period>
CLI::Option* Duration(CLI::App& app, const char* flag, const char* env, std::chrono::duration<Rep, Period>& field,
                      const char* what) {
  using D = std::chrono::duration<Rep, Period>;
  return app
      .add_option_function<std::int64_t>(
          flag,
          [&field](const std::int64_t& v) {
            if (v < 0) throw CLI::ValidationError("a duration cannot be negative");
            field = D(v);
          },
          what)
      ->envname(env)
      ->default_str(std::to_string(field.count()));
}

// A comma-separated list flag.
CLI::Option* List(CLI::App& app, const char* flag, const char* env, std::vector<std::string>& field, const char* what) {
  std::string shown;
  for (const auto& item : field) shown += (shown.empty() ? "" : ",") + item;
  return app
      .add_option_function<std::string>(
          flag, [&field](const std::string& v) { field = SplitList(v); }, what)
      ->envname(env)
      ->default_str(shown);
}

}  // namespace

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

void AddServeOptions(CLI::App& app, Config& c) {
  Limits& l = c.limits;
  auto* host = Opt(app, "--host", "HOST", c.host, "address to listen on (demo mode: 127.0.0.1 unless given)");
  host->each([&c](const std::string&) { c.host_given = true; });
  Opt(app, "--port", "PORT", c.port, "port for HTTP, WebSocket and Socket.IO (0: any free port)");
  Opt(app, "--data-dir", "DATA_DIR", c.data_dir, "directory of the embedded SQLite database and sealed keys");
  app.add_option("--database-url", c.database_url,
                 "postgres://… : orders, the event log, sessions, jobs and webhooks in PostgreSQL, shared by every "
                 "node (default: SQLite in --data-dir)")
      ->envname("DATABASE_URL");
  Opt(app, "--db-pool", "DB_POOL", c.db_pool, "PostgreSQL connections per node");
  app.add_option("--redis-url", c.redis_url,
                 "redis://[:password@]host:port : links the nodes sharing DATABASE_URL (events, ownership, figures)")
      ->envname("REDIS_URL");
  Duration(app, "--drain-seconds", "DRAIN_SECONDS", c.drain,
           "SIGTERM: seconds to close the sessions over, so their clients move to other nodes without a storm "
           "(-1: 10 in a cluster, 0 on a single node)");
  app.add_option("--advertise", c.advertise,
                 "ip:port the other nodes reach this one at, for requests of its sessions (default: --host:--port)")
      ->envname("ADVERTISE_ADDRESS");
  Opt(app, "--node-id", "NODE_ID", c.node_id, "this node's name in a cluster (default: host name:port)");
  Opt(app, "--threads", "THREADS", c.threads, "event loops (0: one per core)");
  app.add_option("--jwt-secret", c.jwt_secret, "HS256 secret for user tokens (required)")->envname("JWT_SECRET");
  app.add_option("--jwt-secret-previous", c.jwt_secret_previous,
                 "the JWT secret being rotated out: tokens signed with it stay valid until it is removed")
      ->envname("JWT_SECRET_PREVIOUS");
  app.add_option("--api-key", c.api_key, "bearer key for the server-to-server API (required)")->envname("API_KEY");
  app.add_option("--tls-cert", c.tls_cert, "PEM certificate chain: serve HTTPS and WSS on --port (reloaded on SIGHUP)")
      ->envname("TLS_CERT");
  app.add_option("--tls-key", c.tls_key, "PEM private key of --tls-cert")->envname("TLS_KEY");
  app.add_option("--metrics-token", c.metrics_token, "bearer token of GET /metrics (default: the API key)")
      ->envname("METRICS_TOKEN");
  app.add_option("--metrics-listen", c.metrics_listen,
                 "host:port serving GET /metrics alone (then not on the main port; no token unless --metrics-token)")
      ->envname("METRICS_LISTEN");
  List(app, "--cors-origins", "CORS_ORIGINS", c.engine.cors_origins,
       "comma list of allowed browser origins, or * (the gateway's own origin is always allowed)");
  Duration(app, "--ping-interval", "PING_INTERVAL", c.engine.options.ping_interval, "Engine.IO ping interval, ms");
  Duration(app, "--ping-timeout", "PING_TIMEOUT", c.engine.options.ping_timeout, "Engine.IO ping timeout, ms");
  Duration(app, "--connect-timeout", "CONNECT_TIMEOUT", c.sio.connect_timeout, "ms a client has to join a namespace");
  // One maxPayload for the three places that bound a message: HTTP bodies of polling, WebSocket
  // messages, and a Socket.IO packet with its attachments.
  app.add_option_function<std::size_t>(
         "--max-payload",
         [&c](const std::size_t& v) {
           c.limits.max_payload = c.engine.options.max_payload = c.sio.max_packet_bytes = v;
         },
         "Engine.IO maxPayload, bytes")
      ->envname("MAX_PAYLOAD")
      ->default_str(std::to_string(l.max_payload));
  Opt(app, "--max-body", "MAX_BODY", l.max_api_body, "largest REST request body, bytes");
  Opt(app, "--max-send-queue", "MAX_SEND_QUEUE", l.max_send_queue_bytes,
      "bytes queued to one client before it is cut off as a slow consumer");
  Opt(app, "--max-combined-frames", "MAX_COMBINED_FRAMES", l.max_combined_frames,
      "frames a loop combines into one write pass before flushing early");
  Opt(app, "--max-subscriptions", "MAX_SUBSCRIPTIONS", l.max_subscriptions_per_socket,
      "order subscriptions per socket");
  Opt(app, "--max-sessions", "MAX_SESSIONS", l.max_sessions, "open Engine.IO sessions before new ones get 503");
  Opt(app, "--max-connections", "MAX_CONNECTIONS", l.max_connections,
      "open TCP connections (0: the open-files limit minus 256)");
  Opt(app, "--connection-reserve", "CONNECTION_RESERVE", l.connection_reserve,
      "connections kept for health checks and the REST API (Engine.IO gets 503 past max - reserve)");
  Opt(app, "--max-connections-per-ip", "MAX_CONNECTIONS_PER_IP", l.max_connections_per_ip,
      "open TCP connections from one client address");
  Opt(app, "--max-sessions-per-ip", "MAX_SESSIONS_PER_IP", l.max_sessions_per_ip,
      "Engine.IO sessions from one client address");
  Opt(app, "--max-pending-sessions", "MAX_PENDING_SESSIONS", l.max_pending_sessions,
      "sessions not yet in a namespace (oldest closed past it)");
  Opt(app, "--max-pending-sessions-per-ip", "MAX_PENDING_SESSIONS_PER_IP", l.max_pending_sessions_per_ip,
      "sessions not yet in a namespace, per client address");
  Opt(app, "--handshakes-per-ip", "HANDSHAKES_PER_IP", l.handshakes_per_ip_per_s,
      "Engine.IO handshakes per second per client address (0: no limit)");
  Opt(app, "--handshake-burst-per-ip", "HANDSHAKE_BURST_PER_IP", l.handshake_burst_per_ip,
      "handshakes one client address may make at once");
  app.add_flag("--trust-proxy", l.trust_proxy,
               "take the client address from X-Forwarded-For (only behind a proxy that sets it)")
      ->envname("TRUST_PROXY");
  Duration(app, "--header-timeout", "HEADER_TIMEOUT", l.header_timeout,
           "seconds to send a request header (and idle keep-alive)");
  Duration(app, "--body-timeout", "BODY_TIMEOUT", l.body_timeout, "seconds to send a request body after its header");
  Opt(app, "--max-inflight-body", "MAX_INFLIGHT_BODY", l.max_inflight_body_bytes,
      "bytes of request bodies still arriving, all connections together");
  Opt(app, "--max-webhook-body", "MAX_WEBHOOK_BODY", l.max_webhook_body, "largest provider webhook body, bytes");
  Duration(app, "--recovery-window", "RECOVERY_WINDOW_MS", l.recovery_window,
           "ms a disconnected client may come back and get every event it missed (0: recovery off)");
  Opt(app, "--recovery-log-max", "RECOVERY_LOG_MAX", l.recovery_log_max,
      "entries the delivery log keeps at most for recovery");
  Opt(app, "--unknown-order-cache", "UNKNOWN_ORDER_CACHE", l.unknown_order_cache,
      "unknown order ids remembered for subscribe");
  Opt(app, "--reveals-per-minute", "REVEALS_PER_MINUTE", c.service.reveals_per_minute,
      "key reveals per order per minute (0: no limit)");
  Opt(app, "--socket-events-per-s", "SOCKET_EVENTS_PER_S", l.socket_events_per_s,
      "client events per second per socket (0: no limit)");
  Opt(app, "--socket-event-burst", "SOCKET_EVENT_BURST", l.socket_event_burst,
      "client events one socket may send at once; refused this many times in 10 s: disconnected");
  Opt(app, "--api-key-rate", "API_KEY_RATE", l.api_key_requests_per_s,
      "REST requests per second with the API key (0: no limit)");
  Opt(app, "--api-user-rate", "API_USER_RATE", l.api_user_requests_per_s,
      "REST requests per second per user token (0: no limit)");
  Opt(app, "--log-level", "LOG_LEVEL", c.log_level, "trace|debug|info|warn|error");
  Opt(app, "--log-format", "LOG_FORMAT", c.log_format, "text | json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));

  // Fulfillment.
  app.add_option("--ipn-secret", c.service.ipn_secret, "NOWPayments IPN secret (HMAC-SHA512 key)")
      ->envname("IPN_SECRET");
  app.add_option("--kinguin-webhook-secret", c.service.kinguin_secret,
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
  Duration(app, "--supplier-timeout", "SUPPLIER_TIMEOUT_MS", c.supplier_timeout, "per-request supplier timeout, ms");
  app.add_option_function<double>(
         "--sim-failure-rate", [&c](const double& v) { c.sim_failure_rate = v; },
         "built-in simulator: share of requests that fail transiently (default 0, demo 0.15)")
      ->envname("SUPPLIER_SIM_FAILURE_RATE");
  Duration(app, "--sim-latency", "SUPPLIER_SIM_LATENCY_MS", c.sim.latency,
           "built-in simulator: latency per request, ms");
  Opt(app, "--sim-fail-first", "SUPPLIER_SIM_FAIL_FIRST", c.sim.fail_first,
      "built-in simulator: the first N requests fail with 503 (tests)");
  List(app, "--paid-statuses", "PAID_STATUSES", c.service.paid_statuses,
       "IPN payment_status values that mark an order paid");
  Opt(app, "--job-workers", "JOB_WORKERS", c.service.workers, "fulfillment worker threads");
  Opt(app, "--job-max-attempts", "JOB_MAX_ATTEMPTS", c.service.max_attempts, "attempts before a job fails for good");
  Duration(app, "--job-backoff-base", "JOB_BACKOFF_BASE_MS", c.service.backoff.base,
           "first retry delay, ms (doubles each retry, with jitter)");
  Duration(app, "--job-backoff-cap", "JOB_BACKOFF_CAP_MS", c.service.backoff.cap, "largest retry delay, ms");
  Duration(app, "--job-lease", "JOB_LEASE_MS", c.service.lease, "ms a worker holds a job before another may take it");
  Duration(app, "--signed-url-ttl", "SIGNED_URL_TTL", c.service.url_ttl, "seconds a key download link stays valid");

  app.add_flag("--demo", c.demo, "demo mode: demo users and a stream of orders through the real flow")->envname("DEMO");
  Duration(app, "--demo-interval", "DEMO_INTERVAL_MS", c.demo_interval,
           "demo: ms between new orders (0: no automatic orders)");
  app.add_option("--public-url", c.public_url, "URL users reach the gateway at (for printed links)")
      ->envname("PUBLIC_URL");
  app.add_option("--web-dir", c.web_dir, "built web app to serve at / (default: web/dist next to the build)")
      ->envname("WEB_DIR");
}

std::optional<std::string> Finish(Config& c) {
  if (c.jwt_secret.empty()) return "JWT_SECRET is not set (the HS256 secret for user tokens)";
  if (c.jwt_secret.size() < kMinSecretBytes) {
    return "JWT_SECRET is too short (" + std::to_string(c.jwt_secret.size()) + " characters; at least " +
           std::to_string(kMinSecretBytes) + ")";
  }
  if (!c.jwt_secret_previous.empty() && c.jwt_secret_previous.size() < kMinSecretBytes)
    return "JWT_SECRET_PREVIOUS is too short (at least " + std::to_string(kMinSecretBytes) + " characters)";
  if (c.api_key.empty()) return "API_KEY is not set (the bearer key for the server-to-server API)";
  if (c.tls_cert.empty() != c.tls_key.empty()) return "TLS needs both --tls-cert and --tls-key (TLS_CERT, TLS_KEY)";
  if (!c.metrics_listen.empty() && c.metrics_listen.rfind(':') == std::string::npos)
    return "METRICS_LISTEN must be host:port (e.g. 127.0.0.1:9464)";
  if (c.engine.options.ping_interval.count() == 0 || c.engine.options.ping_timeout.count() == 0)
    return "ping interval and timeout must be positive";
  if (c.service.max_attempts < 1) return "JOB_MAX_ATTEMPTS must be at least 1";
  if (!c.redis_url.empty() && c.database_url.empty())
    return "REDIS_URL links nodes that share a PostgreSQL store: set DATABASE_URL too";
  if (!c.redis_url.empty()) {
    std::string error;
    if (!cluster::ParseRedisUrl(c.redis_url, error)) return error;
    if (c.advertise.empty() && (c.host == "0.0.0.0" || c.host == "::"))
      return "with REDIS_URL and --host " + c.host +
             ", set ADVERTISE_ADDRESS (the ip:port other nodes reach this one at)";
  }
  if (!c.database_url.empty()) {
    const bool url = c.database_url.rfind("postgres://", 0) == 0 || c.database_url.rfind("postgresql://", 0) == 0;
    if (!url && c.database_url.find('=') == std::string::npos)
      return "DATABASE_URL must be postgres://… or postgresql://… (or libpq's key=value form)";
    if (c.db_pool < 1 || c.db_pool > 64) return "DB_POOL must be 1 to 64";
    // Nodes sharing a database seal and sign for each other: the secrets cannot be per-node files.
    if (c.key_encryption_key.empty() || c.url_signing_secret.empty())
      return "with DATABASE_URL, set KEY_ENCRYPTION_KEY and URL_SIGNING_SECRET (the same on every node)";
  }
  if (c.url_signing_secret.size() > 0 && c.url_signing_secret.size() < kMinSecretBytes) {
    return "URL_SIGNING_SECRET is too short (" + std::to_string(c.url_signing_secret.size()) +
           " characters; at least " + std::to_string(kMinSecretBytes) + ")";
  }

  Limits& l = c.limits;
  l.header_timeout = std::max(l.header_timeout, std::chrono::seconds(1));
  l.body_timeout = std::max(l.body_timeout, std::chrono::seconds(1));
  l.max_combined_frames = std::max<std::size_t>(1, l.max_combined_frames);
  if (l.max_connections == 0) {
    rlimit rl{};
    const std::size_t fds = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : 65536;
    l.max_connections = fds > 512 ? fds - 256 : fds / 2;
    if (!c.tls_cert.empty()) l.max_connections /= 3;  // a TLS connection holds 3 fds (net/tls.hpp)
  }

  c.sim.api_key = c.supplier_api_key;
  c.sim.failure_rate = c.sim_failure_rate.value_or(c.demo ? 0.15 : 0.0);

  if (!c.public_url.empty()) {  // the pages' own origin when served behind another name
    std::string origin = c.public_url;
    if (const auto scheme = origin.find("://"); scheme != std::string::npos) {
      if (const auto path = origin.find('/', scheme + 3); path != std::string::npos) origin.resize(path);
    }
    c.engine.cors_origins.push_back(origin);
  }
  return std::nullopt;
}

}  // namespace fg::app

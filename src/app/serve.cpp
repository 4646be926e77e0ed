#include "app/serve.hpp"

#include "app/data_dir.hpp"
#include "app/demo.hpp"
#include "app/router.hpp"
#include "app/static_files.hpp"
#include "auth/jwt.hpp"
#include "cluster/node.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "fulfillment/service.hpp"
#include "gateway/gateway.hpp"
#include "http_api/api.hpp"
#include "http_api/emitter_intake.hpp"
#include "net/listener.hpp"
#include "net/loops.hpp"
#include "socketio/server.hpp"
#include "store/pg_store.hpp"
#include "store/sqlite_order_store.hpp"
#include "supplier_sim/supplier_sim.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <thread>

namespace fg::app {

namespace fs = std::filesystem;

int Fatal(const std::string& message) {
  std::fprintf(stderr, "fulfillment-gateway: error: %s\n", message.c_str());
  return 2;
}

namespace {

std::string DefaultWebDir() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto candidate = exe.parent_path().parent_path() / "web" / "dist";
    if (fs::exists(candidate / "index.html")) return candidate.string();
  }
  return "web/dist";
}

// Secrets of the fulfillment flow: from the environment, else kept in the data dir. Returns the
// key cipher; throws with a one-line message.
fulfillment::KeyCipher LoadSecrets(Config& c, const fs::path& data, std::vector<std::string>& notes) {
  std::string master_source = "KEY_ENCRYPTION_KEY";
  if (c.key_encryption_key.empty()) {
    master_source = (data / "master.key").string();
    c.key_encryption_key = DataDirSecret(data / "master.key", 32, 1);
    notes.push_back("KEY_ENCRYPTION_KEY not set: using the generated key in " + master_source);
  }
  if (c.url_signing_secret.empty())
    c.url_signing_secret = DataDirSecret(data / "url-signing.secret", 32, kMinSecretBytes);
  if (c.demo && c.service.ipn_secret.empty())
    c.service.ipn_secret = DataDirSecret(data / "ipn.secret", 24, kMinSecretBytes);
  if (c.demo && c.service.kinguin_secret.empty())
    c.service.kinguin_secret = DataDirSecret(data / "kinguin.secret", 24, kMinSecretBytes);
  auto master = fulfillment::ParseMasterKey(c.key_encryption_key);
  if (!master) throw std::runtime_error("the master key in " + master_source + " must be base64 of exactly 32 bytes");
  if (c.service.ipn_secret.empty()) notes.push_back("IPN_SECRET not set: POST /webhooks/nowpayments answers 503");
  return fulfillment::KeyCipher(*master);
}

// Sealed keys in PostgreSQL: every node of a cluster serves the keys any node's worker sealed.
class PgObjects : public fulfillment::ObjectStore {
 public:
  explicit PgObjects(store::PgStore& store) : store_(store) {}
  void Put(const std::string& name, const std::string& bytes) override { store_.PutObject(name, bytes); }
  std::optional<std::string> Get(const std::string& name) override { return store_.GetObject(name); }

 private:
  store::PgStore& store_;
};

std::string DefaultNodeId(unsigned short port) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "node");
  return std::string(host) + ":" + std::to_string(port);
}

// The --metrics-listen address: GET /metrics and nothing else.
class MetricsOnly : public net::HttpHandler {
 public:
  explicit MetricsOnly(http_api::Api& api) : api_(api) {}
  void OnRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) override {
    const auto target = req.target();
    if (target != "/metrics" && target.substr(0, 9) != "/metrics?") {
      conn->Respond(Router::JsonError(req.version(), net::http::status::not_found, "not_found",
                                      "this address serves GET /metrics only"));
    } else if (req.method() != net::http::verb::get) {
      conn->Respond(
          Router::JsonError(req.version(), net::http::status::method_not_allowed, "method_not_allowed", "use GET"));
    } else {
      api_.ServeMetricsRequest(conn, req);
    }
  }
  void OnUpgrade(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) override {
    conn->RespondAndClose(
        Router::JsonError(req.version(), net::http::status::not_found, "not_found", "no WebSocket here"));
  }
  net::Response OnBodyTooLarge(const net::http::request_parser<net::http::string_body>::value_type& h) override {
    return Router::JsonError(h.version(), net::http::status::payload_too_large, "payload_too_large", "no bodies here");
  }

 private:
  http_api::Api& api_;
};

// Event-loop lag: every 250 ms each loop's timer notes how late it fired (fg_event_loop_lag_seconds).
// A loop stuck in one handler shows as a large lag on its next tick.
class LoopLagProbe {
 public:
  static constexpr std::chrono::milliseconds kPeriod{250};
  explicit LoopLagProbe(net::Loops& loops) {
    for (std::size_t i = 0; i < loops.Size(); ++i) {
      auto& m = metrics::M();
      probes_.push_back(std::make_unique<Probe>(
          Probe{boost::asio::steady_timer(loops.At(i)),
                &m.loop_lag.Add({{"loop", std::to_string(i)}}),
                &m.loop_lag_hist.Add({{"loop", std::to_string(i)}}, metrics::Metrics::LatencyBuckets()),
                {}}));
      Arm(*probes_.back());
    }
  }
  void Stop() {
    for (auto& p : probes_) boost::asio::post(p->timer.get_executor(), [t = &p->timer] { t->cancel(); });
  }

 private:
  struct Probe {
    boost::asio::steady_timer timer;
    metrics::Gauge* gauge;
    metrics::Histogram* hist;
    std::chrono::steady_clock::time_point due;
  };
  static void Arm(Probe& p) {
    p.due = std::chrono::steady_clock::now() + kPeriod;
    p.timer.expires_at(p.due);
    p.timer.async_wait([&p](boost::system::error_code ec) {
      if (ec) return;
      const double late = std::max(0.0, metrics::SecondsSince(p.due));
      p.gauge->Set(late);
      p.hist->Observe(late);
      Arm(p);
    });
  }
  std::vector<std::unique_ptr<Probe>> probes_;
};

}  // namespace

int Serve(Config c) {
  const Limits& limits = c.limits;
  const fs::path data(c.data_dir);
  std::unique_ptr<store::Store> store;
  store::PgStore* pg = nullptr;
  try {
    PrepareDataDir(data);
    if (c.database_url.empty()) {
      store = std::make_unique<store::SqliteStore>((data / "gateway.db").string(), 100'000, limits.unknown_order_cache);
      TightenFileModes(data, {"gateway.db", "gateway.db-wal", "gateway.db-shm"});  // made by an older version
    } else {
      if (c.node_id.empty()) c.node_id = DefaultNodeId(c.port);
      auto p =
          std::make_unique<store::PgStore>(c.database_url, c.node_id, c.db_pool, 100'000, limits.unknown_order_cache);
      pg = p.get();
      store = std::move(p);
      c.service.shared_store = true;
    }
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }

  // Notes are logged once the port is bound, so a start-up failure stays one line.
  std::vector<std::string> notes;
  std::optional<fulfillment::KeyCipher> cipher;
  try {
    cipher.emplace(LoadSecrets(c, data, notes));
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }

  const std::size_t threads = c.threads ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  net::Loops loops(threads);
  store::StoreWorker worker(1);

  // Supplier: SUPPLIER_URL, else the simulator in-process on a loopback port.
  std::unique_ptr<net::Loops> sim_loops;
  std::unique_ptr<supplier_sim::SupplierSim> sim;
  std::shared_ptr<net::Listener> sim_listener;
  if (c.supplier_url.empty()) {
    sim = std::make_unique<supplier_sim::SupplierSim>(c.sim);
    sim_loops = std::make_unique<net::Loops>(1);
    sim_listener = std::make_shared<net::Listener>(*sim_loops, "127.0.0.1", 0, *sim, limits);
    sim_listener->Start();
    sim_loops->Start();
    c.supplier_url = "http://127.0.0.1:" + std::to_string(sim_listener->Port());
    notes.push_back("SUPPLIER_URL not set: using the built-in supplier simulator at " + c.supplier_url +
                    " (failure rate " + std::to_string(c.sim.failure_rate) + ")");
  }
  std::unique_ptr<fulfillment::HttpSupplier> supplier;
  try {
    supplier = std::make_unique<fulfillment::HttpSupplier>(c.supplier_url, c.supplier_api_key, c.supplier_timeout);
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  std::unique_ptr<fulfillment::ObjectStore> objects;
  if (pg) {
    objects = std::make_unique<PgObjects>(*pg);
  } else {
    try {
      objects = std::make_unique<fulfillment::LocalObjectStore>((data / "keys").string());
    } catch (const std::exception& e) {
      return Fatal(std::string("cannot use the key directory: ") + e.what());
    }
  }

  // Recovery sessions left connected by a process that died count as disconnected now: their
  // clients have the whole window from this restart.
  store->SettleSessions(UnixMillis(), UnixMillis() - limits.recovery_window.count());
  auto gateway = std::make_shared<gateway::Gateway>(
      loops, *store, worker, auth::JwtVerifier(c.jwt_secret, c.jwt_secret_previous), limits, store.get());
  fulfillment::Service service(
      *store, *objects, std::move(*cipher), fulfillment::UrlSigner(c.url_signing_secret), *supplier,
      [gw = gateway.get()](const std::vector<fulfillment::Emitted>& events) {
        std::vector<gateway::Gateway::Outgoing> out;
        out.reserve(events.size());
        for (const auto& e : events) {
          out.push_back({events::Name(e.event), events::AudienceOf(e.event), e.order_id, e.json, e.owner_id,
                         e.owner_json, e.pos, e.order_seq});
        }
        gw->PublishAll(out);
      },
      c.service);

  // Subscribe acks carry the order as GET /api/v1/orders/{id} shows it (snapshot-then-tail).
  gateway->SetSnapshotSource(
      [&service](const auth::Principal& who, const std::string& order_id,
                 std::optional<std::int64_t> since) -> std::optional<gateway::Gateway::OrderSnapshot> {
        const fulfillment::Caller caller{
            who.admin ? fulfillment::Caller::Kind::kAdmin : fulfillment::Caller::Kind::kUser, who.user_id};
        auto snap = service.OrderSnapshot(caller, order_id, since);
        if (!snap) return std::nullopt;
        gateway::Gateway::OrderSnapshot out;
        if (!snap->order.empty()) out.order_json = boost::json::serialize(snap->order);
        out.seq = snap->seq;
        out.log_head = snap->log_head;
        for (auto& e : snap->events) out.since.push_back({std::move(e.event), std::move(e.payload)});
        return out;
      });

  socketio::Server sio(c.sio);
  sio.AddNamespace(std::string(gateway::kNamespace), gateway);

  engineio::Server engine(c.engine, limits, [&sio](const std::shared_ptr<engineio::Session>& s) { sio.OnSession(s); });

  // A cluster node: deliveries come from the shared store's commit feed, over Redis.
  std::unique_ptr<cluster::ClusterNode> cluster_node;
  std::unique_ptr<cluster::SessionRouter> session_router;
  if (!c.redis_url.empty()) {
    std::string error;
    auto address = cluster::ParseRedisUrl(c.redis_url, error);
    try {
      cluster_node = std::make_unique<cluster::ClusterNode>(*pg, *gateway, std::move(*address), c.node_id,
                                                            loops.At(0).get_executor());
      cluster_node->SetJobsDue([&service] { service.WakeWorkers(); });
      const auto& o = c.engine.options;
      session_router = std::make_unique<cluster::SessionRouter>(
          c.node_id, engine, *pg, worker, o.ping_interval + o.ping_timeout + std::chrono::seconds(5));
      engine.SetCluster(session_router->Tag() + ".", session_router.get());
    } catch (const std::exception& e) {
      return Fatal(e.what());
    }
  }

  gateway::LogWriter log_writer(*store, worker, *gateway);
  http_api::Api api(*gateway, log_writer, *store, worker, c.api_key,
                    auth::JwtVerifier(c.jwt_secret, c.jwt_secret_previous), service, limits);
  // @socket.io/redis-emitter's messages, taken into the log by the node holding the lease.
  std::unique_ptr<http_api::EmitterIntake> emitter;
  if (cluster_node) {
    emitter =
        std::make_unique<http_api::EmitterIntake>(log_writer, loops.At(0).get_executor(), limits.max_order_id_length);
    cluster_node->SetEmitterSink(
        [e = emitter.get()](const std::string& channel, std::string payload) { e->Take(channel, std::move(payload)); });
  }
  if (cluster_node)
    api.SetOwnerBarrier([node = cluster_node.get()](const std::string& order_id, std::function<void()> then) {
      node->WhenOwnerKnown(order_id, std::move(then));
    });
  api.SetMetricsAccess(c.metrics_token.empty() && c.metrics_listen.empty() ? c.api_key : c.metrics_token,
                       c.metrics_listen.empty());
  StaticFiles web;
  const std::string web_dir = c.web_dir.empty() ? DefaultWebDir() : c.web_dir;
  if (web.Load(web_dir)) {
    notes.push_back("serving the web app from " + web_dir + " (" + std::to_string(web.Count()) + " files)");
  } else {
    notes.push_back("no web app at " + web_dir + " (build it with scripts/build.sh); pages answer 404");
  }
  Router router({&engine}, [&](const std::shared_ptr<net::HttpConnection>& conn, net::Request req) {
    if (c.demo && req.target() == "/api/v1/demo/users" && req.method() == net::http::verb::get) {
      conn->Respond(DemoUsersResponse(req.version(), c.jwt_secret));  // not routed at all outside demo mode
      return;
    }
    if (api.Handle(conn, req)) return;
    if (auto page = web.Serve(req)) {
      conn->Respond(std::move(*page));
      return;
    }
    conn->Respond(Router::JsonError(req.version(), net::http::status::not_found, "not_found",
                                    "no such route: " + std::string(req.target())));
  });

  std::shared_ptr<net::Listener> listener;
  std::unique_ptr<net::TlsContext> tls;
  try {
    listener = std::make_shared<net::Listener>(loops, c.host, c.port, router, limits);
    if (!c.tls_cert.empty()) {
      tls = std::make_unique<net::TlsContext>(c.tls_cert, c.tls_key);
      listener->SetTls(tls.get());
    }
  } catch (const std::exception& e) {
    return Fatal(e.what());
  }
  const std::string scheme = tls ? "https" : "http";
  if (cluster_node) {
    // Where the other nodes reach this one's sessions (no stickiness: cluster/session_router.hpp).
    const std::string address = c.advertise.empty() ? c.host + ":" + std::to_string(listener->Port()) : c.advertise;
    try {
      pg->RegisterNode(session_router->Tag(), c.node_id, address);
    } catch (const std::exception& e) {
      return Fatal(e.what());
    }
    cluster_node->SetRouter(session_router.get(), address);
  }
  // --metrics-listen: GET /metrics alone, on its own address (our own HTTP listener, loop 0's).
  std::unique_ptr<MetricsOnly> metrics_handler;
  std::shared_ptr<net::Listener> metrics_listener;
  if (!c.metrics_listen.empty()) {
    const auto colon = c.metrics_listen.rfind(':');
    metrics_handler = std::make_unique<MetricsOnly>(api);
    try {
      metrics_listener = std::make_shared<net::Listener>(
          loops, c.metrics_listen.substr(0, colon),
          static_cast<unsigned short>(std::stoul(c.metrics_listen.substr(colon + 1))), *metrics_handler, limits);
    } catch (const std::exception& e) {
      return Fatal("--metrics-listen " + c.metrics_listen + ": " + e.what());
    }
    metrics_listener->Start();
  }
  for (const auto& n : notes) spdlog::warn("{}", n);
  listener->Start();
  service.Start();

  std::unique_ptr<DemoDriver> demo;
  if (c.demo && c.demo_interval.count() > 0) {
    DemoConfig dc;
    dc.port = listener->Port();
    dc.api_key = c.api_key;
    dc.ipn_secret = c.service.ipn_secret;
    dc.interval = c.demo_interval;
    dc.state_file = (std::filesystem::path(c.data_dir) / "demo-pending.json").string();
    demo = std::make_unique<DemoDriver>(dc);
  }
  if (c.demo) {
    PrintDemoLinks(c.public_url.empty() ? scheme + "://localhost:" + std::to_string(listener->Port()) : c.public_url,
                   c.jwt_secret, demo ? std::optional(c.demo_interval) : std::nullopt);
  }

  // The delivery log keeps what the recovery window needs (and at most --recovery-log-max entries).
  boost::asio::steady_timer prune(loops.At(0));
  std::function<void()> schedule_prune = [&] {
    prune.expires_after(std::chrono::seconds(30));
    prune.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      worker.Post([&store, &limits] {
        try {
          // A minute beyond the window: a client at its very end still finds its offset.
          store->PruneLog(UnixMillis() - limits.recovery_window.count() - 60'000, limits.recovery_log_max);
          store->PruneSessions(UnixMillis() - limits.recovery_window.count());
        } catch (const std::exception& e) {
          spdlog::error("pruning the delivery log failed: {}", e.what());
        }
      });
      schedule_prune();
    });
  };
  schedule_prune();

  LoopLagProbe lag(loops);

  // SIGHUP: a renewed certificate for new connections; established ones keep theirs.
  boost::asio::signal_set hangup(loops.At(0));
  std::function<void()> await_hangup = [&] {
    hangup.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      if (!tls) {
        spdlog::info("SIGHUP: no TLS certificate to reload");
      } else {
        worker.Post([&] {  // file reads and key parsing: off the event loop
          if (auto err = tls->Reload()) {
            spdlog::error("SIGHUP: the TLS certificate was not reloaded, the current one stays: {}", *err);
          } else {
            spdlog::info("SIGHUP: TLS certificate reloaded from {}", c.tls_cert);
          }
        });
      }
      await_hangup();
    });
  };
  hangup.add(SIGHUP);
  await_hangup();

  boost::asio::signal_set signals(loops.At(0), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    // Draining: /readyz answers 503 and new sessions are refused (the balancer moves on), workers
    // finish the job in hand and take no new one, and the sessions close — spread over the drain
    // time, with a recoverable reason — so their clients reconnect to other nodes and recover there.
    const auto drain = c.drain.count() >= 0 ? c.drain : std::chrono::seconds(cluster_node ? 10 : 0);
    const std::size_t total = engine.SessionCount();
    spdlog::info("signal {}: draining {} sessions over {} s, then stopping", sig, total, drain.count());
    api.SetDraining();
    engine.SetDraining();
    if (cluster_node) cluster_node->ReleaseEmitterLease();
    service.StopTakingJobs();
    lag.Stop();
    hangup.cancel();
    prune.cancel();
    auto finish = [&] {
      listener->Stop();
      if (metrics_listener) metrics_listener->Stop();
      engine.CloseAll("server shutting down");
      // What the store thread has in hand (a commit of a request accepted before the drain) is
      // answered before the loops stop: a marker behind it, then a moment for the writes.
      worker.Post([&loops] {
        auto timer = std::make_shared<boost::asio::steady_timer>(loops.At(0), std::chrono::milliseconds(200));
        timer->async_wait([&loops, timer](boost::system::error_code) { loops.Stop(); });
      });
    };
    if (drain.count() == 0 || total == 0) return finish();
    const std::size_t ticks = static_cast<std::size_t>(drain.count()) * 10;  // every 100 ms
    const std::size_t per_tick = std::max<std::size_t>(1, (total + ticks - 1) / ticks);
    const auto deadline = std::chrono::steady_clock::now() + drain;
    auto timer = std::make_shared<boost::asio::steady_timer>(loops.At(0));
    // Each step holds itself only through the pending wait: the last one lets go.
    auto step = std::make_shared<std::function<void()>>();
    *step = [&engine, finish, timer, weak = std::weak_ptr(step), per_tick, deadline] {
      const std::size_t left = engine.CloseSome(per_tick, "server shutting down");
      if (left == 0 || std::chrono::steady_clock::now() >= deadline) return finish();
      timer->expires_after(std::chrono::milliseconds(100));
      timer->async_wait([self = weak.lock()](boost::system::error_code e) {
        if (!e && self) (*self)();
      });
    };
    (*step)();
  });

  spdlog::info("fulfillment-gateway listening on {}://{}:{} ({} loops, data dir {})", scheme, c.host, listener->Port(),
               threads, c.data_dir);
  if (metrics_listener) spdlog::info("metrics on http://{}/metrics", c.metrics_listen);
  if (metrics_listener)
    std::printf("READY port=%u metrics_port=%u\n", listener->Port(), metrics_listener->Port());
  else
    std::printf("READY port=%u\n", listener->Port());
  std::fflush(stdout);
  if (demo) demo->Start();
  if (cluster_node) cluster_node->Start();
  loops.Start();
  loops.Join();
  if (demo) demo->Stop();
  service.Stop();  // the job in hand finishes; its events are committed (and published below)
  if (cluster_node) cluster_node->Stop();
  worker.Stop();
  if (sim_loops) {
    sim_loops->Stop();
    sim_loops->Join();
  }
  spdlog::info("stopped");
  return 0;
}

}  // namespace fg::app

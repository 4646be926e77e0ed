// Conformance mode: our Engine.IO and Socket.IO layers wired to the handlers described in the
// "Test suite" sections of the protocol specs, so the official suites can run against us:
//   /engine.io/  an Engine.IO echo server
//   /socket.io/  namespaces "/" and "/custom": emit "auth" with the CONNECT payload,
//                "message" → "message-back", "message-with-ack" → ack with the same arguments
// pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1000000, connectTimeout 1000 ms, CORS "*".
//
// With --client-suite: the server of socket.io-client's own test suite instead
// (packages/socket.io-client/test/support/server.ts in socketio/socket.io): port 3210,
// pingInterval 2000 ms, a 10 ms delay before each Engine.IO handshake, connection state recovery on
// "/", and its namespaces and events (see ClientSuiteMain below).
#include "app/conformance.hpp"

#include "app/router.hpp"
#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "net/listener.hpp"
#include "net/loops.hpp"
#include "socketio/server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

namespace fg::app {
namespace {

class EchoSession : public engineio::SessionHandler {
 public:
  explicit EchoSession(std::weak_ptr<engineio::Session> s) : session_(std::move(s)) {}
  void OnMessage(std::string data, bool binary) override {
    auto s = session_.lock();
    if (!s) return;
    s->Send(std::make_shared<const std::string>(binary ? std::move(data) : "4" + data), binary);
  }
  void OnClose(std::string_view) override {}

 private:
  std::weak_ptr<engineio::Session> session_;
};

class EchoNamespace : public socketio::NamespaceHandler {
 public:
  void OnConnect(const std::shared_ptr<socketio::Socket>& socket, const boost::json::value& auth,
                 ConnectDone done) override {
    socket->context = auth;
    done(std::nullopt);
  }
  void OnConnected(const std::shared_ptr<socketio::Socket>& socket) override {
    socket->Emit("auth", boost::json::array{std::any_cast<boost::json::value>(socket->context)});
  }
  void OnEvent(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev) override {
    if (ev.name == "message") {
      socket->EmitWithAttachments("message-back", ev.args, ev.attachments);
    } else if (ev.name == "message-with-ack" && ev.ack_id) {
      socket->Ack(*ev.ack_id, ev.args, ev.attachments);
    }
  }
  void OnDisconnect(const std::shared_ptr<socketio::Socket>&, std::string_view) override {}
};

// The handshake details socket.io hands to its handlers (`socket.handshake`), as far as we keep them.
boost::json::object HandshakeObject(socketio::Socket& socket, const boost::json::value& auth) {
  const auto& h = socket.Handshake();
  boost::json::object query;
  for (const auto& [k, v] : h.query) query[k] = v;
  boost::json::object headers;
  if (!h.origin.empty()) headers["origin"] = h.origin;
  const auto now = std::chrono::system_clock::now();
  return {{"headers", headers},
          {"time", IsoTimestamp(now)},
          {"address", h.remote_address},
          {"xdomain", !h.origin.empty()},
          {"secure", false},
          {"issued", std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count()},
          {"url", "/socket.io/"},
          {"query", query},
          {"auth", auth.is_object() ? auth : boost::json::object{}}};
}

bool IsPlaceholder(const boost::json::value& v) {
  return v.is_object() && v.as_object().contains("_placeholder");
}
const boost::json::value kBufferArg = boost::json::object{{"_placeholder", true}, {"num", 0}};

// Namespaces the client suite only connects to (and /abc, which greets with the handshake).
class PlainNamespace : public socketio::NamespaceHandler {
 public:
  explicit PlainNamespace(std::optional<std::string> refuse = std::nullopt, bool greet = false)
      : refuse_(std::move(refuse)), greet_(greet) {}
  void OnConnect(const std::shared_ptr<socketio::Socket>& socket, const boost::json::value& auth,
                 ConnectDone done) override {
    if (refuse_) return done(boost::json::object{{"message", *refuse_}});
    socket->context = auth;
    done(std::nullopt);
  }
  void OnConnected(const std::shared_ptr<socketio::Socket>& socket) override {
    if (greet_)
      socket->Emit("handshake",
                   boost::json::array{HandshakeObject(*socket, std::any_cast<boost::json::value>(socket->context))});
  }
  void OnEvent(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev) override {
    if (ev.name == "getId" && ev.ack_id) socket->Ack(*ev.ack_id, boost::json::array{socket->Id()});
  }
  void OnDisconnect(const std::shared_ptr<socketio::Socket>&, std::string_view) override {}

 private:
  std::optional<std::string> refuse_;
  bool greet_;
};

// "/" of the client suite, with socket.io's connection state recovery: every event sent carries an
// offset (last argument) and is kept for two minutes; a client that comes back with {pid, offset}
// within that time gets its old id and what it missed.
class ClientSuiteMain : public socketio::NamespaceHandler {
 public:
  void OnConnect(const std::shared_ptr<socketio::Socket>& socket, const boost::json::value& auth,
                 ConnectDone done) override {
    if (socket->Handshake().query.count("fail"))
      return done(boost::json::object{{"message", "Auth failed (main namespace)"}});
    auto state = std::make_shared<State>();
    state->auth = auth;
    socket->context = state;
    const auto* a = auth.if_object();
    const auto* pid = a ? a->if_contains("pid") : nullptr;
    const auto* offset = a ? a->if_contains("offset") : nullptr;
    {
      std::lock_guard lock(mutex_);  // not held across done(): it runs OnConnected
      Expire();
      if (pid && pid->is_string() && offset && offset->is_string()) {
        auto it = sessions_.find(std::string(pid->as_string()));
        if (it != sessions_.end()) {
          socket->SetRecoveryIds(it->second.sid, std::string(pid->as_string()));
          state->replay_after = std::strtoull(offset->as_string().c_str(), nullptr, 10);
          state->recovering = true;
          sessions_.erase(it);
        }
      }
    }
    if (!state->recovering) socket->SetRecoveryIds("", RandomId(18));
    done(std::nullopt);
  }
  void OnConnected(const std::shared_ptr<socketio::Socket>& socket) override {
    auto state = std::any_cast<std::shared_ptr<State>>(socket->context);
    if (!state->recovering) return;
    std::lock_guard lock(mutex_);
    for (const auto& p : log_) {
      if (p.sid == socket->Id() && p.offset > state->replay_after)
        socket->EmitWithAttachments(p.event, p.args, p.attachments);
    }
  }
  void OnEvent(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev) override {
    using boost::json::array;
    auto ack = [&](array args) {
      if (ev.ack_id) socket->Ack(*ev.ack_id, args);
    };
    const auto now = IsoTimestamp(std::chrono::system_clock::now());
    const auto& n = ev.name;
    if (n == "hi") {
      Send(*socket, "hi", {});
    } else if (n == "echo") {
      if (ev.ack_id) socket->Ack(*ev.ack_id, ev.args, ev.attachments);
    } else if (n == "ack") {
      std::any_cast<std::shared_ptr<State>>(socket->context)->asked.insert(socket->EmitExpectingAck("ack", {}));
    } else if (n == "getAckDate") {
      ack(array{now});
    } else if (n == "getDate") {
      Send(*socket, "takeDate", array{now});
    } else if (n == "getDateObj") {
      Send(*socket, "takeDateObj", array{boost::json::object{{"date", now}}});
    } else if (n == "getUtf8") {
      for (const char* t : {"てすと", "Я Б Г Д Ж Й", "Ä ä Ü ü ß", "utf8 — string", "utf8 — string"})
        Send(*socket, "takeUtf8", array{t});
    } else if (n == "false") {
      Send(*socket, "false", array{false});
    } else if (n == "doge" || n == "getbin") {
      Send(*socket, n == "doge" ? "doge" : "takebin", array{kBufferArg}, {"asdfasdf"});
    } else if (n == "buffa" || n == "blob") {
      if (Binary(ev, 0)) Send(*socket, n == "buffa" ? "buffack" : "back", {});
    } else if (n == "jsonbuff" || n == "jsonblob") {
      const auto* o = ev.args.empty() ? nullptr : ev.args[0].if_object();
      if (o && o->contains("hello") && o->at("hello") == "lol" && o->contains("message") &&
          IsPlaceholder(o->at("message")) && !ev.attachments.empty() && o->contains("goodbye") &&
          o->at("goodbye") == "gotcha")
        Send(*socket, n == "jsonbuff" ? "jsonbuff-ack" : "jsonblob-ack", {});
    } else if (n == "abuff1" || n == "blob1") {
      std::any_cast<std::shared_ptr<State>>(socket->context)->got_first[n] = Binary(ev, 0);
    } else if (n == "abuff2") {
      if (std::any_cast<std::shared_ptr<State>>(socket->context)->got_first["abuff1"]) Send(*socket, "abuff2-ack", {});
    } else if (n == "blob2") {
      auto state = std::any_cast<std::shared_ptr<State>>(socket->context);
      state->got_first["blob2"] = state->got_first["blob1"] && !ev.args.empty() && ev.args[0] == "second";
    } else if (n == "blob3") {
      auto state = std::any_cast<std::shared_ptr<State>>(socket->context);
      if (Binary(ev, 0) && state->got_first["blob1"] && state->got_first["blob2"]) Send(*socket, "blob3-ack", {});
    } else if (n == "getHandshake") {
      ack(array{HandshakeObject(*socket, std::any_cast<std::shared_ptr<State>>(socket->context)->auth)});
    } else if (n == "getId") {
      ack(array{socket->Id()});
    }
  }
  void OnAck(const std::shared_ptr<socketio::Socket>& socket, std::uint64_t id, boost::json::array args,
             std::vector<std::string>) override {
    auto state = std::any_cast<std::shared_ptr<State>>(socket->context);
    if (!state->asked.erase(id)) return;
    const auto* b = args.size() > 1 ? args[1].if_object() : nullptr;
    if (!args.empty() && args[0] == 5 && b && b->contains("test") && b->at("test") == true) Send(*socket, "got it", {});
  }
  void OnDisconnect(const std::shared_ptr<socketio::Socket>& socket, std::string_view reason) override {
    // socket.io keeps the session for these reasons only
    if (reason != "transport close" && reason != "transport error" && reason != "ping timeout" &&
        reason != "forced close" && reason != "server shutting down")
      return;
    std::lock_guard lock(mutex_);
    sessions_[socket->Pid()] = Session{socket->Id(), std::chrono::steady_clock::now()};
  }

 private:
  struct State {
    boost::json::value auth;
    bool recovering = false;
    std::uint64_t replay_after = 0;
    std::set<std::uint64_t> asked;
    std::map<std::string, bool> got_first;
  };
  struct Session {
    std::string sid;
    std::chrono::steady_clock::time_point disconnected;
  };
  struct Sent {
    std::uint64_t offset;
    std::string sid;
    std::string event;
    boost::json::array args;  // the offset included
    std::vector<std::string> attachments;
    std::chrono::steady_clock::time_point at;
  };
  static constexpr auto kWindow = std::chrono::minutes(2);

  static bool Binary(const socketio::Event& ev, std::size_t i) {
    return ev.args.size() > i && IsPlaceholder(ev.args[i]) && !ev.attachments.empty();
  }
  // socket.emit with recovery on: the packet gets the next offset and is kept for replay.
  void Send(socketio::Socket& socket, const std::string& event, boost::json::array args,
            std::vector<std::string> attachments = {}) {
    std::lock_guard lock(mutex_);
    const std::uint64_t offset = ++next_offset_;
    args.emplace_back(std::to_string(offset));
    socket.EmitWithAttachments(event, args, attachments);
    log_.push_back(
        Sent{offset, socket.Id(), event, std::move(args), std::move(attachments), std::chrono::steady_clock::now()});
  }
  void Expire() {  // under mutex_
    const auto cutoff = std::chrono::steady_clock::now() - kWindow;
    while (!log_.empty() && log_.front().at < cutoff) log_.pop_front();
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.disconnected < cutoff; });
  }

  std::mutex mutex_;
  std::uint64_t next_offset_ = 0;
  std::deque<Sent> log_;
  std::unordered_map<std::string, Session> sessions_;
};

}  // namespace

int RunConformance(const ConformanceOptions& options) {
  // The loops are declared first so they outlive every object holding timers or sockets on them.
  const std::size_t threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  net::Loops loops(threads);
  Limits limits;
  engineio::ServerConfig config;
  config.options.ping_interval = std::chrono::milliseconds(options.client_suite ? 2000 : 300);
  config.options.ping_timeout = std::chrono::milliseconds(options.client_suite ? 20000 : 200);
  config.options.max_payload = 1'000'000;
  config.cors_origins = {"*"};
  if (options.client_suite) config.handshake_delay = std::chrono::milliseconds(10);  // its allowRequest
  limits.max_payload = config.options.max_payload;

  engineio::ServerConfig eio_config = config;
  eio_config.path = "/engine.io/";
  engineio::Server eio(eio_config, limits, [](const std::shared_ptr<engineio::Session>& s) {
    s->SetHandler(std::make_shared<EchoSession>(s));
  });

  socketio::ServerOptions sio_options;
  sio_options.connect_timeout = std::chrono::milliseconds(options.client_suite ? 45000 : 1000);
  socketio::Server sio(sio_options);
  if (options.client_suite) {
    sio.AddNamespace("/", std::make_shared<ClientSuiteMain>());
    auto plain = std::make_shared<PlainNamespace>();
    for (const char* nsp : {"/foo", "/timeout_socket", "/valid", "/asd"}) sio.AddNamespace(nsp, plain);
    sio.AddNamespace("/abc", std::make_shared<PlainNamespace>(std::nullopt, true));
    sio.AddNamespace("/no", std::make_shared<PlainNamespace>("Auth failed (custom namespace)"));
  } else {
    auto ns = std::make_shared<EchoNamespace>();
    sio.AddNamespace("/", ns);
    sio.AddNamespace("/custom", ns);
  }
  engineio::ServerConfig sio_config = config;
  sio_config.path = "/socket.io/";
  engineio::Server sio_engine(sio_config, limits,
                              [&sio](const std::shared_ptr<engineio::Session>& s) { sio.OnSession(s); });

  Router router({&eio, &sio_engine}, nullptr);
  auto listener = std::make_shared<net::Listener>(loops, options.host, options.port, router, limits);
  listener->Start();
  boost::asio::signal_set signals(loops.At(0), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) {
    listener->Stop();
    eio.CloseAll("server shutting down");
    sio_engine.CloseAll("server shutting down");
    loops.Stop();
  });
  spdlog::info("conformance servers on http://{}:{} (/engine.io/, /socket.io/)", options.host, listener->Port());
  std::printf("READY port=%u\n", listener->Port());
  std::fflush(stdout);
  loops.Start();
  loops.Join();
  return 0;
}

}  // namespace fg::app

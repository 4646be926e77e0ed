// Conformance mode: our Engine.IO and Socket.IO layers wired to the handlers described in the
// "Test suite" sections of the protocol specs, so the official suites can run against us:
//   /engine.io/  an Engine.IO echo server
//   /socket.io/  namespaces "/" and "/custom": emit "auth" with the CONNECT payload,
//                "message" → "message-back", "message-with-ack" → ack with the same arguments
// pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1000000, connectTimeout 1000 ms, CORS "*".
#include "app/conformance.hpp"

#include "app/router.hpp"
#include "net/listener.hpp"
#include "net/loops.hpp"
#include "socketio/server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <thread>

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

}  // namespace

int RunConformance(const ConformanceOptions& options) {
  // The loops are declared first so they outlive every object holding timers or sockets on them.
  const std::size_t threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  net::Loops loops(threads);
  Limits limits;
  engineio::ServerConfig config;
  config.options.ping_interval = std::chrono::milliseconds(300);
  config.options.ping_timeout = std::chrono::milliseconds(200);
  config.options.max_payload = 1'000'000;
  config.cors_origins = {"*"};
  limits.max_payload = config.options.max_payload;

  engineio::ServerConfig eio_config = config;
  eio_config.path = "/engine.io/";
  engineio::Server eio(eio_config, limits, [](const std::shared_ptr<engineio::Session>& s) {
    s->SetHandler(std::make_shared<EchoSession>(s));
  });

  socketio::ServerOptions sio_options;
  sio_options.connect_timeout = std::chrono::milliseconds(1000);
  socketio::Server sio(sio_options);
  auto ns = std::make_shared<EchoNamespace>();
  sio.AddNamespace("/", ns);
  sio.AddNamespace("/custom", ns);
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

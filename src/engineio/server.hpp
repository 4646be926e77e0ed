// Engine.IO v4 server mounted at one path (e.g. /socket.io/): validates handshake queries, creates
// sessions, routes polling requests and WebSocket upgrades to them, applies CORS. Error answers
// follow the reference implementation: 400 {"code":N,"message":"..."}.
#pragma once

#include "engineio/session.hpp"

#include "common/rate_limit.hpp"

#include <atomic>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace fg::engineio {

namespace http = boost::beast::http;

enum class ErrorCode {
  kUnknownTransport = 0,
  kUnknownSid = 1,
  kBadHandshakeMethod = 2,
  kBadRequest = 3,
  kForbidden = 4,
  kUnsupportedProtocolVersion = 5
};

struct ServerConfig {
  std::string path = "/socket.io/";
  Options options;
  // Allowed browser origins; "*" allows any. A request from the server's own origin (its Host)
  // is always allowed.
  std::vector<std::string> cors_origins{"http://localhost:3000"};
  // How long a new session's handshake waits before it is answered (0: not at all). Only the
  // conformance mode sets it: socket.io-client's suite delays its handshakes by 10 ms.
  std::chrono::milliseconds handshake_delay{0};
};

// A cluster's other nodes (cluster/session_router.hpp): a request for a session this process does
// not hold, whose sid names another node, is passed there. Returns false to answer "Session ID
// unknown" here; true when it took the request (and answers it, whatever happens).
class Forwarder {
 public:
  virtual ~Forwarder() = default;
  virtual bool Forward(const std::shared_ptr<net::HttpConnection>& conn, net::Request& req, const std::string& sid,
                       bool upgrade) = 0;
};
// The header a forwarded request carries: its receiver never forwards it again.
inline constexpr const char* kForwardedHeader = "X-FG-Forwarded";

class Server {
 public:
  using ConnectionHandler = std::function<void(const std::shared_ptr<Session>&)>;
  Server(ServerConfig config, const Limits& limits, ConnectionHandler on_connection);

  bool Matches(std::string_view target) const;
  void HandleRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request req);
  void HandleUpgrade(const std::shared_ptr<net::HttpConnection>& conn, net::Request req);

  // Cluster mode: every sid made here starts with `sid_prefix` (this node's tag and '.'), and
  // requests for sessions held elsewhere go to `forwarder`. Set before serving.
  void SetCluster(std::string sid_prefix, Forwarder* forwarder) {
    sid_prefix_ = std::move(sid_prefix);
    forwarder_ = forwarder;
  }
  // The answer to a request for a session nobody holds (forwarders use it too).
  net::Response UnknownSid(const net::Request& req) const {
    return ErrorResponse(req, ErrorCode::kUnknownSid, "Session ID unknown");
  }

  std::shared_ptr<Session> Find(const std::string& sid);
  void Remove(const std::string& sid);
  // The session joined a namespace: it no longer counts against the pending (anonymous) bounds.
  void MarkJoined(const std::string& sid);
  std::size_t SessionCount();
  std::size_t PendingCount();
  void CloseAll(std::string_view reason);
  // Closes up to `n` sessions not closing yet; returns how many others remain (a drain's step).
  std::size_t CloseSome(std::size_t n, std::string_view reason);
  // SIGTERM: new sessions are refused (503), the open ones stay until closed.
  void SetDraining() { draining_ = true; }

  const ServerConfig& Config() const { return config_; }
  bool OriginAllowed(std::string_view origin) const;
  // Allowed, or the request's own origin (Origin names the Host it was sent to).
  bool OriginAllowedFor(const net::Request& req) const;
  // The client's address: the peer, or with Limits::trust_proxy the last X-Forwarded-For hop.
  std::string ClientAddress(const net::Request& req, const std::string& peer) const;
  // Adds CORS headers for `req`'s Origin to `res`.
  void ApplyCors(const net::Request& req, net::Response& res) const;

 private:
  using Handler = void (Server::*)(const std::shared_ptr<net::HttpConnection>&, net::Request);
  // Runs `handler` now, or after config_.handshake_delay when `req` opens a new session.
  bool Delayed(Handler handler, const std::shared_ptr<net::HttpConnection>& conn, net::Request& req);
  void HandleRequestNow(const std::shared_ptr<net::HttpConnection>& conn, net::Request req);
  void HandleUpgradeNow(const std::shared_ptr<net::HttpConnection>& conn, net::Request req);
  net::Response ErrorResponse(const net::Request& req, ErrorCode code, std::string_view message) const;
  net::Response Overloaded(const net::Request& req, std::string_view why,
                           http::status status = http::status::service_unavailable) const;
  net::Response Forbidden(const net::Request& req) const;
  // Admission of a new session from `client`: nullopt when it may be created, else the refusal.
  std::optional<net::Response> Admit(const net::Request& req, const std::shared_ptr<net::HttpConnection>& conn,
                                     const std::string& client);
  std::shared_ptr<Session> Create(boost::asio::any_io_executor exec, const net::Request& req,
                                  std::map<std::string, std::string> query, const std::string& client);
  void ForgetPendingLocked(const std::string& sid);
  void EvictLocked(const std::string& sid);

  ServerConfig config_;
  const Limits& limits_;
  std::string sid_prefix_;
  Forwarder* forwarder_ = nullptr;
  std::atomic<bool> draining_{false};
  std::unordered_set<std::string> closing_;  // under mutex_: asked to close by CloseSome
  ConnectionHandler on_connection_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;
  // Sessions not yet in a namespace, oldest first, overall and per client address.
  struct Pending {
    std::list<std::string>::iterator all, by_ip;
    std::string ip;
  };
  std::list<std::string> pending_;
  std::unordered_map<std::string, std::list<std::string>> pending_by_ip_;
  std::unordered_map<std::string, Pending> pending_index_;
  std::unordered_map<std::string, std::size_t> sessions_by_ip_;
  RateLimiter handshakes_;
  std::uint64_t refused_ = 0;
};

std::string Handshake(const std::string& sid, bool upgrades, const Options& options);

}  // namespace fg::engineio

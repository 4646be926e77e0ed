// Engine.IO v4 server mounted at one path (e.g. /socket.io/): validates handshake queries, creates
// sessions, routes polling requests and WebSocket upgrades to them, applies CORS. Error answers
// follow the reference implementation: 400 {"code":N,"message":"..."}.
#pragma once

#include "engineio/session.hpp"

#include <functional>
#include <mutex>
#include <unordered_map>

namespace fg::engineio {

enum class ErrorCode { kUnknownTransport = 0, kUnknownSid = 1, kBadHandshakeMethod = 2, kBadRequest = 3, kForbidden = 4, kUnsupportedProtocolVersion = 5 };

struct ServerConfig {
  std::string path = "/socket.io/";
  Options options;
  // Allowed browser origins; "*" allows any.
  std::vector<std::string> cors_origins{"http://localhost:3000"};
};

class Server {
 public:
  using ConnectionHandler = std::function<void(const std::shared_ptr<Session>&)>;
  Server(ServerConfig config, const Limits& limits, ConnectionHandler on_connection);

  bool Matches(std::string_view target) const;
  void HandleRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request req);
  void HandleUpgrade(const std::shared_ptr<net::HttpConnection>& conn, net::Request req);

  std::shared_ptr<Session> Find(const std::string& sid);
  void Remove(const std::string& sid);
  std::size_t SessionCount();
  void CloseAll(std::string_view reason);

  const ServerConfig& Config() const { return config_; }
  bool OriginAllowed(std::string_view origin) const;
  // Adds CORS headers for `req`'s Origin to `res`.
  void ApplyCors(const net::Request& req, net::Response& res) const;

 private:
  net::Response ErrorResponse(const net::Request& req, ErrorCode code, std::string_view message) const;
  net::Response Overloaded(const net::Request& req) const;
  std::shared_ptr<Session> Create(boost::asio::any_io_executor exec, const net::Request& req,
                                  std::map<std::string, std::string> query, const std::string& remote);

  ServerConfig config_;
  const Limits& limits_;
  ConnectionHandler on_connection_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;
};

// "a=1&b=%20x" → {a:"1", b:" x"}. Bounded by the header limit of the request that carries it.
std::map<std::string, std::string> ParseQuery(std::string_view target);
std::string Handshake(const std::string& sid, bool upgrades, const Options& options);

}  // namespace fg::engineio

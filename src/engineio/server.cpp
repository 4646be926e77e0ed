#include "engineio/server.hpp"

#include "common/encoding.hpp"
#include "common/metrics.hpp"
#include "net/query.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

namespace fg::engineio {

namespace {
// fg_handshakes_total{layer="engineio"}: the result of a request that opens a session.
void CountHandshake(const char* result) {
  metrics::M().handshakes.Add({{"layer", "engineio"}, {"result", result}}).Increment();
}
}  // namespace

std::string Handshake(const std::string& sid, bool upgrades, const Options& options) {
  boost::json::object o;
  o["sid"] = sid;
  o["upgrades"] = upgrades ? boost::json::array{"websocket"} : boost::json::array{};
  o["pingInterval"] = options.ping_interval.count();
  o["pingTimeout"] = options.ping_timeout.count();
  o["maxPayload"] = options.max_payload;
  return "0" + boost::json::serialize(o);
}

Server::Server(ServerConfig config, const Limits& limits, ConnectionHandler on_connection)
    : config_(std::move(config)),
      limits_(limits),
      on_connection_(std::move(on_connection)),
      handshakes_(limits.handshakes_per_ip_per_s, limits.handshake_burst_per_ip) {}

bool Server::OriginAllowedFor(const net::Request& req) const {
  const auto origin = req[http::field::origin];
  if (origin.empty() || OriginAllowed(origin)) return true;
  // Same origin: "scheme://host[:port]" whose authority is the Host the request was sent to.
  const auto scheme = origin.find("://");
  const auto host = req[http::field::host];
  return scheme != std::string_view::npos && !host.empty() && boost::beast::iequals(origin.substr(scheme + 3), host);
}

std::string Server::ClientAddress(const net::Request& req, const std::string& peer) const {
  if (!limits_.trust_proxy) return peer;
  const std::string header(req["x-forwarded-for"]);
  std::string_view xff = header;
  if (xff.empty()) return peer;
  const auto comma = xff.rfind(',');
  if (comma != std::string_view::npos) xff.remove_prefix(comma + 1);
  while (!xff.empty() && xff.front() == ' ') xff.remove_prefix(1);
  while (!xff.empty() && xff.back() == ' ') xff.remove_suffix(1);
  if (xff.empty() || xff.size() > 64) return peer;
  return std::string(xff);
}

bool Server::Matches(std::string_view target) const {
  const std::string_view path = target.substr(0, target.find('?'));
  const std::string_view bare = std::string_view(config_.path).substr(0, config_.path.size() - 1);
  return path == config_.path || path == bare;
}

bool Server::OriginAllowed(std::string_view origin) const {
  for (const auto& o : config_.cors_origins) {
    if (o == "*" || o == origin) return true;
  }
  return false;
}

void Server::ApplyCors(const net::Request& req, net::Response& res) const {
  const auto origin = req[http::field::origin];
  if (origin.empty()) return;
  const bool any =
      std::find(config_.cors_origins.begin(), config_.cors_origins.end(), "*") != config_.cors_origins.end();
  if (!OriginAllowed(origin)) return;
  res.set(http::field::access_control_allow_origin, any ? std::string("*") : std::string(origin));
  if (!any) {
    res.set(http::field::access_control_allow_credentials, "true");
    res.set(http::field::vary, "Origin");
  }
}

net::Response Server::ErrorResponse(const net::Request& req, ErrorCode code, std::string_view message) const {
  net::Response res{http::status::bad_request, req.version()};
  res.set(http::field::content_type, "application/json");
  ApplyCors(req, res);
  boost::json::object o;
  o["code"] = static_cast<int>(code);
  o["message"] = message;
  res.body() = boost::json::serialize(o);
  return res;
}

net::Response Server::Overloaded(const net::Request& req, std::string_view why, http::status status) const {
  net::Response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::retry_after, status == http::status::too_many_requests ? "1" : "5");
  ApplyCors(req, res);
  boost::json::object o{{"code", static_cast<int>(ErrorCode::kBadRequest)}, {"message", why}};
  res.body() = boost::json::serialize(o);
  return res;
}

net::Response Server::Forbidden(const net::Request& req) const {
  net::Response res = ErrorResponse(req, ErrorCode::kForbidden, "Forbidden");
  res.result(http::status::forbidden);
  return res;
}

std::optional<net::Response> Server::Admit(const net::Request& req, const std::shared_ptr<net::HttpConnection>& conn,
                                           const std::string& client) {
  if (draining_) {
    CountHandshake("draining");
    return Overloaded(req, "Server draining");
  }
  if (conn->NearCapacity()) {
    CountHandshake("capacity");
    return Overloaded(req, "Server at capacity");
  }
  if (!handshakes_.Allow(client)) {
    CountHandshake("rate_limited");
    if (refused_++ % 1000 == 0)
      spdlog::warn("handshakes from {} over --handshakes-per-ip; {} refused so far", client, refused_);
    return Overloaded(req, "Too many handshakes", http::status::too_many_requests);
  }
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= limits_.max_sessions) {
    if (refused_++ % 1000 == 0) spdlog::warn("refusing new sessions: {} open (--max-sessions)", sessions_.size());
    CountHandshake("capacity");
    return Overloaded(req, "Server at capacity");
  }
  if (limits_.max_sessions_per_ip) {
    auto it = sessions_by_ip_.find(client);
    if (it != sessions_by_ip_.end() && it->second >= limits_.max_sessions_per_ip) {
      if (refused_++ % 1000 == 0)
        spdlog::warn("refusing new sessions from {}: {} open (--max-sessions-per-ip)", client, it->second);
      CountHandshake("per_ip_limit");
      return Overloaded(req, "Too many sessions", http::status::too_many_requests);
    }
  }
  return std::nullopt;
}

std::shared_ptr<Session> Server::Create(boost::asio::any_io_executor exec, const net::Request& req,
                                        std::map<std::string, std::string> query, const std::string& client) {
  CountHandshake("ok");
  HandshakeInfo info;
  info.query = std::move(query);
  info.authorization = std::string(req[http::field::authorization]);
  info.origin = std::string(req[http::field::origin]);
  info.remote_address = client;
  auto session = std::make_shared<Session>(*this, std::move(exec), sid_prefix_ + RandomId(15), std::move(info),
                                           config_.options, limits_);
  std::lock_guard lock(mutex_);
  sessions_.emplace(session->Id(), session);
  ++sessions_by_ip_[client];
  // A new anonymous session; past a pending bound the oldest one (of this address, else overall)
  // is closed, so a flood of handshakes recycles its own slots instead of locking others out.
  auto& mine = pending_by_ip_[client];
  if (limits_.max_pending_sessions_per_ip && mine.size() >= limits_.max_pending_sessions_per_ip)
    EvictLocked(mine.front());
  if (limits_.max_pending_sessions && pending_.size() >= limits_.max_pending_sessions) EvictLocked(pending_.front());
  pending_.push_back(session->Id());
  auto& by_ip = pending_by_ip_[client];
  by_ip.push_back(session->Id());
  pending_index_[session->Id()] = Pending{std::prev(pending_.end()), std::prev(by_ip.end()), client};
  return session;
}

void Server::ForgetPendingLocked(const std::string& sid) {
  auto it = pending_index_.find(sid);
  if (it == pending_index_.end()) return;
  pending_.erase(it->second.all);
  auto ip = pending_by_ip_.find(it->second.ip);
  if (ip != pending_by_ip_.end()) {
    ip->second.erase(it->second.by_ip);
    if (ip->second.empty()) pending_by_ip_.erase(ip);
  }
  pending_index_.erase(it);
}

void Server::EvictLocked(const std::string& sid) {
  const std::string id = sid;  // `sid` may refer into the lists it is removed from
  ForgetPendingLocked(id);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (refused_++ % 1000 == 0)
    spdlog::warn("closing unjoined sessions to admit new ones (--max-pending-sessions[-per-ip])");
  auto s = it->second;
  boost::asio::post(s->Executor(), [s] { s->Abort("pending session evicted"); });
}

void Server::MarkJoined(const std::string& sid) {
  std::lock_guard lock(mutex_);
  ForgetPendingLocked(sid);
}

std::size_t Server::PendingCount() {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

bool Server::Delayed(Handler handler, const std::shared_ptr<net::HttpConnection>& conn, net::Request& req) {
  if (config_.handshake_delay.count() <= 0 || req.method() == http::verb::options ||
      net::Query(req.target()).Get("sid"))
    return false;
  auto timer = std::make_shared<boost::asio::steady_timer>(conn->Executor(), config_.handshake_delay);
  timer->async_wait([this, handler, conn, timer, r = std::move(req)](boost::system::error_code) mutable {
    (this->*handler)(conn, std::move(r));
  });
  return true;
}

void Server::HandleRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) {
  if (!Delayed(&Server::HandleRequestNow, conn, req)) HandleRequestNow(conn, std::move(req));
}

void Server::HandleUpgrade(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) {
  if (!Delayed(&Server::HandleUpgradeNow, conn, req)) HandleUpgradeNow(conn, std::move(req));
}

void Server::HandleRequestNow(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) {
  if (req.method() == http::verb::options) {
    net::Response res{http::status::no_content, req.version()};
    ApplyCors(req, res);
    res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    const auto wanted = req[http::field::access_control_request_headers];
    res.set(http::field::access_control_allow_headers,
            wanted.empty() ? std::string("content-type") : std::string(wanted));
    res.set(http::field::access_control_max_age, "86400");
    conn->Respond(std::move(res));
    return;
  }
  const net::Query query(req.target());
  if (query.Get("EIO") != "4") {
    if (!query.Get("sid")) CountHandshake("unsupported_protocol_version");
    conn->Respond(ErrorResponse(req, ErrorCode::kUnsupportedProtocolVersion, "Unsupported protocol version"));
    return;
  }
  if (query.Get("transport") != "polling") {
    if (!query.Get("sid")) CountHandshake("unknown_transport");
    conn->Respond(ErrorResponse(req, ErrorCode::kUnknownTransport, "Transport unknown"));
    return;
  }
  const auto sid = query.Get("sid");
  if (!sid) {
    if (req.method() != http::verb::get) {
      CountHandshake("bad_handshake_method");
      conn->Respond(ErrorResponse(req, ErrorCode::kBadHandshakeMethod, "Bad handshake method"));
      return;
    }
    if (!OriginAllowedFor(req)) {
      // Browsers send Origin on XHR too: a page from another site cannot even open a session.
      spdlog::debug("refused polling handshake from origin '{}' ({})", std::string(req[http::field::origin]),
                    conn->RemoteAddress());
      CountHandshake("forbidden_origin");
      conn->Respond(Forbidden(req));
      return;
    }
    const std::string client = ClientAddress(req, conn->RemoteAddress());
    if (auto refusal = Admit(req, conn, client)) {
      conn->Respond(std::move(*refusal));
      return;
    }
    auto session = Create(conn->Executor(), req, query.ToMap(), client);
    net::Response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain; charset=UTF-8");
    ApplyCors(req, res);
    res.body() = Handshake(session->Id(), true, config_.options);
    session->StartPolling();
    conn->Respond(std::move(res));
    if (on_connection_) on_connection_(session);
    return;
  }
  auto session = Find(*sid);
  if (!session) {
    if (forwarder_ && req.find(kForwardedHeader) == req.end() && forwarder_->Forward(conn, req, *sid, false)) return;
    conn->Respond(ErrorResponse(req, ErrorCode::kUnknownSid, "Session ID unknown"));
    return;
  }
  net::Response base{http::status::ok, req.version()};
  ApplyCors(req, base);
  if (req.method() == http::verb::get) {
    boost::asio::dispatch(session->Executor(),
                          [session, conn, b = std::move(base)]() mutable { session->OnPollGet(conn, std::move(b)); });
  } else if (req.method() == http::verb::post) {
    boost::asio::dispatch(session->Executor(),
                          [session, conn, b = std::move(base), body = std::move(req.body())]() mutable {
                            session->OnPollPost(conn, std::move(b), std::move(body));
                          });
  } else {
    conn->Respond(ErrorResponse(req, ErrorCode::kBadRequest, "Bad request"));
  }
}

void Server::HandleUpgradeNow(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) {
  const net::Query query(req.target());
  if (query.Get("EIO") != "4") {
    if (!query.Get("sid")) CountHandshake("unsupported_protocol_version");
    conn->RespondAndClose(ErrorResponse(req, ErrorCode::kUnsupportedProtocolVersion, "Unsupported protocol version"));
    return;
  }
  if (query.Get("transport") != "websocket") {
    if (!query.Get("sid")) CountHandshake("unknown_transport");
    conn->RespondAndClose(ErrorResponse(req, ErrorCode::kUnknownTransport, "Transport unknown"));
    return;
  }
  if (!OriginAllowedFor(req)) {
    spdlog::info("refused WebSocket from origin '{}' ({})", std::string(req[http::field::origin]),
                 conn->RemoteAddress());
    if (!query.Get("sid")) CountHandshake("forbidden_origin");
    conn->RespondAndClose(Forbidden(req));
    return;
  }
  const auto sid = query.Get("sid");
  if (!sid) {
    const std::string client = ClientAddress(req, conn->RemoteAddress());
    if (auto refusal = Admit(req, conn, client)) {
      conn->RespondAndClose(std::move(*refusal));
      return;
    }
    auto session = Create(conn->Executor(), req, query.ToMap(), client);
    auto ws = conn->UpgradeToWebSocket(std::move(req));
    session->StartWebSocket(ws, Handshake(session->Id(), false, config_.options));
    if (on_connection_) on_connection_(session);
    return;
  }
  auto session = Find(*sid);
  if (!session) {
    if (forwarder_ && req.find(kForwardedHeader) == req.end() && forwarder_->Forward(conn, req, *sid, true)) return;
    conn->RespondAndClose(ErrorResponse(req, ErrorCode::kUnknownSid, "Session ID unknown"));
    return;
  }
  auto ws = conn->UpgradeToWebSocket(std::move(req));
  Session::AttachProbe(session, ws);
}

std::shared_ptr<Session> Server::Find(const std::string& sid) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(sid);
  return it == sessions_.end() ? nullptr : it->second;
}

void Server::Remove(const std::string& sid) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return;
  auto ip = sessions_by_ip_.find(it->second->Handshake().remote_address);
  if (ip != sessions_by_ip_.end() && --ip->second == 0) sessions_by_ip_.erase(ip);
  ForgetPendingLocked(sid);
  closing_.erase(sid);
  sessions_.erase(it);
}

std::size_t Server::SessionCount() {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::size_t Server::CloseSome(std::size_t n, std::string_view reason) {
  std::vector<std::shared_ptr<Session>> some;
  std::size_t left = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : sessions_) {
      if (closing_.count(id)) continue;
      if (some.size() < n) {
        some.push_back(s);
        closing_.insert(id);
      } else {
        ++left;
      }
    }
  }
  for (auto& s : some) {
    boost::asio::dispatch(s->Executor(), [s, r = std::string(reason)] { s->Close(r); });
  }
  return left;
}

void Server::CloseAll(std::string_view reason) {
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : sessions_) all.push_back(s);
  }
  for (auto& s : all) {
    boost::asio::dispatch(s->Executor(), [s, r = std::string(reason)] { s->Close(r); });
  }
}

}  // namespace fg::engineio

#include "cluster/session_router.hpp"

#include "common/encoding.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "net/http_connection.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <charconv>
#include <mutex>
#include <sstream>

namespace fg::cluster {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

std::optional<tcp::endpoint> Endpoint(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  unsigned short port = 0;
  const char* begin = address.data() + colon + 1;
  const char* end = address.data() + address.size();
  const auto [p, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || p != end || port == 0) return std::nullopt;
  boost::system::error_code bad;
  auto ip = boost::asio::ip::make_address(address.substr(0, colon), bad);
  if (bad) return std::nullopt;
  return tcp::endpoint(ip, port);
}

bool HopByHop(http::field f) {
  return f == http::field::connection || f == http::field::keep_alive || f == http::field::transfer_encoding ||
         f == http::field::te || f == http::field::upgrade || f == http::field::proxy_connection ||
         f == http::field::content_length || f == http::field::trailer;
}

// One long-polling request sent on to the node that holds its session, and the answer relayed.
class PollForward : public std::enable_shared_from_this<PollForward> {
 public:
  PollForward(std::shared_ptr<net::HttpConnection> conn, net::Request req, tcp::endpoint to,
              std::chrono::milliseconds timeout, engineio::Server& engine)
      : conn_(std::move(conn)), stream_(conn_->Executor()), to_(to), timeout_(timeout), engine_(engine) {
    out_.method(req.method());
    out_.target(req.target());
    out_.version(11);
    for (const auto& h : req)
      if (!HopByHop(h.name())) out_.set(h.name_string(), h.value());
    out_.set(engineio::kForwardedHeader, "1");
    out_.keep_alive(false);
    original_ = std::move(req);
    out_.body() = std::move(original_.body());
    out_.prepare_payload();
    parser_.body_limit(16 * 1024 * 1024);
  }

  void Start() {
    // The client went away: so does the forwarded request (the owner sees its GET end).
    conn_->SetAbortHandler([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->stream_.close();
    });
    stream_.expires_after(timeout_);
    stream_.async_connect(to_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Fail("connect", ec);
      http::async_write(self->stream_, self->out_, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->Fail("write", ec2);
        http::async_read(self->stream_, self->buffer_, self->parser_, [self](beast::error_code ec3, std::size_t) {
          if (ec3) return self->Fail("read", ec3);
          self->Relay();
        });
      });
    });
  }

 private:
  void Relay() {
    auto& in = parser_.get();
    net::Response res{in.result(), original_.version()};
    for (const auto& h : in)
      if (!HopByHop(h.name())) res.set(h.name_string(), h.value());
    res.body() = std::move(in.body());
    res.keep_alive(original_.keep_alive());
    res.prepare_payload();
    stream_.close();
    conn_->Respond(std::move(res));
  }
  void Fail(const char* step, const beast::error_code& ec) {
    // The owner is gone (or unreachable): to the client it is an unknown session, which it
    // answers by reconnecting (and recovering, within the window).
    if (ec != boost::asio::error::operation_aborted)
      Log(spdlog::level::debug, "cluster: forwarding a poll failed", {{"step", step}, {"error", ec.message()}});
    static auto& failed = metrics::M().cluster_forwards.Add({{"kind", "poll"}, {"outcome", "failed"}});
    failed.Increment();
    stream_.close();
    conn_->Respond(engine_.UnknownSid(original_));
  }

  std::shared_ptr<net::HttpConnection> conn_;
  beast::tcp_stream stream_;
  tcp::endpoint to_;
  std::chrono::milliseconds timeout_;
  engineio::Server& engine_;
  net::Request original_;
  http::request<http::string_body> out_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
};

// A WebSocket upgrade tunnelled to the node that holds the session, byte for byte.
class Tunnel : public std::enable_shared_from_this<Tunnel> {
 public:
  Tunnel(net::HttpConnection::Released client, tcp::endpoint to, std::string head)
      : client_(std::move(client.socket)),
        upstream_(client_.get_executor()),
        slot_(std::move(client.slot)),
        to_(to),
        head_(std::move(head) + client.leftover) {}

  void Start() {
    upstream_.async_connect(to_, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) {
        Log(spdlog::level::debug, "cluster: tunnel connect failed", {{"error", ec.message()}});
        // An upgrade the owner cannot take: a 400 the client understands, then close.
        static const std::string refusal =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 38\r\nConnection: "
            "close\r\n\r\n{\"code\":1,\"message\":\"Session ID unknown\"}";
        boost::asio::async_write(self->client_, boost::asio::buffer(refusal),
                                 [self](boost::system::error_code, std::size_t) { self->Close(); });
        return;
      }
      boost::asio::async_write(self->upstream_, boost::asio::buffer(self->head_),
                               [self](boost::system::error_code ec2, std::size_t) {
                                 if (ec2) return self->Close();
                                 self->Pump(self->client_, self->upstream_, self->up_);
                                 self->Pump(self->upstream_, self->client_, self->down_);
                               });
    });
  }

 private:
  using Buffer = std::array<char, 16 * 1024>;
  void Pump(tcp::socket& from, tcp::socket& to, Buffer& buf) {
    from.async_read_some(boost::asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf](
                                                       boost::system::error_code ec, std::size_t n) {
      if (ec) return self->Close();
      boost::asio::async_write(to, boost::asio::buffer(buf.data(), n),
                               [self, &from, &to, &buf](boost::system::error_code ec2, std::size_t) {
                                 if (ec2) return self->Close();
                                 self->Pump(from, to, buf);
                               });
    });
  }
  void Close() {
    boost::system::error_code ignored;
    client_.shutdown(tcp::socket::shutdown_both, ignored);
    client_.close(ignored);
    upstream_.shutdown(tcp::socket::shutdown_both, ignored);
    upstream_.close(ignored);
  }

  tcp::socket client_, upstream_;
  std::shared_ptr<void> slot_;  // counts against --max-connections while it lives
  tcp::endpoint to_;
  std::string head_;
  Buffer up_{}, down_{};
};

}  // namespace

SessionRouter::SessionRouter(std::string node_id, engineio::Server& engine, store::PgStore& store,
                             store::StoreWorker& worker, std::chrono::milliseconds poll_timeout)
    : node_id_(std::move(node_id)),
      tag_(TagFor(node_id_)),
      engine_(engine),
      store_(store),
      worker_(worker),
      poll_timeout_(poll_timeout) {}

std::string SessionRouter::TagFor(const std::string& node_id) {
  return Base64UrlEncode(Sha256("fulfillment-gateway node " + node_id).substr(0, 6));
}

void SessionRouter::Learn(const std::string& tag, const std::string& address) {
  {
    std::shared_lock lock(mutex_);
    auto it = addresses_.find(tag);
    if (it != addresses_.end() && it->second == address) return;
  }
  std::unique_lock lock(mutex_);
  addresses_[tag] = address;
}

std::optional<std::string> SessionRouter::Known(const std::string& tag) const {
  std::shared_lock lock(mutex_);
  auto it = addresses_.find(tag);
  if (it == addresses_.end()) return std::nullopt;
  return it->second;
}

bool SessionRouter::Forward(const std::shared_ptr<net::HttpConnection>& conn, net::Request& req, const std::string& sid,
                            bool upgrade) {
  const auto dot = sid.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 16) return false;
  const std::string tag = sid.substr(0, dot);
  if (tag == tag_) return false;  // ours, and gone
  if (auto address = Known(tag)) {
    ForwardTo(*address, conn, std::move(req), upgrade);
    return true;
  }
  // Not heard of on Redis yet (a node that just started, or Redis away): the store knows.
  {
    std::lock_guard lock(lookup_mutex_);
    if (!lookups_.Take(20, 20, std::chrono::steady_clock::now())) return false;  // unknown, at once
  }
  static auto& lookups = metrics::M().cluster_node_lookups;
  lookups.Increment();
  auto shared = std::make_shared<net::Request>(std::move(req));
  worker_.Submit(
      conn->Executor(), [this, tag] { return store_.NodeAddress(tag); },
      [this, conn, shared, tag, upgrade](std::optional<std::optional<std::string>> address, const std::string&) {
        if (!address || !*address) {
          if (upgrade) {
            conn->RespondAndClose(engine_.UnknownSid(*shared));
          } else {
            conn->Respond(engine_.UnknownSid(*shared));
          }
          return;
        }
        Learn(tag, **address);
        ForwardTo(**address, conn, std::move(*shared), upgrade);
      });
  return true;
}

void SessionRouter::ForwardTo(const std::string& address, const std::shared_ptr<net::HttpConnection>& conn,
                              net::Request req, bool upgrade) {
  const auto to = Endpoint(address);
  if (!to) {
    spdlog::warn("cluster: node address '{}' is not host:port", address);
    if (upgrade) {
      conn->RespondAndClose(engine_.UnknownSid(req));
    } else {
      conn->Respond(engine_.UnknownSid(req));
    }
    return;
  }
  static auto& polls = metrics::M().cluster_forwards.Add({{"kind", "poll"}, {"outcome", "forwarded"}});
  static auto& tunnels = metrics::M().cluster_forwards.Add({{"kind", "websocket"}, {"outcome", "forwarded"}});
  if (!upgrade) {
    polls.Increment();
    std::make_shared<PollForward>(conn, std::move(req), *to, poll_timeout_, engine_)->Start();
    return;
  }
  tunnels.Increment();
  req.set(engineio::kForwardedHeader, "1");
  std::ostringstream head;
  head << req.base();  // the upgrade request's head (it has no body)
  std::make_shared<Tunnel>(conn->ReleaseSocket(), *to, head.str())->Start();
}

}  // namespace fg::cluster

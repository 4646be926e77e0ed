#include "net/listener.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/address.hpp>

#include <stdexcept>

namespace fg::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Listener::Listener(Loops& loops, const std::string& host, unsigned short port, HttpHandler& handler,
                   const Limits& limits)
    : loops_(loops),
      acceptor_(loops.At(0)),
      handler_(handler),
      limits_(limits),
      admission_(std::make_shared<Admission>(limits)) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("invalid HOST address '" + host + "'");
  const tcp::endpoint endpoint(address, port);
  const std::string where = host + ":" + std::to_string(port);
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) throw std::runtime_error("cannot open socket for " + where + ": " + ec.message());
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec == asio::error::address_in_use)
    throw std::runtime_error("port " + std::to_string(port) + " is already in use (" + where + ")");
  if (ec) throw std::runtime_error("cannot bind " + where + ": " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
}

void Listener::Start() {
  DoAccept();
}

void Listener::Stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
  });
}

void Listener::DoAccept() {
  acceptor_.async_accept(loops_.Next(), [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) {
      // EMFILE and friends: log and keep accepting after a short pause rather than spinning.
      spdlog::warn("accept: {}", ec.message());
      auto timer = std::make_shared<asio::steady_timer>(self->acceptor_.get_executor(), std::chrono::milliseconds(50));
      timer->async_wait([self, timer](boost::system::error_code) { self->DoAccept(); });
      return;
    }
    boost::system::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    auto slot = peer_ec ? nullptr : self->admission_->AdmitConnection(peer.address().to_string());
    if (!slot) {
      // Over a connection bound: closed at once, so an fd flood never reaches EMFILE.
      if (self->refused_++ % 1000 == 0) {
        spdlog::warn(
            "refusing connections: {} open (--max-connections {}, --max-connections-per-ip {}); {} refused so far",
            self->admission_->Connections(), self->limits_.max_connections, self->limits_.max_connections_per_ip,
            self->refused_);
      }
      socket.close(peer_ec);
    } else if (self->tls_) {
      // The slot is held through the handshake; a failed one releases it with the lambda.
      StartTlsTunnel(std::move(socket), self->tls_->Current(), self->limits_,
                     [self, slot = std::move(slot), remote = peer.address().to_string()](tcp::socket plain) mutable {
                       std::make_shared<HttpConnection>(std::move(plain), self->handler_, self->limits_,
                                                        self->admission_, std::move(slot), std::move(remote))
                           ->Start();
                     });
    } else {
      std::make_shared<HttpConnection>(std::move(socket), self->handler_, self->limits_, self->admission_,
                                       std::move(slot))
          ->Start();
    }
    self->DoAccept();
  });
}

}  // namespace fg::net

#pragma once

#include "common/limits.hpp"
#include "net/admission.hpp"
#include "net/http_connection.hpp"
#include "net/loops.hpp"
#include "net/tls.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace fg::net {

// Accepts on one loop and spreads connections round-robin over all loops.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds at once; throws std::runtime_error naming the address when it is taken or invalid.
  Listener(Loops& loops, const std::string& host, unsigned short port, HttpHandler& handler, const Limits& limits);
  // From now on every connection speaks TLS (HTTPS, WSS) with tls->Current(). Before Start().
  void SetTls(TlsContext* tls) { tls_ = tls; }
  void Start();
  void Stop();
  unsigned short Port() const { return port_; }
  const std::shared_ptr<Admission>& GetAdmission() const { return admission_; }

 private:
  void DoAccept();
  Loops& loops_;
  boost::asio::ip::tcp::acceptor acceptor_;
  HttpHandler& handler_;
  const Limits& limits_;
  std::shared_ptr<Admission> admission_;
  TlsContext* tls_ = nullptr;
  std::uint64_t refused_ = 0;  // connections closed at a bound (logged in batches)
  unsigned short port_ = 0;
};

}  // namespace fg::net

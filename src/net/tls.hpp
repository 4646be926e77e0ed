// TLS for deployments without a proxy in front (--tls-cert/--tls-key): HTTPS and WSS on the
// gateway's one port, with OpenSSL through Asio.
//
// How: each accepted connection's TLS session is terminated by a TlsTunnel on the connection's
// loop, which pumps the plaintext to and from one end of a socketpair; the other end is handed to
// the ordinary HttpConnection (and, after an upgrade, WsConnection) as its socket. Every layer
// above — HTTP parsing, Engine.IO, combined WebSocket writes — is the same code with or without
// TLS. The cost (measured in docs/benchmarks.md): two more fds per connection, a buffer pair while
// bytes are in flight, one more copy and syscall pair per write. A proxy in front (nginx, docs/
// operations.md) stays the choice for the largest fleets.
//
// Policy: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers (Mozilla "intermediate"), no
// compression, no renegotiation. TlsContext::Reload() (SIGHUP) swaps the certificate for new
// connections; established ones keep theirs and are never dropped.
#pragma once

#include "common/limits.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace fg::net {

class TlsContext {
 public:
  // Loads the PEM certificate chain and private key; throws std::runtime_error with a one-line
  // message (missing file, bad PEM, key not matching the certificate).
  TlsContext(std::string cert_file, std::string key_file);
  // Reads the files again: on success new connections use them; on failure the current
  // certificate stays and the error is returned.
  std::optional<std::string> Reload();
  std::shared_ptr<boost::asio::ssl::context> Current() const;

 private:
  static std::shared_ptr<boost::asio::ssl::context> Load(const std::string& cert, const std::string& key);
  const std::string cert_file_, key_file_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> current_;
};

// Completes the TLS handshake on `socket` (within limits.header_timeout), then calls `ready` on
// the socket's loop with the plaintext end: a socket that reads and writes the decrypted stream.
// A failed or slow handshake closes the connection and never calls `ready`.
void StartTlsTunnel(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> context,
                    const Limits& limits, std::function<void(boost::asio::ip::tcp::socket plain)> ready);

}  // namespace fg::net

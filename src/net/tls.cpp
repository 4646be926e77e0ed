#include "net/tls.hpp"

#include "common/metrics.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace fg::net {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {
// Mozilla's "intermediate" TLS 1.2 suites (TLS 1.3's are OpenSSL's defaults, all AEAD).
constexpr const char* kCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

void MustBeReadable(const std::string& file, const char* what) {
  std::ifstream f(file);
  if (!f) throw std::runtime_error(std::string("cannot read the TLS ") + what + " " + file);
}
}  // namespace

std::shared_ptr<ssl::context> TlsContext::Load(const std::string& cert, const std::string& key) {
  MustBeReadable(cert, "certificate");
  MustBeReadable(key, "key");
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An idle connection gives its read and write buffers back (most sockets idle between events).
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(native, kCiphers) != 1) throw std::runtime_error("TLS: no usable cipher");
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert, ec);
  if (ec) throw std::runtime_error("TLS certificate " + cert + ": " + ec.message());
  ctx->use_private_key_file(key, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("TLS key " + key + ": " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1)
    throw std::runtime_error("TLS key " + key + " does not match the certificate " + cert);
  return ctx;
}

TlsContext::TlsContext(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), current_(Load(cert_file_, key_file_)) {}

std::optional<std::string> TlsContext::Reload() {
  try {
    auto fresh = Load(cert_file_, key_file_);
    std::lock_guard lock(mutex_);
    current_ = std::move(fresh);
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

std::shared_ptr<ssl::context> TlsContext::Current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

namespace {

// One TLS connection: the encrypted TCP side and our end of the socketpair, a pump each way (one
// read, then its write, then the next read: at most one operation per direction in flight). Upward
// (client → gateway) messages are small: a 4 KiB buffer; downward, a buffer of what is waiting
// exists only while it is being written.
class TlsTunnel : public std::enable_shared_from_this<TlsTunnel> {
 public:
  TlsTunnel(tcp::socket socket, std::shared_ptr<ssl::context> ctx)
      : ctx_(std::move(ctx)),
        tls_(std::move(socket), *ctx_),
        inner_(tls_.get_executor()),
        timer_(tls_.get_executor()) {}

  void Start(const Limits& limits, std::function<void(tcp::socket)> ready) {
    boost::system::error_code ec;
    tls_.next_layer().set_option(tcp::no_delay(true), ec);
    timer_.expires_after(limits.header_timeout);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code e) {
      if (e) return;
      if (auto self = weak.lock()) self->Close();  // handshake too slow
    });
    tls_.async_handshake(ssl::stream_base::server, [self = shared_from_this(),
                                                    ready = std::move(ready)](boost::system::error_code e) mutable {
      self->timer_.cancel();
      if (e) {
        static auto& failed = metrics::M().handshakes.Add({{"layer", "tls"}, {"result", "failed"}});
        failed.Increment();
        spdlog::debug("TLS handshake failed: {}", e.message());
        self->Close();
        return;
      }
      static auto& ok = metrics::M().handshakes.Add({{"layer", "tls"}, {"result", "ok"}});
      ok.Increment();
      asio::local::stream_protocol::socket outer(self->tls_.get_executor());
      boost::system::error_code pe;
      asio::local::connect_pair(self->inner_, outer, pe);
      if (!pe) self->inner_.non_blocking(true, pe);
      if (pe) {
        spdlog::warn("TLS: socketpair: {}", pe.message());
        self->Close();
        return;
      }
      // The plaintext end, typed as the TCP socket every connection class takes (TCP options on
      // it fail harmlessly; the peer's address comes from the TLS side).
      tcp::socket plain(self->tls_.get_executor());
      plain.assign(tcp::v4(), outer.release(), pe);
      if (pe) {
        self->Close();
        return;
      }
      self->ReadTls();
      self->ReadInner();
      ready(std::move(plain));
    });
  }

 private:
  using UpBuffer = std::array<char, 4 * 1024>;
  static constexpr std::size_t kMaxDownChunk = 64 * 1024;

  // client → us: decrypt, then hand the plaintext to the connection
  void ReadTls() {
    if (!up_) up_ = std::make_unique<UpBuffer>();
    tls_.async_read_some(asio::buffer(*up_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec) return self->Close();
      asio::async_write(self->inner_, asio::buffer(self->up_->data(), n),
                        [self](boost::system::error_code e, std::size_t) {
                          if (e) return self->Close();
                          self->ReadTls();
                        });
    });
  }

  // the connection → client: encrypt what it writes. Waits for readability first, so an idle
  // connection holds no buffer on this side: one exists only while a write is in flight.
  void ReadInner() {
    inner_.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->Close();
      boost::system::error_code rec;
      const std::size_t available = std::max<std::size_t>(1, self->inner_.available(rec));
      auto buffer = std::make_shared<std::vector<char>>(std::min<std::size_t>(available, kMaxDownChunk));
      const std::size_t n = self->inner_.read_some(asio::buffer(*buffer), rec);
      if (rec == asio::error::would_block) return self->ReadInner();
      // EOF: the connection closed (it framed all it sent: HTTP, WebSocket)
      if (rec || n == 0) return self->Close();
      asio::async_write(self->tls_, asio::buffer(buffer->data(), n),
                        [self, buffer](boost::system::error_code e, std::size_t) {
                          if (e) return self->Close();
                          self->ReadInner();
                        });
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    inner_.close(ec);
    tls_.next_layer().close(ec);
  }

  std::shared_ptr<ssl::context> ctx_;  // kept alive: a reload never pulls it from under us
  ssl::stream<tcp::socket> tls_;
  asio::local::stream_protocol::socket inner_;
  asio::steady_timer timer_;
  std::unique_ptr<UpBuffer> up_;
  bool closed_ = false;
};

}  // namespace

void StartTlsTunnel(tcp::socket socket, std::shared_ptr<ssl::context> context, const Limits& limits,
                    std::function<void(tcp::socket plain)> ready) {
  std::make_shared<TlsTunnel>(std::move(socket), std::move(context))->Start(limits, std::move(ready));
}

}  // namespace fg::net

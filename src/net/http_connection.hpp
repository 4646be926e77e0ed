// One HTTP/1.1 keep-alive connection (Beast). It reads the next request while a response is
// pending, so a long-polling GET whose client goes away is noticed at once (the abort handler
// runs) instead of at the next write. Pipelined requests wait until the pending response is sent.
// Public methods are safe to call from any thread: they are posted to the connection's loop.
#pragma once

#include "common/limits.hpp"
#include "net/admission.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <functional>
#include <memory>
#include <optional>

namespace fg::net {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

class HttpConnection;

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // A complete request that is not a WebSocket upgrade. Must eventually call conn->Respond().
  virtual void OnRequest(const std::shared_ptr<HttpConnection>& conn, Request req) = 0;
  // A WebSocket upgrade request: call conn->UpgradeToWebSocket() or conn->RespondAndClose().
  virtual void OnUpgrade(const std::shared_ptr<HttpConnection>& conn, Request req) = 0;
  // The answer to a request whose body is over the limit (the connection closes after it).
  virtual Response OnBodyTooLarge(const http::request_parser<http::string_body>::value_type& header) = 0;
};

class WsConnection;

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  // `remote`: the peer's address when the socket cannot tell (a TLS tunnel's plaintext end).
  HttpConnection(boost::asio::ip::tcp::socket socket, HttpHandler& handler, const Limits& limits,
                 std::shared_ptr<Admission> admission = nullptr, std::shared_ptr<void> slot = nullptr,
                 std::string remote = {});
  ~HttpConnection();
  void Start();

  void Respond(Response res);
  void RespondAndClose(Response res);
  // Runs on this connection's loop if the peer goes away while a response is pending.
  void SetAbortHandler(std::function<void()> on_abort);
  // Runs once, on this connection's loop, with the answer to the request being handled, just
  // before it is written (request ids, access logs, metrics). Call it from OnRequest.
  void SetResponseHook(std::function<void(Response&)> hook) { response_hook_ = std::move(hook); }
  // Hands the socket to a WebSocket connection which completes the handshake with `req`.
  std::shared_ptr<WsConnection> UpgradeToWebSocket(Request req);
  // Hands the socket over as it is (a tunnel to the cluster node holding a session): with the bytes
  // read past the request and the connection's admission slot, which the new owner keeps.
  struct Released {
    boost::asio::ip::tcp::socket socket;
    std::string leftover;
    std::shared_ptr<void> slot;
  };
  Released ReleaseSocket();

  boost::asio::any_io_executor Executor() { return stream_.get_executor(); }
  const std::string& RemoteAddress() const { return remote_; }
  // Closes this connection (from any thread) to make room: it never sent a request.
  void Evict();
  // Few connections left (see net/admission.hpp): Engine.IO should refuse new sessions.
  bool NearCapacity() const { return admission_ && admission_->NearCapacity(); }

 private:
  void DoRead();
  void OnHeader(boost::beast::error_code ec);
  void OnRead(boost::beast::error_code ec, std::size_t bytes);
  void RefuseRequest(http::status status, std::string_view code, std::string_view message);
  void ReleaseBody();
  void Dispatch(Request req);
  void DoWrite(Response res, bool close);
  void OnWrite(bool close, boost::beast::error_code ec);
  void Drain();
  void DoDrain();
  void Close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  HttpHandler& handler_;
  const Limits& limits_;
  std::string remote_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<Request> queued_;
  std::shared_ptr<Response> writing_;
  std::function<void()> on_abort_;
  std::function<void(Response&)> response_hook_;
  std::unique_ptr<std::array<char, 4096>> drain_buffer_;
  bool reading_ = false;
  bool response_pending_ = false;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool upgraded_ = false;
  std::shared_ptr<Admission> admission_;
  std::shared_ptr<void> slot_;     // this connection's place in the admission count
  std::size_t body_reserved_ = 0;  // bytes of the in-flight body budget held by this request
  std::uint64_t waiting_id_ = 0;   // registered with the admission while no request has come yet
};

}  // namespace fg::net

#include "net/http_connection.hpp"

#include "net/ws_connection.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>

namespace fg::net {

namespace beast = boost::beast;

HttpConnection::HttpConnection(boost::asio::ip::tcp::socket socket, HttpHandler& handler, const Limits& limits,
                               std::shared_ptr<Admission> admission, std::shared_ptr<void> slot, std::string remote)
    : stream_(std::move(socket)),
      handler_(handler),
      limits_(limits),
      remote_(std::move(remote)),
      admission_(std::move(admission)),
      slot_(std::move(slot)) {
  boost::system::error_code ec;
  if (remote_.empty()) {
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }
  stream_.socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
}

void HttpConnection::Evict() {
  boost::asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->waiting_id_ = 0;
    self->Close();
  });
}

void HttpConnection::Start() {
  // Until its first request header arrives this connection may be closed to make room.
  if (admission_) waiting_id_ = admission_->WaitingForRequest(weak_from_this());
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
}

HttpConnection::~HttpConnection() {
  ReleaseBody();
  if (waiting_id_ && admission_) admission_->Forget(waiting_id_);
}

void HttpConnection::ReleaseBody() {
  if (body_reserved_ && admission_) admission_->ReleaseBody(body_reserved_);
  body_reserved_ = 0;
}

void HttpConnection::DoRead() {
  if (reading_ || closed_) return;
  reading_ = true;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser_->body_limit(std::max(limits_.max_payload, limits_.max_api_body));
  // With a response pending (a held long-poll) the read only watches for the peer going away;
  // otherwise the next request header must arrive in time — at once when connections run short.
  auto timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(limits_.header_timeout);
  if (response_pending_)
    timeout = limits_.http_idle_timeout;
  else if (NearCapacity())
    timeout = std::min<std::chrono::steady_clock::duration>(timeout, std::chrono::seconds(1));
  stream_.expires_after(timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
}

void HttpConnection::RefuseRequest(http::status status, std::string_view code, std::string_view message) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = boost::json::serialize(boost::json::object{{"error", code}, {"message", message}});
  response_pending_ = true;
  queued_.reset();
  DoWrite(std::move(res), true);
}

void HttpConnection::OnHeader(beast::error_code ec) {
  if (waiting_id_ && admission_) {
    admission_->Forget(waiting_id_);
    waiting_id_ = 0;
  }
  if (closed_) {
    reading_ = false;
    return;
  }
  if (ec == http::error::header_limit) {
    reading_ = false;
    if (response_pending_) return Close();
    return RefuseRequest(http::status::request_header_fields_too_large, "headers_too_large",
                         "request line and headers exceed " + std::to_string(limits_.max_header_bytes) + " bytes");
  }
  if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message && ec != http::error::body_limit &&
      !response_pending_) {
    // A malformed request (including Content-Length with Transfer-Encoding, which the parser
    // rejects): a clear 400, then close — never a silent drop.
    reading_ = false;
    return RefuseRequest(http::status::bad_request, "bad_request", "malformed request: " + ec.message());
  }
  if (ec) return OnRead(ec, 0);
  const auto& header = parser_->get();
  // Request smuggling guards (RFC 9112 §6.1): a length and a transfer coding together, or a coding
  // we do not implement, are refused and the connection closed.
  if (header.count(http::field::transfer_encoding)) {
    const bool both = header.count(http::field::content_length) > 0;
    if (both || !parser_->chunked() || !beast::iequals(header[http::field::transfer_encoding], "chunked")) {
      reading_ = false;
      if (response_pending_) return Close();
      return RefuseRequest(http::status::bad_request, "bad_request",
                           both ? "Content-Length and Transfer-Encoding together" : "unsupported Transfer-Encoding");
    }
  }
  if (!parser_->is_done()) {
    // The body is held in memory as it arrives: reserve it from the budget all connections share.
    const auto length = parser_->content_length();
    const std::size_t limit = std::max(limits_.max_payload, limits_.max_api_body);
    const std::size_t want = length ? static_cast<std::size_t>(std::min<std::uint64_t>(*length, limit + 1)) : limit;
    if (admission_ && want > 0 && !admission_->ReserveBody(want)) {
      reading_ = false;
      spdlog::warn("http {}: refusing a {}-byte body: {} bytes of bodies already arriving (--max-inflight-body)",
                   remote_, want, admission_->InflightBodyBytes());
      if (response_pending_) return Close();
      return RefuseRequest(http::status::service_unavailable, "overloaded",
                           "too many request bodies in flight; retry shortly");
    }
    if (admission_) body_reserved_ = want;
    if (!response_pending_) stream_.expires_after(limits_.body_timeout);
  }
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code e, std::size_t n) { self->OnRead(e, n); });
}

void HttpConnection::OnRead(beast::error_code ec, std::size_t) {
  reading_ = false;
  ReleaseBody();
  if (closed_) return;
  if (ec == http::error::body_limit) {
    Response res = handler_.OnBodyTooLarge(parser_->get());
    response_pending_ = true;
    DoWrite(std::move(res), true);
    return;
  }
  if (ec) {
    if (ec != http::error::end_of_stream && ec != boost::asio::error::operation_aborted &&
        ec != beast::error::timeout && ec != boost::asio::error::connection_reset) {
      spdlog::debug("http {}: read: {}", remote_, ec.message());
    }
    Close();
    return;
  }
  Request req = parser_->release();
  if (response_pending_) {
    queued_ = std::move(req);  // pipelined: answered after the pending response
    return;
  }
  Dispatch(std::move(req));
}

void HttpConnection::Dispatch(Request req) {
  keep_alive_ = req.keep_alive();
  // Absolute-form targets (RFC 9112 §3.2.2, "GET http://host/path") are routed like origin-form.
  if (!req.target().empty() && req.target().front() != '/' && req.target() != "*") {
    const std::string t(req.target());
    const auto scheme = t.find("://");
    if (scheme != std::string::npos) {
      const auto path = t.find('/', scheme + 3);
      const auto query = t.find('?', scheme + 3);
      std::string origin_form = path != std::string::npos && (query == std::string::npos || path < query)
                                    ? t.substr(path)
                                    : "/" + (query == std::string::npos ? std::string() : t.substr(query));
      req.target(origin_form);
    }
  }
  if (boost::beast::websocket::is_upgrade(req)) {
    response_pending_ = true;
    handler_.OnUpgrade(shared_from_this(), std::move(req));
    return;
  }
  response_pending_ = true;
  handler_.OnRequest(shared_from_this(), std::move(req));
  if (!closed_ && !upgraded_) DoRead();  // keep reading: notices an aborted long-poll at once
}

void HttpConnection::Respond(Response res) {
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this(), r = std::move(res)]() mutable {
    self->DoWrite(std::move(r), !self->keep_alive_);
  });
}

void HttpConnection::RespondAndClose(Response res) {
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this(), r = std::move(res)]() mutable {
    self->DoWrite(std::move(r), true);
  });
}

void HttpConnection::SetAbortHandler(std::function<void()> on_abort) {
  // Called from the session's loop, which may not be ours: the handler is swapped on our loop.
  boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this(), f = std::move(on_abort)]() mutable {
    if (self->closed_ && f) {
      f();  // the peer is already gone
      return;
    }
    self->on_abort_ = std::move(f);
  });
}

void HttpConnection::DoWrite(Response res, bool close) {
  if (response_hook_ && !writing_) {
    auto hook = std::move(response_hook_);
    response_hook_ = nullptr;
    hook(res);
  }
  if (closed_ || writing_) return;
  on_abort_ = nullptr;
  res.keep_alive(!close);
  res.prepare_payload();
  writing_ = std::make_shared<Response>(std::move(res));
  stream_.expires_after(limits_.http_idle_timeout);
  http::async_write(stream_, *writing_, [self = shared_from_this(), close](beast::error_code ec, std::size_t) {
    self->OnWrite(close, ec);
  });
}

void HttpConnection::OnWrite(bool close, beast::error_code ec) {
  writing_.reset();
  response_pending_ = false;
  if (ec) {
    Close();
    return;
  }
  if (close) {
    Drain();
    return;
  }
  if (queued_) {
    Request next = std::move(*queued_);
    queued_.reset();
    Dispatch(std::move(next));
    return;
  }
  DoRead();
}

// After an early error response: stop sending, read and discard what the peer is still sending
// (so it sees our response rather than a reset), then close.
void HttpConnection::Drain() {
  beast::error_code ec;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  if (reading_) {
    stream_.expires_after(std::chrono::seconds(5));
    return;  // the outstanding read drains; its completion closes
  }
  stream_.expires_after(std::chrono::seconds(5));
  drain_buffer_ = std::make_unique<std::array<char, 4096>>();
  DoDrain();
}

void HttpConnection::DoDrain() {
  stream_.async_read_some(boost::asio::buffer(*drain_buffer_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) {
                              self->Close();
                              return;
                            }
                            self->DoDrain();
                          });
}

void HttpConnection::Close() {
  if (closed_) return;
  closed_ = true;
  if (on_abort_) {
    auto f = std::move(on_abort_);
    on_abort_ = nullptr;
    f();
  }
  beast::error_code ec;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  stream_.close();
}

HttpConnection::Released HttpConnection::ReleaseSocket() {
  upgraded_ = true;
  closed_ = true;  // this object no longer owns the socket
  stream_.expires_never();
  std::string leftover = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  return Released{stream_.release_socket(), std::move(leftover), std::move(slot_)};
}

std::shared_ptr<WsConnection> HttpConnection::UpgradeToWebSocket(Request req) {
  upgraded_ = true;
  closed_ = true;  // this object no longer owns the socket
  stream_.expires_never();
  std::string leftover = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  auto ws = std::make_shared<WsConnection>(stream_.release_socket(), limits_, remote_, std::move(leftover));
  ws->HoldSlot(std::move(slot_));
  ws->Accept(req);
  return ws;
}

}  // namespace fg::net

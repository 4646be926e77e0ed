#include "net/ws_connection.hpp"

#include <boost/asio/dispatch.hpp>
#include <spdlog/spdlog.h>

namespace fg::net {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

WsConnection::WsConnection(beast::tcp_stream stream, const Limits& limits, std::string remote)
    : ws_(std::move(stream)), limits_(limits), remote_(std::move(remote)) {}

void WsConnection::Accept(beast::http::request<beast::http::string_body> req) {
  // Engine.IO runs its own heartbeat, so Beast's keep-alive pings and idle timeout stay off.
  websocket::stream_base::timeout opt{};
  opt.handshake_timeout = std::chrono::seconds(30);
  opt.idle_timeout = websocket::stream_base::none();
  opt.keep_alive_pings = false;
  ws_.set_option(opt);
  ws_.read_message_max(limits_.max_payload);
  ws_.auto_fragment(false);
  auto request = std::make_shared<beast::http::request<beast::http::string_body>>(std::move(req));
  ws_.async_accept(*request, [self = shared_from_this(), request](beast::error_code ec) {
    if (ec) {
      spdlog::debug("ws {}: accept: {}", self->remote_, ec.message());
      self->open_ = true;  // so that on_close tells the owner this transport is gone
      self->Fail();
      return;
    }
    self->open_ = true;
    if (self->closing_) {  // refused while the handshake was in flight: finish it, then close cleanly
      self->writing_ = true;
      self->ws_.async_close(self->close_code_, [self](beast::error_code) {
        self->writing_ = false;
        self->Fail();
      });
      return;
    }
    if (self->callbacks_.on_open) self->callbacks_.on_open();
    self->DoRead();
    self->DoWrite();
  });
}

void WsConnection::DoRead() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->OnRead(ec, n); });
}

void WsConnection::OnRead(beast::error_code ec, std::size_t) {
  if (ec) {
    if (ec != websocket::error::closed && ec != boost::asio::error::operation_aborted) {
      spdlog::debug("ws {}: read: {}", remote_, ec.message());
    }
    Fail();
    return;
  }
  std::string data = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  const bool binary = ws_.got_binary();
  if (callbacks_.on_message) callbacks_.on_message(std::move(data), binary);
  if (!closed_) DoRead();
}

void WsConnection::Send(Frame frame, bool binary) {
  boost::asio::dispatch(ws_.get_executor(), [self = shared_from_this(), f = std::move(frame), binary]() mutable {
    if (self->closed_ || self->closing_) return;
    self->queued_bytes_ += f->size();
    if (self->queued_bytes_ > self->limits_.max_send_queue_bytes) {
      spdlog::warn("ws {}: slow consumer ({} bytes queued), disconnecting", self->remote_, self->queued_bytes_);
      self->queue_.clear();
      self->queued_bytes_ = 0;
      self->Close(websocket::close_code::policy_error);
      return;
    }
    self->queue_.push_back(Out{std::move(f), binary});
    self->DoWrite();
  });
}

void WsConnection::DoWrite() {
  if (writing_ || !open_ || closed_) return;
  if (queue_.empty()) {
    if (closing_) {
      writing_ = true;
      ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {
        self->writing_ = false;
        self->Fail();
      });
    }
    return;
  }
  writing_ = true;
  ws_.text(!queue_.front().binary);
  ws_.async_write(boost::asio::buffer(*queue_.front().frame),
                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                    self->writing_ = false;
                    if (ec) {
                      self->Fail();
                      return;
                    }
                    if (!self->queue_.empty()) {
                      self->queued_bytes_ -= self->queue_.front().frame->size();
                      self->queue_.pop_front();
                    }
                    self->DoWrite();
                  });
}

// Graceful close: flushes what is queued, then sends the close frame.
void WsConnection::Close(websocket::close_code code) {
  boost::asio::dispatch(ws_.get_executor(), [self = shared_from_this(), code] {
    if (self->closed_ || self->closing_) return;
    self->closing_ = true;
    self->close_code_ = code;
    if (!self->open_) return;  // the accept handler closes once the handshake is done
    if (code != websocket::close_code::normal) {
      self->queue_.clear();
      self->queued_bytes_ = 0;
      if (self->writing_) {
        beast::error_code ec;
        beast::get_lowest_layer(self->ws_).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
        return;
      }
      self->writing_ = true;
      self->ws_.async_close(code, [self](beast::error_code) {
        self->writing_ = false;
        self->Fail();
      });
      return;
    }
    self->DoWrite();
  });
}

void WsConnection::Fail() {
  if (closed_) return;
  closed_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  beast::get_lowest_layer(ws_).close();
  if (open_ && callbacks_.on_close) {
    auto f = std::move(callbacks_.on_close);
    callbacks_ = {};
    f();
  }
}

}  // namespace fg::net

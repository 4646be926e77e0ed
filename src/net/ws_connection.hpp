// One WebSocket connection (Beast). Owns a bounded send queue of shared, immutable frames: a
// broadcast's bytes are shared by every recipient, never copied per socket. A peer that lets more
// than Limits::max_send_queue_bytes pile up is a slow consumer and is disconnected.
// Send()/Close() may be called from any thread; callbacks run on this connection's loop.
#pragma once

#include "common/limits.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace fg::net {

using Frame = std::shared_ptr<const std::string>;

class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  struct Callbacks {
    std::function<void()> on_open;
    std::function<void(std::string data, bool binary)> on_message;
    std::function<void()> on_close;  // exactly once, after open
  };

  WsConnection(boost::beast::tcp_stream stream, const Limits& limits, std::string remote);
  // Must be set before Accept completes (i.e. synchronously after UpgradeToWebSocket).
  void SetCallbacks(Callbacks cb) { callbacks_ = std::move(cb); }
  void Accept(boost::beast::http::request<boost::beast::http::string_body> req);

  void Send(Frame frame, bool binary);
  void Close(boost::beast::websocket::close_code code = boost::beast::websocket::close_code::normal);

  boost::asio::any_io_executor Executor() { return ws_.get_executor(); }
  const std::string& RemoteAddress() const { return remote_; }

 private:
  void DoRead();
  void OnRead(boost::beast::error_code ec, std::size_t bytes);
  void DoWrite();
  void Fail();

  struct Out {
    Frame frame;
    bool binary;
  };
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  const Limits& limits_;
  std::string remote_;
  boost::beast::flat_buffer buffer_;
  std::deque<Out> queue_;
  std::size_t queued_bytes_ = 0;
  Callbacks callbacks_;
  bool writing_ = false;
  bool open_ = false;
  bool closed_ = false;
  bool closing_ = false;
  boost::beast::websocket::close_code close_code_ = boost::beast::websocket::close_code::normal;
};

}  // namespace fg::net

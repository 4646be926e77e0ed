// Test support (unit tests only): a handler served on 127.0.0.1 by one real loop, and blocking
// HTTP and WebSocket clients for the test thread — each layer's tests talk to it as a peer would.
#pragma once

#include "common/limits.hpp"
#include "net/http_connection.hpp"
#include "net/listener.hpp"
#include "net/loops.hpp"

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <map>
#include <memory>
#include <string>

namespace fg::net::testing {

// Serves `handler` on 127.0.0.1 from `loops` (started here, stopped and joined on destruction).
// Declare the Loops before anything that owns sockets or timers (handlers, engines, gateways), so
// those are destroyed while their io_context still exists.
class LoopbackServer {
 public:
  LoopbackServer(Loops& loops, HttpHandler& handler, const Limits& limits) : loops_(loops) {
    listener_ = std::make_shared<Listener>(loops_, "127.0.0.1", 0, handler, limits);
    listener_->Start();
    loops_.Start();
  }
  ~LoopbackServer() {
    listener_->Stop();
    loops_.Stop();
    loops_.Join();
  }
  unsigned short Port() const { return listener_->Port(); }

 private:
  Loops& loops_;
  std::shared_ptr<Listener> listener_;
};

struct HttpReply {
  unsigned status = 0;
  std::string body;
  http::response<http::string_body> raw;
};

// One request on a fresh connection; blocks until the whole answer is read.
inline HttpReply HttpCall(unsigned short port, http::verb method, const std::string& target, std::string body = {},
                          const std::map<std::string, std::string>& headers = {}) {
  boost::asio::io_context io;
  boost::beast::tcp_stream stream(io);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  stream.expires_after(std::chrono::seconds(10));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == http::verb::post || method == http::verb::put) {
    req.body() = std::move(body);
    req.prepare_payload();
  }
  http::write(stream, req);
  boost::beast::flat_buffer buffer;
  HttpReply reply;
  http::read(stream, buffer, reply.raw);
  reply.status = reply.raw.result_int();
  reply.body = reply.raw.body();
  return reply;
}

// A blocking WebSocket client (Beast) connected to `target`.
class WsClient {
 public:
  WsClient(unsigned short port, const std::string& target) : ws_(io_) {
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
    ws_.next_layer().connect(ep);
    ws_.handshake("127.0.0.1:" + std::to_string(port), target);
  }
  void Send(const std::string& text, bool binary = false) {
    ws_.binary(binary);
    ws_.write(boost::asio::buffer(text));
  }
  // The next message; throws boost::system::system_error when the connection closes instead.
  std::string Read() {
    boost::beast::flat_buffer buffer;
    ws_.read(buffer);
    return boost::beast::buffers_to_string(buffer.data());
  }
  // Reads until the server's close frame; its code (or 0 when none).
  std::uint16_t ReadCloseCode() {
    try {
      for (;;) (void)Read();
    } catch (const boost::system::system_error&) {
    }
    return static_cast<std::uint16_t>(ws_.reason().code);
  }
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket>& stream() { return ws_; }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
};

}  // namespace fg::net::testing

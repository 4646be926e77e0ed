// One WebSocket connection (RFC 6455), server side, on a plain TCP socket.
//
// Our own framing (net/ws_frame) instead of Beast's websocket stream, for two reasons measured in
// docs/benchmarks.md: (1) writes are combined per loop: a frame sent on the connection's loop joins
// that loop's pending list, and one flush posted right behind the current handler writes every
// connection's pending frames with one non-blocking gathered send (header + shared payload, up to
// kBatch frames) — no async operation, no allocation per frame. An idle loop flushes at once; a
// busy one (a broadcast in progress, a batch publish, admins receiving everything) coalesces all
// frames a connection got meanwhile into one syscall. Only what the kernel does not take is queued,
// to be written when the socket turns writable. (2) An idle connection holds no read buffer — reads
// wait for readability and then use a per-thread scratch buffer, so only a partial frame is ever
// kept per connection.
// Frames are shared, immutable buffers: a broadcast's bytes are never copied per socket. More than
// Limits::max_send_queue_bytes queued makes the peer a slow consumer: it is disconnected (1008).
// Protocol errors close with 1002, invalid UTF-8 text with 1007, a message over max_payload 1009.
// Send()/Close() may be called from any thread; callbacks run on the connection's loop.
#pragma once

#include "common/limits.hpp"
#include "net/ws_frame.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include "net/message.hpp"

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace fg::net {

class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  struct Callbacks {
    std::function<void()> on_open;
    std::function<void(std::string data, bool binary)> on_message;
    std::function<void()> on_close;  // exactly once, after open
  };

  // `leftover`: bytes read past the upgrade request (a client may send its first frame early).
  WsConnection(boost::asio::ip::tcp::socket socket, const Limits& limits, std::string remote, std::string leftover);
  ~WsConnection();
  // Keeps the connection's admission slot (net/admission.hpp) for as long as this object lives.
  void HoldSlot(std::shared_ptr<void> slot) { slot_ = std::move(slot); }
  // Must be set before the handshake completes (i.e. synchronously after UpgradeToWebSocket).
  void SetCallbacks(Callbacks cb) { callbacks_ = std::move(cb); }
  // Validates the upgrade request and answers 101, or answers 400/426 and closes.
  void Accept(const boost::beast::http::request<boost::beast::http::string_body>& req);

  void Send(const SharedMessage& frame, bool binary);
  void Close(std::uint16_t code = ws::kNormal);

  boost::asio::any_io_executor Executor() { return socket_.get_executor(); }
  // Bytes accepted by Send() and not yet written; safe from any thread (a relaxed snapshot).
  std::size_t QueuedBytes() const { return queued(); }
  const std::string& RemoteAddress() const { return remote_; }

  struct Out {
    SharedMessage frame;
    std::uint8_t opcode;
  };
  struct Pending;  // a frame in this loop's combined flush
  class Combiner;  // the loop's pending frames (an io_context service: one per loop)

 private:
  template <class F>
  void OnLoop(F&& f);
  void DoWait();
  void OnReadable(boost::system::error_code ec);
  void Consume(const char* data, std::size_t n);
  std::size_t ParseFrames(std::string_view view);  // bytes consumed
  void OnFrame(const ws::FrameHeader& h, std::string payload);
  // A whole inbound message (reassembled from its frames) goes up to the owner's on_message.
  void PassUp(std::string message, bool binary);
  void Queue(const SharedMessage& frame, std::uint8_t opcode);
  void Flush();  // writes what the socket takes now; waits for writability for the rest
  void WaitWritable();
  bool CutIfSlow();  // past --max-send-queue: disconnects (slow consumer) and returns true
  void FlushPending(std::vector<Pending>& entries);  // from the loop's combined flush
  void SendClose(std::uint16_t code, bool discard_queue);
  void AfterCloseSent();
  void Fail();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::io_context::executor_type loop_;
  Combiner* combiner_;
  const Limits& limits_;
  std::string remote_;
  std::shared_ptr<void> slot_;
  std::string in_;       // an incomplete frame
  std::string message_;  // a fragmented message being assembled
  std::uint8_t message_opcode_ = 0;
  std::vector<Out> queue_;  // not yet (fully) written, from queue_[head_]; empty vector holds no memory
  std::size_t head_ = 0;
  std::size_t head_sent_ = 0;  // bytes of queue_[head_] (header + payload) already written
  // Written by this connection's loop only; read from any thread (QueuedBytes()).
  std::atomic<std::size_t> queued_bytes_{0};
  std::size_t queued() const { return queued_bytes_.load(std::memory_order_relaxed); }
  void SetQueued(std::size_t v) { queued_bytes_.store(v, std::memory_order_relaxed); }
  bool waiting_writable_ = false;
  static constexpr std::uint32_t kNoPending = 0xFFFFFFFF;
  std::uint32_t pending_first_ = kNoPending;  // this connection's chain in the loop's pending list
  std::uint32_t pending_last_ = kNoPending;
  std::unique_ptr<boost::asio::steady_timer> close_timer_;
  Callbacks callbacks_;
  bool open_ = false;
  bool closed_ = false;
  bool closing_ = false;  // our close frame is queued or sent
  bool close_received_ = false;
  bool close_written_ = false;
};

}  // namespace fg::net

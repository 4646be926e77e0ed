#include "net/ws_connection.hpp"

#include "common/encoding.hpp"
#include "common/metrics.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <array>
#include <deque>

namespace fg::net {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
// Frames per gathered write: header + payload each, and Asio passes at most 64 buffers to one
// sendmsg (its buffer_sequence_adapter's max_buffers).
constexpr std::size_t kBatch = 32;
thread_local std::array<char, 64 * 1024> t_scratch;
// The gather lists, per thread and built in place: const_buffer's constructor zeroes it, which for
// a local array would cost more than writing one frame.
thread_local std::array<std::array<char, 10>, kBatch> t_headers;
thread_local std::array<asio::const_buffer, 2 * kBatch> t_buffers;
}  // namespace

struct WsConnection::Pending {
  const SharedMessage* frame;  // into Combiner::frames, which keeps the bytes alive for the pass
  std::uint32_t next;          // the same connection's next pending frame, or kNoPending
  std::uint8_t opcode;
};

// Frames sent during the loop's current handler(s), chained per connection, and the one flush
// posted behind them. One per io_context (loops run one thread each), so no locking; as a service
// it goes away with its io_context, before the reactor the connections' sockets need.
class WsConnection::Combiner : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  explicit Combiner(asio::execution_context& ctx) : service(ctx) {}

  std::vector<Pending> entries;
  std::vector<std::shared_ptr<WsConnection>> connections;
  // One reference per distinct frame of the pass (a broadcast's thousands of entries share one),
  // in a deque so that the addresses the entries hold stay valid as it grows.
  std::deque<SharedMessage> frames;
  bool posted = false;

  const SharedMessage* Keep(const SharedMessage& frame) {
    if (frames.empty() || frames.back() != frame) frames.push_back(frame);
    return &frames.back();
  }

  void Flush() {
    posted = false;
    std::vector<Pending> taken;
    std::vector<std::shared_ptr<WsConnection>> conns;
    std::deque<SharedMessage> alive;
    taken.swap(entries);
    conns.swap(connections);
    alive.swap(frames);
    for (const auto& conn : conns) conn->FlushPending(taken);
    taken.clear();
    conns.clear();
    // Keep the capacity for the next pass.
    if (entries.empty()) entries.swap(taken);
    if (connections.empty()) connections.swap(conns);
  }

 private:
  void shutdown() override {
    entries.clear();
    connections.clear();
    frames.clear();
  }
};

WsConnection::WsConnection(tcp::socket socket, const Limits& limits, std::string remote, std::string leftover)
    : socket_(std::move(socket)),
      loop_(static_cast<asio::io_context&>(socket_.get_executor().context()).get_executor()),
      combiner_(&asio::use_service<Combiner>(loop_.context())),
      limits_(limits),
      remote_(std::move(remote)),
      in_(std::move(leftover)) {}

WsConnection::~WsConnection() = default;

template <class F>
void WsConnection::OnLoop(F&& f) {
  if (loop_.running_in_this_thread()) {
    f();
  } else {
    asio::post(loop_, std::forward<F>(f));
  }
}

void WsConnection::Accept(const http::request<http::string_body>& req) {
  auto reply = std::make_shared<std::string>();
  bool ok = false;
  const auto key = req[http::field::sec_websocket_key];
  const auto decoded = Base64Decode(key);
  if (req.method() != http::verb::get || req.version() != 11 || !boost::beast::websocket::is_upgrade(req)) {
    *reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  } else if (req[http::field::sec_websocket_version] != "13") {
    *reply =
        "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  } else if (!decoded || decoded->size() != 16) {
    *reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  } else {
    ok = true;
    *reply = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
             ws::AcceptKey(key) + "\r\n\r\n";
  }
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  asio::async_write(socket_, asio::buffer(*reply),
                    [self = shared_from_this(), reply, ok](boost::system::error_code e, std::size_t) {
                      if (e || !ok) {
                        if (!ok) spdlog::debug("ws {}: bad upgrade request", self->remote_);
                        self->open_ = ok && !e;  // a failed handshake after a good request still tells the owner
                        self->Fail();
                        return;
                      }
                      self->open_ = true;
                      boost::system::error_code ignored;
                      self->socket_.non_blocking(true, ignored);
                      if (self->callbacks_.on_open) self->callbacks_.on_open();
                      if (!self->in_.empty()) {
                        std::string early = std::move(self->in_);
                        self->in_.clear();
                        self->Consume(early.data(), early.size());
                      }
                      if (self->closed_) return;
                      self->DoWait();
                      self->Flush();
                    });
}

void WsConnection::DoWait() {
  if (closed_) return;
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](boost::system::error_code ec) { self->OnReadable(ec); });
}

void WsConnection::OnReadable(boost::system::error_code ec) {
  if (closed_) return;
  if (ec) {
    Fail();
    return;
  }
  const std::size_t n = socket_.read_some(asio::buffer(t_scratch), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    DoWait();
    return;
  }
  if (ec) {  // EOF or reset
    Fail();
    return;
  }
  Consume(t_scratch.data(), n);
  DoWait();
}

void WsConnection::Consume(const char* data, std::size_t n) {
  if (in_.empty()) {
    const std::string_view view(data, n);
    const std::size_t used = ParseFrames(view);
    if (!closed_ && used < n) in_.assign(view.substr(used));
    return;
  }
  in_.append(data, n);
  const std::size_t used = ParseFrames(in_);
  if (closed_) return;
  in_.erase(0, used);
  if (in_.empty()) in_.shrink_to_fit();  // idle connections keep no buffer
}

std::size_t WsConnection::ParseFrames(std::string_view view) {
  std::size_t pos = 0;
  while (!closed_ && pos < view.size()) {
    ws::FrameHeader h;
    const auto r = ws::ParseHeader(view.substr(pos), h);
    if (r == ws::Parse::kNeedMore) break;
    if (r == ws::Parse::kProtocolError) {
      SendClose(ws::kProtocolError, true);
      return view.size();
    }
    if (h.length + message_.size() > limits_.max_payload) {
      SendClose(ws::kTooBig, true);
      return view.size();
    }
    if (view.size() - pos - h.header_size < h.length) break;
    std::string payload(view.substr(pos + h.header_size, static_cast<std::size_t>(h.length)));
    ws::Unmask(payload.data(), payload.size(), h.mask, 0);
    pos += h.header_size + static_cast<std::size_t>(h.length);
    if (close_received_ || (closing_ && close_written_)) continue;  // draining after a close
    OnFrame(h, std::move(payload));
  }
  return pos;
}

void WsConnection::OnFrame(const ws::FrameHeader& h, std::string payload) {
  switch (h.opcode) {
    case ws::kPing:
      if (!closing_) Queue(std::make_shared<const std::string>(std::move(payload)), ws::kPong);
      return;
    case ws::kPong:
      return;
    case ws::kClose: {
      close_received_ = true;
      std::uint16_t code = ws::kNormal;
      if (payload.size() == 1) {
        SendClose(ws::kProtocolError, true);
        return;
      }
      if (payload.size() >= 2) {
        code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                          static_cast<std::uint8_t>(payload[1]));
        if (!ValidUtf8(std::string_view(payload).substr(2))) code = ws::kInvalidPayload;
      }
      if (closing_ && close_written_) {
        Fail();  // the handshake is complete
        return;
      }
      const bool valid = code >= 1000 && code < 5000 && code != 1004 && code != 1005 && code != 1006;
      SendClose(valid ? code : static_cast<std::uint16_t>(ws::kProtocolError), false);
      return;
    }
    case ws::kText:
    case ws::kBinary:
      if (message_opcode_ != 0) {
        SendClose(ws::kProtocolError, true);
        return;
      }
      if (h.fin) {
        PassUp(std::move(payload), h.opcode == ws::kBinary);
        return;
      }
      message_opcode_ = h.opcode;
      message_ = std::move(payload);
      return;
    case ws::kContinuation:
      if (message_opcode_ == 0) {
        SendClose(ws::kProtocolError, true);
        return;
      }
      message_ += payload;
      if (h.fin) {
        const bool binary = message_opcode_ == ws::kBinary;
        message_opcode_ = 0;
        std::string whole = std::move(message_);
        message_ = std::string();
        PassUp(std::move(whole), binary);
      }
      return;
    default:
      SendClose(ws::kProtocolError, true);
  }
}

void WsConnection::PassUp(std::string message, bool binary) {
  if (!binary && !ValidUtf8(message)) {
    SendClose(ws::kInvalidPayload, true);
    return;
  }
  if (closing_ || !callbacks_.on_message) return;
  callbacks_.on_message(std::move(message), binary);
}

void WsConnection::Send(const SharedMessage& frame, bool binary) {
  const std::uint8_t opcode = binary ? ws::kBinary : ws::kText;
  if (loop_.running_in_this_thread()) {
    if (!closed_ && !closing_) Queue(frame, opcode);
    return;
  }
  asio::post(loop_, [self = shared_from_this(), frame, opcode] {
    if (!self->closed_ && !self->closing_) self->Queue(frame, opcode);
  });
}

void WsConnection::Queue(const SharedMessage& frame, std::uint8_t opcode) {
  if (open_ && !closed_ && head_ == queue_.size() && !waiting_writable_) {
    // Nothing waiting on the socket: join the loop's combined flush.
    Combiner& c = *combiner_;
    const auto index = static_cast<std::uint32_t>(c.entries.size());
    c.entries.push_back(Pending{c.Keep(frame), kNoPending, opcode});
    if (pending_first_ == kNoPending) {
      pending_first_ = index;
      c.connections.push_back(shared_from_this());
    } else {
      c.entries[pending_last_].next = index;
    }
    pending_last_ = index;
    if (c.entries.size() >= limits_.max_combined_frames) {  // a huge batch: flush early
      c.Flush();
    } else if (!c.posted) {
      c.posted = true;
      asio::post(loop_, [&c] { c.Flush(); });
    }
    return;
  }
  SetQueued(queued() + ws::HeaderSize(frame->size()) + frame->size());
  if (opcode != ws::kClose && CutIfSlow()) return;
  queue_.push_back(Out{frame, opcode});
  if (open_ && !waiting_writable_) Flush();
}

bool WsConnection::CutIfSlow() {
  if (queued() <= limits_.max_send_queue_bytes) return false;
  // It is not reading, so a close frame would not get through either: drop the connection.
  spdlog::warn("ws {}: slow consumer ({} bytes queued), disconnecting", remote_, queued());
  static auto& slow = metrics::M().slow_consumers.Add({{"transport", "websocket"}});
  slow.Increment();
  Fail();
  return true;
}

void WsConnection::FlushPending(std::vector<Pending>& entries) {
  std::uint32_t i = pending_first_;
  pending_first_ = pending_last_ = kNoPending;
  auto& headers = t_headers;
  auto& buffers = t_buffers;
  std::size_t partial = 0;
  while (i != kNoPending && !closed_ && partial == 0) {
    std::size_t nbuf = 0, count = 0;
    for (std::uint32_t j = i; j != kNoPending && count < kBatch; j = entries[j].next, ++count) {
      const Pending& p = entries[j];
      const std::string& bytes = **p.frame;
      const std::size_t hn = ws::EncodeHeader(headers[count], true, p.opcode, bytes.size());
      buffers[nbuf++] = asio::buffer(headers[count].data(), hn);
      if (!bytes.empty()) buffers[nbuf++] = asio::buffer(bytes);
    }
    boost::system::error_code ec;
    std::size_t n = socket_.send(std::span<const asio::const_buffer>(buffers.data(), nbuf), 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      Fail();
      return;
    }
    for (std::size_t k = 0; k < count; ++k) {
      const Pending& p = entries[i];
      const std::size_t size = ws::HeaderSize((*p.frame)->size()) + (*p.frame)->size();
      if (n < size) {
        partial = n;  // this frame and the rest wait for writability
        break;
      }
      n -= size;
      if (p.opcode == ws::kClose) {
        AfterCloseSent();  // nothing goes after a close frame
        return;
      }
      i = p.next;
    }
  }
  if (closed_ || i == kNoPending) return;
  // The kernel took only part: the rest waits in the queue, in order, for writability.
  for (; i != kNoPending; i = entries[i].next) {
    const SharedMessage& frame = *entries[i].frame;
    SetQueued(queued() + ws::HeaderSize(frame->size()) + frame->size());
    queue_.push_back(Out{frame, entries[i].opcode});
  }
  head_sent_ = partial;
  SetQueued(queued() - partial);
  if (!CutIfSlow()) WaitWritable();
}

void WsConnection::Flush() {
  auto& headers = t_headers;
  auto& buffers = t_buffers;
  while (!closed_ && head_ < queue_.size()) {
    // Gather up to kBatch frames; the first one may be partly written already.
    std::size_t nbuf = 0, count = 0, skip = head_sent_;
    for (std::size_t i = head_; i < queue_.size() && count < kBatch; ++i, ++count) {
      const Out& out = queue_[i];
      const std::size_t hn = ws::EncodeHeader(headers[count], true, out.opcode, out.frame->size());
      asio::const_buffer parts[2] = {asio::buffer(headers[count].data(), hn), asio::buffer(*out.frame)};
      for (auto& part : parts) {
        const std::size_t cut = std::min(skip, part.size());
        part += cut;
        skip -= cut;
        if (part.size() > 0) buffers[nbuf++] = part;
      }
    }
    boost::system::error_code ec;
    std::size_t n = socket_.send(std::span<const asio::const_buffer>(buffers.data(), nbuf), 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      WaitWritable();
      return;
    }
    if (ec) {
      Fail();
      return;
    }
    SetQueued(queued() - std::min(queued(), n));
    // Retire what was written completely.
    while (n > 0 && head_ < queue_.size()) {
      Out& out = queue_[head_];
      const std::size_t size = ws::HeaderSize(out.frame->size()) + out.frame->size() - head_sent_;
      if (n < size) {
        head_sent_ += n;
        break;
      }
      n -= size;
      head_sent_ = 0;
      const bool was_close = out.opcode == ws::kClose;
      out.frame.reset();
      ++head_;
      if (was_close) {
        AfterCloseSent();
        return;
      }
    }
  }
  if (head_ == queue_.size()) {
    queue_.clear();
    queue_.shrink_to_fit();  // idle connections keep no queue
    head_ = 0;
  } else if (head_ > 64 && head_ * 2 > queue_.size()) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void WsConnection::WaitWritable() {
  if (waiting_writable_ || closed_) return;
  waiting_writable_ = true;
  socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
    self->waiting_writable_ = false;
    if (self->closed_) return;
    if (ec) {
      self->Fail();
      return;
    }
    self->Flush();
  });
}

void WsConnection::Close(std::uint16_t code) {
  OnLoop([self = shared_from_this(), code] { self->SendClose(code, code != ws::kNormal); });
}

void WsConnection::SendClose(std::uint16_t code, bool discard_queue) {
  if (closed_ || closing_) return;
  closing_ = true;
  // The close handshake gets a few seconds, whatever the peer does (even if it stopped reading).
  close_timer_ = std::make_unique<asio::steady_timer>(loop_, std::chrono::seconds(5));
  close_timer_->async_wait([self = shared_from_this()](boost::system::error_code e) {
    if (!e) self->Fail();
  });
  if (discard_queue) pending_first_ = pending_last_ = kNoPending;  // left in the loop's list, never written
  if (discard_queue && head_ < queue_.size()) {
    // Keep a partly written frame: cutting it would corrupt the stream before the close frame.
    const std::size_t keep = head_sent_ > 0 ? 1 : 0;
    for (std::size_t i = head_ + keep; i < queue_.size(); ++i) {
      const std::size_t size = queue_[i].frame->size();
      SetQueued(queued() - std::min(queued(), ws::HeaderSize(size) + size));
    }
    queue_.resize(head_ + keep);
  }
  // Before the handshake finished (refused early) it waits in the queue and goes right after it.
  Queue(std::make_shared<const std::string>(std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)}),
        ws::kClose);
}

void WsConnection::AfterCloseSent() {
  close_written_ = true;
  if (close_received_) {
    Fail();
    return;
  }
  // Wait (briefly) for the peer's close frame, then drop the connection.
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  close_timer_->expires_after(std::chrono::seconds(2));
  close_timer_->async_wait([self = shared_from_this()](boost::system::error_code e) {
    if (!e) self->Fail();
  });
}

void WsConnection::Fail() {
  if (closed_) return;
  closed_ = true;
  queue_.clear();
  queue_.shrink_to_fit();
  head_ = head_sent_ = 0;
  SetQueued(0);
  if (close_timer_) close_timer_->cancel();
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (open_ && callbacks_.on_close) {
    // Posted, never inline: Fail() can run inside a sender's loop (a slow consumer found during a
    // broadcast), and the owner's close handling must not re-enter that loop's iteration.
    asio::post(loop_, std::move(callbacks_.on_close));
  }
  callbacks_ = {};
}

}  // namespace fg::net

#include "engineio/session.hpp"

#include "common/metrics.hpp"
#include "engineio/server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace fg::engineio {

namespace http = boost::beast::http;

namespace {
const net::SharedMessage kPingFrame = std::make_shared<const std::string>("2");
const net::SharedMessage kNoopFrame = std::make_shared<const std::string>("6");
const net::SharedMessage kProbeAnswer = std::make_shared<const std::string>("3probe");
}  // namespace

Session::Session(Server& server, boost::asio::any_io_executor exec, std::string id, HandshakeInfo info,
                 const Options& options, const Limits& limits)
    : server_(server),
      exec_(std::move(exec)),
      id_(std::move(id)),
      info_(std::move(info)),
      options_(options),
      limits_(limits),
      timer_(exec_) {}

void Session::StartPolling() {
  transport_ = Transport::kPolling;
  SchedulePing();
}

void Session::StartWebSocket(const std::shared_ptr<net::WsConnection>& ws, std::string handshake) {
  transport_ = Transport::kWebSocket;
  ws_ = ws;
  std::weak_ptr<Session> weak = shared_from_this();
  auto exec = exec_;
  ws->SetCallbacks({
      .on_open = nullptr,
      .on_message =
          [weak, exec](std::string data, bool binary) {
            boost::asio::dispatch(exec, [weak, d = std::move(data), binary]() mutable {
              if (auto s = weak.lock()) s->OnTransportMessage(std::move(d), binary);
            });
          },
      .on_close =
          [weak, exec] {
            boost::asio::dispatch(exec, [weak] {
              if (auto s = weak.lock()) s->OnTransportClosed("transport close");
            });
          },
  });
  ws->Send(std::make_shared<const std::string>(std::move(handshake)), false);
  SchedulePing();
}

void Session::OnPollGet(const std::shared_ptr<net::HttpConnection>& conn, net::Response base) {
  if (state_ == State::kClosed || transport_ != Transport::kPolling) {
    base.result(http::status::bad_request);
    base.set(http::field::content_type, "application/json");
    base.body() = R"({"code":3,"message":"Bad request"})";
    conn->Respond(std::move(base));
    return;
  }
  if (pending_get_) {
    // Two concurrent GETs mean a confused or malicious client: refuse this one, end the session.
    base.result(http::status::bad_request);
    base.set(http::field::content_type, "application/json");
    base.body() = R"({"code":3,"message":"Bad request"})";
    conn->Respond(std::move(base));
    CloseWith("transport error", '1');
    return;
  }
  pending_get_ = conn;
  pending_base_ = std::make_unique<net::Response>(std::move(base));
  if (close_pending_) {
    CloseWith(close_reason_, close_answer_);
    return;
  }
  std::weak_ptr<Session> weak = shared_from_this();
  auto exec = exec_;
  std::weak_ptr<net::HttpConnection> weak_conn = conn;
  conn->SetAbortHandler([weak, exec, weak_conn] {
    boost::asio::dispatch(exec, [weak, weak_conn] {
      auto s = weak.lock();
      if (!s || !s->pending_get_ || s->pending_get_ != weak_conn.lock()) return;  // already answered
      s->pending_get_.reset();
      s->OnTransportClosed("transport close");
    });
  });
  if (!outbox_.empty()) FlushPoll();
}

void Session::OnPollPost(const std::shared_ptr<net::HttpConnection>& conn, net::Response base, std::string body) {
  auto answer = [&](http::status status, std::string_view type, std::string text) {
    base.result(status);
    base.set(http::field::content_type, type);
    base.body() = std::move(text);
    conn->Respond(std::move(base));
  };
  if (state_ == State::kClosed || transport_ != Transport::kPolling) {
    answer(http::status::bad_request, "application/json", R"({"code":3,"message":"Bad request"})");
    return;
  }
  if (close_pending_) {  // closing: accepted and ignored until the close packet is delivered
    answer(http::status::ok, "text/html", "ok");
    return;
  }
  if (body.size() > options_.max_payload) {
    answer(http::status::payload_too_large, "text/plain", "");
    CloseWith("transport error", '1');
    return;
  }
  std::vector<Packet> packets;
  const PayloadError err = DecodePayload(body, packets);
  if (err != PayloadError::kNone) {
    answer(http::status::bad_request, "application/json", R"({"code":3,"message":"Bad request"})");
    spdlog::debug("eio {}: bad polling payload", id_);
    CloseWith("parse error", '1');
    return;
  }
  answer(http::status::ok, "text/html", "ok");
  for (auto& p : packets) {
    if (state_ == State::kClosed) break;
    HandlePacket(std::move(p));
  }
}

void Session::OnProbe(const std::shared_ptr<net::WsConnection>& ws) {
  if (state_ != State::kOpen || transport_ != Transport::kPolling || probe_) {
    ws->Close(net::ws::kPolicyViolation);
    return;
  }
  probe_ = ws;
}

void Session::AttachProbe(const std::shared_ptr<Session>& session, const std::shared_ptr<net::WsConnection>& ws) {
  std::weak_ptr<Session> weak = session;
  std::weak_ptr<net::WsConnection> weak_ws = ws;
  auto exec = session->exec_;
  ws->SetCallbacks({
      .on_open = nullptr,
      .on_message =
          [weak, weak_ws, exec](std::string data, bool binary) {
            boost::asio::dispatch(exec, [weak, weak_ws, d = std::move(data), binary]() mutable {
              auto s = weak.lock();
              auto w = weak_ws.lock();
              if (!s || !w) return;
              if (s->probe_ == w) {
                s->OnProbeMessage(w, std::move(d), binary);
              } else if (s->ws_ == w) {
                s->OnTransportMessage(std::move(d), binary);
              }
            });
          },
      .on_close =
          [weak, weak_ws, exec] {
            boost::asio::dispatch(exec, [weak, weak_ws] {
              auto s = weak.lock();
              auto w = weak_ws.lock();
              if (!s) return;
              if (s->probe_ && s->probe_ == w) {
                // The upgrade failed: stay on polling.
                s->probe_.reset();
                if (s->state_ == State::kUpgrading) s->state_ = State::kOpen;
              } else if (s->ws_ && s->ws_ == w) {
                s->OnTransportClosed("transport close");
              }
            });
          },
  });
  boost::asio::dispatch(exec, [session, ws] { session->OnProbe(ws); });
}

void Session::OnProbeMessage(const std::shared_ptr<net::WsConnection>& ws, std::string data, bool binary) {
  if (!binary && data == "2probe" && state_ == State::kOpen) {
    state_ = State::kUpgrading;
    ws->Send(kProbeAnswer, false);
    // Ends the pending (or next) long-poll so the client can pause polling and send "5".
    outbox_.push_back(Out{kNoopFrame, false});
    outbox_bytes_ += 1;
    FlushPoll();
    return;
  }
  if (!binary && data == "5" && state_ == State::kUpgrading) {
    transport_ = Transport::kWebSocket;
    state_ = State::kOpen;
    ws_ = std::move(probe_);
    probe_.reset();
    if (pending_get_) RespondPoll("6");
    for (auto& out : outbox_) {
      if (out.frame != kNoopFrame) ws_->Send(out.frame, out.binary);
    }
    outbox_.clear();
    outbox_bytes_ = 0;
    return;
  }
  spdlog::debug("eio {}: unexpected packet during upgrade", id_);
  probe_.reset();
  if (state_ == State::kUpgrading) state_ = State::kOpen;
  ws->Close(net::ws::kProtocolError);
}

void Session::OnTransportMessage(std::string data, bool binary) {
  if (state_ == State::kClosed) return;
  auto p = DecodeOwnedPacket(std::move(data), binary);
  if (!p) {
    spdlog::debug("eio {}: invalid packet", id_);
    CloseWith("parse error", '1');
    return;
  }
  HandlePacket(std::move(*p));
}

void Session::HandlePacket(Packet p) {
  switch (p.type) {
    case PacketType::kPong:
      if (awaiting_pong_) {
        awaiting_pong_ = false;
        SchedulePing();
      }
      return;
    case PacketType::kMessage:
      if (handler_) handler_->OnMessage(std::move(p.data), p.binary);
      return;
    case PacketType::kClose:
      if (transport_ == Transport::kPolling && !pending_get_) {
        // The client's GET may still be on its way (another connection, maybe another loop): give
        // it a moment so it is answered with a noop rather than a 400, as the reference server does.
        LingerForGet("transport close", '6',
                     std::min<std::chrono::milliseconds>(options_.ping_timeout, std::chrono::milliseconds(1000)));
        return;
      }
      CloseWith("transport close", '6');
      return;
    case PacketType::kNoop:
      return;
    case PacketType::kPing:  // in v4 only the server pings
    case PacketType::kOpen:
    case PacketType::kUpgrade:
      spdlog::debug("eio {}: unexpected packet type {}", id_, static_cast<char>(p.type));
      CloseWith("parse error", '1');
      return;
  }
}

SendStatus Session::Send(const net::SharedMessage& frame, bool binary) {
  if (state_ == State::kClosed || close_pending_) return SendStatus::kDropped;
  if (transport_ == Transport::kWebSocket) {
    ws_->Send(frame, binary);
    return SendStatus::kQueued;
  }
  if (overflowed_) return SendStatus::kDropped;
  outbox_bytes_ += frame->size();
  if (outbox_bytes_ > limits_.max_send_queue_bytes) {
    spdlog::warn("eio {}: slow polling consumer ({} bytes queued), closing", id_, outbox_bytes_);
    static auto& slow = metrics::M().slow_consumers.Add({{"transport", "polling"}});
    slow.Increment();
    // Closed from a fresh handler: Send() may be running inside a broadcast's iteration.
    overflowed_ = true;
    outbox_.clear();
    outbox_bytes_ = 0;
    boost::asio::post(exec_, [weak = weak_from_this()] {
      if (auto s = weak.lock()) s->CloseWith("transport error", '1');
    });
    return SendStatus::kDropped;
  }
  outbox_.push_back(Out{frame, binary});
  if (pending_get_) FlushPoll();
  return SendStatus::kQueued;
}

void Session::FlushPoll() {
  if (!pending_get_ || outbox_.empty()) return;
  std::string payload;
  payload.reserve(outbox_bytes_ + outbox_.size() * 2);
  for (const auto& out : outbox_) AppendToPayload(payload, *out.frame, out.binary);
  outbox_.clear();
  outbox_bytes_ = 0;
  RespondPoll(std::move(payload));
}

void Session::RespondPoll(std::string body) {
  auto conn = std::move(pending_get_);
  pending_get_.reset();
  net::Response res = pending_base_ ? std::move(*pending_base_) : net::Response{};
  pending_base_.reset();
  res.result(http::status::ok);
  res.set(http::field::content_type, "text/plain; charset=UTF-8");
  res.body() = std::move(body);
  conn->SetAbortHandler(nullptr);
  conn->Respond(std::move(res));
}

void Session::SchedulePing() {
  spdlog::trace("eio {}: next ping in {} ms", id_, options_.ping_interval.count());
  timer_.expires_after(options_.ping_interval);
  awaiting_pong_ = false;
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto s = weak.lock()) s->OnPingTimer();
  });
}

void Session::OnPingTimer() {
  if (state_ == State::kClosed) return;
  if (awaiting_pong_) {
    CloseWith("ping timeout", '1');
    return;
  }
  awaiting_pong_ = true;
  spdlog::trace("eio {}: ping", id_);
  Send(kPingFrame, false);
  if (state_ == State::kClosed) return;
  timer_.expires_after(options_.ping_timeout);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto s = weak.lock()) s->OnPingTimer();
  });
}

void Session::OnTransportClosed(std::string_view reason) {
  CloseWith(reason, '1');
}

void Session::MarkJoined() {
  server_.MarkJoined(id_);
}

void Session::Close(std::string_view reason) {
  if (state_ == State::kClosed || close_pending_) return;
  // Tell the client, then end: over WebSocket the close packet is flushed before the close frame.
  if (transport_ == Transport::kWebSocket && ws_) {
    ws_->Send(std::make_shared<const std::string>("1"), false);
    CloseWith(reason, '1');
    return;
  }
  if (pending_get_) {
    CloseWith(reason, '1');
    return;
  }
  // Polling with no GET pending: the close packet waits for the client's next GET (as the reference
  // server does), so the client learns why instead of getting a 400. The application is told now.
  LingerForGet(reason, '1', options_.ping_interval + options_.ping_timeout);
}

void Session::LingerForGet(std::string_view reason, char answer, std::chrono::milliseconds linger) {
  close_pending_ = true;
  close_answer_ = answer;
  close_reason_ = std::string(reason);
  outbox_.clear();
  outbox_bytes_ = 0;
  if (handler_) {
    auto h = std::move(handler_);
    handler_.reset();
    h->OnClose(reason);
  }
  timer_.expires_after(linger);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto s = weak.lock()) s->CloseWith(s->close_reason_, s->close_answer_);
  });
}

void Session::CloseWith(std::string_view reason, char poll_answer) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  timer_.cancel();
  // Out of the server's count before anything is answered: a client that gets the answer may open
  // its next session at once (on another loop), and must not find this one still counted.
  server_.Remove(id_);
  if (pending_get_) RespondPoll(std::string(1, poll_answer));
  outbox_.clear();
  outbox_bytes_ = 0;
  if (ws_) ws_->Close();
  if (probe_) probe_->Close();
  ws_.reset();
  probe_.reset();
  if (handler_) {
    auto h = std::move(handler_);
    handler_.reset();
    h->OnClose(reason);
  }
}

}  // namespace fg::engineio

// Engine.IO v4 session: one logical connection that outlives HTTP requests.
//
// State machine
//   polling ──(WebSocket with sid, "2probe"→"3probe", noop to the pending GET, "5")──► websocket
//   polling | websocket ──(client "1", ping timeout, bad packet, duplicate GET, aborted GET,
//                          transport error, server Close())──► closed (removed from the registry)
// Heartbeat: the server sends "2" every ping_interval and expects "3" within ping_timeout.
// Threading: a session lives on the loop that created it; every method runs there (the server
// posts to Executor()). Transports on other loops are reached through their thread-safe APIs.
// Guarantees: the handler's OnClose runs exactly once; nothing is sent after it.
#pragma once

#include "common/limits.hpp"
#include "engineio/packet.hpp"
#include "net/http_connection.hpp"
#include "net/ws_connection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fg::engineio {

class Server;
class Session;

// What the upper layer (Socket.IO) implements. Called on the session's loop.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  virtual void OnMessage(std::string data, bool binary) = 0;
  virtual void OnClose(std::string_view reason) = 0;
};

// What the session remembers of the request that opened it (auth may come from here).
struct HandshakeInfo {
  std::map<std::string, std::string> query;
  std::string authorization;  // Authorization header
  std::string origin;
  std::string remote_address;
};

struct Options {
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds ping_timeout{20000};
  std::size_t max_payload = 1'000'000;
};

enum class SendStatus { kQueued, kDropped };

class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class Transport { kPolling, kWebSocket };

  Session(Server& server, boost::asio::any_io_executor exec, std::string id, HandshakeInfo info, const Options& options,
          const Limits& limits);

  const std::string& Id() const { return id_; }
  const HandshakeInfo& Handshake() const { return info_; }
  boost::asio::any_io_executor Executor() const { return exec_; }
  bool IsOpen() const { return state_ != State::kClosed; }
  Transport CurrentTransport() const { return transport_; }
  // Bytes waiting to be written to the client (the WebSocket's queue, or the polling outbox).
  std::size_t QueuedBytes() const {
    return transport_ == Transport::kWebSocket && ws_ ? ws_->QueuedBytes() : outbox_bytes_;
  }

  void SetHandler(std::shared_ptr<SessionHandler> h) { handler_ = std::move(h); }

  // Transport entry points (called on the session's loop by the server).
  void StartPolling();
  void StartWebSocket(const std::shared_ptr<net::WsConnection>& ws, std::string handshake);
  void OnPollGet(const std::shared_ptr<net::HttpConnection>& conn, net::Response base);
  void OnPollPost(const std::shared_ptr<net::HttpConnection>& conn, net::Response base, std::string body);
  // A WebSocket that carries this session's sid: wires its callbacks at once (on the WebSocket's
  // loop, before its handshake completes), then registers it as the upgrade probe.
  static void AttachProbe(const std::shared_ptr<Session>& session, const std::shared_ptr<net::WsConnection>& ws);

  // Upper-layer API: a whole Engine.IO frame ("4..." text, or raw bytes for binary).
  SendStatus Send(const net::SharedMessage& frame, bool binary);
  void Close(std::string_view reason);
  // Ends the session at once, without waiting for a polling client's next GET (sessions that never
  // joined a namespace: evicted or timed out).
  void Abort(std::string_view reason) { CloseWith(reason, '1'); }
  // The upper layer accepted a namespace: the session is no longer anonymous.
  void MarkJoined();

 private:
  enum class State { kOpen, kUpgrading, kClosed };
  struct Out {
    net::SharedMessage frame;
    bool binary;
  };
  void OnTransportMessage(std::string data, bool binary);
  void OnProbe(const std::shared_ptr<net::WsConnection>& ws);
  void OnProbeMessage(const std::shared_ptr<net::WsConnection>& ws, std::string data, bool binary);
  void HandlePacket(Packet p);
  void FlushPoll();
  void SchedulePing();
  void OnPingTimer();
  void OnTransportClosed(std::string_view reason);
  void CloseWith(std::string_view reason, char poll_answer);
  void LingerForGet(std::string_view reason, char answer, std::chrono::milliseconds linger);
  void RespondPoll(std::string body);

  Server& server_;
  boost::asio::any_io_executor exec_;
  std::string id_;
  HandshakeInfo info_;
  const Options& options_;
  const Limits& limits_;
  std::shared_ptr<SessionHandler> handler_;
  State state_ = State::kOpen;
  Transport transport_ = Transport::kPolling;
  // polling
  std::shared_ptr<net::HttpConnection> pending_get_;
  std::unique_ptr<net::Response> pending_base_;  // headers for the held GET's answer (polling only)
  std::vector<Out> outbox_;
  std::size_t outbox_bytes_ = 0;
  // websocket (active transport, or the one being probed during an upgrade)
  std::shared_ptr<net::WsConnection> ws_;
  std::shared_ptr<net::WsConnection> probe_;
  // heartbeat
  boost::asio::steady_timer timer_;
  bool awaiting_pong_ = false;
  // Closing over polling: the next GET gets close_answer_ ('1' server close, '6' client close).
  bool overflowed_ = false;  // slow polling consumer: closing, further frames dropped
  bool close_pending_ = false;
  char close_answer_ = '1';
  std::string close_reason_;
};

}  // namespace fg::engineio

// Socket.IO v5 on top of Engine.IO sessions.
//
// Client  — one per Engine.IO session: decodes packets, reassembles binary attachments, owns the
//           session's namespace sockets, closes the session when no namespace is joined within
//           connect_timeout or on any malformed packet.
// Socket  — one per (session, namespace) after a successful CONNECT; the id sent in the CONNECT
//           ack is its own random id, never the Engine.IO sid.
// NamespaceHandler — the application: decides CONNECT (auth), handles events, learns disconnects.
// Threading: everything for a session runs on that session's loop.
#pragma once

#include "engineio/server.hpp"
#include "socketio/packet.hpp"

#include <boost/json.hpp>

#include <any>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fg::socketio {

class Client;

struct Event {
  std::string name;
  boost::json::array args;  // arguments after the name
  std::optional<std::uint64_t> ack_id;
  std::vector<std::string> attachments;  // binary attachments referenced by placeholders in args
};

class Socket {
 public:
  Socket(std::shared_ptr<engineio::Session> session, std::string nsp);

  const std::string& Id() const { return id_; }
  // Connection state recovery, from NamespaceHandler::OnConnect before it accepts: the socket
  // takes the id of the session it recovers (or keeps its own), and the CONNECT ack carries the
  // private session id `pid` beside `sid`.
  void SetRecoveryIds(std::string id, std::string pid) {
    if (!id.empty()) id_ = std::move(id);
    pid_ = std::move(pid);
  }
  const std::string& Pid() const { return pid_; }
  const std::string& Namespace() const { return nsp_; }
  const engineio::HandshakeInfo& Handshake() const { return session_->Handshake(); }
  bool Connected() const { return connected_; }
  boost::asio::any_io_executor Executor() const { return session_->Executor(); }

  void Emit(std::string_view event, const boost::json::array& args = {});
  // Sends an already-encoded Engine.IO frame (a broadcast encoded once for all recipients).
  engineio::SendStatus SendEncoded(const net::SharedMessage& frame) { return session_->Send(frame, false); }
  // On the socket's loop: its transport now, and the bytes waiting to be written to it.
  bool OnWebSocket() const { return session_->CurrentTransport() == engineio::Session::Transport::kWebSocket; }
  std::size_t QueuedBytes() const { return session_->QueuedBytes(); }
  void Ack(std::uint64_t id, const boost::json::array& args, const std::vector<std::string>& attachments = {});
  void EmitWithAttachments(std::string_view event, const boost::json::array& args,
                           const std::vector<std::string>& attachments);
  // An event the client is asked to acknowledge: its answer reaches NamespaceHandler::OnAck with
  // the id returned here.
  std::uint64_t EmitExpectingAck(std::string_view event, const boost::json::array& args);
  // Server-side disconnect of this namespace socket (sends DISCONNECT).
  void Disconnect();

  std::any context;  // the application's per-socket state

 private:
  friend class Client;
  void SendPacket(PacketType type, std::optional<std::uint64_t> id, const boost::json::value& payload,
                  const std::vector<std::string>& attachments);
  std::shared_ptr<engineio::Session> session_;
  std::weak_ptr<Client> client_;
  std::string id_;
  std::string pid_;
  std::string nsp_;
  std::uint64_t next_ack_id_ = 0;
  bool connected_ = false;
};

class NamespaceHandler {
 public:
  virtual ~NamespaceHandler() = default;
  // Accept with done(nullopt); refuse with done(error object) → CONNECT_ERROR with that payload.
  using ConnectDone = std::function<void(std::optional<boost::json::object> error)>;
  virtual void OnConnect(const std::shared_ptr<Socket>& socket, const boost::json::value& auth, ConnectDone done) = 0;
  virtual void OnConnected(const std::shared_ptr<Socket>&) {}
  virtual void OnEvent(const std::shared_ptr<Socket>& socket, Event event) = 0;
  virtual void OnDisconnect(const std::shared_ptr<Socket>& socket, std::string_view reason) = 0;
  // A client's answer to Socket::EmitExpectingAck. Namespaces that never ask ignore acks.
  virtual void OnAck(const std::shared_ptr<Socket>&, std::uint64_t /*id*/, boost::json::array /*args*/,
                     std::vector<std::string> /*attachments*/) {}
  // Whether clients may send binary events to this namespace. A namespace that has none refuses
  // them at the header, before any attachment is buffered.
  virtual bool AcceptsBinary() const { return true; }
};

struct ServerOptions {
  std::chrono::milliseconds connect_timeout{10000};
  DecodeLimits decode;
  // Bytes of one packet: its JSON frame plus every binary attachment (socket.io's maxPayload
  // covers the whole packet). Also the most a connection ever buffers for incoming attachments.
  std::size_t max_packet_bytes = 1'000'000;
};

class Server {
 public:
  explicit Server(ServerOptions options) : options_(options) {}
  void AddNamespace(std::string name, std::shared_ptr<NamespaceHandler> handler);
  // Plug into engineio::Server as its connection handler.
  void OnSession(const std::shared_ptr<engineio::Session>& session);

 private:
  friend class Client;
  std::shared_ptr<NamespaceHandler> Find(const std::string& nsp) const;
  ServerOptions options_;
  std::map<std::string, std::shared_ptr<NamespaceHandler>> namespaces_;
};

class Client : public engineio::SessionHandler, public std::enable_shared_from_this<Client> {
 public:
  Client(Server& server, std::shared_ptr<engineio::Session> session);
  void Start();
  void OnMessage(std::string data, bool binary) override;
  void OnClose(std::string_view reason) override;
  void RemoveSocket(const std::string& nsp, std::string_view reason);

 private:
  void OnPacket(Packet p, std::vector<std::string> attachments);
  void OnConnectPacket(Packet p);
  void Fail(std::string_view why);

  Server& server_;
  std::shared_ptr<engineio::Session> session_;
  std::map<std::string, std::shared_ptr<Socket>> sockets_;
  std::map<std::string, bool> connecting_;
  // A binary packet awaiting its attachments (rare: held out of line, so idle clients stay small).
  struct Partial {
    Packet packet;
    std::vector<std::string> attachments;
    std::size_t bytes = 0;
  };
  std::unique_ptr<Partial> partial_;
  // Until the first namespace is joined (then cancelled: an idle client holds no pending timer).
  boost::asio::steady_timer connect_timer_;
  bool closed_ = false;
};

}  // namespace fg::socketio

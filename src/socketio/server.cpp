#include "socketio/server.hpp"

#include "common/encoding.hpp"

#include <spdlog/spdlog.h>

namespace fg::socketio {

Socket::Socket(std::shared_ptr<engineio::Session> session, std::string nsp)
    : session_(std::move(session)), id_(RandomId(15)), nsp_(std::move(nsp)) {}

void Socket::SendPacket(PacketType type, std::optional<std::uint64_t> id, const boost::json::value& payload,
                        const std::vector<std::string>& attachments) {
  if (!connected_) return;
  const std::string json = boost::json::serialize(payload);
  auto frame = std::make_shared<const std::string>(EncodePacketText(type, nsp_, id, attachments.size(), json));
  session_->Send(frame, false);
  for (const auto& a : attachments) session_->Send(std::make_shared<const std::string>(a), true);
}

void Socket::Emit(std::string_view event, const boost::json::array& args) {
  boost::json::array payload;
  payload.reserve(args.size() + 1);
  payload.emplace_back(event);
  for (const auto& a : args) payload.push_back(a);
  SendPacket(PacketType::kEvent, std::nullopt, payload, {});
}

void Socket::EmitWithAttachments(std::string_view event, const boost::json::array& args,
                                 const std::vector<std::string>& attachments) {
  boost::json::array payload;
  payload.emplace_back(event);
  for (const auto& a : args) payload.push_back(a);
  SendPacket(attachments.empty() ? PacketType::kEvent : PacketType::kBinaryEvent, std::nullopt, payload, attachments);
}

std::uint64_t Socket::EmitExpectingAck(std::string_view event, const boost::json::array& args) {
  boost::json::array payload;
  payload.emplace_back(event);
  for (const auto& a : args) payload.push_back(a);
  const std::uint64_t id = next_ack_id_++;
  SendPacket(PacketType::kEvent, id, payload, {});
  return id;
}

void Socket::Ack(std::uint64_t id, const boost::json::array& args, const std::vector<std::string>& attachments) {
  SendPacket(attachments.empty() ? PacketType::kAck : PacketType::kBinaryAck, id, args, attachments);
}

void Socket::Disconnect() {
  if (!connected_) return;
  session_->Send(
      std::make_shared<const std::string>(EncodePacketText(PacketType::kDisconnect, nsp_, std::nullopt, 0, "")), false);
  if (auto c = client_.lock()) c->RemoveSocket(nsp_, "server namespace disconnect");
}

void Server::AddNamespace(std::string name, std::shared_ptr<NamespaceHandler> handler) {
  namespaces_[std::move(name)] = std::move(handler);
}

std::shared_ptr<NamespaceHandler> Server::Find(const std::string& nsp) const {
  auto it = namespaces_.find(nsp);
  return it == namespaces_.end() ? nullptr : it->second;
}

void Server::OnSession(const std::shared_ptr<engineio::Session>& session) {
  auto client = std::make_shared<Client>(*this, session);
  session->SetHandler(client);
  client->Start();
}

Client::Client(Server& server, std::shared_ptr<engineio::Session> session)
    : server_(server), session_(std::move(session)), connect_timer_(session_->Executor()) {}

void Client::Start() {
  connect_timer_.expires_after(server_.options_.connect_timeout);
  connect_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    if (self && self->sockets_.empty() && !self->closed_) {
      spdlog::debug("sio: no namespace joined within connect timeout, closing {}", self->session_->Id());
      self->session_->Abort("connect timeout");  // never joined: nothing to linger for
    }
  });
}

void Client::Fail(std::string_view why) {
  spdlog::debug("sio {}: closing session: {}", session_->Id(), why);
  session_->Close("parse error");
}

void Client::OnMessage(std::string data, bool binary) {
  if (closed_) return;
  if (binary) {
    if (!partial_) {
      Fail("unexpected binary attachment");
      return;
    }
    partial_->bytes += data.size();
    if (partial_->bytes > server_.options_.max_packet_bytes) {
      Fail("binary packet over the payload limit");
      return;
    }
    partial_->attachments.push_back(std::move(data));
    if (partial_->attachments.size() == partial_->packet.attachments) {
      auto done = std::move(partial_);
      OnPacket(std::move(done->packet), std::move(done->attachments));
    }
    return;
  }
  if (partial_) {
    Fail("text packet while awaiting binary attachments");
    return;
  }
  DecodeResult r = Decode(data, server_.options_.decode);
  if (r.error != DecodeError::kNone) {
    Fail(ToString(r.error));
    return;
  }
  if (r.packet.type == PacketType::kBinaryEvent || r.packet.type == PacketType::kBinaryAck) {
    // Attachments are buffered only for a namespace this client has joined and that takes binary.
    auto handler = sockets_.count(r.packet.nsp) ? server_.Find(r.packet.nsp) : nullptr;
    if (!handler) {
      Fail("binary packet before CONNECT to its namespace");
      return;
    }
    if (!handler->AcceptsBinary()) {
      Fail("binary packet to a namespace that takes none");
      return;
    }
    if (r.packet.attachments > 0) {
      partial_ = std::make_unique<Partial>();
      partial_->packet = std::move(r.packet);
      partial_->bytes = data.size();
      return;
    }
  }
  OnPacket(std::move(r.packet), {});
}

void Client::OnPacket(Packet p, std::vector<std::string> attachments) {
  switch (p.type) {
    case PacketType::kConnect:
      OnConnectPacket(std::move(p));
      return;
    case PacketType::kDisconnect:
      RemoveSocket(p.nsp, "client namespace disconnect");
      return;
    case PacketType::kEvent:
    case PacketType::kBinaryEvent: {
      auto it = sockets_.find(p.nsp);
      if (it == sockets_.end()) {
        spdlog::debug("sio {}: event for namespace {} not joined, ignored", session_->Id(), p.nsp);
        return;
      }
      auto handler = server_.Find(p.nsp);
      auto& arr = p.payload.as_array();
      Event ev;
      ev.name = std::string(arr[0].as_string());
      ev.args.reserve(arr.size() - 1);
      for (std::size_t i = 1; i < arr.size(); ++i) ev.args.push_back(std::move(arr[i]));
      ev.ack_id = p.id;
      ev.attachments = std::move(attachments);
      auto socket = it->second;
      handler->OnEvent(socket, std::move(ev));
      return;
    }
    case PacketType::kAck:
    case PacketType::kBinaryAck: {
      auto it = sockets_.find(p.nsp);
      if (it == sockets_.end() || !p.id) return;
      auto args = p.payload.is_array() ? std::move(p.payload.as_array()) : boost::json::array{};
      server_.Find(p.nsp)->OnAck(it->second, *p.id, std::move(args), std::move(attachments));
      return;
    }
    case PacketType::kConnectError:
      Fail("CONNECT_ERROR from a client");
      return;
  }
}

void Client::OnConnectPacket(Packet p) {
  auto handler = server_.Find(p.nsp);
  if (!handler) {
    session_->Send(std::make_shared<const std::string>(EncodePacketText(PacketType::kConnectError, p.nsp, std::nullopt,
                                                                        0, R"({"message":"Invalid namespace"})")),
                   false);
    return;
  }
  if (sockets_.count(p.nsp) || connecting_.count(p.nsp)) return;  // already (being) connected
  connecting_[p.nsp] = true;
  auto socket = std::make_shared<Socket>(session_, p.nsp);
  socket->client_ = weak_from_this();
  const boost::json::value auth = p.has_payload ? p.payload : boost::json::object{};
  handler->OnConnect(
      socket, auth, [self = shared_from_this(), socket, handler](std::optional<boost::json::object> error) {
        self->connecting_.erase(socket->Namespace());
        if (self->closed_) return;
        if (error) {
          self->session_->Send(
              std::make_shared<const std::string>(EncodePacketText(PacketType::kConnectError, socket->Namespace(),
                                                                   std::nullopt, 0, boost::json::serialize(*error))),
              false);
          return;
        }
        socket->connected_ = true;
        self->sockets_[socket->Namespace()] = socket;
        self->session_->MarkJoined();
        self->connect_timer_.cancel();
        boost::json::object ack;
        ack["sid"] = socket->Id();
        if (!socket->Pid().empty()) ack["pid"] = socket->Pid();
        self->session_->Send(
            std::make_shared<const std::string>(EncodePacketText(PacketType::kConnect, socket->Namespace(),
                                                                 std::nullopt, 0, boost::json::serialize(ack))),
            false);
        handler->OnConnected(socket);
      });
}

void Client::RemoveSocket(const std::string& nsp, std::string_view reason) {
  auto it = sockets_.find(nsp);
  if (it == sockets_.end()) return;
  auto socket = it->second;
  sockets_.erase(it);
  socket->connected_ = false;
  if (auto h = server_.Find(nsp)) h->OnDisconnect(socket, reason);
}

void Client::OnClose(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  connect_timer_.cancel();
  auto sockets = std::move(sockets_);
  sockets_.clear();
  for (auto& [nsp, socket] : sockets) {
    socket->connected_ = false;
    if (auto h = server_.Find(nsp)) h->OnDisconnect(socket, reason);
  }
  partial_.reset();
}

}  // namespace fg::socketio

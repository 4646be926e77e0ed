#include "gateway/gateway.hpp"

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/errc.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/rate_limit.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <charconv>
#include <climits>
#include <map>

#include <atomic>
#include <mutex>

namespace fg::gateway {

namespace json = boost::json;

json::object GlobalStats::ToJson() const {
  json::object o;
  o["totalConnected"] = total;
  o["admins"] = admins;
  o["users"] = users;
  o["ordersBeingWatched"] = watched.size();
  o["adminSubscribersCount"] = admins;
  json::array orders;
  for (const auto& [id, n] : watched) orders.push_back(json::object{{"orderId", id}, {"subscribers", n}});
  o["watchedOrders"] = std::move(orders);
  o["timestamp"] = IsoTimestamp();
  return o;
}

// Per-socket state: who it is and where it lives. Owned by the socket (Socket::context).
class Gateway::Connection : public Subscriber {
 public:
  Connection(std::weak_ptr<socketio::Socket> socket, auth::Principal p)
      : socket_(std::move(socket)), principal_(std::move(p)) {}
  void Send(const net::SharedMessage& frame, std::int64_t pos, const std::string& order_id) override {
    if (recovering) {  // live events wait behind the replay
      held.emplace_back(pos, frame);
      return;
    }
    if (!snapshotting.empty() && !order_id.empty()) {  // behind a subscribe ack's snapshot
      if (auto it = snapshotting.find(order_id); it != snapshotting.end()) {
        it->second.emplace_back(pos, frame);
        return;
      }
    }
    if (pos != 0 && pos <= replayed_through) return;  // the replay sent it already
    if (auto s = socket_.lock()) s->SendEncoded(frame);
  }
  bool IsAdmin() const override { return principal_.admin; }
  const std::string& UserId() const override { return principal_.user_id; }
  bool OnWebSocket() const override {
    auto s = socket_.lock();
    return s && s->OnWebSocket();
  }
  std::size_t QueuedBytes() const override {
    auto s = socket_.lock();
    return s ? s->QueuedBytes() : 0;
  }
  const auth::Principal& Principal() const { return principal_; }
  void Refreshed(auth::Principal p) { principal_ = std::move(p); }
  // Token lifetime: fires `auth:expiring` before the token's exp, then ends the socket at exp.
  std::unique_ptr<boost::asio::steady_timer> expiry;

  // Client → server events: a token bucket (Limits::socket_events_per_s / socket_event_burst) and
  // the refusals of the current 10 s window. Returns whether this event may run.
  bool TakeEventToken(const Limits& l, std::chrono::steady_clock::time_point now) {
    if (l.socket_events_per_s <= 0) return true;
    if (events_.Take(l.socket_events_per_s, std::max(1.0, l.socket_event_burst), now)) return true;
    if (now - refused_since_ > std::chrono::seconds(10)) {
      refused_since_ = now;
      refused_ = 0;
    }
    ++refused_;
    return false;
  }
  std::size_t RefusedRecently() const { return refused_; }
  std::size_t loop = 0;
  bool registered = false;

  // Connection state recovery (empty pid: off). `joined`: order → log position at subscribe.
  std::string pid;
  std::string sid;
  std::int64_t created_pos = 0;
  std::map<std::string, std::int64_t> joined;
  bool recovering = false;
  std::vector<store::LogEntry> replay;  // found at CONNECT, sent right after it is accepted
  std::int64_t replayed_through = 0;    // every event at or below this position was replayed
  std::vector<std::pair<std::int64_t, net::SharedMessage>> held;
  // Orders whose subscribe snapshot is being read: their live events wait for the ack.
  std::map<std::string, std::vector<std::pair<std::int64_t, net::SharedMessage>>> snapshotting;

 private:
  std::weak_ptr<socketio::Socket> socket_;
  auth::Principal principal_;
  TokenBucket events_;  // on the socket's loop only: no lock
  std::chrono::steady_clock::time_point refused_since_;
  std::size_t refused_ = 0;
};

struct Gateway::Recovery {
  bool ok = false;
  std::string why;  // when not ok (logged; never the pid)
  std::string sid;
  std::int64_t created_pos = 0;
  std::map<std::string, std::int64_t> joined;
  std::vector<store::LogEntry> entries;  // what the log has after the offset; Replay filters it per socket
  std::int64_t through = 0;
  std::weak_ptr<socketio::Socket> takeover;  // a socket of this node still holding the session
};

namespace {

json::object Unauthorized(auth::TokenError e) {
  return json::object{{"message", "Unauthorized"}, {"data", json::object{{"code", auth::ToCode(e)}}}};
}

// The orderId of a `{orderId}` request, or nullopt when malformed.
std::optional<std::string> OrderIdArg(const socketio::Event& ev, std::size_t max_len) {
  if (ev.args.empty() || !ev.args[0].is_object()) return std::nullopt;
  const auto* id = ev.args[0].as_object().if_contains("orderId");
  if (!id || !id->is_string() || id->as_string().empty() || id->as_string().size() > max_len) return std::nullopt;
  return std::string(id->as_string());
}

void MaybeAck(const std::shared_ptr<socketio::Socket>& socket, const socketio::Event& ev, json::object body) {
  if (ev.ack_id) socket->Ack(*ev.ack_id, json::array{std::move(body)});
}

// `{ok:false, [orderId,] error:<wire code>}`: Socket.IO acks speak the same error vocabulary as HTTP.
json::object AckError(errc e, const std::string* order_id = nullptr) {
  json::object o{{"ok", false}};
  if (order_id) o["orderId"] = *order_id;
  o["error"] = WireCode(e);
  return o;
}

}  // namespace

namespace {
struct EventMetrics;
const EventMetrics& MetricsOf(std::string_view event);
}  // namespace

Gateway::Gateway(net::Loops& loops, store::OrderStore& store, store::StoreWorker& worker, auth::JwtVerifier verifier,
                 const Limits& limits, store::EventLog* log)
    : loops_(loops), store_(store), worker_(worker), verifier_(std::move(verifier)), limits_(limits), log_(log) {
  if (log_) head_ = log_->LogBounds().head;
  for (std::size_t i = 0; i < loops_.Size(); ++i) shards_.push_back(std::make_unique<Shard>());
  admins_per_shard_ = std::make_unique<std::atomic<std::uint32_t>[]>(loops_.Size());
  MetricsOf("");  // every event name's series exists from the start, at 0
}

void Gateway::Track(const std::string& order_id, std::size_t shard, int delta) {
  std::unique_lock lock(index_mutex_);
  auto& counts = order_shards_[order_id];
  if (counts.empty()) counts.assign(shards_.size(), 0);
  counts[shard] = static_cast<std::uint32_t>(static_cast<int>(counts[shard]) + delta);
  if (std::all_of(counts.begin(), counts.end(), [](std::uint32_t c) { return c == 0; })) order_shards_.erase(order_id);
}

std::vector<std::size_t> Gateway::TargetShards(Audience audience, const std::string& order_id) {
  std::vector<std::size_t> out;
  std::shared_lock lock(index_mutex_);
  const std::vector<std::uint32_t>* counts = nullptr;
  if (audience == Audience::kOrderAndAdmins) {
    auto it = order_shards_.find(order_id);
    if (it != order_shards_.end()) counts = &it->second;
  }
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    if (admins_per_shard_[i].load(std::memory_order_relaxed) > 0 || (counts && (*counts)[i] > 0)) out.push_back(i);
  }
  return out;
}

namespace {
// fg_handshakes_total{layer="socketio"}: a /fulfillment CONNECT's result.
void CountConnect(const char* result) {
  metrics::M().handshakes.Add({{"layer", "socketio"}, {"result", result}}).Increment();
}
}  // namespace

Shard& Gateway::ShardFor(const Connection& c) {
  return *shards_[c.loop];
}

void Gateway::OnConnect(const std::shared_ptr<socketio::Socket>& socket, const json::value& auth, ConnectDone done) {
  std::string token;
  bool present = false;
  if (const auto* o = auth.if_object(); o && o->contains("token")) {
    const auto& t = o->at("token");
    present = true;
    if (t.is_string()) token = std::string(t.as_string());
  } else if (!socket->Handshake().authorization.empty()) {
    present = true;
    token = std::string(auth::BearerToken(socket->Handshake().authorization));
  } else if (auto q = socket->Handshake().query.find("token"); q != socket->Handshake().query.end()) {
    present = true;
    token = q->second;
  }
  if (!present || token.empty()) {
    auto r = present ? auth::TokenError::kInvalid : auth::TokenError::kMissing;
    if (present && token.empty()) r = auth::TokenError::kMissing;
    Log(spdlog::level::info, "connect refused",
        {{"remote", socket->Handshake().remote_address}, {"code", auth::ToCode(r)}});
    CountConnect(auth::ToCode(r));
    done(Unauthorized(r));
    return;
  }
  auto result = verifier_.Verify(token, UnixSeconds());
  if (result.error != auth::TokenError::kNone) {
    Log(spdlog::level::info, "connect refused",
        {{"remote", socket->Handshake().remote_address},
         {"code", auth::ToCode(result.error)},
         {"detail", result.detail}});
    CountConnect(auth::ToCode(result.error));
    done(Unauthorized(result.error));
    return;
  }
  auto conn = std::make_shared<Connection>(socket, std::move(result.principal));
  const std::size_t loop = loops_.CurrentIndex();
  conn->loop = loop < loops_.Size() ? loop : 0;
  socket->context = conn;
  if (!RecoveryOn()) {
    done(std::nullopt);
    return;
  }
  // A stock client that was here before sends {pid, offset} beside its token.
  std::string pid;
  std::optional<std::int64_t> offset;
  if (const auto* o = auth.if_object()) {
    if (const auto* p = o->if_contains("pid"); p && p->is_string() && p->as_string().size() <= 64)
      pid = std::string(p->as_string());
    if (const auto* off = o->if_contains("offset"); off && off->is_string()) {
      std::int64_t v = 0;
      const auto& t = off->as_string();
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      offset = ec == std::errc() && end == t.data() + t.size() && v >= 0 ? v : -1;  // -1: not one we issued
    }
  }
  if (pid.empty()) {
    StartFresh(*conn, *socket);
    if (!conn->pid.empty()) TrackPid(conn->pid, socket);
    done(std::nullopt);
    return;
  }
  worker_.Submit(
      socket->Executor(), [this, pid, offset, who = conn->Principal()] { return PrepareRecovery(pid, offset, who); },
      [this, socket, conn, pid, done = std::move(done)](std::optional<Recovery> r, const std::string& err) {
        if (r && r->ok) {
          if (auto old = r->takeover.lock(); old && old != socket) {
            boost::asio::dispatch(old->Executor(), [old] {
              if (auto* c = std::any_cast<std::shared_ptr<Connection>>(&old->context); c && *c)
                (*c)->pid.clear();  // its session lives on in the new socket: no save, no delete
              if (old->Connected()) old->Disconnect();
            });
            Log(spdlog::level::info, "session taken over by its client's new connection", {{"sid", r->sid}});
          }
          TrackPid(pid, socket);
          conn->pid = pid;
          conn->sid = r->sid;
          conn->created_pos = r->created_pos;
          conn->joined = std::move(r->joined);
          conn->replay = std::move(r->entries);
          conn->replayed_through = r->through;
          conn->recovering = true;
          socket->SetRecoveryIds(r->sid, pid);
          Log(spdlog::level::debug, "socket recovered",
              {{"sid", r->sid}, {"userId", conn->UserId()}, {"replay", conn->replay.size()}});
        } else {
          if (!err.empty()) spdlog::error("recovery lookup failed: {}", err);
          if (r && !r->why.empty())
            spdlog::info("recovery refused for user {} from {}: {}", conn->UserId(), socket->Handshake().remote_address,
                         r->why);
          StartFresh(*conn, *socket);
          TrackPid(conn->pid, socket);
        }
        done(std::nullopt);
      });
}

void Gateway::TrackPid(const std::string& pid, const std::shared_ptr<socketio::Socket>& socket) {
  std::lock_guard lock(pid_mutex_);
  live_by_pid_[pid] = socket;
}

void Gateway::UntrackPid(const std::string& pid, const socketio::Socket* socket) {
  std::lock_guard lock(pid_mutex_);
  auto it = live_by_pid_.find(pid);
  if (it == live_by_pid_.end()) return;
  auto current = it->second.lock();
  if (!current || current.get() == socket) live_by_pid_.erase(it);
}

void Gateway::StartFresh(Connection& conn, socketio::Socket& socket) {
  conn.pid = RandomId(18);  // 144 random bits, base64url: private to this client
  conn.sid = socket.Id();
  conn.created_pos = head_.load();
  socket.SetRecoveryIds("", conn.pid);
  SaveSession(conn, 0);
}

void Gateway::SaveSession(const Connection& conn, std::int64_t disconnected_ms) {
  json::object subs;
  for (const auto& [order_id, pos] : conn.joined) subs[order_id] = pos;
  QueueSessionWrite(conn.pid, store::SessionRow{conn.pid, conn.sid, conn.UserId(), conn.IsAdmin(), conn.created_pos,
                                                json::serialize(subs), disconnected_ms, ""});
}

void Gateway::DeleteSession(const std::string& pid) {
  QueueSessionWrite(pid, std::nullopt);
}

void Gateway::QueueSessionWrite(std::string pid, std::optional<store::SessionRow> row) {
  bool post = false;
  {
    std::lock_guard lock(session_mutex_);
    session_writes_[std::move(pid)] = std::move(row);
    post = !session_drain_posted_;
    session_drain_posted_ = true;
  }
  // The store thread runs its work in order: a recovery looked up after this write was queued
  // runs after this drain and sees it.
  if (post) worker_.Post([self = shared_from_this()] { self->DrainSessionWrites(); });
}

void Gateway::DrainSessionWrites() {
  std::vector<store::EventLog::SessionWrite> writes;
  {
    std::lock_guard lock(session_mutex_);
    session_drain_posted_ = false;
    writes.reserve(session_writes_.size());
    for (auto& [pid, row] : session_writes_) writes.push_back({pid, std::move(row)});
    session_writes_.clear();
  }
  try {
    log_->WriteSessions(writes);
  } catch (const std::exception& e) {
    spdlog::error("{} recovery session writes failed: {}", writes.size(), e.what());
  }
}

// On the store thread. Decides whether `pid` may be recovered by `who` and collects what it missed.
Gateway::Recovery Gateway::PrepareRecovery(const std::string& pid, std::optional<std::int64_t> offset,
                                           const auth::Principal& who) {
  Recovery r;
  auto session = log_->LoadSession(pid);
  const std::int64_t now = UnixMillis();
  if (!session) return r.why = "unknown or expired session", r;
  // "Connected": the server has not noticed yet that the client's transport died (a cut long poll,
  // a lost connection, a node between them that restarted), or the node that held it died. The
  // pid is the client's secret and the token the same user's: this is that client, come back. A
  // socket of this node still holding the session is taken over (closed) and the session recovered.
  if (session->disconnected_ms == 0) {
    std::lock_guard lock(pid_mutex_);
    if (auto it = live_by_pid_.find(pid); it != live_by_pid_.end()) r.takeover = it->second;
  }
  // (A dead node's sessions are deleted once it has been silent for the window: PruneSessions.)
  if (session->disconnected_ms != 0 && now - session->disconnected_ms > limits_.recovery_window.count())
    return r.why = "recovery window over", r;
  if (session->user_id != who.user_id) return r.why = "the session belongs to another user", r;
  const auto bounds = log_->LogBounds();
  if (offset && (*offset < 0 || *offset > bounds.head)) return r.why = "an offset the server never issued", r;
  // An offset from before this session (the stock client keeps the last one it saw, even across a
  // failed recovery) counts as none: the session replays from its own start.
  const std::int64_t from = offset && *offset >= session->created_pos ? *offset : session->created_pos;
  if (from < bounds.pruned_through) return r.why = "the offset is older than the log keeps", r;
  // Subscriptions come back only for orders the user still owns (admins see every order anyway).
  if (const auto subs = json::parse(session->subscriptions_json); subs.is_object()) {
    for (const auto& [order_id, pos] : subs.as_object()) {
      if (!pos.is_int64()) continue;
      const std::string id(order_id);
      const auto order = store_.GetOrder(id);
      if (who.admin || (order && order->user_id == who.user_id)) r.joined[id] = pos.as_int64();
    }
  }
  std::optional<std::vector<std::string>> filter;
  if (!who.admin) {
    filter.emplace();
    for (const auto& [id, pos] : r.joined) filter->push_back(id);
  }
  auto entries = log_->ReadLog(from, filter, limits_.max_replay_events + 1);
  if (static_cast<std::int64_t>(entries.size()) > limits_.max_replay_events)
    return r.why = "more missed events than one recovery replays", r;
  r.through = entries.empty() ? from : entries.back().pos;
  r.entries = std::move(entries);  // filtered per socket by Replay
  session->disconnected_ms = 0;    // connected again: a second CONNECT with this pid recovers nothing
  log_->SaveSession(*session);
  r.ok = true;
  r.sid = session->sid;
  r.created_pos = session->created_pos;
  return r;
}

// The token's lifetime on a live socket (docs/protocol.md): `auth:expiring {expiresAt}` when half
// the remaining lifetime or 60 s are left (whichever is later), then at exp `auth:expired` and a
// server disconnect — unless `auth:refresh` brought a newer token meanwhile.
void Gateway::ScheduleExpiry(const std::shared_ptr<socketio::Socket>& socket, Connection& conn) {
  const std::int64_t exp = conn.Principal().expires_at;
  if (exp == 0) {
    if (conn.expiry) conn.expiry->cancel();
    return;
  }
  if (!conn.expiry) conn.expiry = std::make_unique<boost::asio::steady_timer>(socket->Executor());
  const auto now = std::chrono::system_clock::now();
  const auto at_exp = std::chrono::system_clock::time_point(std::chrono::seconds(exp));
  const auto left = at_exp - now;
  const auto warn_at = std::max(at_exp - std::chrono::seconds(60), now + left / 2);
  const bool warned = left <= std::chrono::seconds(0) || warn_at <= now;
  conn.expiry->expires_after(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>((warned ? at_exp : warn_at) - now));
  conn.expiry->async_wait(
      [this, weak = std::weak_ptr<socketio::Socket>(socket), exp, warned](boost::system::error_code ec) {
        if (ec) return;
        auto s = weak.lock();
        if (!s || !s->Connected()) return;
        auto c = std::any_cast<std::shared_ptr<Connection>>(s->context);
        if (c->Principal().expires_at != exp) return;  // refreshed meanwhile: a newer schedule runs
        const std::string at = IsoTimestamp(std::chrono::system_clock::time_point(std::chrono::seconds(exp)));
        if (!warned) {
          s->Emit("auth:expiring", json::array{json::object{{"expiresAt", at}}});
          // Phase two: the same schedule, now past its warning.
          c->expiry->expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
              std::chrono::system_clock::time_point(std::chrono::seconds(exp)) - std::chrono::system_clock::now()));
          c->expiry->async_wait([this, weak](boost::system::error_code e2) {
            if (e2) return;
            if (auto s2 = weak.lock()) ExpireNow(s2);
          });
          return;
        }
        ExpireNow(s);
      });
}

void Gateway::ExpireNow(const std::shared_ptr<socketio::Socket>& socket) {
  if (!socket->Connected()) return;
  auto conn = std::any_cast<std::shared_ptr<Connection>>(socket->context);
  if (conn->Principal().expires_at == 0 || conn->Principal().expires_at > UnixSeconds()) {
    ScheduleExpiry(socket, *conn);  // refreshed in time
    return;
  }
  Log(spdlog::level::info, "token expired, disconnecting", {{"sid", socket->Id()}, {"userId", conn->UserId()}});
  socket->Emit("auth:expired", json::array{json::object{{"code", "token_expired"}}});
  socket->Disconnect();
}

void Gateway::HandleRefresh(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev) {
  auto conn = std::any_cast<std::shared_ptr<Connection>>(socket->context);
  const auto* o = ev.args.empty() ? nullptr : ev.args[0].if_object();
  const auto* t = o ? o->if_contains("token") : nullptr;
  if (!t || !t->is_string()) return MaybeAck(socket, ev, AckError(errc::invalid_argument));
  auto result = verifier_.Verify(t->as_string(), UnixSeconds());
  if (result.error != auth::TokenError::kNone) {
    spdlog::info("socket {}: token refresh refused: {} ({})", socket->Id(), auth::ToCode(result.error), result.detail);
    return MaybeAck(socket, ev, json::object{{"ok", false}, {"error", auth::ToCode(result.error)}});
  }
  // Same user, same standing: a refresh never turns a socket into someone else's or an admin's.
  if (result.principal.user_id != conn->UserId() || result.principal.admin != conn->IsAdmin()) {
    spdlog::warn("socket {}: token refresh for user {} refused: the token is {}'s{}", socket->Id(), conn->UserId(),
                 result.principal.user_id, result.principal.admin != conn->IsAdmin() ? " with another role" : "");
    return MaybeAck(socket, ev, AckError(errc::forbidden));
  }
  const std::int64_t exp = result.principal.expires_at;
  conn->Refreshed(std::move(result.principal));
  ScheduleExpiry(socket, *conn);
  MaybeAck(
      socket, ev,
      json::object{{"ok", true},
                   {"expiresAt",
                    exp ? json::value(IsoTimestamp(std::chrono::system_clock::time_point(std::chrono::seconds(exp))))
                        : json::value(nullptr)}});
}

void Gateway::OnConnected(const std::shared_ptr<socketio::Socket>& socket) {
  auto conn = std::any_cast<std::shared_ptr<Connection>>(socket->context);
  ScheduleExpiry(socket, *conn);
  ShardFor(*conn).Add(conn.get());
  if (conn->IsAdmin()) admins_per_shard_[conn->loop].fetch_add(1);
  conn->registered = true;
  static auto& fresh = metrics::M().handshakes.Add({{"layer", "socketio"}, {"result", "ok"}});
  static auto& recovered = metrics::M().handshakes.Add({{"layer", "socketio"}, {"result", "recovered"}});
  (conn->recovering ? recovered : fresh).Increment();
  Log(spdlog::level::debug, "socket connected",
      {{"sid", socket->Id()}, {"userId", conn->UserId()}, {"role", conn->IsAdmin() ? "admin" : "user"}});
  if (!conn->recovering) return;
  // Recovered: subscriptions first (live events are held meanwhile), then the replay, then a
  // catch-up read for what was committed since the replay was read, then the held live events.
  for (const auto& [order_id, pos] : conn->joined) {
    if (ShardFor(*conn).Subscribe(conn.get(), order_id, limits_.max_subscriptions_per_socket) ==
        Shard::SubscribeResult::kOk)
      Track(order_id, conn->loop, +1);
  }
  Replay(socket, conn, std::move(conn->replay));
  conn->replay.clear();
  std::optional<std::vector<std::string>> filter;
  if (!conn->IsAdmin()) {
    filter.emplace();
    for (const auto& [id, pos] : conn->joined) filter->push_back(id);
  }
  worker_.Submit(
      socket->Executor(),
      [this, after = conn->replayed_through, filter] {
        return log_->ReadLog(after, filter, limits_.max_replay_events);
      },
      [this, socket, conn](std::optional<std::vector<store::LogEntry>> entries, const std::string& err) {
        if (!err.empty()) spdlog::error("recovery catch-up read failed: {}", err);
        if (entries) Replay(socket, conn, std::move(*entries));
        FinishReplay(socket, conn);
      });
}

// Sends logged events to a recovering socket, each with its own offset, skipping what it may not
// see (admin-only events for users, orders it did not subscribe to before the event).
void Gateway::Replay(const std::shared_ptr<socketio::Socket>& socket, const std::shared_ptr<Connection>& conn,
                     std::vector<store::LogEntry> entries) {
  for (const auto& e : entries) {
    conn->replayed_through = std::max(conn->replayed_through, e.pos);
    if (!conn->IsAdmin()) {
      const auto it = conn->joined.find(e.order_id);
      if (e.audience != static_cast<int>(Audience::kOrderAndAdmins) || it == conn->joined.end() || e.pos <= it->second)
        continue;
    }
    const bool owner = !e.owner_id.empty() && e.owner_id == conn->UserId();
    if (socket->Connected())
      socket->SendEncoded(
          std::make_shared<const std::string>(EncodeEventMessage(e.event, owner ? e.owner_payload : e.payload, e.pos)));
  }
}

void Gateway::FinishReplay(const std::shared_ptr<socketio::Socket>& socket, const std::shared_ptr<Connection>& conn) {
  conn->recovering = false;
  auto held = std::move(conn->held);
  conn->held.clear();
  for (const auto& [pos, frame] : held) {
    if (pos != 0 && pos <= conn->replayed_through) continue;  // replayed already
    if (socket->Connected()) socket->SendEncoded(frame);
  }
}

void Gateway::OnDisconnect(const std::shared_ptr<socketio::Socket>& socket, std::string_view reason) {
  auto* holder = std::any_cast<std::shared_ptr<Connection>>(&socket->context);
  if (!holder || !*holder) return;
  auto conn = *holder;
  if (conn->expiry) conn->expiry->cancel();
  if (conn->registered) {
    for (const auto& order_id : ShardFor(*conn).Remove(conn.get())) Track(order_id, conn->loop, -1);
    if (conn->IsAdmin()) admins_per_shard_[conn->loop].fetch_sub(1);
  }
  conn->registered = false;
  if (!conn->pid.empty()) UntrackPid(conn->pid, socket.get());
  Log(spdlog::level::debug, "socket disconnected",
      {{"sid", socket->Id()}, {"userId", conn->UserId()}, {"reason", reason}});
  if (conn->pid.empty()) return;
  // As socket.io: a lost transport, a ping timeout or a server shutdown may be recovered; a
  // client's own disconnect() or a server-side disconnect may not.
  const bool recoverable = reason == "transport close" || reason == "transport error" || reason == "ping timeout" ||
                           reason == "server shutting down" || reason == "forced close";
  if (recoverable) {
    SaveSession(*conn, UnixMillis());
  } else {
    DeleteSession(conn->pid);
  }
}

void Gateway::OnEvent(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev) {
  auto& conn = *std::any_cast<std::shared_ptr<Connection>>(socket->context);
  if (!conn.TakeEventToken(limits_, std::chrono::steady_clock::now())) {
    static auto& limited = metrics::M().rate_limited.Add({{"kind", "socket_event"}});
    limited.Increment();
    MaybeAck(socket, ev, AckError(errc::rate_limited));
    if (conn.RefusedRecently() > static_cast<std::size_t>(std::max(1.0, limits_.socket_event_burst))) {
      Log(spdlog::level::warn, "socket disconnected: client events over the rate limit",
          {{"sid", socket->Id()}, {"userId", conn.UserId()}, {"remote", socket->Handshake().remote_address}});
      metrics::M().rate_limit_disconnects.Increment();
      socket->Emit("limit:exceeded",
                   json::array{json::object{{"code", "rate_limited"},
                                            {"message", "too many events from this connection; it is closed"}}});
      socket->Disconnect();
    }
    return;
  }
  if (ev.name == "subscribe:order") {
    HandleSubscribe(socket, std::move(ev));
  } else if (ev.name == "unsubscribe:order") {
    HandleUnsubscribe(socket, std::move(ev));
  } else if (ev.name == "admin:get-connections") {
    HandleGetConnections(socket, std::move(ev));
  } else if (ev.name == "auth:refresh") {
    HandleRefresh(socket, std::move(ev));
  } else {
    Log(spdlog::level::debug, "unknown client event ignored",
        {{"sid", socket->Id()}, {"event", ev.name.substr(0, 64)}});
    MaybeAck(socket, ev, AckError(errc::unknown_event));
  }
}

void Gateway::HandleSubscribe(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev) {
  auto conn = std::any_cast<std::shared_ptr<Connection>>(socket->context);
  auto order_id = OrderIdArg(ev, limits_.max_order_id_length);
  if (!order_id) {
    MaybeAck(socket, ev, AckError(errc::invalid_argument));
    return;
  }
  std::optional<std::int64_t> since;
  if (const auto* s = ev.args[0].as_object().if_contains("since"); s && !s->is_null()) {
    if (s->is_int64() && s->as_int64() >= 0) {
      since = s->as_int64();
    } else if (s->is_uint64()) {
      since = static_cast<std::int64_t>(std::min<std::uint64_t>(s->as_uint64(), INT64_MAX));
    } else {
      MaybeAck(socket, ev, AckError(errc::invalid_argument, &*order_id));
      return;
    }
  }
  auto finish = [this, socket, conn, ev = std::move(ev), order_id = *order_id, since](bool allowed) {
    if (!conn->registered) return;  // disconnected meanwhile
    if (!allowed) {
      MaybeAck(socket, ev, AckError(errc::forbidden, &order_id));
      return;
    }
    const auto r = ShardFor(*conn).Subscribe(conn.get(), order_id, limits_.max_subscriptions_per_socket);
    if (r == Shard::SubscribeResult::kLimit) {
      MaybeAck(socket, ev, AckError(errc::too_many_subscriptions, &order_id));
      return;
    }
    if (r == Shard::SubscribeResult::kOk) {
      Track(order_id, conn->loop, +1);
      if (!conn->pid.empty()) {
        conn->joined[order_id] = head_.load();
        SaveSession(*conn, 0);
      }
    }
    if (!snapshots_) {
      MaybeAck(socket, ev, json::object{{"ok", true}, {"orderId", order_id}});
      return;
    }
    // Snapshot-then-tail: the order's live events wait until the ack with the snapshot is out;
    // then only those after the snapshot follow (admins receive every event anyway).
    if (!conn->IsAdmin()) conn->snapshotting.try_emplace(order_id);
    worker_.Submit(
        socket->Executor(),
        [this, who = conn->Principal(), order_id, since] { return snapshots_(who, order_id, since); },
        [this, socket, conn, ev, order_id](std::optional<std::optional<OrderSnapshot>> got, const std::string& err) {
          auto held = std::move(conn->snapshotting[order_id]);
          conn->snapshotting.erase(order_id);
          if (!socket->Connected()) return;
          if (!got || !*got) {
            if (!err.empty()) spdlog::error("order snapshot failed: {}", err);
            MaybeAck(socket, ev, AckError(errc::store_unavailable, &order_id));
            for (const auto& [pos, frame] : held) socket->SendEncoded(frame);
            return;
          }
          const OrderSnapshot& snap = **got;
          MaybeAck(
              socket, ev,
              json::object{{"ok", true},
                           {"orderId", order_id},
                           {"order", snap.order_json.empty() ? json::value(nullptr) : json::parse(snap.order_json)},
                           {"seq", snap.seq}});
          if (auto j = conn->joined.find(order_id); j != conn->joined.end() && j->second < snap.log_head) {
            j->second = snap.log_head;  // a recovery replays this order from after its snapshot
            SaveSession(*conn, 0);
          }
          for (const auto& past : snap.since)  // the timeline after `since`, up to the snapshot
            socket->SendEncoded(std::make_shared<const std::string>(EncodeEventMessage(past.event, past.payload)));
          for (const auto& [pos, frame] : held) {
            if (pos == 0 || pos > snap.log_head) socket->SendEncoded(frame);  // after the snapshot only
          }
        });
  };
  if (conn->IsAdmin()) {
    finish(true);
    return;
  }
  if (auto owner = store_.CachedOwner(*order_id)) {  // known in memory: no hop to the store thread
    finish(*owner == conn->UserId());
    return;
  }
  if (store_.CachedMissing(*order_id)) {  // known not to exist: repeats never reach the store thread
    finish(false);
    return;
  }
  worker_.Submit(
      socket->Executor(), [this, id = *order_id] { return store_.GetOrder(id); },
      [finish = std::move(finish), user = conn->UserId()](std::optional<std::optional<store::OrderRecord>> r,
                                                          const std::string& err) mutable {
        if (!err.empty()) spdlog::error("ownership lookup failed: {}", err);
        finish(r && *r && (**r).user_id == user);
      });
}

void Gateway::HandleUnsubscribe(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev) {
  auto conn = std::any_cast<std::shared_ptr<Connection>>(socket->context);
  auto order_id = OrderIdArg(ev, limits_.max_order_id_length);
  if (!order_id) {
    MaybeAck(socket, ev, AckError(errc::invalid_argument));
    return;
  }
  if (conn->registered && ShardFor(*conn).Unsubscribe(conn.get(), *order_id)) {
    Track(*order_id, conn->loop, -1);
    if (!conn->pid.empty() && conn->joined.erase(*order_id)) SaveSession(*conn, 0);
  }
  MaybeAck(socket, ev, json::object{{"ok", true}, {"orderId", *order_id}});
}

void Gateway::HandleGetConnections(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev) {
  auto conn = std::any_cast<std::shared_ptr<Connection>>(socket->context);
  if (!conn->IsAdmin()) {
    MaybeAck(socket, ev, AckError(errc::forbidden));
    return;
  }
  GatherStats(socket->Executor(), [this, socket, ev = std::move(ev)](GlobalStats stats) {
    if (!socket->Connected()) return;
    json::object payload = stats.ToJson();
    if (decorate_stats_) decorate_stats_(payload);
    socket->Emit("admin:connection-stats", json::array{payload});
    MaybeAck(socket, ev, std::move(payload));
  });
}

namespace {
// An event name's metrics, resolved once: fg_events_published_total and fg_publish_to_write_seconds.
struct EventMetrics {
  metrics::Counter* published;
  metrics::Histogram* latency;
};
const EventMetrics& MetricsOf(std::string_view event) {
  static const auto table = [] {
    std::vector<std::pair<std::string_view, EventMetrics>> t;
    auto& m = metrics::M();
    for (const auto e : events::kAllEvents) {
      const std::string name(events::Name(e));
      t.emplace_back(events::Name(e),
                     EventMetrics{&m.events_published.Add({{"event", name}}),
                                  &m.publish_to_write.Add({{"event", name}}, metrics::Metrics::LatencyBuckets())});
    }
    return t;
  }();
  for (const auto& [name, m] : table)
    if (name == event) return m;
  return table.front().second;  // unreachable: the API and the flow publish the six names only
}
}  // namespace

void Gateway::PublishAll(std::span<const Outgoing> events) {
  if (!cluster_delivery_) DeliverAll(events);
}

void Gateway::DeliverAll(std::span<const Outgoing> events) {
  struct Routed {
    Audience audience;
    std::string order_id;
    net::SharedMessage frame;
    OwnerVariant owner;
    std::int64_t pos;
    metrics::Histogram* latency;
  };
  const auto start = std::chrono::steady_clock::now();
  // Routes one loop's share, then records its deliveries and how long after the publish they left.
  const auto route = [start](Shard& shard, const std::vector<Routed>& routed) {
    std::size_t n = 0;
    for (const auto& r : routed) {
      n += shard.Route(r.audience, r.order_id, r.frame, r.owner, r.pos);
      r.latency->Observe(metrics::SecondsSince(start));
    }
    static auto& deliveries = metrics::M().deliveries;
    deliveries.Increment(static_cast<double>(n));
  };
  std::vector<std::vector<Routed>> per_loop(shards_.size());
  std::string order_id;
  const bool offsets = RecoveryOn();
  for (const auto& e : events) {
    if (e.pos > head_.load(std::memory_order_relaxed)) head_.store(e.pos);
    order_id.assign(e.order_id);
    const auto& em = MetricsOf(e.event);
    em.published->Increment();
    if (spdlog::should_log(spdlog::level::debug))
      Log(spdlog::level::debug, "event published", {{"event", e.event}, {"orderId", e.order_id}, {"pos", e.pos}});
    const auto targets = TargetShards(e.audience, order_id);
    if (targets.empty()) continue;  // nobody may see it
    const auto encoded =
        std::make_shared<const std::string>(EncodeEventMessage(e.event, e.data_json, offsets ? e.pos : 0));
    net::SharedMessage owner_encoded;
    if (!e.owner_data_json.empty())
      owner_encoded =
          std::make_shared<const std::string>(EncodeEventMessage(e.event, e.owner_data_json, offsets ? e.pos : 0));
    for (std::size_t k = 0; k < targets.size(); ++k) {
      // The first loop takes the encoded bytes, every other one its own copy.
      OwnerVariant owner;
      if (owner_encoded)
        owner = {std::string(e.owner_id), k == 0 ? owner_encoded : std::make_shared<const std::string>(*owner_encoded)};
      per_loop[targets[k]].push_back(Routed{e.audience, order_id,
                                            k == 0 ? encoded : std::make_shared<const std::string>(*encoded),
                                            std::move(owner), e.pos, em.latency});
    }
  }
  const std::size_t here = loops_.CurrentIndex();
  for (std::size_t i = 0; i < per_loop.size(); ++i) {
    if (per_loop[i].empty()) continue;
    if (i == here) {  // our own loop: no post, no wake-up
      route(*shards_[i], per_loop[i]);
    } else {
      boost::asio::post(loops_.At(i),
                        [route, shard = shards_[i].get(), routed = std::move(per_loop[i])] { route(*shard, routed); });
    }
  }
}

void Gateway::RevokeOrder(const std::string& order_id, const std::string& owner) {
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    boost::asio::post(loops_.At(i), [this, i, order_id, owner] {
      const std::size_t n = shards_[i]->Revoke(order_id, owner);
      if (n == 0) return;
      Track(order_id, i, -static_cast<int>(n));
      Log(spdlog::level::info, "order reassigned: other users' subscriptions dropped",
          {{"orderId", order_id}, {"userId", owner}, {"dropped", n}});
    });
  }
}

void Gateway::GatherStats(boost::asio::any_io_executor exec, std::function<void(GlobalStats)> done) {
  struct Gather {
    std::mutex mutex;
    GlobalStats stats;
    std::size_t remaining;
    boost::asio::any_io_executor exec;
    std::function<void(GlobalStats)> done;
  };
  auto g = std::make_shared<Gather>();
  g->remaining = shards_.size();
  g->exec = std::move(exec);
  g->done = std::move(done);
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    boost::asio::post(loops_.At(i), [g, shard = shards_[i].get()] {
      ShardStats s = shard->Stats();
      std::lock_guard lock(g->mutex);
      g->stats.total += s.total;
      g->stats.admins += s.admins;
      g->stats.users += s.users;
      for (const auto& [id, n] : s.watched) g->stats.watched[id] += n;
      g->stats.subscriptions += s.subscriptions;
      g->stats.queued_bytes += s.queued_bytes;
      for (int a = 0; a < 2; ++a)
        for (int w = 0; w < 2; ++w) g->stats.sockets[a][w] += s.sockets[a][w];
      if (--g->remaining == 0) {
        boost::asio::post(g->exec, [g] { g->done(std::move(g->stats)); });
      }
    });
  }
}

}  // namespace fg::gateway

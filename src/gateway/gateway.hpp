// The fulfillment domain on top of Socket.IO: the /fulfillment namespace handler (JWT at
// CONNECT, subscribe/unsubscribe with ownership checks, admin stats) and the router that
// publishes events to the sockets allowed to see them.
//
// Threading: one Shard per loop (see shard.hpp). A socket registers in the shard of the loop it
// lives on. Publishing encodes the Socket.IO frame once, gives each loop that has recipients its
// own copy (so reference counts are never shared between cores) and posts a batch's events to a
// loop in one handler, in order, so its sockets' writes combine (net/ws_connection.hpp).
// Ownership checks run on the StoreWorker; their answer is posted back to the socket's loop.
#pragma once

#include "auth/jwt.hpp"
#include "common/limits.hpp"
#include "gateway/events.hpp"
#include "gateway/shard.hpp"
#include "net/loops.hpp"
#include "socketio/server.hpp"
#include "store/event_log.hpp"
#include "store/order_store.hpp"
#include "store/store_worker.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace fg::gateway {

struct GlobalStats {
  std::size_t total = 0, admins = 0, users = 0;
  std::map<std::string, std::size_t> watched;
  std::size_t subscriptions = 0, queued_bytes = 0;
  std::size_t sockets[2][2] = {};  // [admin?][websocket?]
  boost::json::object ToJson() const;
};

class Gateway : public socketio::NamespaceHandler, public std::enable_shared_from_this<Gateway> {
 public:
  // `log`: the delivery log and recovery sessions (nullptr, or Limits::recovery_window 0: no
  // connection state recovery).
  Gateway(net::Loops& loops, store::OrderStore& store, store::StoreWorker& worker, auth::JwtVerifier verifier,
          const Limits& limits, store::EventLog* log = nullptr);
  bool RecoveryOn() const { return log_ && limits_.recovery_window.count() > 0; }

  // Snapshot-then-tail (docs/protocol.md): what a subscribe ack carries, read on the store thread
  // in one transaction. `order_json` empty: no record (null in the ack).
  struct OrderSnapshot {
    std::string order_json;
    std::int64_t seq = 0;       // the order's timeline position the snapshot includes
    std::int64_t log_head = 0;  // the delivery-log position it includes
    struct Past {
      std::string event, payload;
    };
    std::vector<Past> since;  // with `since`: the timeline events after it, up to seq
  };
  using SnapshotSource = std::function<std::optional<OrderSnapshot>(
      const auth::Principal& who, const std::string& order_id, std::optional<std::int64_t> since)>;
  // Without a source, subscribe acks are {ok, orderId} only.
  void SetSnapshotSource(SnapshotSource source) { snapshots_ = std::move(source); }

  // NamespaceHandler
  void OnConnect(const std::shared_ptr<socketio::Socket>& socket, const boost::json::value& auth,
                 ConnectDone done) override;
  void OnConnected(const std::shared_ptr<socketio::Socket>& socket) override;
  void OnEvent(const std::shared_ptr<socketio::Socket>& socket, socketio::Event event) override;
  void OnDisconnect(const std::shared_ptr<socketio::Socket>& socket, std::string_view reason) override;
  bool AcceptsBinary() const override { return false; }  // /fulfillment has no binary events

  struct Outgoing {
    std::string_view event;
    Audience audience;
    std::string_view order_id;
    std::string_view data_json;
    // When set: the order's owner (`owner_id`) gets this payload instead (e.g. with signed key
    // links); every other recipient gets `data_json`. Each variant is encoded once.
    std::string_view owner_id = {};
    std::string_view owner_data_json = {};
    // Position in the delivery log (sent as the recovery offset; 0: not logged, no offset) and in
    // the order's timeline.
    std::int64_t pos = 0;
    std::int64_t order_seq = 0;
  };
  // Routes events in order, one post per loop for all of them (the batch form of the API). On a
  // cluster node (SetClusterDelivery) it leaves them to the node's sequencer instead: every node,
  // this one too, delivers them from the shared store's commit feed in position order (cluster/node.hpp).
  void PublishAll(std::span<const Outgoing> events);
  // What PublishAll does on a single node: route to this process's sockets now.
  void DeliverAll(std::span<const Outgoing> events);
  void SetClusterDelivery(bool on) { cluster_delivery_ = on; }
  // This node's id among those sharing the store (recovery of a dead node's sessions).
  void SetNodeId(std::string id) { node_id_ = std::move(id); }
  // Adds to admin:get-connections' figures (a cluster node: the cluster's totals and its nodes).
  void SetStatsDecorator(std::function<void(boost::json::object&)> fn) { decorate_stats_ = std::move(fn); }
  // `order_id` now belongs to `owner`: other users' sockets stop receiving it (admins keep it).
  void RevokeOrder(const std::string& order_id, const std::string& owner);
  // Collects stats from every shard; `done` runs on `exec`.
  void GatherStats(boost::asio::any_io_executor exec, std::function<void(GlobalStats)> done);

 private:
  class Connection;
  Shard& ShardFor(const Connection& c);
  void HandleSubscribe(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev);
  void HandleUnsubscribe(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev);
  void HandleGetConnections(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev);
  void HandleRefresh(const std::shared_ptr<socketio::Socket>& socket, socketio::Event ev);
  void ScheduleExpiry(const std::shared_ptr<socketio::Socket>& socket, Connection& conn);
  void ExpireNow(const std::shared_ptr<socketio::Socket>& socket);

  // Connection state recovery (docs/protocol.md).
  struct Recovery;
  Recovery PrepareRecovery(const std::string& pid, std::optional<std::int64_t> offset, const auth::Principal& who);
  void StartFresh(Connection& conn, socketio::Socket& socket);
  void Replay(const std::shared_ptr<socketio::Socket>& socket, const std::shared_ptr<Connection>& conn,
              std::vector<store::LogEntry> entries);
  void FinishReplay(const std::shared_ptr<socketio::Socket>& socket, const std::shared_ptr<Connection>& conn);
  void SaveSession(const Connection& conn, std::int64_t disconnected_ms);
  // Live sockets by their session's pid: a client that comes back while this node still holds its
  // old socket takes that socket's session over.
  void TrackPid(const std::string& pid, const std::shared_ptr<socketio::Socket>& socket);
  void UntrackPid(const std::string& pid, const socketio::Socket* socket);
  void DeleteSession(const std::string& pid);
  // Session writes wait here, the newest per pid, and go to the store in one transaction per
  // drain on the store thread (posted once for however many arrive meanwhile).
  void QueueSessionWrite(std::string pid, std::optional<store::SessionRow> row);
  void DrainSessionWrites();

  // Which shards have an order's subscribers, and which have admins: PublishAll() posts only to the
  // loops that have recipients (a post to an idle loop costs a thread wake-up). Written on
  // subscribe/unsubscribe/disconnect, read on every publish.
  void Track(const std::string& order_id, std::size_t shard, int delta);
  std::vector<std::size_t> TargetShards(Audience audience, const std::string& order_id);

  net::Loops& loops_;
  store::OrderStore& store_;
  store::StoreWorker& worker_;
  auth::JwtVerifier verifier_;
  const Limits& limits_;
  store::EventLog* log_;
  SnapshotSource snapshots_;
  bool cluster_delivery_ = false;
  std::mutex pid_mutex_;
  std::unordered_map<std::string, std::weak_ptr<socketio::Socket>> live_by_pid_;  // under pid_mutex_
  std::string node_id_;
  std::function<void(boost::json::object&)> decorate_stats_;
  std::atomic<std::int64_t> head_{0};           // the newest log position published so far
  std::vector<std::unique_ptr<Shard>> shards_;  // index = loop index
  std::shared_mutex index_mutex_;
  std::unordered_map<std::string, std::vector<std::uint32_t>> order_shards_;  // order → subscribers per shard
  std::unique_ptr<std::atomic<std::uint32_t>[]> admins_per_shard_;
  std::mutex session_mutex_;
  std::unordered_map<std::string, std::optional<store::SessionRow>> session_writes_;  // under session_mutex_
  bool session_drain_posted_ = false;                                                 // under session_mutex_
};

}  // namespace fg::gateway

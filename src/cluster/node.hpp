// One gateway node of a cluster (DATABASE_URL + REDIS_URL): joins the shared store's commit feed,
// Redis and this node's gateway.
//
// Delivery, exactly once per socket cluster-wide: a socket lives on one node, and every node
// delivers every event once, in position order (cluster/sequencer.hpp). A transaction committed
// here is offered to this node's sequencer and published on Redis (channel fg:log) as one batch
// {lo, hi, entries}; every other node offers it to its own. A batch that never arrives shows as a
// gap (a later batch waits, or the store's head is past what was delivered) and is read from the
// store. So Redis down costs latency, not events: each node goes on delivering, and checks the
// store's head every 200 ms until Redis is back.
//
// Ownership: a transaction that created an order or gave it a new owner also names it in its
// batch (and publishes it even when it logged no event); the other nodes forget the order in their
// owner caches and drop other users' subscriptions to it, as the writing node did, and each
// answers on fg:ack:<writer>. PUBLISH says how many subscribers received the batch; the writer's
// WhenOwnerKnown completes once that many have answered (so `PUT /api/v1/orders/:id` answers after
// every listening node forgot the old owner), or after kAckWait (logged and counted). A node that
// is not listening — its subscription is down — caches no owners at all until it listens again
// (OwnerCache::SetEnabled), so it cannot hold an old owner the writer did not wait for.
//
// @socket.io/redis-emitter: every node hears the emitter's channels (socket.io#/fulfillment#…),
// but only the holder of the Redis lease fg:emitter-lease (3 s, renewed every second, let go on
// drain) hands them to the emitter sink, which takes each into the log once for the cluster.
// The lease is trusted only up to 2.5 s after the renewal was sent, so two nodes never both take
// messages; a holder that dies leaves a gap of up to 4 s in which emitted messages are not taken
// (the emitter is fire-and-forget, as with Socket.IO's own adapter).
//
// Figures: each node publishes its admin:get-connections figures every 2 s (fg:stats); a node
// answers with the cluster's totals and one row per node heard from in the last 6 s.
#pragma once

#include "cluster/redis_bus.hpp"
#include "cluster/sequencer.hpp"
#include "cluster/session_router.hpp"
#include "store/pg_store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>

namespace fg::gateway {
class Gateway;
}

namespace fg::cluster {

class ClusterNode {
 public:
  ClusterNode(store::PgStore& store, gateway::Gateway& gateway, RedisAddress redis, std::string node_id,
              boost::asio::any_io_executor exec);
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Called when another node made a job due (its idle workers might be busy): wake ours.
  void SetJobsDue(std::function<void()> fn) { jobs_due_ = std::move(fn); }
  // Sessions across nodes: this node's figures carry its tag and address, and the router learns
  // the other nodes' from theirs. Set before Start.
  void SetRouter(SessionRouter* router, std::string address) {
    router_ = router;
    address_ = std::move(address);
  }
  // `then` runs (on some thread) once every node that received the order's latest owner change
  // from this node has forgotten the old owner; at once when no change of it is pending.
  void WhenOwnerKnown(const std::string& order_id, std::function<void()> then);

  // Messages on the emitter's channels, while this node holds the lease; on the subscriber thread.
  using EmitterSink = std::function<void(const std::string& channel, std::string payload)>;
  void SetEmitterSink(EmitterSink sink) { emitter_sink_ = std::move(sink); }
  bool HoldsEmitterLease() const;
  // Draining: let the lease go now so another node takes the emitter's messages at once
  // (`wait`: until Redis answered, 0.5 s at most — not on an event loop).
  void ReleaseEmitterLease(bool wait = false);

  void Start();  // subscribes, starts the gap filler (which also sends this node's figures)
  void Stop();   // after the event loops have stopped

  const std::string& NodeId() const { return node_id_; }
  const Sequencer& Seq() const { return *sequencer_; }
  const RedisBus& Bus() const { return *bus_; }

 private:
  void OnCommit(store::PgStore::Committed& c);
  void OnMessage(const std::string& channel, std::string payload);
  void Deliver(std::vector<store::LogEntry>& entries);
  void OwnersChanged(const std::vector<std::pair<std::string, std::string>>& owners);
  void FillLoop();
  void FillFromStore();
  void PublishFigures();
  void OnPublished(std::uint64_t ack, long long receivers);
  void OnAck(std::string_view payload);
  void Settle(std::uint64_t ack, const char* outcome);
  void ExpireAcks(std::chrono::steady_clock::time_point now);
  void RenewEmitterLease();
  void Decorate(boost::json::object& payload);

  store::PgStore& store_;
  gateway::Gateway& gateway_;
  const std::string node_id_;
  std::unique_ptr<Sequencer> sequencer_;
  std::unique_ptr<RedisBus> bus_;
  std::function<void()> jobs_due_;
  SessionRouter* router_ = nullptr;
  std::string address_;
  boost::asio::any_io_executor exec_;  // where figures are gathered

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool fill_now_ = false;
  std::thread filler_;
  struct NodeFigures {
    boost::json::object figures;
    std::chrono::steady_clock::time_point at;
  };
  std::map<std::string, NodeFigures> figures_;  // under mutex_: other nodes' latest

  struct PendingAck {
    std::vector<std::string> orders;
    long long expected = -1;  // PUBLISH's count of receivers, once known
    long long acks = 0;
    std::chrono::steady_clock::time_point deadline;
    std::vector<std::function<void()>> waiters;
  };
  std::mutex ack_mutex_;
  std::uint64_t ack_serial_ = 0;                                 // under ack_mutex_
  std::map<std::uint64_t, PendingAck> acks_;                     // under ack_mutex_
  std::unordered_map<std::string, std::uint64_t> ack_by_order_;  // under ack_mutex_: an order's latest
  const std::string ack_channel_;                                // fg:ack:<node id>

  EmitterSink emitter_sink_;
  std::atomic<std::int64_t> lease_until_ms_{0};  // steady clock; 0: not held
  std::atomic<bool> lease_released_{false};
  bool lease_logged_ = false;  // on the publisher thread: the last state logged
};

}  // namespace fg::cluster

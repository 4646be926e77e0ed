#include "cluster/node.hpp"

#include "cluster/batch_codec.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "events/events.hpp"
#include "gateway/gateway.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <future>

namespace fg::cluster {
namespace json = boost::json;

namespace {
constexpr const char* kLogChannel = "fg:log";
constexpr const char* kStatsChannel = "fg:stats";
constexpr auto kGapWait = std::chrono::milliseconds(100);     // a batch waits this long for the ones before it
constexpr auto kHeadCheck = std::chrono::milliseconds(1000);  // the store's head, with Redis up
constexpr auto kHeadCheckDown = std::chrono::milliseconds(200);
constexpr auto kFiguresEvery = std::chrono::seconds(2);
constexpr auto kFiguresKept = std::chrono::seconds(6);
constexpr std::int64_t kFillLimit = 1000;
constexpr auto kAckWait = std::chrono::seconds(2);  // an owner change waits at most this for the other nodes
constexpr std::size_t kMaxNodeId = 128;
constexpr const char* kLeaseKey = "fg:emitter-lease";
constexpr std::int64_t kLeaseMs = 3000;       // the key's time to live
constexpr std::int64_t kLeaseTrustMs = 2500;  // after the renewal was sent
constexpr auto kLeaseEvery = std::chrono::seconds(1);
// Take the lease when free, renew it when ours: 1 when held.
constexpr const char* kLeaseScript =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end "
    "if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end "
    "return 0";
constexpr const char* kReleaseScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

std::int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
std::string EmitterPattern() {
  return "socket.io#" + std::string(events::kNamespace) + "#*";
}
std::string EmitterRequests() {
  return "socket.io-request#" + std::string(events::kNamespace) + "#";
}

prometheus::Counter& OwnerWaits(const char* outcome) {
  return metrics::M().cluster_owner_waits.Add({{"outcome", outcome}});
}

}  // namespace

ClusterNode::ClusterNode(store::PgStore& store, gateway::Gateway& gateway, RedisAddress redis, std::string node_id,
                         boost::asio::any_io_executor exec)
    : store_(store),
      gateway_(gateway),
      node_id_(std::move(node_id)),
      exec_(std::move(exec)),
      ack_channel_(std::string("fg:ack:") + node_id_) {
  // Live delivery starts at the store's head: what came before reaches clients by recovery.
  sequencer_ = std::make_unique<Sequencer>(store_.LogBounds().head,
                                           [this](std::vector<store::LogEntry>& entries) { Deliver(entries); });
  // Until subscribed this node would not hear another node's owner change: nothing cached.
  store_.SetOwnerCacheEnabled(false);
  RedisBus::Subscription sub;
  sub.channels = {kLogChannel, kStatsChannel, ack_channel_, EmitterRequests()};
  sub.patterns = {EmitterPattern()};
  sub.on_message = [this](const std::string& channel, std::string payload) { OnMessage(channel, std::move(payload)); };
  sub.on_connected = [this] {
    store_.SetOwnerCacheEnabled(true);
    // (Re)subscribed: whatever was published while we were away is in the store.
    {
      std::lock_guard lock(mutex_);
      fill_now_ = true;
    }
    wake_.notify_all();
  };
  sub.on_lost = [this] { store_.SetOwnerCacheEnabled(false); };
  bus_ = std::make_unique<RedisBus>(std::move(redis), std::move(sub));
  gateway_.SetClusterDelivery(true);
  gateway_.SetNodeId(node_id_);
  gateway_.SetStatsDecorator([this](json::object& payload) { Decorate(payload); });
  store_.SetCommitFeed([this](store::PgStore::Committed& c) { OnCommit(c); });
}

ClusterNode::~ClusterNode() {
  Stop();
}

void ClusterNode::Start() {
  bus_->Start();
  filler_ = std::thread([this] { FillLoop(); });
}

void ClusterNode::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_all();
  if (filler_.joinable()) filler_.join();
  ReleaseEmitterLease(true);
  bus_->Stop();
}

void ClusterNode::OnCommit(store::PgStore::Committed& c) {
  CommitMessage m{node_id_, Batch{c.lo, c.hi, {}}, std::move(c.owners), c.jobs};
  for (auto& e : c.entries)
    if (e.audience >= 0) m.batch.entries.push_back(std::move(e));  // taken, never delivered: lo..hi covers them
  std::function<void(long long)> on_receivers;
  if (!m.owners.empty()) {
    std::lock_guard lock(ack_mutex_);
    m.ack = ++ack_serial_;
    PendingAck& p = acks_[m.ack];
    p.deadline = std::chrono::steady_clock::now() + kAckWait;
    for (const auto& [order, owner] : m.owners) {
      p.orders.push_back(order);
      ack_by_order_[order] = m.ack;
    }
    on_receivers = [this, ack = m.ack](long long receivers) { OnPublished(ack, receivers); };
  }
  bus_->Publish(kLogChannel, EncodeCommit(m), std::move(on_receivers));
  if (m.batch.lo != 0) sequencer_->Offer(std::move(m.batch));
  // This node's own owner writes: its cache is already right (the store's commit), and the API
  // that reassigned revokes here itself.
}

void ClusterNode::OnMessage(const std::string& channel, std::string payload) {
  if (channel == kStatsChannel) {
    json::error_code ec;
    auto v = json::parse(payload, ec);
    if (ec || !v.is_object()) return;
    auto& o = v.as_object();
    const auto* n = o.if_contains("n");
    const auto* f = o.if_contains("f");
    if (!n || !n->is_string() || !f || !f->is_object() || n->as_string() == node_id_) return;
    const auto* tag = o.if_contains("tag");
    const auto* addr = o.if_contains("addr");
    if (router_ && tag && tag->is_string() && addr && addr->is_string())
      router_->Learn(std::string(tag->as_string()), std::string(addr->as_string()));
    std::lock_guard lock(mutex_);
    figures_[std::string(n->as_string())] = NodeFigures{f->as_object(), std::chrono::steady_clock::now()};
    return;
  }
  if (channel == ack_channel_) {
    OnAck(payload);
    return;
  }
  if (channel.rfind("socket.io", 0) == 0) {  // the emitter's (the only other channels subscribed)
    if (emitter_sink_ && HoldsEmitterLease()) emitter_sink_(channel, std::move(payload));
    return;
  }
  CommitMessage d;
  try {
    d = DecodeCommit(payload);
  } catch (const std::exception& e) {
    // Not fatal: the positions it covered, if any, are filled from the store.
    Log(spdlog::level::warn, "cluster: malformed message ignored", {{"error", e.what()}, {"bytes", payload.size()}});
    return;
  }
  if (d.node != node_id_ && !d.owners.empty()) OwnersChanged(d.owners);
  // Forgotten (our own: the commit updated our cache): say so to the writer, who may be waiting.
  if (d.ack != 0 && !d.node.empty() && d.node.size() <= kMaxNodeId)
    bus_->Publish("fg:ack:" + d.node, std::to_string(d.ack));
  if (d.node == node_id_) return;  // our own, offered at commit
  if (d.jobs && jobs_due_) jobs_due_();
  if (d.batch.lo != 0) sequencer_->Offer(std::move(d.batch));
}

void ClusterNode::OwnersChanged(const std::vector<std::pair<std::string, std::string>>& owners) {
  for (const auto& [order, owner] : owners) {
    store_.ForgetOrder(order);
    gateway_.RevokeOrder(order, owner);
  }
}

void ClusterNode::WhenOwnerKnown(const std::string& order_id, std::function<void()> then) {
  {
    std::lock_guard lock(ack_mutex_);
    if (auto it = ack_by_order_.find(order_id); it != ack_by_order_.end()) {
      acks_[it->second].waiters.push_back(std::move(then));
      return;
    }
  }
  then();
}

void ClusterNode::OnPublished(std::uint64_t ack, long long receivers) {
  {
    std::lock_guard lock(ack_mutex_);
    auto it = acks_.find(ack);
    if (it == acks_.end()) return;
    if (receivers >= 0) {
      it->second.expected = receivers;
      if (it->second.acks < receivers) return;
    }
  }
  // Not published (Redis away): no node heard it, and none that is not subscribed caches owners.
  Settle(ack, receivers < 0 ? "unpublished" : "acknowledged");
}

void ClusterNode::OnAck(std::string_view payload) {
  std::uint64_t ack = 0;
  const auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), ack);
  if (ec != std::errc() || end != payload.data() + payload.size()) return;
  {
    std::lock_guard lock(ack_mutex_);
    auto it = acks_.find(ack);
    if (it == acks_.end()) return;  // settled already (timed out)
    ++it->second.acks;
    if (it->second.expected < 0 || it->second.acks < it->second.expected) return;
  }
  Settle(ack, "acknowledged");
}

void ClusterNode::Settle(std::uint64_t ack, const char* outcome) {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(ack_mutex_);
    auto it = acks_.find(ack);
    if (it == acks_.end()) return;
    waiters = std::move(it->second.waiters);
    for (const auto& order : it->second.orders)
      if (auto o = ack_by_order_.find(order); o != ack_by_order_.end() && o->second == ack) ack_by_order_.erase(o);
    if (std::string_view(outcome) == "timeout")
      Log(spdlog::level::warn, "cluster: an owner change was not acknowledged by every node in time",
          {{"orders", it->second.orders.size()},
           {"receivers", it->second.expected},
           {"acks", it->second.acks},
           {"waitedMs", std::chrono::duration_cast<std::chrono::milliseconds>(kAckWait).count()}});
    acks_.erase(it);
  }
  OwnerWaits(outcome).Increment();
  for (auto& w : waiters) w();
}

bool ClusterNode::HoldsEmitterLease() const {
  return !lease_released_.load() && lease_until_ms_.load() > SteadyMs();
}

void ClusterNode::RenewEmitterLease() {
  if (!emitter_sink_ || lease_released_.load()) return;
  const std::int64_t sent = SteadyMs();
  bus_->Command({"EVAL", kLeaseScript, "1", kLeaseKey, node_id_, std::to_string(kLeaseMs)},
                [this, sent](const redisReply* r) {
                  const bool held = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
                  lease_until_ms_ = held ? sent + kLeaseTrustMs : 0;
                  metrics::M().emitter_lease.Set(held ? 1 : 0);
                  if (held != lease_logged_)
                    Log(spdlog::level::info,
                        held ? "cluster: this node takes the emitter's messages (lease held)"
                             : "cluster: the emitter lease is another node's",
                        {{"lease", kLeaseKey}});
                  lease_logged_ = held;
                });
}

void ClusterNode::ReleaseEmitterLease(bool wait) {
  if (lease_released_.exchange(true) || !emitter_sink_) return;
  lease_until_ms_ = 0;
  metrics::M().emitter_lease.Set(0);
  auto sent = std::make_shared<std::promise<void>>();
  auto done = sent->get_future();
  bus_->Command({"EVAL", kReleaseScript, "1", kLeaseKey, node_id_}, [sent](const redisReply*) { sent->set_value(); });
  // Stopping: briefly, so the command leaves before the bus stops (the other nodes then take over
  // at their next renewal instead of after the key expires). Never on an event loop.
  if (wait) done.wait_for(std::chrono::milliseconds(500));
}

void ClusterNode::ExpireAcks(std::chrono::steady_clock::time_point now) {
  std::vector<std::uint64_t> late;
  {
    std::lock_guard lock(ack_mutex_);
    for (const auto& [ack, p] : acks_)
      if (p.deadline <= now) late.push_back(ack);
  }
  for (auto ack : late) Settle(ack, "timeout");
}

void ClusterNode::Deliver(std::vector<store::LogEntry>& entries) {
  std::vector<gateway::Gateway::Outgoing> out;
  out.reserve(entries.size());
  for (const auto& e : entries)
    out.push_back(gateway::Gateway::Outgoing{e.event, static_cast<gateway::Audience>(e.audience), e.order_id, e.payload,
                                             e.owner_id, e.owner_payload, e.pos, e.order_seq});
  gateway_.DeliverAll(out);
}

void ClusterNode::FillLoop() {
  auto last_check = std::chrono::steady_clock::now();
  auto last_figures = last_check - kFiguresEvery;
  auto last_touch = last_check;
  auto last_lease = last_check - kLeaseEvery;
  bool failing = false;
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(25), [this] { return stop_ || fill_now_; });
    if (stop_) break;
    const auto now = std::chrono::steady_clock::now();
    lock.unlock();
    ExpireAcks(now);
    lock.lock();
    if (router_ && now - last_touch >= std::chrono::seconds(10)) {
      last_touch = now;
      lock.unlock();
      try {
        store_.TouchNode(router_->Tag());
      } catch (const std::exception&) {
        // the store is away: the fill below says so
      }
      lock.lock();
    }
    if (now - last_lease >= kLeaseEvery) {
      last_lease = now;
      RenewEmitterLease();
    }
    if (now - last_figures >= kFiguresEvery) {
      last_figures = now;
      lock.unlock();
      PublishFigures();
      lock.lock();
    }
    const auto every = bus_->Subscribed() ? kHeadCheck : kHeadCheckDown;
    if (!fill_now_ && sequencer_->GapAge(now) < kGapWait && now - last_check < every) continue;
    fill_now_ = false;
    last_check = now;
    lock.unlock();
    try {
      FillFromStore();
      if (failing) Log(spdlog::level::info, "cluster: the store answers again; delivery caught up", {});
      failing = false;
    } catch (const std::exception& e) {
      if (!failing) Log(spdlog::level::warn, "cluster: cannot read the log to fill a gap", {{"error", e.what()}});
      failing = true;
    }
    lock.lock();
  }
}

void ClusterNode::FillFromStore() {
  for (;;) {
    const std::int64_t head = store_.LogBounds().head;  // before the read: the read sees at least this
    const std::int64_t from = sequencer_->Delivered();
    if (head <= from) return;
    auto entries = store_.ReadLog(from, std::nullopt, kFillLimit);
    const bool complete = static_cast<std::int64_t>(entries.size()) < kFillLimit;
    const auto before = sequencer_->Stats().filled_entries;
    Log(spdlog::level::debug, "cluster: gap filled from the store",
        {{"after", from}, {"head", head}, {"entries", entries.size()}});
    sequencer_->Fill(std::move(entries), head, complete);
    metrics::M().cluster_gap_fills.Increment();
    metrics::M().cluster_filled_events.Increment(static_cast<double>(sequencer_->Stats().filled_entries - before));
    if (complete) return;
  }
}

void ClusterNode::PublishFigures() {
  // The answer comes on a loop; once the loops have stopped it never comes (Stop runs after that).
  gateway_.GatherStats(exec_, [this](gateway::GlobalStats stats) {
    json::object f = stats.ToJson();
    f.erase("watchedOrders");  // per node, only counts travel
    f.erase("timestamp");
    json::object msg{{"n", node_id_}, {"f", std::move(f)}};
    if (router_) {
      msg["tag"] = router_->Tag();
      msg["addr"] = address_;
    }
    bus_->Publish(kStatsChannel, json::serialize(msg));
  });
}

void ClusterNode::Decorate(json::object& payload) {
  json::array nodes;
  const auto row = [](const std::string& id, const json::object& f) {
    json::object r{{"nodeId", id}};
    for (const char* k : {"totalConnected", "admins", "users", "ordersBeingWatched"})
      if (const auto* v = f.if_contains(k)) r[k] = *v;
    return r;
  };
  nodes.push_back(row(node_id_, payload));
  std::int64_t total = 0, admins = 0, users = 0;
  const auto add = [&](const json::object& f) {
    const auto num = [&](const char* k) {
      const auto* v = f.if_contains(k);
      return v && v->is_number() ? v->to_number<std::int64_t>() : 0;
    };
    total += num("totalConnected");
    admins += num("admins");
    users += num("users");
  };
  add(payload);
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = figures_.begin(); it != figures_.end();) {
      if (now - it->second.at > kFiguresKept) {
        it = figures_.erase(it);  // a node gone quiet (stopped or dead) drops out
        continue;
      }
      nodes.push_back(row(it->first, it->second.figures));
      add(it->second.figures);
      ++it;
    }
  }
  payload["node"] = json::object{{"nodeId", node_id_},
                                 {"totalConnected", payload["totalConnected"]},
                                 {"admins", payload["admins"]},
                                 {"users", payload["users"]}};
  payload["totalConnected"] = total;
  payload["admins"] = admins;
  payload["adminSubscribersCount"] = admins;
  payload["users"] = users;
  payload["nodes"] = std::move(nodes);
}

}  // namespace fg::cluster

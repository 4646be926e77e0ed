#include "gateway/shard.hpp"

#include <algorithm>

namespace fg::gateway {

void Shard::Add(Subscriber* s) {
  by_socket_.try_emplace(s);
  if (s->IsAdmin()) admins_.insert(s);
  ++users_[s->UserId()];
}

std::vector<std::string> Shard::Remove(Subscriber* s) {
  auto it = by_socket_.find(s);
  if (it == by_socket_.end()) return {};
  std::vector<std::string> orders(it->second.begin(), it->second.end());
  for (const auto& order_id : it->second) {
    auto o = by_order_.find(order_id);
    if (o == by_order_.end()) continue;
    auto& v = o->second;
    v.erase(std::remove(v.begin(), v.end(), s), v.end());
    if (v.empty()) by_order_.erase(o);
  }
  by_socket_.erase(it);
  admins_.erase(s);
  auto u = users_.find(s->UserId());
  if (u != users_.end() && --u->second == 0) users_.erase(u);
  return orders;
}

Shard::SubscribeResult Shard::Subscribe(Subscriber* s, const std::string& order_id, std::size_t max_per_socket) {
  auto& mine = by_socket_[s];
  if (mine.count(order_id)) return SubscribeResult::kAlready;
  if (mine.size() >= max_per_socket) return SubscribeResult::kLimit;
  mine.insert(order_id);
  by_order_[order_id].push_back(s);
  return SubscribeResult::kOk;
}

bool Shard::Unsubscribe(Subscriber* s, const std::string& order_id) {
  auto it = by_socket_.find(s);
  if (it == by_socket_.end() || it->second.erase(order_id) == 0) return false;
  auto o = by_order_.find(order_id);
  if (o != by_order_.end()) {
    auto& v = o->second;
    v.erase(std::remove(v.begin(), v.end(), s), v.end());
    if (v.empty()) by_order_.erase(o);
  }
  return true;
}

std::size_t Shard::Revoke(const std::string& order_id, const std::string& owner) {
  auto o = by_order_.find(order_id);
  if (o == by_order_.end()) return 0;
  auto& subs = o->second;
  const auto keep =
      std::partition(subs.begin(), subs.end(), [&](Subscriber* s) { return s->IsAdmin() || s->UserId() == owner; });
  const auto revoked = static_cast<std::size_t>(subs.end() - keep);
  for (auto it = keep; it != subs.end(); ++it) {
    if (auto mine = by_socket_.find(*it); mine != by_socket_.end()) mine->second.erase(order_id);
  }
  subs.erase(keep, subs.end());
  if (subs.empty()) by_order_.erase(o);
  return revoked;
}

std::size_t Shard::Route(Audience audience, const std::string& order_id, const net::SharedMessage& frame,
                         const OwnerVariant& owner, std::int64_t pos) {
  std::size_t n = 0;
  for (auto* a : admins_) {
    a->Send(frame, pos, order_id);
    ++n;
  }
  if (audience == Audience::kAdminsOnly) return n;
  auto o = by_order_.find(order_id);
  if (o == by_order_.end()) return n;
  for (auto* s : o->second) {
    if (s->IsAdmin()) continue;  // already delivered above: once per socket
    s->Send(owner.frame && s->UserId() == owner.user_id ? owner.frame : frame, pos, order_id);
    ++n;
  }
  return n;
}

ShardStats Shard::Stats() const {
  ShardStats st;
  st.total = by_socket_.size();
  st.admins = admins_.size();
  st.users = st.total - st.admins;
  for (const auto& [order_id, subs] : by_order_) {
    st.watched[order_id] = subs.size();
    st.subscriptions += subs.size();
  }
  for (const auto& [sub, orders] : by_socket_) {
    ++st.sockets[sub->IsAdmin() ? 1 : 0][sub->OnWebSocket() ? 1 : 0];
    st.queued_bytes += sub->QueuedBytes();
  }
  return st;
}

std::size_t Shard::SubscriptionCount(Subscriber* s) const {
  auto it = by_socket_.find(s);
  return it == by_socket_.end() ? 0 : it->second.size();
}

}  // namespace fg::gateway

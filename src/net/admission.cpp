#include "net/admission.hpp"

#include "net/http_connection.hpp"

#include <algorithm>

namespace fg::net {

std::uint64_t Admission::WaitingForRequest(std::weak_ptr<HttpConnection> conn) {
  std::lock_guard lock(waiting_mutex_);
  const std::uint64_t id = next_waiting_++;
  waiting_.emplace_back(id, std::move(conn));
  waiting_index_[id] = std::prev(waiting_.end());
  return id;
}

void Admission::Forget(std::uint64_t id) {
  std::lock_guard lock(waiting_mutex_);
  auto it = waiting_index_.find(id);
  if (it == waiting_index_.end()) return;
  waiting_.erase(it->second);
  waiting_index_.erase(it);
}

bool Admission::EvictOneWaiting() {
  std::shared_ptr<HttpConnection> victim;
  {
    std::lock_guard lock(waiting_mutex_);
    while (!victim && !waiting_.empty()) {
      victim = waiting_.front().second.lock();
      waiting_index_.erase(waiting_.front().first);
      waiting_.pop_front();
    }
  }
  if (!victim) return false;
  victim->Evict();
  return true;
}

std::shared_ptr<void> Admission::AdmitConnection(const std::string& ip) {
  // At the bound, room is made by closing the oldest connection still waiting for its first
  // request (its fd is freed a moment later, on its own loop: the bound sits 256 below the fd limit).
  if (limits_.max_connections && connections_.load(std::memory_order_relaxed) >= limits_.max_connections &&
      !EvictOneWaiting()) {
    return nullptr;
  }
  // Behind a trusted proxy every connection comes from the proxy: the per-address bound is
  // applied to sessions (by the forwarded address) instead.
  const bool per_ip = limits_.max_connections_per_ip && !limits_.trust_proxy;
  if (per_ip) {
    std::lock_guard lock(mutex_);
    auto& n = per_ip_[ip];
    if (n >= limits_.max_connections_per_ip) return nullptr;
    ++n;
  }
  connections_.fetch_add(1, std::memory_order_relaxed);
  class Slot {
   public:
    Slot(std::shared_ptr<Admission> owner, std::string ip, bool per_ip)
        : owner_(std::move(owner)), ip_(std::move(ip)), per_ip_(per_ip) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() {
      owner_->connections_.fetch_sub(1, std::memory_order_relaxed);
      if (per_ip_) owner_->Release(ip_);
    }

   private:
    std::shared_ptr<Admission> owner_;
    std::string ip_;
    bool per_ip_;
  };
  return std::make_shared<Slot>(shared_from_this(), ip, per_ip);
}

void Admission::Release(const std::string& ip) {
  std::lock_guard lock(mutex_);
  auto it = per_ip_.find(ip);
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

bool Admission::NearCapacity() const {
  if (!limits_.max_connections) return false;
  const std::size_t reserve = std::min(limits_.connection_reserve, limits_.max_connections);
  return connections_.load(std::memory_order_relaxed) + reserve >= limits_.max_connections;
}

bool Admission::ReserveBody(std::size_t bytes) {
  std::size_t now = inflight_body_.load(std::memory_order_relaxed);
  do {
    if (now + bytes > limits_.max_inflight_body_bytes) return false;
  } while (!inflight_body_.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed));
  return true;
}

}  // namespace fg::net

// Order id → owner (user id), in memory, for the ownership check of `subscribe:order`: a hit
// answers on the event loop without a hop to the store thread. The store keeps it exact: it is
// filled and updated only by committed transactions of the store that owns it (every write of
// orders.user_id goes through that store), so a cached owner is never older than the database.
// Bounded: at capacity an arbitrary entry is dropped (a miss only costs a store lookup).
// Thread-safe; Get() takes a short lock and never touches the database.
//
// In a cluster another node may change an owner: it says so (Forget), and what a read began
// before that must not be cached after it — every Put carries the Epoch() taken before its read,
// and an entry read in an older epoch is dropped instead of stored. While this node cannot hear
// the others (SetEnabled(false): its Redis subscription is down) nothing is cached at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace fg::store {

class OwnerCache {
 public:
  explicit OwnerCache(std::size_t capacity, std::size_t missing_capacity = 10'000)
      : capacity_(capacity), missing_capacity_(missing_capacity) {}

  // Orders known not to exist (a negative cache, kept exact the same way: an order's creation
  // commits through Put, which forgets it here). Bounded; at capacity an arbitrary entry is dropped.
  std::uint64_t Epoch() const {
    std::lock_guard lock(mutex_);
    return epoch_;
  }
  void SetEnabled(bool enabled) {
    std::lock_guard lock(mutex_);
    enabled_ = enabled;
    ++epoch_;
    owners_.clear();
    missing_.clear();
  }

  bool IsMissing(const std::string& order_id) const {
    std::lock_guard lock(mutex_);
    return missing_.count(order_id) > 0;
  }
  void PutMissing(const std::string& order_id, std::uint64_t epoch) {
    if (missing_capacity_ == 0) return;
    std::lock_guard lock(mutex_);
    if (!enabled_ || epoch != epoch_) return;
    if (missing_.size() >= missing_capacity_) missing_.erase(missing_.begin());
    missing_.insert(order_id);
  }
  std::size_t MissingCount() const {
    std::lock_guard lock(mutex_);
    return missing_.size();
  }

  std::optional<std::string> Get(const std::string& order_id) const {
    std::lock_guard lock(mutex_);
    auto it = owners_.find(order_id);
    if (it == owners_.end()) return std::nullopt;
    return it->second;
  }
  // Neither owner nor "missing" is known any more (another node wrote the order).
  void Forget(const std::string& order_id) {
    std::lock_guard lock(mutex_);
    ++epoch_;
    missing_.erase(order_id);
    owners_.erase(order_id);
  }
  // What a transaction read or wrote, `epoch` taken before it began.
  void Put(const std::string& order_id, const std::string& user_id, std::uint64_t epoch) {
    std::lock_guard lock(mutex_);
    missing_.erase(order_id);
    if (!enabled_ || epoch != epoch_) {
      owners_.erase(order_id);  // maybe stale: never keep an older value either
      return;
    }
    if (capacity_ == 0) return;
    auto it = owners_.find(order_id);
    if (it != owners_.end()) {
      it->second = user_id;
      return;
    }
    if (owners_.size() >= capacity_) owners_.erase(owners_.begin());
    owners_.emplace(order_id, user_id);
  }

 private:
  const std::size_t capacity_;
  const std::size_t missing_capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> owners_;
  std::unordered_set<std::string> missing_;
  std::uint64_t epoch_ = 0;
  bool enabled_ = true;
};

}  // namespace fg::store

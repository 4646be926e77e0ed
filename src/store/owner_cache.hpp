// Order id → owner (user id), in memory, for the ownership check of `subscribe:order`: a hit
// answers on the event loop without a hop to the store thread. The store keeps it exact: it is
// filled and updated only by committed transactions of the store that owns it (every write of
// orders.user_id goes through that store), so a cached owner is never older than the database.
// Bounded: at capacity an arbitrary entry is dropped (a miss only costs a store lookup).
// Thread-safe; Get() takes a short lock and never touches the database.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace fg::store {

class OwnerCache {
 public:
  explicit OwnerCache(std::size_t capacity) : capacity_(capacity) {}

  std::optional<std::string> Get(const std::string& order_id) const {
    std::lock_guard lock(mutex_);
    auto it = owners_.find(order_id);
    if (it == owners_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const std::string& order_id, const std::string& user_id) {
    if (capacity_ == 0) return;
    std::lock_guard lock(mutex_);
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
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> owners_;
};

}  // namespace fg::store

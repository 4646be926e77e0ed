#include "common/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace fg {

bool RateLimiter::Allow(std::string_view key, Clock::time_point now) {
  if (rate_ <= 0) return true;
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.emplace_front(key);
    it = buckets_.emplace(std::string(key), Bucket{{}, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  return it->second.bucket.Take(rate_, burst_, now);
}

long RateLimiter::RetryAfterSeconds() const {
  if (rate_ <= 0) return 1;
  return std::max(1L, static_cast<long>(std::ceil(1.0 / rate_)));
}

std::size_t RateLimiter::Keys() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace fg

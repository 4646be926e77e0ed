// Keyed token buckets: at most `burst` events at once and `rate_per_s` per second sustained, per
// key (a client address, an order id). Bounded: at most `max_keys` keys are tracked; when full, the
// key idle the longest is forgotten (it only loses its history, never gains tokens it did not have
// for long). Thread-safe; a call is a hash lookup under a short lock. rate_per_s == 0 disables it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fg {

// One token bucket: at most `burst` tokens, refilled at `rate_per_s`. Not thread-safe: its owner
// serializes (RateLimiter under its lock; a socket's own bucket on its loop).
struct TokenBucket {
  using Clock = std::chrono::steady_clock;
  double tokens = -1;  // < 0: full (filled at the first Take)
  Clock::time_point last{};
  // Takes one token; false when none is left.
  bool Take(double rate_per_s, double burst, Clock::time_point now) {
    if (tokens < 0) {
      tokens = burst;
    } else {
      const double elapsed = std::chrono::duration<double>(now - last).count();
      tokens = std::min(burst, tokens + (elapsed > 0 ? elapsed : 0) * rate_per_s);
    }
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(double rate_per_s, double burst, std::size_t max_keys = 100'000)
      : rate_(rate_per_s), burst_(burst < 1 ? 1 : burst), max_keys_(max_keys ? max_keys : 1) {}

  bool Enabled() const { return rate_ > 0; }
  // Takes one token for `key`; false when none is left (the caller refuses the request).
  bool Allow(std::string_view key, Clock::time_point now = Clock::now());
  // Seconds until `key` has a token again (at least 1), for Retry-After.
  long RetryAfterSeconds() const;
  std::size_t Keys() const;

 private:
  struct Bucket {
    TokenBucket bucket;
    std::list<std::string>::iterator lru;
  };
  const double rate_;
  const double burst_;
  const std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::list<std::string> lru_;  // most recently used first
};

}  // namespace fg

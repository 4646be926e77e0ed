// Keyed token buckets: at most `burst` events at once and `rate_per_s` per second sustained, per
// key (a client address, an order id). Bounded: at most `max_keys` keys are tracked; when full, the
// key idle the longest is forgotten (it only loses its history, never gains tokens it did not have
// for long). Thread-safe; a call is a hash lookup under a short lock. rate_per_s == 0 disables it.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fg {

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
    double tokens;
    Clock::time_point last;
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

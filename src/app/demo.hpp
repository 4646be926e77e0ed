// Demo mode: users with printed tokens, and a driver that keeps orders flowing through the real
// paths — order creation over the API, signed NOWPayments IPNs posted to the webhook, the job
// queue with the in-process supplier simulator (occasional transient failures and retries, an
// occasional out-of-stock product that fails for good, an occasional expired payment).
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace fg::app {

struct DemoConfig {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string api_key, ipn_secret;
  std::chrono::milliseconds interval{5000};  // one new order per interval
};

class DemoDriver {
 public:
  explicit DemoDriver(DemoConfig config) : config_(std::move(config)) {}
  ~DemoDriver() { Stop(); }
  void Start();
  void Stop();

 private:
  void Run();
  DemoConfig config_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

inline constexpr const char* kDemoUsers[] = {"alice", "bob"};
inline constexpr const char* kDemoAdmin = "admin";

}  // namespace fg::app

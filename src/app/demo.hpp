// Demo mode: users with printed tokens, and a driver that keeps orders flowing through the real
// paths — order creation over the API, signed NOWPayments IPNs posted to the webhook, the job
// queue with the in-process supplier simulator (occasional transient failures and retries, an
// occasional out-of-stock product that fails for good, an occasional expired payment). The
// payments it still owes are kept in the data dir, so after a restart its orders that were
// awaiting payment move on instead of waiting forever.
#pragma once

#include <atomic>
#include "net/http_connection.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <thread>

namespace fg::app {

struct DemoConfig {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string api_key, ipn_secret;
  std::chrono::milliseconds interval{5000};  // one new order per interval
  // The payments it still owes its orders, kept across restarts (empty: not kept).
  std::string state_file;
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

// A week-long demo user token (admin when `role` is "admin").
std::string DemoToken(const std::string& jwt_secret, const std::string& sub, const std::string& role);
// GET /api/v1/demo/users (demo mode only): the sign-in page's users with their tokens.
net::Response DemoUsersResponse(unsigned version, const std::string& jwt_secret);
// Prints the sign-in, order and dashboard links; `interval` when orders are generated.
void PrintDemoLinks(const std::string& base, const std::string& jwt_secret,
                    std::optional<std::chrono::milliseconds> interval);
inline constexpr const char* kDemoAdmin = "admin";

}  // namespace fg::app

// The supplier simulator: a Kinguin-style supplier API as an HTTP server — a test double for the
// fulfillment flow (subcommand `supplier-sim`, and in-process in the demo and tests). Not part of
// the domain: only the app wires it. Products whose id starts with "oos-" are permanently out of
// stock; injected failures (half of them after the work was done) exercise idempotent retries.
#pragma once

#include "fulfillment/supplier.hpp"
#include "net/http_connection.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace fg::supplier_sim {

using fulfillment::SupplierKey;

struct SimOptions {
  std::chrono::milliseconds latency{50};
  double failure_rate = 0.0;     // share of requests answered 503 (half of them after doing the work)
  std::uint64_t fail_first = 0;  // the first N order/key requests answer 503 (deterministic tests)
  std::string api_key;           // empty: no check
  std::uint64_t seed = 0;        // 0: random
};

class SupplierSim : public net::HttpHandler {
 public:
  explicit SupplierSim(SimOptions options);
  void OnRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) override;
  void OnUpgrade(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) override;
  net::Response OnBodyTooLarge(const net::http::request_parser<net::http::string_body>::value_type& header) override;

  std::uint64_t Purchases() const { return purchases_; }

 private:
  net::Response Handle(const net::Request& req, bool& fail_after);
  SimOptions options_;
  std::mutex mutex_;
  std::mt19937_64 rng_;
  std::map<std::string, std::string> by_external_;               // external id → ref
  std::map<std::string, std::vector<SupplierKey>> keys_by_ref_;  // ref → keys
  std::atomic<std::uint64_t> scripted_failures_{0};
  std::atomic<std::uint64_t> purchases_{0}, keys_issued_{0}, requests_{0}, injected_failures_{0};
};

}  // namespace fg::supplier_sim

// The supplier: a Kinguin-style HTTP API that sells product keys.
//   POST /api/v1/order            {"products":[{"productId","qty"}], "orderExternalId"} → {"orderId"}
//                                 (idempotent per orderExternalId: the same id never buys twice)
//   GET  /api/v2/order/{id}/keys  → [{"productId","serial","type"}]
// Auth: X-Api-Key. 5xx, 408, 429, timeouts and connection errors are transient; other 4xx
// (out of stock, bad request) are permanent.
#pragma once

#include "common/limits.hpp"
#include "net/http_connection.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace fg::fulfillment {

struct SupplierLine {
  std::string product_id;
  std::int64_t qty = 1;
};
struct SupplierKey {
  std::string product_id, serial, type;
};

class SupplierError : public std::runtime_error {
 public:
  SupplierError(bool transient, std::string code, const std::string& message)
      : std::runtime_error(message), transient_(transient), code_(std::move(code)) {}
  bool Transient() const { return transient_; }
  const std::string& Code() const { return code_; }

 private:
  bool transient_;
  std::string code_;
};

class Supplier {
 public:
  virtual ~Supplier() = default;
  // Returns the supplier's order reference. Throws SupplierError.
  virtual std::string PlaceOrder(const std::string& external_id, const std::vector<SupplierLine>& lines) = 0;
  virtual std::vector<SupplierKey> GetKeys(const std::string& supplier_ref) = 0;
};

// Blocking client (runs on job-worker threads, never on an event loop), with a per-request timeout.
class HttpSupplier : public Supplier {
 public:
  // `base_url`: http://host:port[/prefix]; throws std::invalid_argument otherwise.
  HttpSupplier(const std::string& base_url, std::string api_key, std::chrono::milliseconds timeout);
  std::string PlaceOrder(const std::string& external_id, const std::vector<SupplierLine>& lines) override;
  std::vector<SupplierKey> GetKeys(const std::string& supplier_ref) override;

 private:
  std::pair<int, std::string> Call(net::http::verb verb, const std::string& target, const std::string& body);
  std::string host_, port_, prefix_, api_key_;
  std::chrono::milliseconds timeout_;
};

struct SimOptions {
  std::chrono::milliseconds latency{20};
  double failure_rate = 0.0;  // share of requests answered 503 (half of them after doing the work)
  std::uint64_t fail_first = 0;  // the first N order/key requests answer 503 (deterministic tests)
  std::string api_key;        // empty: no check
  std::uint64_t seed = 0;     // 0: random
};

// The supplier simulator (subcommand `supplier-sim`, and in-process in the demo and tests).
// Products whose id starts with "oos-" are permanently out of stock.
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
  std::map<std::string, std::string> by_external_;                 // external id → ref
  std::map<std::string, std::vector<SupplierKey>> keys_by_ref_;     // ref → keys
  std::atomic<std::uint64_t> scripted_failures_{0};
  std::atomic<std::uint64_t> purchases_{0}, keys_issued_{0}, requests_{0}, injected_failures_{0};
};

}  // namespace fg::fulfillment

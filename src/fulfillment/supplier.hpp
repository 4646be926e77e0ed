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

}  // namespace fg::fulfillment

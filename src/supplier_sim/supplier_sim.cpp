#include "supplier_sim/supplier_sim.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include "common/encoding.hpp"
#include "net/http_client.hpp"

namespace fg::supplier_sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

SupplierSim::SupplierSim(SimOptions options)
    : options_(std::move(options)), rng_(options_.seed ? options_.seed : std::random_device{}()) {}

net::Response SupplierSim::OnBodyTooLarge(const net::http::request_parser<net::http::string_body>::value_type& header) {
  net::Response res{http::status::payload_too_large, header.version()};
  res.set(http::field::content_type, "application/json");
  res.body() = R"({"code":"too_large"})";
  return res;
}

void SupplierSim::OnUpgrade(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) {
  net::Response res{http::status::bad_request, req.version()};
  conn->RespondAndClose(std::move(res));
}

void SupplierSim::OnRequest(const std::shared_ptr<net::HttpConnection>& conn, net::Request req) {
  bool fail_after = false;
  auto res = std::make_shared<net::Response>(Handle(req, fail_after));
  if (fail_after) {  // the work was done, but the answer is "lost": the client must retry idempotently
    res->result(http::status::service_unavailable);
    res->body() = R"({"code":"unavailable","message":"simulated failure after processing"})";
  }
  auto timer = std::make_shared<asio::steady_timer>(conn->Executor(), options_.latency);
  timer->async_wait([conn, res, timer](boost::system::error_code) { conn->Respond(std::move(*res)); });
}

net::Response SupplierSim::Handle(const net::Request& req, bool& fail_after) {
  requests_++;
  net::Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/json");
  auto reply = [&](http::status s, const json::value& body) {
    res.result(s);
    res.body() = json::serialize(body);
    return res;
  };
  const std::string target(req.target());
  if (target == "/api/v1/stats" && req.method() == http::verb::get) {
    return reply(http::status::ok, json::object{{"purchases", purchases_.load()},
                                                {"keysIssued", keys_issued_.load()},
                                                {"requests", requests_.load()},
                                                {"injectedFailures", injected_failures_.load()}});
  }
  if (!options_.api_key.empty() && !ConstantTimeEquals(req["X-Api-Key"], options_.api_key)) {
    return reply(http::status::unauthorized, json::object{{"code", "unauthorized"}});
  }
  double roll;
  {
    std::lock_guard lock(mutex_);
    roll = std::uniform_real_distribution<double>(0, 1)(rng_);
  }
  if (scripted_failures_.fetch_add(1) < options_.fail_first || roll < options_.failure_rate / 2) {
    injected_failures_++;
    return reply(http::status::service_unavailable,
                 json::object{{"code", "unavailable"}, {"message", "simulated failure"}});
  }
  if (roll < options_.failure_rate) {
    injected_failures_++;
    fail_after = true;
  }
  if (target == "/api/v1/order" && req.method() == http::verb::post) {
    boost::system::error_code ec;
    auto v = json::parse(req.body(), ec);
    const auto* o = ec ? nullptr : v.if_object();
    const auto* ext = o ? o->if_contains("orderExternalId") : nullptr;
    const auto* products = o ? o->if_contains("products") : nullptr;
    if (!ext || !ext->is_string() || !products || !products->is_array() || products->as_array().empty()) {
      return reply(http::status::bad_request, json::object{{"code", "bad_request"}});
    }
    std::vector<SupplierKey> keys;
    for (const auto& p : products->as_array()) {
      const auto* po = p.if_object();
      const auto* pid = po ? po->if_contains("productId") : nullptr;
      const auto* qty = po ? po->if_contains("qty") : nullptr;
      if (!pid || !pid->is_string() || !qty || !qty->is_int64() || qty->as_int64() < 1 || qty->as_int64() > 100) {
        return reply(http::status::bad_request, json::object{{"code", "bad_request"}});
      }
      const std::string product(pid->as_string());
      if (product.rfind("oos-", 0) == 0) {
        fail_after = false;
        return reply(http::status::conflict,
                     json::object{{"code", "out_of_stock"}, {"message", product + " is out of stock"}});
      }
      for (std::int64_t i = 0; i < qty->as_int64(); ++i) {
        std::string serial = HexEncode(RandomId(9)).substr(0, 15);
        for (auto& c : serial) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        keys.push_back(SupplierKey{
            product, serial.substr(0, 5) + "-" + serial.substr(5, 5) + "-" + serial.substr(10, 5), "text/plain"});
      }
    }
    std::lock_guard lock(mutex_);
    const std::string external(ext->as_string());
    auto it = by_external_.find(external);
    if (it != by_external_.end())
      return reply(http::status::ok, json::object{{"orderId", it->second}, {"status", "completed"}});
    const std::string ref = "KG-" + RandomId(9);
    by_external_[external] = ref;
    keys_issued_ += keys.size();
    keys_by_ref_[ref] = std::move(keys);
    purchases_++;
    return reply(http::status::created, json::object{{"orderId", ref}, {"status", "completed"}});
  }
  constexpr std::string_view kKeys = "/api/v2/order/";
  if (target.rfind(kKeys, 0) == 0 && target.size() > kKeys.size() + 5 && target.substr(target.size() - 5) == "/keys" &&
      req.method() == http::verb::get) {
    const std::string ref = target.substr(kKeys.size(), target.size() - kKeys.size() - 5);
    std::lock_guard lock(mutex_);
    auto it = keys_by_ref_.find(ref);
    if (it == keys_by_ref_.end()) return reply(http::status::not_found, json::object{{"code", "not_found"}});
    json::array arr;
    for (const auto& k : it->second)
      arr.push_back(json::object{{"productId", k.product_id}, {"serial", k.serial}, {"type", k.type}});
    return reply(http::status::ok, arr);
  }
  fail_after = false;
  return reply(http::status::not_found, json::object{{"code", "not_found"}});
}

}  // namespace fg::supplier_sim

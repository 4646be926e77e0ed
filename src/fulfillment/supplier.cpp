#include "fulfillment/supplier.hpp"

#include "common/encoding.hpp"
#include "net/http_client.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

namespace fg::fulfillment {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

HttpSupplier::HttpSupplier(const std::string& base_url, std::string api_key, std::chrono::milliseconds timeout)
    : api_key_(std::move(api_key)), timeout_(timeout) {
  constexpr std::string_view kScheme = "http://";
  if (base_url.rfind(kScheme, 0) != 0) throw std::invalid_argument("SUPPLIER_URL must start with http://");
  std::string rest = base_url.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  prefix_ = slash == std::string::npos ? "" : rest.substr(slash);
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  const auto colon = hostport.rfind(':');
  host_ = colon == std::string::npos ? hostport : hostport.substr(0, colon);
  port_ = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  if (host_.empty()) throw std::invalid_argument("SUPPLIER_URL has no host");
}

std::pair<int, std::string> HttpSupplier::Call(http::verb verb, const std::string& target, const std::string& body) {
  try {
    auto r = net::HttpRequest(host_, port_, verb, prefix_ + target, body,
                              {{"X-Api-Key", api_key_}, {"Content-Type", "application/json"}}, timeout_);
    return {r.status, std::move(r.body)};
  } catch (const boost::system::system_error& e) {
    throw SupplierError(true, e.code() == beast::error::timeout ? "timeout" : "network",
                        "supplier " + std::string(http::to_string(verb)) + " " + target + ": " + e.code().message());
  }
}

namespace {
void ThrowForStatus(int status, const std::string& body, const std::string& what) {
  if (status >= 200 && status < 300) return;
  std::string code = "http_" + std::to_string(status);
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (const auto* c = v.as_object().if_contains("code"); c && c->is_string()) code = std::string(c->as_string());
  }
  const bool transient = status >= 500 || status == 408 || status == 429;
  throw SupplierError(transient, code, what + ": supplier answered " + std::to_string(status) + " (" + code + ")");
}
}  // namespace

std::string HttpSupplier::PlaceOrder(const std::string& external_id, const std::vector<SupplierLine>& lines) {
  json::array products;
  for (const auto& l : lines) products.push_back(json::object{{"productId", l.product_id}, {"qty", l.qty}});
  const auto [status, body] = Call(http::verb::post, "/api/v1/order",
                                   json::serialize(json::object{{"products", products}, {"orderExternalId", external_id}}));
  ThrowForStatus(status, body, "place order");
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  const json::value* id = (!ec && v.is_object()) ? v.as_object().if_contains("orderId") : nullptr;
  if (!id || !id->is_string() || id->as_string().empty()) throw SupplierError(true, "bad_response", "supplier order response without orderId");
  return std::string(id->as_string());
}

std::vector<SupplierKey> HttpSupplier::GetKeys(const std::string& supplier_ref) {
  const auto [status, body] = Call(http::verb::get, "/api/v2/order/" + supplier_ref + "/keys", "");
  ThrowForStatus(status, body, "get keys");
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_array()) throw SupplierError(true, "bad_response", "supplier keys response is not an array");
  std::vector<SupplierKey> out;
  for (const auto& k : v.as_array()) {
    const auto* o = k.if_object();
    if (!o) continue;
    const auto* p = o->if_contains("productId");
    const auto* s = o->if_contains("serial");
    const auto* t = o->if_contains("type");
    if (!p || !p->is_string() || !s || !s->is_string()) continue;
    out.push_back(SupplierKey{std::string(p->as_string()), std::string(s->as_string()),
                              t && t->is_string() ? std::string(t->as_string()) : "text/plain"});
  }
  return out;
}

// ---- simulator ----

SupplierSim::SupplierSim(SimOptions options) : options_(std::move(options)), rng_(options_.seed ? options_.seed : std::random_device{}()) {}

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
    return reply(http::status::ok, json::object{{"purchases", purchases_.load()}, {"keysIssued", keys_issued_.load()},
                                                {"requests", requests_.load()}, {"injectedFailures", injected_failures_.load()}});
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
    return reply(http::status::service_unavailable, json::object{{"code", "unavailable"}, {"message", "simulated failure"}});
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
        return reply(http::status::conflict, json::object{{"code", "out_of_stock"}, {"message", product + " is out of stock"}});
      }
      for (std::int64_t i = 0; i < qty->as_int64(); ++i) {
        std::string serial = HexEncode(RandomId(9)).substr(0, 15);
        for (auto& c : serial) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        keys.push_back(SupplierKey{product, serial.substr(0, 5) + "-" + serial.substr(5, 5) + "-" + serial.substr(10, 5), "text/plain"});
      }
    }
    std::lock_guard lock(mutex_);
    const std::string external(ext->as_string());
    auto it = by_external_.find(external);
    if (it != by_external_.end()) return reply(http::status::ok, json::object{{"orderId", it->second}, {"status", "completed"}});
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
    for (const auto& k : it->second) arr.push_back(json::object{{"productId", k.product_id}, {"serial", k.serial}, {"type", k.type}});
    return reply(http::status::ok, arr);
  }
  fail_after = false;
  return reply(http::status::not_found, json::object{{"code", "not_found"}});
}

}  // namespace fg::fulfillment

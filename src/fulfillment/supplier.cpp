#include "fulfillment/supplier.hpp"

#include "common/encoding.hpp"
#include "net/http_client.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/json.hpp>

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
  const auto [status, body] =
      Call(http::verb::post, "/api/v1/order",
           json::serialize(json::object{{"products", products}, {"orderExternalId", external_id}}));
  ThrowForStatus(status, body, "place order");
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  const json::value* id = (!ec && v.is_object()) ? v.as_object().if_contains("orderId") : nullptr;
  if (!id || !id->is_string() || id->as_string().empty())
    throw SupplierError(true, "bad_response", "supplier order response without orderId");
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

}  // namespace fg::fulfillment

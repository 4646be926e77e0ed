#include "fulfillment/keys.hpp"

#include "common/clock.hpp"
#include "common/encoding.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>

namespace fg::fulfillment {

namespace json = boost::json;

json::array KeyLinks::Items(const store::OrderRow& order, const std::vector<store::ItemRow>& items,
                            bool with_links) const {
  json::array arr;
  const std::int64_t expires = UnixSeconds() + ttl_.count();
  for (const auto& i : items) {
    json::object it{{"itemId", i.item_id}, {"productId", i.product_id}, {"quantity", i.quantity}, {"status", i.status}};
    if (!i.name.empty()) it["name"] = i.name;
    if (!i.unit_price.empty()) it["unitPrice"] = i.unit_price;
    if (with_links && i.status == "delivered") {
      it["signedUrl"] = signer_.SignedPath("/api/v1/keys/" + order.order_id + "/" + i.item_id, expires);
      it["signedUrlExpiresAt"] = IsoTimestamp(std::chrono::system_clock::time_point(std::chrono::seconds(expires)));
    }
    arr.push_back(std::move(it));
  }
  return arr;
}

KeyService::KeyService(store::FulfillmentStore& store, ObjectStore& objects, const KeyCipher& cipher,
                       const KeyLinks& links, double reveals_per_minute)
    : store_(store),
      objects_(objects),
      cipher_(cipher),
      links_(links),
      reveals_(reveals_per_minute / 60.0, std::max(1.0, reveals_per_minute)) {}

Result KeyService::Reveal(const std::string& order_id, const std::string& item_id, const std::string& expires,
                          const std::string& sig) {
  if (!events::IsSafeId(order_id, kMaxIdLength) || !events::IsSafeId(item_id, kMaxIdLength))
    return Fail(errc::not_found, "no such key");
  const std::string path = "/api/v1/keys/" + order_id + "/" + item_id;
  switch (links_.Signer().Check(path, expires, sig, UnixSeconds())) {
    case UrlCheck::kBadSignature:
      return Fail(errc::invalid_link_signature, "the link's signature is not valid");
    case UrlCheck::kExpired:
      return Fail(errc::link_expired, "the link has expired; reload the order page for a fresh one");
    case UrlCheck::kValid:
      break;
  }
  // After the signature (cheap) and before any store or crypto work: reveals per order are bounded.
  if (!reveals_.Allow(order_id)) {
    Result r = Fail(errc::rate_limited, "too many key reveals for this order; try again shortly");
    r.retry_after_s = reveals_.RetryAfterSeconds();
    return r;
  }
  std::optional<store::ItemRow> item;
  bool fulfilled = false;
  store_.Transaction([&](store::Tx& tx) {
    auto o = tx.GetOrder(order_id);
    fulfilled = o && o->status == ToString(OrderStatus::kFulfilled);
    for (auto& i : tx.GetItems(order_id)) {
      if (i.item_id == item_id) item = i;
    }
  });
  // Keys are revealed only for a fulfilled order: never for one refunded or failed on the way.
  if (!fulfilled || !item || item->status != "delivered" || item->key_ref.empty()) {
    return Fail(errc::not_found, "no key for this item");
  }
  auto sealed = objects_.Get(item->key_ref);
  std::optional<std::string> key = sealed ? cipher_.Open(*sealed, order_id + ":" + item_id) : std::nullopt;
  if (!key) {
    spdlog::error("key integrity failure for order {} item {}: the sealed key is missing or does not authenticate",
                  order_id, item_id);
    return Fail(errc::integrity_error, "the stored key failed its integrity check");
  }
  store_.Transaction([&](store::Tx& tx) {
    tx.AppendEvent(
        order_id, "key:revealed",
        json::serialize(json::object{{"orderId", order_id}, {"itemId", item_id}, {"timestamp", IsoTimestamp()}}));
  });
  return Ok(json::object{{"key", *key}, {"type", item->key_type}}, true);
}

}  // namespace fg::fulfillment

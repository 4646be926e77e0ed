// Keys after they are sealed: the short-lived signed links that reach an order's owner, and the
// reveal behind a link (signature first, then a per-order rate limit, then the store and the
// decryption; only for a fulfilled order). Thread-safe; Reveal blocks (store, disk, crypto).
#pragma once

#include "common/rate_limit.hpp"
#include "fulfillment/crypto.hpp"
#include "fulfillment/object_store.hpp"
#include "fulfillment/types.hpp"
#include "store/fulfillment_store.hpp"

#include <boost/json/array.hpp>

namespace fg::fulfillment {

// Mints the links of an order's delivered items.
class KeyLinks {
 public:
  KeyLinks(UrlSigner signer, std::chrono::seconds ttl) : signer_(std::move(signer)), ttl_(ttl) {}
  // The items as clients see them; with `with_links`, delivered items carry a fresh signed link.
  boost::json::array Items(const store::OrderRow& order, const std::vector<store::ItemRow>& items,
                           bool with_links) const;
  const UrlSigner& Signer() const { return signer_; }

 private:
  UrlSigner signer_;
  std::chrono::seconds ttl_;
};

class KeyService {
 public:
  KeyService(store::FulfillmentStore& store, ObjectStore& objects, const KeyCipher& cipher, const KeyLinks& links,
             double reveals_per_minute);
  Result Reveal(const std::string& order_id, const std::string& item_id, const std::string& expires,
                const std::string& sig);

 private:
  store::FulfillmentStore& store_;
  ObjectStore& objects_;
  const KeyCipher& cipher_;
  const KeyLinks& links_;
  RateLimiter reveals_;
};

}  // namespace fg::fulfillment

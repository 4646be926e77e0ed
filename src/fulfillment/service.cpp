#include "fulfillment/service.hpp"

namespace fg::fulfillment {

Service::Service(store::FulfillmentStore& store, ObjectStore& objects, KeyCipher cipher, UrlSigner signer,
                 Supplier& supplier, EventSink sink, ServiceConfig config)
    : config_(std::move(config)),
      cipher_(std::move(cipher)),
      links_(std::move(signer), config_.url_ttl),
      queue_(store, sink, config_),
      orders_(store, links_, sink),
      payments_(store, queue_, sink, config_),
      keys_(store, objects, cipher_, links_, config_.reveals_per_minute),
      runner_(store, queue_, objects, cipher_, links_, supplier, sink, config_) {}

Service::~Service() {
  Stop();
}

}  // namespace fg::fulfillment

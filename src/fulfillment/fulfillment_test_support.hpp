// Test support (unit tests only): in-memory doubles of the object store and the supplier.
#pragma once

#include "fulfillment/object_store.hpp"
#include "fulfillment/supplier.hpp"

#include <map>
#include <string>
#include <vector>

namespace fg::fulfillment::testing {

class MemoryObjects : public ObjectStore {
 public:
  void Put(const std::string& name, const std::string& bytes) override { objects[name] = bytes; }
  std::optional<std::string> Get(const std::string& name) override {
    auto it = objects.find(name);
    return it == objects.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  std::map<std::string, std::string> objects;
};

class FakeSupplier : public Supplier {
 public:
  std::string PlaceOrder(const std::string& external_id, const std::vector<SupplierLine>& lines) override {
    ++place_calls;
    if (fail_next > 0) {
      --fail_next;
      throw SupplierError(true, "unavailable", "supplier answered 503");
    }
    if (out_of_stock) throw SupplierError(false, "out_of_stock", "out of stock");
    if (!refs.count(external_id)) {
      ++purchases;
      refs[external_id] = "KG-" + std::to_string(purchases);
      for (const auto& l : lines) {
        for (std::int64_t i = 0; i < l.qty; ++i)
          keys[refs[external_id]].push_back(
              SupplierKey{l.product_id, "KEY-" + l.product_id + "-" + std::to_string(i), "text/plain"});
      }
    }
    return refs[external_id];
  }
  std::vector<SupplierKey> GetKeys(const std::string& ref) override { return keys[ref]; }
  int place_calls = 0, purchases = 0, fail_next = 0;
  bool out_of_stock = false;
  std::map<std::string, std::string> refs;
  std::map<std::string, std::vector<SupplierKey>> keys;
};

}  // namespace fg::fulfillment::testing

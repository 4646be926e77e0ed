// Where sealed keys live. An interface so an S3-style store can replace the local directory.
#pragma once

#include <optional>
#include <string>

namespace fg::fulfillment {

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Durable once it returns (written to a temporary file, fsynced, renamed). Throws on failure.
  virtual void Put(const std::string& name, const std::string& bytes) = 0;
  virtual std::optional<std::string> Get(const std::string& name) = 0;
};

// Files under a root directory (mode 0700), one per object (mode 0600). Names are
// "<orderId>/<itemId>" built from validated ids; anything with ".." or a leading "/" is refused.
class LocalObjectStore : public ObjectStore {
 public:
  explicit LocalObjectStore(std::string root);
  void Put(const std::string& name, const std::string& bytes) override;
  std::optional<std::string> Get(const std::string& name) override;

 private:
  std::string PathOf(const std::string& name) const;
  std::string root_;
};

}  // namespace fg::fulfillment

// The query of a request target ("?a=1&b=%20x"), parsed and percent-decoded by Boost.URL ("+" is
// a space, as HTML forms and the Engine.IO client send it). Lookups walk the parameters in place:
// no map is built for a request that asks for two keys. The first occurrence of a key wins.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fg::net {

class Query {
 public:
  // `target` is a whole request target; everything before '?' is ignored. A query that is not
  // valid RFC 3986 text is treated as empty.
  explicit Query(std::string_view target);
  std::optional<std::string> Get(std::string_view key) const;
  std::string GetOr(std::string_view key, std::string fallback = {}) const {
    return Get(key).value_or(std::move(fallback));
  }
  bool Has(std::string_view key) const { return Get(key).has_value(); }
  std::map<std::string, std::string> ToMap() const;

 private:
  std::string query_;  // a copy: callers pass Beast's string_view, which converts through a temporary
  bool valid_ = false;
};

}  // namespace fg::net

#include "fulfillment/types.hpp"

#include <boost/json/object.hpp>

namespace fg::fulfillment {

Result Fail(errc code, std::string message) {
  Result r;
  r.code = code;
  r.message = std::move(message);
  return r;
}

Result Ok(boost::json::value body, bool no_store) {
  Result r;
  r.body = std::move(body);
  r.no_store = no_store;
  return r;
}

Result Created(boost::json::value body) {
  Result r = Ok(std::move(body));
  r.created = true;
  return r;
}

std::string FieldText(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return {};
}

}  // namespace fg::fulfillment

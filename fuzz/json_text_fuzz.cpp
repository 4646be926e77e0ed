// libFuzzer target: the publish-body parser that forwards payload text verbatim.
#include "common/json_text.hpp"
#include "http_api/publish.hpp"

#include <boost/json/parse.hpp>

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  fg::http_api::PublishRequest p;
  std::string message;
  if (!fg::http_api::ParsePublish(in, 128, p, message)) {
    // What we forward must itself be valid JSON, an object, with a timestamp.
    boost::system::error_code ec;
    auto v = boost::json::parse(p.data_json, ec);
    if (ec || !v.is_object() || !v.as_object().contains("timestamp")) __builtin_trap();
  }
  return 0;
}

// libFuzzer target: the JavaScript-compatible canonical JSON used to verify IPN signatures.
#include "fulfillment/js_json.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto c = fg::fulfillment::CanonicalJson(in)) {
    // canonical form is a fixed point
    auto again = fg::fulfillment::CanonicalJson(*c);
    if (!again || *again != *c) __builtin_trap();
  }
  return 0;
}

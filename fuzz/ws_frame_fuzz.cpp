// libFuzzer target: RFC 6455 frame headers as a client could send them.
#include "common/encoding.hpp"
#include "net/ws_frame.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    fg::net::ws::FrameHeader h;
    if (fg::net::ws::ParseHeader(in, h) != fg::net::ws::Parse::kOk) break;
    if (h.header_size < 6 || h.header_size > 14 || !h.masked) __builtin_trap();
    const std::size_t avail = in.size() - h.header_size;
    const std::size_t take = h.length < avail ? static_cast<std::size_t>(h.length) : avail;
    std::string payload(in.substr(h.header_size, take));
    fg::net::ws::Unmask(payload.data(), payload.size(), h.mask, 0);
    (void)fg::ValidUtf8(payload);
    in.remove_prefix(h.header_size + take);
  }
  return 0;
}

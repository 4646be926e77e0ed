// libFuzzer target: the fg:log message between cluster nodes. Whatever decodes encodes back to
// something that decodes to the same batch.
#include "cluster/batch_codec.hpp"

#include <cstdint>
#include <stdexcept>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  try {
    const auto m = fg::cluster::DecodeCommit(in);
    const auto again = fg::cluster::DecodeCommit(fg::cluster::EncodeCommit(m));
    if (again.batch.lo != m.batch.lo || again.batch.hi != m.batch.hi ||
        again.batch.entries.size() != m.batch.entries.size() || again.owners != m.owners || again.node != m.node ||
        again.ack != m.ack || again.jobs != m.jobs)
      __builtin_trap();
    for (std::size_t i = 0; i < m.batch.entries.size(); ++i) {
      const auto& a = m.batch.entries[i];
      const auto& b = again.batch.entries[i];
      if (a.pos != b.pos || a.payload != b.payload || a.owner_payload != b.owner_payload || a.event != b.event)
        __builtin_trap();
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

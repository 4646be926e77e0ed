// The fg:log message between nodes (cluster/node.hpp): one committed transaction — the run of
// log positions it took, its delivered entries, and the orders it gave an owner. JSON, bounded by
// what the store accepted. Decoding validates everything (types, ranges, order) and throws
// std::invalid_argument: a node that cannot read a message fills its positions from the store.
#pragma once

#include "store/event_log.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fg::cluster {

struct Batch {
  std::int64_t lo = 0, hi = 0;           // the positions the transaction took (lo = 0: none)
  std::vector<store::LogEntry> entries;  // the delivered ones among them, by position
};

struct CommitMessage {
  std::string node;  // the committing node's id
  Batch batch;
  std::vector<std::pair<std::string, std::string>> owners;  // order id → its owner now
  bool jobs = false;                                        // a job became due: wake idle workers
  std::uint64_t ack = 0;  // > 0: every receiver answers on fg:ack:<node> once it forgot the owners
};

std::string EncodeCommit(const CommitMessage& m);
CommitMessage DecodeCommit(std::string_view text);

}  // namespace fg::cluster

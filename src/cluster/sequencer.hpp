// Hands a node the cluster's delivery log in position order, each position once, whichever way it
// arrives. Every committed transaction covers a run of positions [lo, hi] (the shared store makes
// them gap-free and in commit order: store/pg_store.hpp). Its batch reaches this node twice or
// more — from the committing node's own commit (when that is this node), through Redis, and from
// the store when a gap is filled — and only the first copy of each position is delivered.
//
// Gap detection: batches wait in `pending_` until every position below them has been delivered. A
// batch that has waited longer than the gap wait, or a head in the store past what was delivered
// (checked once a second, and at once after Redis reconnects), means a message was missed: the
// owner reads the log from the store after Delivered() and calls Fill. Thread-safe; `deliver`
// runs under the sequencer's lock, so deliveries leave in position order.
#pragma once

#include "cluster/batch_codec.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace fg::cluster {

class Sequencer {
 public:
  using Deliver = std::function<void(std::vector<store::LogEntry>& entries)>;
  using Clock = std::chrono::steady_clock;
  Sequencer(std::int64_t delivered, Deliver deliver) : delivered_(delivered), deliver_(std::move(deliver)) {}

  void Offer(Batch batch);
  // The store's log after Delivered() as read just now: `entries` (delivered ones, by position),
  // `head` read before them, `complete` false when the read stopped at its limit.
  void Fill(std::vector<store::LogEntry> entries, std::int64_t head, bool complete);

  std::int64_t Delivered() const;
  // How long the oldest waiting batch has waited for the positions below it (zero: none waits).
  Clock::duration GapAge(Clock::time_point now) const;
  struct Counters {
    std::uint64_t delivered_batches = 0, duplicates = 0, filled_entries = 0, fills = 0;
  };
  Counters Stats() const;

 private:
  void ReleaseLocked();
  void DeliverLocked(std::vector<store::LogEntry>& entries);
  mutable std::mutex mutex_;
  std::int64_t delivered_;
  std::map<std::int64_t, Batch> pending_;  // by lo
  Clock::time_point waiting_since_{};      // when pending_ last became non-empty
  Deliver deliver_;
  Counters counters_;
};

}  // namespace fg::cluster

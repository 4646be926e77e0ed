#include "cluster/sequencer.hpp"

#include <algorithm>

namespace fg::cluster {

void Sequencer::DeliverLocked(std::vector<store::LogEntry>& entries) {
  // Only what is past delivered_: a batch may overlap what a fill delivered already.
  const auto first = std::find_if(entries.begin(), entries.end(), [this](const auto& e) { return e.pos > delivered_; });
  entries.erase(entries.begin(), first);
  if (!entries.empty()) deliver_(entries);
}

void Sequencer::Offer(Batch batch) {
  if (batch.lo <= 0 || batch.hi < batch.lo) return;
  std::lock_guard lock(mutex_);
  if (batch.hi <= delivered_ || pending_.count(batch.lo)) {
    ++counters_.duplicates;
    return;
  }
  if (pending_.empty()) waiting_since_ = Clock::now();
  pending_.emplace(batch.lo, std::move(batch));
  ReleaseLocked();
}

void Sequencer::ReleaseLocked() {
  bool released = false;
  while (!pending_.empty() && pending_.begin()->first <= delivered_ + 1) {
    auto node = pending_.extract(pending_.begin());
    Batch& b = node.mapped();
    if (b.hi <= delivered_) {
      ++counters_.duplicates;
      continue;
    }
    DeliverLocked(b.entries);
    delivered_ = b.hi;
    ++counters_.delivered_batches;
    released = true;
  }
  if (released) waiting_since_ = Clock::now();  // what still waits starts waiting now
}

void Sequencer::Fill(std::vector<store::LogEntry> entries, std::int64_t head, bool complete) {
  std::lock_guard lock(mutex_);
  ++counters_.fills;
  const std::int64_t last = entries.empty() ? delivered_ : entries.back().pos;
  DeliverLocked(entries);
  counters_.filled_entries += entries.size();
  // Read after `head` was: every position up to head is in `entries` or was never delivered.
  delivered_ = std::max({delivered_, last, complete ? head : std::int64_t{0}});
  ReleaseLocked();
}

std::int64_t Sequencer::Delivered() const {
  std::lock_guard lock(mutex_);
  return delivered_;
}

Sequencer::Clock::duration Sequencer::GapAge(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (pending_.empty()) return Clock::duration::zero();
  return now - waiting_since_;
}

Sequencer::Counters Sequencer::Stats() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace fg::cluster

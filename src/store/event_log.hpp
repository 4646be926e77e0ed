// The delivery log: every event the gateway delivers, in one order, each with its position — the
// offset clients see (Socket.IO connection state recovery) and replay from. It is also where order
// timelines live: an event of a known order carries its place in that order's timeline (order_seq)
// and is kept for good; the rest (admin events, events of orders the gateway does not know) is kept
// for what a recovery window needs and pruned by age and size. Pruning moves `pruned_through`: a
// replay must start at or after it to be complete. One table, one row per event, written once. Recovery sessions (a
// client's private `pid`, its user and subscriptions) live beside it, so a restarted process recovers the clients of
// the one before.
//
// Ordering: positions are assigned inside the transaction that makes an event durable, and the
// events of a transaction are handed on (Tx::AfterCommit) under the same lock that serialises
// commits — so deliveries leave in position order whichever thread committed them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fg::store {

// LogEntry::audience of a timeline entry that is never delivered (Tx::AppendEvent).
inline constexpr int kNotDelivered = -1;

struct LogEntry {
  std::int64_t pos = 0;        // assigned when logged
  std::string event;           // wire name
  int audience = 0;            // events::Audience, or kNotDelivered
  std::string order_id;        // empty: an admin event about no order
  std::int64_t order_seq = 0;  // its place in the order's timeline (0: not in a timeline)
  std::string payload;         // JSON text, as delivered to everyone but the owner
  std::string owner_id;        // when set, the owner gets owner_payload instead
  std::string owner_payload;
  std::int64_t created_ms = 0;
};

struct SessionRow {
  std::string pid;  // private session id (never shown to anyone else)
  std::string sid;  // the public socket id, kept across recoveries
  std::string user_id;
  bool admin = false;
  std::int64_t created_pos = 0;      // log head when the session began: replay never starts before it
  std::string subscriptions_json;    // {"<orderId>": <log position when subscribed>, ...}
  std::int64_t disconnected_ms = 0;  // 0: connected
  std::string node;                  // the cluster node that saved it last (PostgreSQL; empty in SQLite)
};

class EventLog {
 public:
  virtual ~EventLog() = default;
  // Delivered entries with pos > after_pos, oldest first, at most `limit`: every entry
  // (orders == nullopt) or only those of the given orders.
  virtual std::vector<LogEntry> ReadLog(std::int64_t after_pos, const std::optional<std::vector<std::string>>& orders,
                                        std::int64_t limit) = 0;
  // The newest position pruned (a replay from below it would be partial), and the newest position
  // assigned so far.
  struct Bounds {
    std::int64_t pruned_through = 0;
    std::int64_t head = 0;
  };
  virtual Bounds LogBounds() = 0;
  // Drops entries outside the window — older than `min_created_ms` or beyond the newest
  // `max_entries` — except those in an order's timeline, and moves pruned_through past them.
  virtual void PruneLog(std::int64_t min_created_ms, std::int64_t max_entries) = 0;

  virtual void SaveSession(const SessionRow& s) = 0;
  // Many saves (row set) and deletes (row empty) in one transaction: a disconnect storm's thousands
  // of session writes cost one commit, not one each.
  struct SessionWrite {
    std::string pid;
    std::optional<SessionRow> row;
  };
  virtual void WriteSessions(const std::vector<SessionWrite>& writes) = 0;
  virtual std::optional<SessionRow> LoadSession(const std::string& pid) = 0;
  virtual void DeleteSession(const std::string& pid) = 0;
  // At start-up: every session left "connected" by a process that died is disconnected as of now;
  // sessions disconnected before `min_disconnected_ms` are deleted.
  virtual void SettleSessions(std::int64_t now_ms, std::int64_t min_disconnected_ms) = 0;
  // Deletes sessions disconnected before `min_disconnected_ms` (past the window: never recoverable).
  virtual void PruneSessions(std::int64_t min_disconnected_ms) = 0;
};

}  // namespace fg::store

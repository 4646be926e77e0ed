#pragma once

#include "store/event_log.hpp"
#include "store/fulfillment_store.hpp"
#include "store/order_store.hpp"
#include "store/owner_cache.hpp"
#include "store/sqlite_db.hpp"
#include "store/store.hpp"

#include <mutex>
#include <string>

namespace fg::store {

// The embedded default: one SQLite database file (WAL) under --data-dir, implementing both the
// gateway's OrderStore and the FulfillmentStore. One connection behind one mutex.
class SqliteStore : public Store {
 public:
  // Opens (creating if needed) `path`, ":memory:" for tests. Throws StoreError naming the file.
  explicit SqliteStore(const std::string& path, std::size_t owner_cache_entries = 100'000,
                       std::size_t unknown_order_entries = 10'000);

  std::optional<OrderRecord> GetOrder(const std::string& order_id) override;
  void Transaction(const std::function<void(Tx&)>& fn) override;
  std::optional<std::string> CachedOwner(const std::string& order_id) const override { return owners_.Get(order_id); }
  bool CachedMissing(const std::string& order_id) const override { return owners_.IsMissing(order_id); }
  void ForgetOrder(const std::string& order_id) override { owners_.Forget(order_id); }

  std::vector<LogEntry> ReadLog(std::int64_t after_pos, const std::optional<std::vector<std::string>>& orders,
                                std::int64_t limit) override;
  Bounds LogBounds() override;
  void PruneLog(std::int64_t min_created_ms, std::int64_t max_entries) override;
  void SaveSession(const SessionRow& s) override;
  void WriteSessions(const std::vector<SessionWrite>& writes) override;
  std::optional<SessionRow> LoadSession(const std::string& pid) override;
  void DeleteSession(const std::string& pid) override;
  void SettleSessions(std::int64_t now_ms, std::int64_t min_disconnected_ms) override;
  void PruneSessions(std::int64_t min_disconnected_ms) override;

 private:
  SqliteDb db_;
  std::mutex mutex_;
  std::uint64_t tx_serial_ = 0;  // under mutex_
  void SaveSessionLocked(const SessionRow& s);
  void DeleteSessionLocked(const std::string& pid);
  OwnerCache owners_;  // updated after each COMMIT, under mutex_, from what the transaction read or wrote
};

}  // namespace fg::store

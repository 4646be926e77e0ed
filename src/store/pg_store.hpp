// The PostgreSQL adapter (DATABASE_URL): the same port as SqliteStore, on a database that several
// gateway nodes share. Schema by versioned migrations (pg_store.cpp), applied at start-up by
// whichever node gets there first.
//
// Concurrency, the same guarantees as the embedded store, cluster-wide:
// - Every FulfillmentStore::Transaction takes one transaction-scoped advisory lock right after
//   BEGIN: write transactions run one at a time across all nodes (SQLite's single writer, spread
//   over a cluster). A step's read-modify-write of an order or a job cannot interleave with another
//   node's, and no two transactions can deadlock on row locks taken in different orders.
// - Delivery-log positions come from a counter row (log_meta 'head') incremented inside that
//   transaction, so positions are gap-free and in commit order: when position N is visible, every
//   position below it is too. That is what lets a node detect a missed message by position and
//   fill the gap from the store.
// - On a node, transactions also pass one mutex, and AfterCommit callbacks run under it: this
//   node's events leave in position order, as with SQLite.
// Reads that need no lock (GetOrder for an ownership check, ReadLog, LoadSession, LogBounds) use
// any pooled connection. A connection that breaks reconnects on its next use; until PostgreSQL is
// back every call throws StoreError (the API answers 503) and nothing is accepted that is not durable.
#pragma once

#include "store/owner_cache.hpp"
#include "store/pg_db.hpp"
#include "store/store.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace fg::store {

// Up to `size` connections, opened on first need; Acquire waits for a free one.
class PgPool {
 public:
  PgPool(std::string url, std::size_t size);
  class Lease {
   public:
    Lease(PgPool& pool, std::unique_ptr<PgDb> db) : pool_(&pool), db_(std::move(db)) {}
    ~Lease();
    Lease(Lease&& o) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    PgDb& operator*() { return *db_; }
    PgDb* operator->() { return db_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgDb> db_;
  };
  Lease Acquire();  // throws StoreError when a new connection cannot be made

 private:
  void Release(std::unique_ptr<PgDb> db);
  const std::string url_;
  const std::size_t size_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PgDb>> idle_;
  std::size_t open_ = 0;  // idle + leased
};

class PgStore : public Store {
 public:
  // Connects and migrates; throws StoreError (without the URL: it may carry a password).
  // `node_id` names this node's recovery sessions (SettleSessions settles only its own).
  PgStore(const std::string& url, std::string node_id, std::size_t pool_size = 4,
          std::size_t owner_cache_entries = 100'000, std::size_t unknown_order_entries = 10'000);

  std::optional<OrderRecord> GetOrder(const std::string& order_id) override;
  void Transaction(const std::function<void(Tx&)>& fn) override;
  std::optional<std::string> CachedOwner(const std::string& order_id) const override { return owners_.Get(order_id); }
  bool CachedMissing(const std::string& order_id) const override { return owners_.IsMissing(order_id); }
  void ForgetOrder(const std::string& order_id) override { owners_.Forget(order_id); }
  // Off while this node cannot hear other nodes' owner changes (cluster/node.hpp).
  void SetOwnerCacheEnabled(bool enabled) { owners_.SetEnabled(enabled); }

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

  // Sealed key blobs by name, for the fulfillment flow's object store: in a cluster a key sealed by
  // one node's worker is served by whichever node gets the download. Durable once Put returns.
  void PutObject(const std::string& name, const std::string& bytes);
  std::optional<std::string> GetObject(const std::string& name);

  // Where node `tag`'s sessions are reached ("host:port"), as it said when it started.
  void RegisterNode(const std::string& tag, const std::string& node_id, const std::string& address);
  std::optional<std::string> NodeAddress(const std::string& tag);
  void TouchNode(const std::string& tag);  // still alive (every 10 s): its sessions are not orphans

  static int SchemaVersion();  // the newest migration

  // What a committed transaction changed that other nodes must hear of (cluster/node.hpp): the
  // run of log positions it took with every entry logged (undelivered ones too), and the orders
  // it created or wrote with their owner.
  struct Committed {
    std::int64_t lo = 0, hi = 0;  // 0: no position taken
    std::vector<LogEntry> entries;
    std::vector<std::pair<std::string, std::string>> owners;  // order id → owner
    bool jobs = false;  // a job became due (queued or retry): idle workers anywhere may take it
  };
  // Called right after each commit, on the committing thread under the store's lock (so in
  // position order on this node), before the transaction's AfterCommit callbacks. Set before use.
  void SetCommitFeed(std::function<void(Committed&)> feed) { feed_ = std::move(feed); }

 private:
  PgPool pool_;
  const std::string node_id_;
  std::mutex mutex_;  // one transaction of this node at a time; AfterCommit runs under it
  std::uint64_t tx_serial_ = 0;
  OwnerCache owners_;
  std::function<void(Committed&)> feed_;
};

}  // namespace fg::store

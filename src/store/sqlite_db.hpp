// The one owner of a sqlite3* handle, and a prepared-statement helper. Used only by the SQLite
// adapters; callers serialize access (one mutex per database). Prepared statements are kept per
// SQL text and reused (reset, bindings cleared) instead of being compiled on every call.
#pragma once

#include "store/order_store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace fg::store {

class WalCheckpointer;

// A file database runs in WAL mode; its checkpoints (copying the WAL back into the database file,
// with an fsync) run on a thread of their own with a second connection, never inside a commit.
class SqliteDb {
 public:
  explicit SqliteDb(const std::string& path);  // throws StoreError naming the file
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  void Exec(const char* sql);
  sqlite3* Handle() const { return db_; }
  std::int64_t Changes() const;
  WalCheckpointer* Checkpointer() const { return checkpointer_.get(); }

 private:
  friend class Statement;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  static constexpr std::size_t kMaxCached = 128;
  // A prepared statement for `sql`: the cached one when it is free, else a new one (cached when
  // there is room). `cached` says whether Release() returns it to the cache.
  sqlite3_stmt* Acquire(const char* sql, bool& cached) const;
  void Release(sqlite3_stmt* stmt, bool cached) const;

  sqlite3* db_ = nullptr;
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  // Looked up by string_view: no copy of the SQL text per statement.
  mutable std::unordered_map<std::string, Cached, SqlHash, std::equal_to<>> cache_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // file databases only
};

// Checkpoints a WAL database from its own connection and thread: each time commits add `kPages`
// pages to the WAL (the writer's WAL hook calls Nudge), and once a second while there are new ones.
// PASSIVE mode: it never blocks the writer, which keeps committing meanwhile.
class WalCheckpointer {
 public:
  static constexpr int kPages = 250;
  static constexpr int kRestartPages = 4000;  // about 16 MiB of WAL at most
  explicit WalCheckpointer(const std::string& path);
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;
  void Nudge(int wal_pages);
  // Called by the writer's WAL hook past kRestartPages: waits for a background run in progress,
  // then checkpoints from the writer's connection (back-pressure that bounds the WAL).
  void CheckpointFromWriter(sqlite3* writer, const char* name);
  std::uint64_t Checkpoints() const;        // completed background runs (tests)
  std::uint64_t WriterCheckpoints() const;  // ... and the writer's own (tests)
  // Tests: each background run holds on this long after copying, like a slow disk's fsync.
  void SlowDownForTest(std::chrono::milliseconds extra) { extra_ = extra; }

 private:
  void Run();
  sqlite3* db_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;  // running_ went false
  bool stop_ = false;
  bool running_ = false;         // a background checkpoint is copying
  bool writer_waiting_ = false;  // the writer is past kRestartPages: no new background run
  std::uint64_t writer_runs_ = 0;
  std::atomic<std::chrono::milliseconds> extra_{std::chrono::milliseconds(0)};
  bool due_ = false;
  int pending_pages_ = 0;   // the WAL's size after the latest commit
  int last_run_pages_ = 0;  // ... when the latest run began
  std::uint64_t runs_ = 0;
  std::thread thread_;
};

class Statement {
 public:
  Statement(const SqliteDb& db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& Bind(int i, const std::string& v);
  Statement& Bind(int i, std::int64_t v);
  Statement& BindNull(int i);
  Statement& Bind(int i, const std::optional<std::string>& v) { return v ? Bind(i, *v) : BindNull(i); }
  bool Step();  // true: a row is available
  std::string Text(int col) const;
  std::int64_t Int(int col) const;
  bool IsNull(int col) const;

 private:
  const SqliteDb& owner_;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool cached_ = false;
};

}  // namespace fg::store

#include "store/sqlite_db.hpp"

#include <sqlite3.h>

#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>

namespace fg::store {

namespace {
// Process-wide settings, before SQLite initialises: no global memory statistics (they take a
// global mutex on every allocation, and every store call allocates).
void ConfigureSqlite() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}
}  // namespace

SqliteDb::SqliteDb(const std::string& path) {
  ConfigureSqlite();
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  Exec("PRAGMA journal_mode=WAL");
  Exec("PRAGMA synchronous=NORMAL");  // WAL + NORMAL: a committed transaction survives a process crash
  Exec("PRAGMA foreign_keys=ON");
  if (path != ":memory:" && !path.empty()) {
    checkpointer_ = std::make_unique<WalCheckpointer>(path);
    // Replaces SQLite's auto-checkpoint hook: the background thread copies the WAL as it grows;
    // past kRestartPages the committing call waits for a background run in progress (only one
    // connection can checkpoint at a time) and checkpoints the rest itself, so the next write starts
    // the WAL over — a writer that never pauses cannot grow it past kRestartPages and one
    // transaction, however slow the disk makes the background copy.
    sqlite3_wal_hook(
        db_,
        [](void* self, sqlite3* db, const char* name, int pages) {
          auto* checkpointer = static_cast<WalCheckpointer*>(self);
          checkpointer->Nudge(pages);
          if (pages >= WalCheckpointer::kRestartPages) checkpointer->CheckpointFromWriter(db, name);
          return SQLITE_OK;
        },
        checkpointer_.get());
  }
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, c] : cache_) sqlite3_finalize(c.stmt);
  if (checkpointer_) {
    sqlite3_wal_hook(db_, nullptr, nullptr);
    checkpointer_.reset();
  }
  sqlite3_close(db_);  // the last connection to close checkpoints what is left and removes the WAL
}

WalCheckpointer::WalCheckpointer(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw StoreError("cannot open database " + path + " for checkpoints: " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  // A connection opens the WAL on its first read; until then a checkpoint from it does nothing.
  if (sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_close(db_);
    throw StoreError("cannot read database " + path + " for checkpoints: " + msg);
  }
  thread_ = std::thread([this] { Run(); });
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close(db_);
}

void WalCheckpointer::Nudge(int wal_pages) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (wal_pages < pending_pages_) last_run_pages_ = 0;  // the WAL started over
    pending_pages_ = wal_pages;
    wake = wal_pages >= last_run_pages_ + kPages && !due_;
    if (wake) due_ = true;
  }
  if (wake) wake_.notify_one();
}

void WalCheckpointer::CheckpointFromWriter(sqlite3* writer, const char* name) {
  {
    std::unique_lock lock(mutex_);
    writer_waiting_ = true;
    idle_.wait(lock, [this] { return !running_; });
  }
  const int rc = sqlite3_wal_checkpoint_v2(writer, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) spdlog::warn("store: WAL checkpoint failed: {}", sqlite3_errmsg(writer));
  {
    std::lock_guard lock(mutex_);
    writer_waiting_ = false;
    ++writer_runs_;
  }
  wake_.notify_one();  // a run the writer held back
}

std::uint64_t WalCheckpointer::WriterCheckpoints() const {
  std::lock_guard lock(mutex_);
  return writer_runs_;
}

std::uint64_t WalCheckpointer::Checkpoints() const {
  std::lock_guard lock(mutex_);
  return runs_;
}

void WalCheckpointer::Run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || (due_ && !writer_waiting_); });
    if (stop_) break;
    if (!due_ && pending_pages_ == last_run_pages_) continue;
    if (writer_waiting_) continue;  // the writer checkpoints this time (it only waits while running_)
    due_ = false;
    last_run_pages_ = pending_pages_;
    running_ = true;
    lock.unlock();
    int wal = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal, &copied);
    if (const auto extra = extra_.load(); extra.count() > 0) std::this_thread::sleep_for(extra);
    lock.lock();
    running_ = false;
    idle_.notify_all();
    ++runs_;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      // Not fatal: the WAL keeps the data and the next run tries again.
      spdlog::warn("store: WAL checkpoint failed: {}", sqlite3_errmsg(db_));
    }
  }
}

sqlite3_stmt* SqliteDb::Acquire(const char* sql, bool& cached) const {
  auto it = cache_.find(std::string_view(sql));
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    cached = true;
    return it->second.stmt;
  }
  const bool keep = it == cache_.end() && cache_.size() < kMaxCached;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    throw StoreError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
  }
  if (keep) cache_.emplace(sql, Cached{stmt, true});
  cached = keep;
  return stmt;
}

void SqliteDb::Release(sqlite3_stmt* stmt, bool cached) const {
  if (!cached) {
    sqlite3_finalize(stmt);
    return;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (auto it = cache_.find(std::string_view(sqlite3_sql(stmt))); it != cache_.end() && it->second.stmt == stmt)
    it->second.in_use = false;
}

void SqliteDb::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StoreError(std::string("sqlite: ") + msg);
  }
}

std::int64_t SqliteDb::Changes() const {
  return sqlite3_changes(db_);
}

Statement::Statement(const SqliteDb& db, const char* sql) : owner_(db), db_(db.Handle()) {
  stmt_ = owner_.Acquire(sql, cached_);
}
Statement::~Statement() {
  owner_.Release(stmt_, cached_);
}
Statement& Statement::Bind(int i, const std::string& v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::Bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}
bool Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw StoreError(std::string("sqlite step: ") + sqlite3_errmsg(db_));
}
std::string Statement::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}
std::int64_t Statement::Int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}
bool Statement::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

}  // namespace fg::store

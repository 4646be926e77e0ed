// The one owner of a PostgreSQL connection (libpq), for the PostgreSQL adapters: parameterized
// statements (prepared once per SQL text and connection, reused), results as text, transactions,
// and versioned schema migrations that several nodes may run at once. Callers serialize access to
// one PgDb (one thread at a time); a pool is several of them. Errors throw StoreError with the
// server's message — never the connection string, which may carry a password.
// A connection that breaks (server restart, network) is re-established by the next call after the
// one that failed: that call throws, the store answers 503, the next one works again.
#pragma once

#include "store/order_store.hpp"

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace fg::store {

// One statement parameter, as text (PostgreSQL casts it); nullopt is SQL NULL.
class PgParam {
 public:
  PgParam(std::nullopt_t) {}             // NOLINT(google-explicit-constructor): a parameter list reads as values
  PgParam(const char* v) : value_(v) {}  // NOLINT(google-explicit-constructor)
  PgParam(std::string v) : value_(std::move(v)) {}             // NOLINT(google-explicit-constructor)
  PgParam(std::string_view v) : value_(std::string(v)) {}      // NOLINT(google-explicit-constructor)
  PgParam(std::int64_t v) : value_(std::to_string(v)) {}       // NOLINT(google-explicit-constructor)
  PgParam(int v) : value_(std::to_string(v)) {}                // NOLINT(google-explicit-constructor)
  PgParam(bool v) : value_(v ? "true" : "false") {}            // NOLINT(google-explicit-constructor)
  PgParam(const std::optional<std::string>& v) : value_(v) {}  // NOLINT(google-explicit-constructor)
  const std::optional<std::string>& Value() const { return value_; }

 private:
  std::optional<std::string> value_;
};

class PgResult {
 public:
  explicit PgResult(pg_result* r) : r_(r) {}
  ~PgResult();
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&&) = delete;
  PgResult(const PgResult&) = delete;
  int Rows() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;  // "" for NULL
  std::int64_t Int(int row, int col) const;  // 0 for NULL; throws StoreError if not an integer
  std::int64_t Affected() const;             // rows an INSERT/UPDATE/DELETE touched

 private:
  pg_result* r_;
};

// A schema step: applied once, in version order (all pending steps in one transaction).
struct PgMigration {
  int version;
  const char* sql;
};

class PgDb {
 public:
  explicit PgDb(std::string url);  // connects at once; throws StoreError
  ~PgDb();
  PgDb(const PgDb&) = delete;
  PgDb& operator=(const PgDb&) = delete;

  PgResult Exec(std::string_view sql, std::initializer_list<PgParam> params = {});
  PgResult Exec(std::string_view sql, const std::vector<PgParam>& params);
  // A statement without parameters, possibly several separated by ';' (DDL, BEGIN, COMMIT).
  void Script(const char* sql);
  // Runs `fn` between BEGIN and COMMIT; an exception rolls back and propagates.
  template <class Fn>
  void Transaction(Fn&& fn) {
    Script("BEGIN");
    try {
      fn();
      Script("COMMIT");
    } catch (...) {
      RollbackQuietly();
      throw;
    }
  }
  // Applies the migrations this database has not seen yet (table schema_migrations), under an
  // advisory lock so that nodes starting together apply each one once. Returns how many it applied.
  int Migrate(const std::vector<PgMigration>& migrations);
  // The server's version number (e.g. 150018), for logs and tests.
  int ServerVersion() const;
  // The backend's process id (tests end it from another connection to simulate a broken link).
  int BackendPid() const;

 private:
  void Connect();
  void EnsureConnected();
  void RollbackQuietly();
  [[noreturn]] void Fail(pg_result* r, std::string_view what);
  PgResult Run(std::string_view sql, const PgParam* params, std::size_t count);

  std::string url_;
  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text → statement name
};

}  // namespace fg::store

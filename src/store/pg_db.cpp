#include "store/pg_db.hpp"

#include <libpq-fe.h>

#include <charconv>

namespace fg::store {

PgResult::~PgResult() {
  if (r_) PQclear(r_);
}

int PgResult::Rows() const {
  return PQntuples(r_);
}

bool PgResult::IsNull(int row, int col) const {
  return PQgetisnull(r_, row, col) != 0;
}

std::string PgResult::Text(int row, int col) const {
  if (IsNull(row, col)) return {};
  return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}

std::int64_t PgResult::Int(int row, int col) const {
  if (IsNull(row, col)) return 0;
  const char* v = PQgetvalue(r_, row, col);
  const char* end = v + PQgetlength(r_, row, col);
  std::int64_t out = 0;
  const auto [p, ec] = std::from_chars(v, end, out);
  if (ec != std::errc() || p != end) throw StoreError("postgres: column " + std::to_string(col) + " is not an integer");
  return out;
}

std::int64_t PgResult::Affected() const {
  const char* n = PQcmdTuples(r_);
  std::int64_t out = 0;
  if (n && *n) std::from_chars(n, n + std::char_traits<char>::length(n), out);
  return out;
}

PgDb::PgDb(std::string url) : url_(std::move(url)) {
  Connect();
}

PgDb::~PgDb() {
  if (conn_) PQfinish(conn_);
}

void PgDb::Connect() {
  if (conn_) PQfinish(conn_);
  prepared_.clear();  // statements belong to the connection
  conn_ = PQconnectdb(url_.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn_);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    PQfinish(conn_);
    conn_ = nullptr;
    throw StoreError("postgres: cannot connect: " + why);
  }
  // Quiet notices (e.g. "relation already exists, skipping") instead of libpq printing to stderr.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

void PgDb::EnsureConnected() {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) Connect();
}

void PgDb::Fail(pg_result* r, std::string_view what) {
  std::string why = r ? PQresultErrorMessage(r) : "";
  if (why.empty() && conn_) why = PQerrorMessage(conn_);
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  if (r) PQclear(r);
  throw StoreError("postgres: " + std::string(what) + ": " + why);
}

PgResult PgDb::Run(std::string_view sql, const PgParam* params, std::size_t count) {
  EnsureConnected();
  std::string key(sql);
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    std::string name = "fg" + std::to_string(prepared_.size() + 1);
    pg_result* r = PQprepare(conn_, name.c_str(), key.c_str(), 0, nullptr);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) Fail(r, "prepare");
    PQclear(r);
    it = prepared_.emplace(std::move(key), std::move(name)).first;
  }
  std::vector<const char*> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = params[i].Value() ? params[i].Value()->c_str() : nullptr;
  pg_result* r = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(count), values.data(), nullptr, nullptr, 0);
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) Fail(r, "statement");
  return PgResult(r);
}

PgResult PgDb::Exec(std::string_view sql, std::initializer_list<PgParam> params) {
  return Run(sql, params.begin(), params.size());
}

PgResult PgDb::Exec(std::string_view sql, const std::vector<PgParam>& params) {
  return Run(sql, params.data(), params.size());
}

void PgDb::Script(const char* sql) {
  EnsureConnected();
  pg_result* r = PQexec(conn_, sql);
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) Fail(r, "script");
  PQclear(r);
}

void PgDb::RollbackQuietly() {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) return;  // a broken link has no transaction left
  if (pg_result* r = PQexec(conn_, "ROLLBACK")) PQclear(r);
}

int PgDb::Migrate(const std::vector<PgMigration>& migrations) {
  int applied = 0;
  Transaction([&] {
    // One migrator at a time across every node (the lock ends with the transaction).
    Exec("SELECT pg_advisory_xact_lock(7468137)");
    Script(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
        "applied_at timestamptz NOT NULL DEFAULT now())");
    const auto done = Exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
    const std::int64_t current = done.Int(0, 0);
    for (const auto& m : migrations) {
      if (m.version <= current) continue;
      Script(m.sql);
      Exec("INSERT INTO schema_migrations(version) VALUES ($1)", {m.version});
      ++applied;
    }
  });
  return applied;
}

int PgDb::ServerVersion() const {
  return conn_ ? PQserverVersion(conn_) : 0;
}

int PgDb::BackendPid() const {
  return conn_ ? PQbackendPID(conn_) : 0;
}

}  // namespace fg::store

#include "store/sqlite_order_store.hpp"

#include <algorithm>
#include <chrono>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/metrics.hpp"

namespace fg::store {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS orders (
  order_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'created',
  fulfillment_status TEXT NOT NULL DEFAULT 'pending',
  currency TEXT NOT NULL DEFAULT 'USD',
  job_id TEXT NOT NULL DEFAULT '',
  job_progress INTEGER NOT NULL DEFAULT -1,
  error TEXT NOT NULL DEFAULT '',
  payment_status TEXT NOT NULL DEFAULT '',
  supplier_ref TEXT NOT NULL DEFAULT '',
  event_seq INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  order_number INTEGER NOT NULL DEFAULT 0,
  payment_json TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS order_items (
  item_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(order_id),
  product_id TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  key_ref TEXT NOT NULL DEFAULT '',
  key_type TEXT NOT NULL DEFAULT '',
  position INTEGER NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  unit_price TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS orders_user ON orders(user_id, created_at);
CREATE INDEX IF NOT EXISTS orders_number ON orders(order_number);
CREATE INDEX IF NOT EXISTS order_items_order ON order_items(order_id, position);
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  order_id TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  next_run_at_ms INTEGER NOT NULL,
  lease_until_ms INTEGER NOT NULL DEFAULT 0,
  progress INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  failure_permanent INTEGER NOT NULL DEFAULT 0,
  UNIQUE (queue, order_id));
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(queue, state, next_run_at_ms);
CREATE TABLE IF NOT EXISTS webhooks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  provider TEXT NOT NULL,
  event_type TEXT NOT NULL,
  external_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT NOT NULL,
  raw_body TEXT NOT NULL,
  body_sha256 TEXT NOT NULL DEFAULT '',
  body_size INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS webhooks_status ON webhooks(status, id);
CREATE TABLE IF NOT EXISTS event_log (
  pos INTEGER PRIMARY KEY,
  event TEXT NOT NULL,
  audience INTEGER NOT NULL,
  order_id TEXT NOT NULL,
  order_seq INTEGER NOT NULL,
  payload TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  owner_payload TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS event_log_order ON event_log(order_id, pos);
CREATE TABLE IF NOT EXISTS log_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recovery_sessions (
  pid TEXT PRIMARY KEY,
  sid TEXT NOT NULL,
  user_id TEXT NOT NULL,
  admin INTEGER NOT NULL,
  created_pos INTEGER NOT NULL,
  subscriptions TEXT NOT NULL,
  disconnected_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (
  provider TEXT NOT NULL,
  key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (provider, key));
)";

constexpr const char* kOrderColumns =
    "order_id, user_id, status, fulfillment_status, currency, job_id, job_progress, error, payment_status, "
    "supplier_ref, "
    "created_at, updated_at, order_number, payment_json";
OrderRow ReadOrder(const Statement& st) {
  OrderRow o;
  o.order_id = st.Text(0);
  o.user_id = st.Text(1);
  o.status = st.Text(2);
  o.fulfillment_status = st.Text(3);
  o.currency = st.Text(4);
  o.job_id = st.Text(5);
  o.job_progress = st.Int(6);
  o.error = st.Text(7);
  o.payment_status = st.Text(8);
  o.supplier_ref = st.Text(9);
  o.created_at = st.Text(10);
  o.updated_at = st.Text(11);
  o.number = st.Int(12);
  o.payment_json = st.Text(13);
  return o;
}

constexpr const char* kJobColumns =
    "job_id, queue, order_id, state, attempts, max_attempts, next_run_at_ms, lease_until_ms, progress, last_error, "
    "result, "
    "created_at, updated_at, failure_permanent";
JobRow ReadJob(const Statement& st) {
  JobRow j;
  j.job_id = st.Text(0);
  j.queue = st.Text(1);
  j.order_id = st.Text(2);
  j.state = st.Text(3);
  j.attempts = st.Int(4);
  j.max_attempts = st.Int(5);
  j.next_run_at_ms = st.Int(6);
  j.lease_until_ms = st.Int(7);
  j.progress = st.Int(8);
  j.last_error = st.Text(9);
  j.result = st.Text(10);
  j.created_at = st.Text(11);
  j.updated_at = st.Text(12);
  j.permanent = st.Int(13) != 0;
  return j;
}

// Runs `fn` between BEGIN IMMEDIATE and COMMIT; an exception rolls back and propagates. Every
// store call is one of these: their time is fg_store_call_duration_seconds.
template <class Fn>
void Atomically(SqliteDb& db, Fn&& fn) {
  struct Timed {
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~Timed() { metrics::M().store_calls.Observe(metrics::SecondsSince(start)); }
  } timed;
  db.Exec("BEGIN IMMEDIATE");
  try {
    fn();
    db.Exec("COMMIT");
  } catch (...) {
    try {
      db.Exec("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

std::string IsoFromMillis(std::int64_t ms) {
  return IsoTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

// No AUTOINCREMENT: the newest row is never pruned (PruneLog), so MAX(pos) only grows and a
// position is never issued twice.
std::int64_t LogHead(const SqliteDb& db) {
  Statement st(db, "SELECT IFNULL(MAX(pos), 0) FROM event_log");
  return st.Step() ? st.Int(0) : 0;
}
std::int64_t PrunedThrough(const SqliteDb& db) {
  Statement st(db, "SELECT value FROM log_meta WHERE key = 'pruned_through'");
  return st.Step() ? st.Int(0) : 0;
}

class SqliteTx : public Tx {
 public:
  SqliteTx(SqliteDb& db, std::uint64_t serial) : db_(db), serial_(serial) {}
  std::uint64_t Serial() const override { return serial_; }

  std::int64_t LogHead() override { return store::LogHead(db_); }
  std::int64_t TimelineSeq(const std::string& order_id) override {
    Statement st(db_, "SELECT event_seq FROM orders WHERE order_id = ?");
    st.Bind(1, order_id);
    return st.Step() ? st.Int(0) : 0;
  }
  std::vector<std::function<void()>> after_commit;
  void AfterCommit(std::function<void()> fn) override { after_commit.push_back(std::move(fn)); }
  void LogEvent(LogEntry& e, Timeline timeline) override {
    e.created_ms = UnixMillis();
    e.order_seq = 0;
    if (timeline != Timeline::kNone) {
      Statement st(db_, "UPDATE orders SET event_seq = event_seq + 1 WHERE order_id = ? RETURNING event_seq");
      st.Bind(1, e.order_id);
      if (st.Step()) {
        e.order_seq = st.Int(0);
      } else if (timeline == Timeline::kRequired) {
        throw StoreError("event for unknown order " + e.order_id);
      }
    }
    Statement st(db_,
                 "INSERT INTO event_log(event, audience, order_id, order_seq, payload, owner_id, owner_payload, "
                 "created_ms) VALUES(?,?,?,?,?,?,?,?) RETURNING pos");
    st.Bind(1, e.event).Bind(2, static_cast<std::int64_t>(e.audience)).Bind(3, e.order_id).Bind(4, e.order_seq);
    st.Bind(5, e.payload).Bind(6, e.owner_id).Bind(7, e.owner_payload).Bind(8, e.created_ms);
    if (!st.Step()) throw StoreError("event_log insert returned no position");
    e.pos = st.Int(0);
  }

  // order id → owner as this transaction read or wrote it, for the owner cache after COMMIT.
  std::vector<std::pair<std::string, std::string>> owners_seen;
  std::vector<std::string> missing_seen;  // ids looked up and not found

  std::optional<OrderRow> GetOrder(const std::string& id) override {
    Statement st(db_, (std::string("SELECT ") + kOrderColumns + " FROM orders WHERE order_id = ?").c_str());
    st.Bind(1, id);
    if (!st.Step()) {
      missing_seen.push_back(id);
      return std::nullopt;
    }
    auto row = ReadOrder(st);
    owners_seen.emplace_back(row.order_id, row.user_id);
    return row;
  }
  void InsertOrder(const OrderRow& o) override {
    Statement st(
        db_,
        "INSERT INTO orders(order_id, user_id, status, fulfillment_status, currency, job_id, job_progress, error, "
        "payment_status, supplier_ref, created_at, updated_at, payment_json, order_number) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?, (SELECT IFNULL(MAX(order_number), 0) + 1 FROM orders))");
    const std::string now = IsoTimestamp();
    st.Bind(1, o.order_id).Bind(2, o.user_id).Bind(3, o.status).Bind(4, o.fulfillment_status).Bind(5, o.currency);
    st.Bind(6, o.job_id).Bind(7, o.job_progress).Bind(8, o.error).Bind(9, o.payment_status).Bind(10, o.supplier_ref);
    st.Bind(11, o.created_at.empty() ? now : o.created_at).Bind(12, now).Bind(13, o.payment_json);
    st.Step();
    owners_seen.emplace_back(o.order_id, o.user_id);
  }
  void UpdateOrder(const OrderRow& o) override {
    Statement st(
        db_,
        "UPDATE orders SET user_id=?, status=?, fulfillment_status=?, currency=?, job_id=?, job_progress=?, error=?, "
        "payment_status=?, supplier_ref=?, updated_at=?, payment_json=? WHERE order_id=?");
    st.Bind(1, o.user_id).Bind(2, o.status).Bind(3, o.fulfillment_status).Bind(4, o.currency).Bind(5, o.job_id);
    st.Bind(6, o.job_progress)
        .Bind(7, o.error)
        .Bind(8, o.payment_status)
        .Bind(9, o.supplier_ref)
        .Bind(10, IsoTimestamp());
    st.Bind(11, o.payment_json).Bind(12, o.order_id);
    st.Step();
    if (db_.Changes() > 0) owners_seen.emplace_back(o.order_id, o.user_id);
  }
  std::vector<OrderRow> ListOrders(const std::string& user_id, std::int64_t limit) override {
    Statement st(db_, (std::string("SELECT ") + kOrderColumns +
                       " FROM orders WHERE (?1 = '' OR user_id = ?1) ORDER BY created_at DESC, rowid DESC LIMIT ?2")
                          .c_str());
    st.Bind(1, user_id).Bind(2, limit);
    std::vector<OrderRow> out;
    while (st.Step()) out.push_back(ReadOrder(st));
    return out;
  }
  std::vector<ItemRow> GetItems(const std::string& order_id) override {
    Statement st(
        db_,
        "SELECT item_id, order_id, product_id, quantity, status, key_ref, key_type, name, unit_price FROM order_items "
        "WHERE order_id = ? "
        "ORDER BY position");
    st.Bind(1, order_id);
    std::vector<ItemRow> out;
    while (st.Step())
      out.push_back(ItemRow{st.Text(0), st.Text(1), st.Text(2), st.Int(3), st.Text(4), st.Text(5), st.Text(6),
                            st.Text(7), st.Text(8)});
    return out;
  }
  void InsertItem(const ItemRow& i) override {
    Statement st(
        db_,
        "INSERT INTO order_items(item_id, order_id, product_id, quantity, status, key_ref, key_type, name, unit_price, "
        "position) VALUES(?,?,?,?,?,?,?,?,?, (SELECT COUNT(*) FROM order_items WHERE order_id = ?))");
    st.Bind(1, i.item_id)
        .Bind(2, i.order_id)
        .Bind(3, i.product_id)
        .Bind(4, i.quantity)
        .Bind(5, i.status)
        .Bind(6, i.key_ref);
    st.Bind(7, i.key_type).Bind(8, i.name).Bind(9, i.unit_price).Bind(10, i.order_id);
    st.Step();
  }
  void UpdateItem(const ItemRow& i) override {
    Statement st(db_, "UPDATE order_items SET status=?, key_ref=?, key_type=? WHERE item_id=?");
    st.Bind(1, i.status).Bind(2, i.key_ref).Bind(3, i.key_type).Bind(4, i.item_id);
    st.Step();
  }
  EventRow AppendEvent(const std::string& order_id, const std::string& event, const std::string& payload) override {
    LogEntry e;
    e.event = event;
    e.audience = kNotDelivered;
    e.order_id = order_id;
    e.payload = payload;
    LogEvent(e, Timeline::kRequired);
    return EventRow{order_id, e.order_seq, event, payload, IsoFromMillis(e.created_ms)};
  }
  std::vector<EventRow> Events(const std::string& order_id, std::int64_t after_seq, std::int64_t limit) override {
    // By seq, not pos: timelines carried over from the old order_events table (schema 2) have their
    // early entries at later positions.
    Statement st(db_,
                 "SELECT order_seq, event, payload, created_ms FROM event_log WHERE order_id = ? AND order_seq > ? "
                 "ORDER BY order_seq LIMIT ?");
    st.Bind(1, order_id).Bind(2, after_seq).Bind(3, limit);
    std::vector<EventRow> out;
    while (st.Step()) out.push_back(EventRow{order_id, st.Int(0), st.Text(1), st.Text(2), IsoFromMillis(st.Int(3))});
    return out;
  }
  std::optional<JobRow> GetJob(const std::string& job_id) override {
    Statement st(db_, (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE job_id = ?").c_str());
    st.Bind(1, job_id);
    if (!st.Step()) return std::nullopt;
    return ReadJob(st);
  }
  std::optional<JobRow> GetJobForOrder(const std::string& queue, const std::string& order_id) override {
    Statement st(db_, (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE queue = ? AND order_id = ?").c_str());
    st.Bind(1, queue).Bind(2, order_id);
    if (!st.Step()) return std::nullopt;
    return ReadJob(st);
  }
  void InsertJob(const JobRow& j) override {
    Statement st(db_,
                 "INSERT INTO jobs(job_id, queue, order_id, state, attempts, max_attempts, next_run_at_ms, "
                 "lease_until_ms, progress, "
                 "last_error, result, created_at, updated_at, failure_permanent) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    const std::string now = IsoTimestamp();
    st.Bind(1, j.job_id)
        .Bind(2, j.queue)
        .Bind(3, j.order_id)
        .Bind(4, j.state)
        .Bind(5, j.attempts)
        .Bind(6, j.max_attempts);
    st.Bind(7, j.next_run_at_ms)
        .Bind(8, j.lease_until_ms)
        .Bind(9, j.progress)
        .Bind(10, j.last_error)
        .Bind(11, j.result);
    st.Bind(12, now).Bind(13, now).Bind(14, static_cast<std::int64_t>(j.permanent));
    st.Step();
  }
  void UpdateJob(const JobRow& j) override {
    Statement st(db_,
                 "UPDATE jobs SET state=?, attempts=?, max_attempts=?, next_run_at_ms=?, lease_until_ms=?, progress=?, "
                 "last_error=?, "
                 "result=?, updated_at=?, failure_permanent=? WHERE job_id=?");
    st.Bind(1, j.state).Bind(2, j.attempts).Bind(3, j.max_attempts).Bind(4, j.next_run_at_ms).Bind(5, j.lease_until_ms);
    st.Bind(6, j.progress).Bind(7, j.last_error).Bind(8, j.result).Bind(9, IsoTimestamp());
    st.Bind(10, static_cast<std::int64_t>(j.permanent)).Bind(11, j.job_id);
    st.Step();
  }
  std::optional<JobRow> LeaseNextJob(const std::string& queue, std::int64_t now_ms, std::int64_t lease_ms) override {
    std::optional<JobRow> job;
    {
      Statement st(db_, (std::string("SELECT ") + kJobColumns +
                         " FROM jobs WHERE queue = ? AND ((state IN ('queued','retry') AND next_run_at_ms <= ?) OR "
                         "(state = 'running' AND lease_until_ms <= ?)) ORDER BY next_run_at_ms LIMIT 1")
                            .c_str());
      st.Bind(1, queue).Bind(2, now_ms).Bind(3, now_ms);
      if (!st.Step()) return std::nullopt;
      job = ReadJob(st);
    }
    job->state = "running";
    job->attempts += 1;
    job->lease_until_ms = now_ms + lease_ms;
    UpdateJob(*job);
    return job;
  }
  std::vector<JobRow> ListJobs(const std::optional<std::string>& state, std::int64_t limit) override {
    Statement st(db_, (std::string("SELECT ") + kJobColumns +
                       " FROM jobs WHERE (?1 IS NULL OR state = ?1) ORDER BY created_at DESC, job_id LIMIT ?2")
                          .c_str());
    st.Bind(1, state).Bind(2, limit);
    std::vector<JobRow> out;
    while (st.Step()) out.push_back(ReadJob(st));
    return out;
  }
  std::map<std::string, std::int64_t> CountJobs(const std::string& since) override {
    return CountBy("SELECT state, count(*) FROM jobs WHERE updated_at >= ? GROUP BY state", since);
  }
  std::map<std::string, std::int64_t> CountWebhooks(const std::string& since) override {
    return CountBy("SELECT status, count(*) FROM webhooks WHERE updated_at >= ? GROUP BY status", since);
  }
  std::int64_t InsertWebhook(const WebhookRow& w) override {
    Statement st(
        db_,
        "INSERT INTO webhooks(provider, event_type, external_id, order_id, status, error, raw_body, body_sha256, "
        "body_size, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?) RETURNING id");
    const std::string now = IsoTimestamp();
    st.Bind(1, w.provider).Bind(2, w.event_type).Bind(3, w.external_id).Bind(4, w.order_id).Bind(5, w.status);
    st.Bind(6, w.error).Bind(7, w.raw_body).Bind(8, w.body_sha256).Bind(9, w.body_size).Bind(10, now).Bind(11, now);
    st.Step();
    return st.Int(0);
  }
  void UpdateWebhook(const WebhookRow& w) override {
    Statement st(
        db_, "UPDATE webhooks SET status=?, error=?, order_id=?, event_type=?, external_id=?, updated_at=? WHERE id=?");
    st.Bind(1, w.status)
        .Bind(2, w.error)
        .Bind(3, w.order_id)
        .Bind(4, w.event_type)
        .Bind(5, w.external_id)
        .Bind(6, IsoTimestamp());
    st.Bind(7, w.id);
    st.Step();
  }
  void PruneFailedWebhooks(std::int64_t keep) override {
    Statement st(db_,
                 "DELETE FROM webhooks WHERE status = 'failed' AND id <= "
                 "(SELECT id FROM webhooks WHERE status = 'failed' ORDER BY id DESC LIMIT 1 OFFSET ?)");
    st.Bind(1, keep);
    st.Step();
  }
  bool RememberNotification(const std::string& provider, const std::string& key) override {
    Statement st(db_, "INSERT OR IGNORE INTO notifications(provider, key, created_at) VALUES(?,?,?)");
    st.Bind(1, provider).Bind(2, key).Bind(3, IsoTimestamp());
    st.Step();
    return db_.Changes() == 1;
  }

 private:
  std::map<std::string, std::int64_t> CountBy(const char* sql, const std::string& since) {
    Statement st(db_, sql);
    st.Bind(1, since);
    std::map<std::string, std::int64_t> out;
    while (st.Step()) out[st.Text(0)] = st.Int(1);
    return out;
  }
  SqliteDb& db_;
  std::uint64_t serial_;
};

}  // namespace

SqliteStore::SqliteStore(const std::string& path, std::size_t owner_cache_entries, std::size_t unknown_order_entries)
    : db_(path), owners_(owner_cache_entries, unknown_order_entries) {
  // Tables made by earlier versions get the columns added since (CREATE TABLE IF NOT EXISTS below
  // leaves an existing table as it is).
  const auto add_column = [this](const char* table, const char* column, const char* declaration) {
    Statement st(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    st.Bind(1, std::string(table));
    if (!st.Step()) return;  // a new database: the schema creates it whole
    Statement cols(db_, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
    cols.Bind(1, std::string(table)).Bind(2, std::string(column));
    if (!cols.Step())
      db_.Exec((std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + declaration).c_str());
  };
  add_column("webhooks", "body_sha256", "TEXT NOT NULL DEFAULT ''");  // schema 2
  add_column("webhooks", "body_size", "INTEGER NOT NULL DEFAULT 0");
  add_column("jobs", "failure_permanent", "INTEGER NOT NULL DEFAULT 0");  // schema 3
  add_column("orders", "order_number", "INTEGER NOT NULL DEFAULT 0");
  add_column("orders", "payment_json", "TEXT NOT NULL DEFAULT ''");
  add_column("order_items", "name", "TEXT NOT NULL DEFAULT ''");
  add_column("order_items", "unit_price", "TEXT NOT NULL DEFAULT ''");
  db_.Exec(kSchema);
  // Schema 2 kept order timelines in a table of their own (order_events) beside the delivery log:
  // its entries move into the log (those the log does not hold yet), as timeline entries that are
  // never replayed (pruned_through moves past them), and the table goes.
  bool old_timelines = false;
  {
    Statement st(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'order_events'");
    old_timelines = st.Step();
  }
  if (old_timelines) {
    Atomically(db_, [&] {
      db_.Exec(
          "INSERT INTO event_log(event, audience, order_id, order_seq, payload, owner_id, owner_payload, created_ms) "
          "SELECT oe.event, CASE oe.event WHEN 'key:revealed' THEN -1 ELSE 0 END, oe.order_id, oe.seq, oe.payload, "
          "'', '', CAST(ROUND((julianday(oe.created_at) - 2440587.5) * 86400000.0) AS INTEGER) "
          "FROM order_events oe WHERE NOT EXISTS "
          "(SELECT 1 FROM event_log l WHERE l.order_id = oe.order_id AND l.order_seq = oe.seq) "
          "ORDER BY oe.created_at, oe.order_id, oe.seq");
      db_.Exec(
          "INSERT OR REPLACE INTO log_meta(key, value) "
          "VALUES('pruned_through', (SELECT IFNULL(MAX(pos), 0) FROM event_log))");
      db_.Exec("DROP TABLE order_events");
    });
  }
  db_.Exec("PRAGMA user_version = 3");
}

std::optional<OrderRecord> SqliteStore::GetOrder(const std::string& order_id) {
  std::optional<OrderRecord> out;
  Transaction([&](Tx& tx) {
    if (auto o = tx.GetOrder(order_id))
      out = OrderRecord{o->order_id, o->user_id, o->status, o->created_at, o->updated_at};
  });
  return out;
}

void SqliteStore::Transaction(const std::function<void(Tx&)>& fn) {
  std::lock_guard lock(mutex_);
  const auto epoch = owners_.Epoch();
  SqliteTx tx(db_, ++tx_serial_);
  Atomically(db_, [&] { fn(tx); });
  for (const auto& order_id : tx.missing_seen) owners_.PutMissing(order_id, epoch);
  for (const auto& [order_id, user_id] : tx.owners_seen) owners_.Put(order_id, user_id, epoch);
  // Still under the lock: what this commit made visible leaves before the next commit's.
  for (auto& after : tx.after_commit) after();
}

namespace {
LogEntry ReadLogEntry(const Statement& st) {
  LogEntry e;
  e.pos = st.Int(0);
  e.event = st.Text(1);
  e.audience = static_cast<int>(st.Int(2));
  e.order_id = st.Text(3);
  e.order_seq = st.Int(4);
  e.payload = st.Text(5);
  e.owner_id = st.Text(6);
  e.owner_payload = st.Text(7);
  e.created_ms = st.Int(8);
  return e;
}
constexpr const char* kLogColumns =
    "pos, event, audience, order_id, order_seq, payload, owner_id, owner_payload, created_ms";
}  // namespace

std::vector<LogEntry> SqliteStore::ReadLog(std::int64_t after_pos,
                                           const std::optional<std::vector<std::string>>& orders, std::int64_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<LogEntry> out;
  if (!orders) {
    Statement st(db_, (std::string("SELECT ") + kLogColumns +
                       " FROM event_log WHERE pos > ? AND audience >= 0 ORDER BY pos LIMIT ?")
                          .c_str());
    st.Bind(1, after_pos).Bind(2, limit);
    while (st.Step()) out.push_back(ReadLogEntry(st));
    return out;
  }
  // Per order through the (order_id, pos) index, then merged by position.
  for (const auto& order_id : *orders) {
    Statement st(db_, (std::string("SELECT ") + kLogColumns +
                       " FROM event_log WHERE order_id = ? AND pos > ? AND audience >= 0 ORDER BY pos LIMIT ?")
                          .c_str());
    st.Bind(1, order_id).Bind(2, after_pos).Bind(3, limit);
    while (st.Step()) out.push_back(ReadLogEntry(st));
  }
  std::sort(out.begin(), out.end(), [](const LogEntry& a, const LogEntry& b) { return a.pos < b.pos; });
  if (static_cast<std::int64_t>(out.size()) > limit) out.resize(static_cast<std::size_t>(limit));
  return out;
}

EventLog::Bounds SqliteStore::LogBounds() {
  std::lock_guard lock(mutex_);
  return Bounds{PrunedThrough(db_), LogHead(db_)};
}

void SqliteStore::PruneLog(std::int64_t min_created_ms, std::int64_t max_entries) {
  std::lock_guard lock(mutex_);
  Atomically(db_, [&] {
    const std::int64_t pruned = PrunedThrough(db_);
    const std::int64_t head = LogHead(db_);
    std::int64_t cutoff = head - max_entries;  // beyond the newest max_entries
    {
      // Older than the window: everything before the first entry young enough (positions follow
      // commit order, and commit times grow with them).
      Statement st(db_, "SELECT pos FROM event_log WHERE pos > ? AND created_ms >= ? ORDER BY pos LIMIT 1");
      st.Bind(1, pruned).Bind(2, min_created_ms);
      cutoff = std::max(cutoff, st.Step() ? st.Int(0) - 1 : head);
    }
    cutoff = std::min(cutoff, head - 1);  // the newest row stays: MAX(pos) must never go back
    if (cutoff > pruned) {
      Statement del(db_, "DELETE FROM event_log WHERE pos > ? AND pos <= ? AND order_seq = 0");
      del.Bind(1, pruned).Bind(2, cutoff);
      del.Step();
      Statement meta(db_, "INSERT OR REPLACE INTO log_meta(key, value) VALUES('pruned_through', ?)");
      meta.Bind(1, cutoff);
      meta.Step();
    }
  });
}

void SqliteStore::SaveSession(const SessionRow& s) {
  std::lock_guard lock(mutex_);
  SaveSessionLocked(s);
}

void SqliteStore::WriteSessions(const std::vector<SessionWrite>& writes) {
  std::lock_guard lock(mutex_);
  Atomically(db_, [&] {
    for (const auto& w : writes) {
      if (w.row) {
        SaveSessionLocked(*w.row);
      } else {
        DeleteSessionLocked(w.pid);
      }
    }
  });
}

void SqliteStore::SaveSessionLocked(const SessionRow& s) {
  Statement st(db_,
               "INSERT OR REPLACE INTO recovery_sessions(pid, sid, user_id, admin, created_pos, subscriptions, "
               "disconnected_ms) VALUES(?,?,?,?,?,?,?)");
  st.Bind(1, s.pid).Bind(2, s.sid).Bind(3, s.user_id).Bind(4, static_cast<std::int64_t>(s.admin ? 1 : 0));
  st.Bind(5, s.created_pos).Bind(6, s.subscriptions_json).Bind(7, s.disconnected_ms);
  st.Step();
}

std::optional<SessionRow> SqliteStore::LoadSession(const std::string& pid) {
  std::lock_guard lock(mutex_);
  Statement st(db_,
               "SELECT pid, sid, user_id, admin, created_pos, subscriptions, disconnected_ms FROM recovery_sessions "
               "WHERE pid = ?");
  st.Bind(1, pid);
  if (!st.Step()) return std::nullopt;
  return SessionRow{st.Text(0), st.Text(1), st.Text(2), st.Int(3) != 0, st.Int(4), st.Text(5), st.Int(6), ""};
}

void SqliteStore::DeleteSession(const std::string& pid) {
  std::lock_guard lock(mutex_);
  DeleteSessionLocked(pid);
}

void SqliteStore::DeleteSessionLocked(const std::string& pid) {
  Statement st(db_, "DELETE FROM recovery_sessions WHERE pid = ?");
  st.Bind(1, pid);
  st.Step();
}

void SqliteStore::SettleSessions(std::int64_t now_ms, std::int64_t min_disconnected_ms) {
  std::lock_guard lock(mutex_);
  Statement connected(db_, "UPDATE recovery_sessions SET disconnected_ms = ? WHERE disconnected_ms = 0");
  connected.Bind(1, now_ms);
  connected.Step();
  Statement old(db_, "DELETE FROM recovery_sessions WHERE disconnected_ms < ?");
  old.Bind(1, min_disconnected_ms);
  old.Step();
}

void SqliteStore::PruneSessions(std::int64_t min_disconnected_ms) {
  std::lock_guard lock(mutex_);
  Statement old(db_, "DELETE FROM recovery_sessions WHERE disconnected_ms > 0 AND disconnected_ms < ?");
  old.Bind(1, min_disconnected_ms);
  old.Step();
}

}  // namespace fg::store

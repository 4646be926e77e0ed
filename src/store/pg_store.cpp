#include "store/pg_store.hpp"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/metrics.hpp"

namespace fg::store {
namespace {

// The SQLite schema (sqlite_order_store.cpp) in PostgreSQL's words. Timestamps stay ISO-8601 text
// as there, so both adapters hand the service the same strings.
constexpr const char* kSchema1 = R"(
CREATE TABLE orders (
  order_id text PRIMARY KEY,
  user_id text NOT NULL,
  status text NOT NULL DEFAULT 'created',
  fulfillment_status text NOT NULL DEFAULT 'pending',
  currency text NOT NULL DEFAULT 'USD',
  job_id text NOT NULL DEFAULT '',
  job_progress bigint NOT NULL DEFAULT -1,
  error text NOT NULL DEFAULT '',
  payment_status text NOT NULL DEFAULT '',
  supplier_ref text NOT NULL DEFAULT '',
  event_seq bigint NOT NULL DEFAULT 0,
  created_at text NOT NULL,
  updated_at text NOT NULL,
  order_number bigserial NOT NULL,
  payment_json text NOT NULL DEFAULT '');
CREATE TABLE order_items (
  item_id text PRIMARY KEY,
  order_id text NOT NULL REFERENCES orders(order_id),
  product_id text NOT NULL,
  quantity bigint NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  key_ref text NOT NULL DEFAULT '',
  key_type text NOT NULL DEFAULT '',
  position bigint NOT NULL,
  name text NOT NULL DEFAULT '',
  unit_price text NOT NULL DEFAULT '');
CREATE INDEX orders_user ON orders(user_id, created_at);
CREATE INDEX orders_number ON orders(order_number);
CREATE INDEX order_items_order ON order_items(order_id, position);
CREATE TABLE jobs (
  job_id text PRIMARY KEY,
  queue text NOT NULL,
  order_id text NOT NULL,
  state text NOT NULL,
  attempts bigint NOT NULL DEFAULT 0,
  max_attempts bigint NOT NULL,
  next_run_at_ms bigint NOT NULL,
  lease_until_ms bigint NOT NULL DEFAULT 0,
  progress bigint NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  result text NOT NULL DEFAULT '',
  created_at text NOT NULL,
  updated_at text NOT NULL,
  failure_permanent integer NOT NULL DEFAULT 0,
  UNIQUE (queue, order_id));
CREATE INDEX jobs_due ON jobs(queue, state, next_run_at_ms);
CREATE TABLE webhooks (
  id bigserial PRIMARY KEY,
  provider text NOT NULL,
  event_type text NOT NULL,
  external_id text NOT NULL,
  order_id text NOT NULL,
  status text NOT NULL,
  error text NOT NULL,
  raw_body text NOT NULL,
  body_sha256 text NOT NULL DEFAULT '',
  body_size bigint NOT NULL DEFAULT 0,
  created_at text NOT NULL,
  updated_at text NOT NULL);
CREATE INDEX webhooks_status ON webhooks(status, id);
CREATE TABLE event_log (
  pos bigint PRIMARY KEY,
  event text NOT NULL,
  audience integer NOT NULL,
  order_id text NOT NULL,
  order_seq bigint NOT NULL,
  payload text NOT NULL,
  owner_id text NOT NULL,
  owner_payload text NOT NULL,
  created_ms bigint NOT NULL);
CREATE INDEX event_log_order ON event_log(order_id, pos);
CREATE TABLE log_meta (
  key text PRIMARY KEY,
  value bigint NOT NULL);
INSERT INTO log_meta(key, value) VALUES ('head', 0), ('pruned_through', 0);
CREATE TABLE recovery_sessions (
  pid text PRIMARY KEY,
  sid text NOT NULL,
  user_id text NOT NULL,
  admin integer NOT NULL,
  created_pos bigint NOT NULL,
  subscriptions text NOT NULL,
  disconnected_ms bigint NOT NULL,
  node text NOT NULL DEFAULT '');
CREATE TABLE notifications (
  provider text NOT NULL,
  key text NOT NULL,
  created_at text NOT NULL,
  PRIMARY KEY (provider, key));
CREATE TABLE objects (
  name text PRIMARY KEY,
  bytes_b64 text NOT NULL);
)";

// The cluster's nodes as they last started: where a node's sessions are reached (cluster/session_router.hpp).
constexpr const char* kSchema2 = R"(
CREATE TABLE nodes (
  tag text PRIMARY KEY,
  node_id text NOT NULL,
  address text NOT NULL,
  seen_ms bigint NOT NULL);
)";

const std::vector<PgMigration>& Migrations() {
  static const std::vector<PgMigration> m{{1, kSchema1}, {2, kSchema2}};
  return m;
}

// Every write transaction of every node takes it (see pg_store.hpp).
constexpr const char* kWriterLock = "SELECT pg_advisory_xact_lock(7468138)";

constexpr const char* kOrderColumns =
    "order_id, user_id, status, fulfillment_status, currency, job_id, job_progress, error, payment_status, "
    "supplier_ref, created_at, updated_at, order_number, payment_json";
OrderRow ReadOrder(const PgResult& r, int i) {
  OrderRow o;
  o.order_id = r.Text(i, 0);
  o.user_id = r.Text(i, 1);
  o.status = r.Text(i, 2);
  o.fulfillment_status = r.Text(i, 3);
  o.currency = r.Text(i, 4);
  o.job_id = r.Text(i, 5);
  o.job_progress = r.Int(i, 6);
  o.error = r.Text(i, 7);
  o.payment_status = r.Text(i, 8);
  o.supplier_ref = r.Text(i, 9);
  o.created_at = r.Text(i, 10);
  o.updated_at = r.Text(i, 11);
  o.number = r.Int(i, 12);
  o.payment_json = r.Text(i, 13);
  return o;
}

constexpr const char* kJobColumns =
    "job_id, queue, order_id, state, attempts, max_attempts, next_run_at_ms, lease_until_ms, progress, last_error, "
    "result, created_at, updated_at, failure_permanent";
JobRow ReadJob(const PgResult& r, int i) {
  JobRow j;
  j.job_id = r.Text(i, 0);
  j.queue = r.Text(i, 1);
  j.order_id = r.Text(i, 2);
  j.state = r.Text(i, 3);
  j.attempts = r.Int(i, 4);
  j.max_attempts = r.Int(i, 5);
  j.next_run_at_ms = r.Int(i, 6);
  j.lease_until_ms = r.Int(i, 7);
  j.progress = r.Int(i, 8);
  j.last_error = r.Text(i, 9);
  j.result = r.Text(i, 10);
  j.created_at = r.Text(i, 11);
  j.updated_at = r.Text(i, 12);
  j.permanent = r.Int(i, 13) != 0;
  return j;
}

constexpr const char* kLogColumns =
    "pos, event, audience, order_id, order_seq, payload, owner_id, owner_payload, created_ms";
LogEntry ReadLogEntry(const PgResult& r, int i) {
  LogEntry e;
  e.pos = r.Int(i, 0);
  e.event = r.Text(i, 1);
  e.audience = static_cast<int>(r.Int(i, 2));
  e.order_id = r.Text(i, 3);
  e.order_seq = r.Int(i, 4);
  e.payload = r.Text(i, 5);
  e.owner_id = r.Text(i, 6);
  e.owner_payload = r.Text(i, 7);
  e.created_ms = r.Int(i, 8);
  return e;
}

std::string Sql(const char* head, const char* columns, const char* tail) {
  return std::string(head) + columns + tail;
}

std::string IsoFromMillis(std::int64_t ms) {
  return IsoTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

struct Timed {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  ~Timed() { metrics::M().store_calls.Observe(metrics::SecondsSince(start)); }
};

class PgTx : public Tx {
 public:
  PgTx(PgDb& db, std::uint64_t serial) : db_(db), serial_(serial) {}
  std::uint64_t Serial() const override { return serial_; }

  std::int64_t LogHead() override { return db_.Exec("SELECT value FROM log_meta WHERE key = 'head'").Int(0, 0); }
  std::int64_t TimelineSeq(const std::string& order_id) override {
    auto r = db_.Exec("SELECT event_seq FROM orders WHERE order_id = $1", {order_id});
    return r.Rows() ? r.Int(0, 0) : 0;
  }
  std::vector<std::function<void()>> after_commit;
  void AfterCommit(std::function<void()> fn) override { after_commit.push_back(std::move(fn)); }
  void LogEvent(LogEntry& e, Timeline timeline) override {
    e.created_ms = UnixMillis();
    e.order_seq = 0;
    if (timeline != Timeline::kNone) {
      auto r =
          db_.Exec("UPDATE orders SET event_seq = event_seq + 1 WHERE order_id = $1 RETURNING event_seq", {e.order_id});
      if (r.Rows()) {
        e.order_seq = r.Int(0, 0);
      } else if (timeline == Timeline::kRequired) {
        throw StoreError("event for unknown order " + e.order_id);
      }
    }
    e.pos = db_.Exec("UPDATE log_meta SET value = value + 1 WHERE key = 'head' RETURNING value").Int(0, 0);
    if (committed.lo == 0) committed.lo = e.pos;
    committed.hi = e.pos;
    committed.entries.push_back(e);
    db_.Exec(
        "INSERT INTO event_log(pos, event, audience, order_id, order_seq, payload, owner_id, owner_payload, "
        "created_ms) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        {e.pos, e.event, e.audience, e.order_id, e.order_seq, e.payload, e.owner_id, e.owner_payload, e.created_ms});
  }

  std::vector<std::pair<std::string, std::string>> owners_seen;
  std::vector<std::string> missing_seen;
  PgStore::Committed committed;                             // positions, entries and owner writes, for the commit feed
  std::unordered_map<std::string, std::string> read_owner;  // as this transaction read or wrote them

  std::optional<OrderRow> GetOrder(const std::string& id) override {
    auto r = db_.Exec(Sql("SELECT ", kOrderColumns, " FROM orders WHERE order_id = $1"), {id});
    if (!r.Rows()) {
      missing_seen.push_back(id);
      return std::nullopt;
    }
    auto row = ReadOrder(r, 0);
    owners_seen.emplace_back(row.order_id, row.user_id);
    read_owner[row.order_id] = row.user_id;
    return row;
  }
  void InsertOrder(const OrderRow& o) override {
    const std::string now = IsoTimestamp();
    db_.Exec(
        "INSERT INTO orders(order_id, user_id, status, fulfillment_status, currency, job_id, job_progress, error, "
        "payment_status, supplier_ref, created_at, updated_at, payment_json) "
        "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
        {o.order_id, o.user_id, o.status, o.fulfillment_status, o.currency, o.job_id, o.job_progress, o.error,
         o.payment_status, o.supplier_ref, o.created_at.empty() ? now : o.created_at, now, o.payment_json});
    owners_seen.emplace_back(o.order_id, o.user_id);
    committed.owners.emplace_back(o.order_id, o.user_id);
  }
  void UpdateOrder(const OrderRow& o) override {
    auto r = db_.Exec(
        "UPDATE orders SET user_id=$1, status=$2, fulfillment_status=$3, currency=$4, job_id=$5, job_progress=$6, "
        "error=$7, payment_status=$8, supplier_ref=$9, updated_at=$10, payment_json=$11 WHERE order_id=$12",
        {o.user_id, o.status, o.fulfillment_status, o.currency, o.job_id, o.job_progress, o.error, o.payment_status,
         o.supplier_ref, IsoTimestamp(), o.payment_json, o.order_id});
    if (r.Affected() > 0) {
      owners_seen.emplace_back(o.order_id, o.user_id);
      // Other nodes hear of a new owner only (a status change leaves their caches right).
      const auto before = read_owner.find(o.order_id);
      if (before == read_owner.end() || before->second != o.user_id)
        committed.owners.emplace_back(o.order_id, o.user_id);
      read_owner[o.order_id] = o.user_id;
    }
  }
  std::vector<OrderRow> ListOrders(const std::string& user_id, std::int64_t limit) override {
    auto r = db_.Exec(Sql("SELECT ", kOrderColumns,
                          " FROM orders WHERE ($1 = '' OR user_id = $1) ORDER BY created_at DESC, order_number DESC "
                          "LIMIT $2"),
                      {user_id, limit});
    std::vector<OrderRow> out;
    for (int i = 0; i < r.Rows(); ++i) out.push_back(ReadOrder(r, i));
    return out;
  }
  std::vector<ItemRow> GetItems(const std::string& order_id) override {
    auto r = db_.Exec(
        "SELECT item_id, order_id, product_id, quantity, status, key_ref, key_type, name, unit_price FROM order_items "
        "WHERE order_id = $1 ORDER BY position",
        {order_id});
    std::vector<ItemRow> out;
    for (int i = 0; i < r.Rows(); ++i)
      out.push_back(ItemRow{r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Int(i, 3), r.Text(i, 4), r.Text(i, 5),
                            r.Text(i, 6), r.Text(i, 7), r.Text(i, 8)});
    return out;
  }
  void InsertItem(const ItemRow& i) override {
    db_.Exec(
        "INSERT INTO order_items(item_id, order_id, product_id, quantity, status, key_ref, key_type, name, unit_price, "
        "position) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9, (SELECT count(*) FROM order_items WHERE order_id = $2))",
        {i.item_id, i.order_id, i.product_id, i.quantity, i.status, i.key_ref, i.key_type, i.name, i.unit_price});
  }
  void UpdateItem(const ItemRow& i) override {
    db_.Exec("UPDATE order_items SET status=$1, key_ref=$2, key_type=$3 WHERE item_id=$4",
             {i.status, i.key_ref, i.key_type, i.item_id});
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
    auto r = db_.Exec(
        "SELECT order_seq, event, payload, created_ms FROM event_log WHERE order_id = $1 AND order_seq > $2 "
        "ORDER BY order_seq LIMIT $3",
        {order_id, after_seq, limit});
    std::vector<EventRow> out;
    for (int i = 0; i < r.Rows(); ++i)
      out.push_back(EventRow{order_id, r.Int(i, 0), r.Text(i, 1), r.Text(i, 2), IsoFromMillis(r.Int(i, 3))});
    return out;
  }
  std::optional<JobRow> GetJob(const std::string& job_id) override {
    auto r = db_.Exec(Sql("SELECT ", kJobColumns, " FROM jobs WHERE job_id = $1"), {job_id});
    if (!r.Rows()) return std::nullopt;
    return ReadJob(r, 0);
  }
  std::optional<JobRow> GetJobForOrder(const std::string& queue, const std::string& order_id) override {
    auto r = db_.Exec(Sql("SELECT ", kJobColumns, " FROM jobs WHERE queue = $1 AND order_id = $2"), {queue, order_id});
    if (!r.Rows()) return std::nullopt;
    return ReadJob(r, 0);
  }
  void InsertJob(const JobRow& j) override {
    const std::string now = IsoTimestamp();
    db_.Exec(
        "INSERT INTO jobs(job_id, queue, order_id, state, attempts, max_attempts, next_run_at_ms, lease_until_ms, "
        "progress, last_error, result, created_at, updated_at, failure_permanent) "
        "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
        {j.job_id, j.queue, j.order_id, j.state, j.attempts, j.max_attempts, j.next_run_at_ms, j.lease_until_ms,
         j.progress, j.last_error, j.result, now, now, j.permanent ? 1 : 0});
    if (j.state == "queued" || j.state == "retry") committed.jobs = true;
  }
  void UpdateJob(const JobRow& j) override {
    db_.Exec(
        "UPDATE jobs SET state=$1, attempts=$2, max_attempts=$3, next_run_at_ms=$4, lease_until_ms=$5, progress=$6, "
        "last_error=$7, result=$8, updated_at=$9, failure_permanent=$10 WHERE job_id=$11",
        {j.state, j.attempts, j.max_attempts, j.next_run_at_ms, j.lease_until_ms, j.progress, j.last_error, j.result,
         IsoTimestamp(), j.permanent ? 1 : 0, j.job_id});
    if (j.state == "queued" || j.state == "retry") committed.jobs = true;
  }
  std::optional<JobRow> LeaseNextJob(const std::string& queue, std::int64_t now_ms, std::int64_t lease_ms) override {
    // Under the writer lock one node leases at a time; SKIP LOCKED keeps the statement right even
    // without it (a row another transaction holds is passed over, never waited for).
    auto r = db_.Exec(Sql("UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until_ms = $3, "
                          "updated_at = $4 WHERE job_id = (SELECT job_id FROM jobs WHERE queue = $1 AND "
                          "((state IN ('queued','retry') AND next_run_at_ms <= $2) OR "
                          "(state = 'running' AND lease_until_ms <= $2)) ORDER BY next_run_at_ms LIMIT 1 "
                          "FOR UPDATE SKIP LOCKED) RETURNING ",
                          kJobColumns, ""),
                      {queue, now_ms, now_ms + lease_ms, IsoTimestamp()});
    if (!r.Rows()) return std::nullopt;
    return ReadJob(r, 0);
  }
  std::vector<JobRow> ListJobs(const std::optional<std::string>& state, std::int64_t limit) override {
    auto r =
        db_.Exec(Sql("SELECT ", kJobColumns,
                     " FROM jobs WHERE ($1::text IS NULL OR state = $1) ORDER BY created_at DESC, job_id LIMIT $2"),
                 {state, limit});
    std::vector<JobRow> out;
    for (int i = 0; i < r.Rows(); ++i) out.push_back(ReadJob(r, i));
    return out;
  }
  std::map<std::string, std::int64_t> CountJobs(const std::string& since) override {
    return CountBy("SELECT state, count(*) FROM jobs WHERE updated_at >= $1 GROUP BY state", since);
  }
  std::map<std::string, std::int64_t> CountWebhooks(const std::string& since) override {
    return CountBy("SELECT status, count(*) FROM webhooks WHERE updated_at >= $1 GROUP BY status", since);
  }
  std::int64_t InsertWebhook(const WebhookRow& w) override {
    const std::string now = IsoTimestamp();
    return db_
        .Exec(
            "INSERT INTO webhooks(provider, event_type, external_id, order_id, status, error, raw_body, body_sha256, "
            "body_size, created_at, updated_at) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id",
            {w.provider, w.event_type, w.external_id, w.order_id, w.status, w.error, w.raw_body, w.body_sha256,
             w.body_size, now, now})
        .Int(0, 0);
  }
  void UpdateWebhook(const WebhookRow& w) override {
    db_.Exec(
        "UPDATE webhooks SET status=$1, error=$2, order_id=$3, event_type=$4, external_id=$5, updated_at=$6 WHERE "
        "id=$7",
        {w.status, w.error, w.order_id, w.event_type, w.external_id, IsoTimestamp(), w.id});
  }
  void PruneFailedWebhooks(std::int64_t keep) override {
    db_.Exec(
        "DELETE FROM webhooks WHERE status = 'failed' AND id <= "
        "(SELECT id FROM webhooks WHERE status = 'failed' ORDER BY id DESC LIMIT 1 OFFSET $1)",
        {keep});
  }
  bool RememberNotification(const std::string& provider, const std::string& key) override {
    return db_.Exec(
                  "INSERT INTO notifications(provider, key, created_at) VALUES($1,$2,$3) "
                  "ON CONFLICT DO NOTHING",
                  {provider, key, IsoTimestamp()})
               .Affected() == 1;
  }

 private:
  std::map<std::string, std::int64_t> CountBy(const char* sql, const std::string& since) {
    auto r = db_.Exec(sql, {since});
    std::map<std::string, std::int64_t> out;
    for (int i = 0; i < r.Rows(); ++i) out[r.Text(i, 0)] = r.Int(i, 1);
    return out;
  }
  PgDb& db_;
  std::uint64_t serial_;
};

}  // namespace

PgPool::PgPool(std::string url, std::size_t size) : url_(std::move(url)), size_(std::max<std::size_t>(1, size)) {}

PgPool::Lease::~Lease() {
  if (db_) pool_->Release(std::move(db_));
}

PgPool::Lease PgPool::Acquire() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    auto db = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(db));
  }
  ++open_;
  lock.unlock();
  try {
    return Lease(*this, std::make_unique<PgDb>(url_));
  } catch (...) {
    lock.lock();
    --open_;
    freed_.notify_one();
    throw;
  }
}

void PgPool::Release(std::unique_ptr<PgDb> db) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(db));
  }
  freed_.notify_one();
}

int PgStore::SchemaVersion() {
  return Migrations().back().version;
}

PgStore::PgStore(const std::string& url, std::string node_id, std::size_t pool_size, std::size_t owner_cache_entries,
                 std::size_t unknown_order_entries)
    : pool_(url, pool_size), node_id_(std::move(node_id)), owners_(owner_cache_entries, unknown_order_entries) {
  auto db = pool_.Acquire();
  db->Migrate(Migrations());
}

std::optional<OrderRecord> PgStore::GetOrder(const std::string& order_id) {
  Timed timed;
  const auto epoch = owners_.Epoch();
  auto db = pool_.Acquire();
  auto r =
      db->Exec("SELECT order_id, user_id, status, created_at, updated_at FROM orders WHERE order_id = $1", {order_id});
  if (!r.Rows()) {
    owners_.PutMissing(order_id, epoch);
    return std::nullopt;
  }
  OrderRecord o{r.Text(0, 0), r.Text(0, 1), r.Text(0, 2), r.Text(0, 3), r.Text(0, 4)};
  owners_.Put(o.order_id, o.user_id, epoch);
  return o;
}

void PgStore::Transaction(const std::function<void(Tx&)>& fn) {
  Timed timed;
  std::lock_guard lock(mutex_);
  const auto epoch = owners_.Epoch();
  auto db = pool_.Acquire();
  PgTx tx(*db, ++tx_serial_);
  db->Transaction([&] {
    db->Exec(kWriterLock);
    fn(tx);
  });
  for (const auto& order_id : tx.missing_seen) owners_.PutMissing(order_id, epoch);
  for (const auto& [order_id, user_id] : tx.owners_seen) owners_.Put(order_id, user_id, epoch);
  if (feed_ && (tx.committed.lo != 0 || !tx.committed.owners.empty() || tx.committed.jobs)) feed_(tx.committed);
  for (auto& after : tx.after_commit) after();
}

std::vector<LogEntry> PgStore::ReadLog(std::int64_t after_pos, const std::optional<std::vector<std::string>>& orders,
                                       std::int64_t limit) {
  Timed timed;
  auto db = pool_.Acquire();
  std::vector<LogEntry> out;
  if (!orders) {
    auto r =
        db->Exec(Sql("SELECT ", kLogColumns, " FROM event_log WHERE pos > $1 AND audience >= 0 ORDER BY pos LIMIT $2"),
                 {after_pos, limit});
    for (int i = 0; i < r.Rows(); ++i) out.push_back(ReadLogEntry(r, i));
    return out;
  }
  // One statement for every order (the index on (order_id, pos) serves each), in one snapshot.
  std::string list = "{";
  for (std::size_t i = 0; i < orders->size(); ++i) {
    if (i) list += ',';
    list += '"';
    for (char c : (*orders)[i]) {
      if (c == '"' || c == '\\') list += '\\';
      list += c;
    }
    list += '"';
  }
  list += '}';
  auto r = db->Exec(Sql("SELECT ", kLogColumns,
                        " FROM event_log WHERE order_id = ANY($1::text[]) AND pos > $2 AND audience >= 0 "
                        "ORDER BY pos LIMIT $3"),
                    {list, after_pos, limit});
  for (int i = 0; i < r.Rows(); ++i) out.push_back(ReadLogEntry(r, i));
  return out;
}

EventLog::Bounds PgStore::LogBounds() {
  auto db = pool_.Acquire();
  auto r = db->Exec("SELECT key, value FROM log_meta WHERE key IN ('head', 'pruned_through')");
  Bounds b;
  for (int i = 0; i < r.Rows(); ++i) (r.Text(i, 0) == "head" ? b.head : b.pruned_through) = r.Int(i, 1);
  return b;
}

void PgStore::PruneLog(std::int64_t min_created_ms, std::int64_t max_entries) {
  Timed timed;
  auto db = pool_.Acquire();
  db->Transaction([&] {
    // Against a concurrent prune on another node: one at a time (appends are not held up).
    auto meta = db->Exec("SELECT value FROM log_meta WHERE key = 'pruned_through' FOR UPDATE");
    const std::int64_t pruned = meta.Int(0, 0);
    const std::int64_t head = db->Exec("SELECT value FROM log_meta WHERE key = 'head'").Int(0, 0);
    std::int64_t cutoff = head - max_entries;
    auto young = db->Exec("SELECT pos FROM event_log WHERE pos > $1 AND created_ms >= $2 ORDER BY pos LIMIT 1",
                          {pruned, min_created_ms});
    cutoff = std::max(cutoff, young.Rows() ? young.Int(0, 0) - 1 : head);
    cutoff = std::min(cutoff, head - 1);  // the newest entry stays, as in SQLite
    if (cutoff > pruned) {
      db->Exec("DELETE FROM event_log WHERE pos > $1 AND pos <= $2 AND order_seq = 0", {pruned, cutoff});
      db->Exec("UPDATE log_meta SET value = $1 WHERE key = 'pruned_through'", {cutoff});
    }
  });
}

namespace {
void SaveSessionOn(PgDb& db, const SessionRow& s, const std::string& node) {
  db.Exec(
      "INSERT INTO recovery_sessions(pid, sid, user_id, admin, created_pos, subscriptions, disconnected_ms, node) "
      "VALUES($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (pid) DO UPDATE SET sid = excluded.sid, user_id = excluded.user_id, "
      "admin = excluded.admin, created_pos = excluded.created_pos, subscriptions = excluded.subscriptions, "
      "disconnected_ms = excluded.disconnected_ms, node = excluded.node",
      {s.pid, s.sid, s.user_id, s.admin ? 1 : 0, s.created_pos, s.subscriptions_json, s.disconnected_ms, node});
}
}  // namespace

void PgStore::SaveSession(const SessionRow& s) {
  auto db = pool_.Acquire();
  SaveSessionOn(*db, s, node_id_);
}

void PgStore::WriteSessions(const std::vector<SessionWrite>& writes) {
  Timed timed;
  auto db = pool_.Acquire();
  db->Transaction([&] {
    for (const auto& w : writes) {
      if (w.row) {
        SaveSessionOn(*db, *w.row, node_id_);
      } else {
        db->Exec("DELETE FROM recovery_sessions WHERE pid = $1", {w.pid});
      }
    }
  });
}

std::optional<SessionRow> PgStore::LoadSession(const std::string& pid) {
  auto db = pool_.Acquire();
  auto r = db->Exec(
      "SELECT pid, sid, user_id, admin, created_pos, subscriptions, disconnected_ms, node FROM recovery_sessions "
      "WHERE pid = $1",
      {pid});
  if (!r.Rows()) return std::nullopt;
  return SessionRow{r.Text(0, 0), r.Text(0, 1), r.Text(0, 2), r.Int(0, 3) != 0,
                    r.Int(0, 4),  r.Text(0, 5), r.Int(0, 6),  r.Text(0, 7)};
}

void PgStore::DeleteSession(const std::string& pid) {
  auto db = pool_.Acquire();
  db->Exec("DELETE FROM recovery_sessions WHERE pid = $1", {pid});
}

void PgStore::SettleSessions(std::int64_t now_ms, std::int64_t min_disconnected_ms) {
  auto db = pool_.Acquire();
  // Only this node's: the sessions of the other nodes are theirs, connected or not.
  db->Exec("UPDATE recovery_sessions SET disconnected_ms = $1 WHERE disconnected_ms = 0 AND node = $2",
           {now_ms, node_id_});
  db->Exec("DELETE FROM recovery_sessions WHERE disconnected_ms > 0 AND disconnected_ms < $1", {min_disconnected_ms});
}

void PgStore::PruneSessions(std::int64_t min_disconnected_ms) {
  auto db = pool_.Acquire();
  db->Exec("DELETE FROM recovery_sessions WHERE disconnected_ms > 0 AND disconnected_ms < $1", {min_disconnected_ms});
  // Sessions a dead node left "connected" (it never saw its clients go): recoverable on any node
  // until that node has been silent for the window, then gone.
  db->Exec(
      "DELETE FROM recovery_sessions WHERE disconnected_ms = 0 AND node <> $2 AND node IN "
      "(SELECT node_id FROM nodes WHERE seen_ms < $1)",
      {min_disconnected_ms, node_id_});
}

}  // namespace fg::store

namespace fg::store {

void PgStore::PutObject(const std::string& name, const std::string& bytes) {
  Timed timed;
  auto db = pool_.Acquire();
  db->Exec("INSERT INTO objects(name, bytes_b64) VALUES($1, $2) ON CONFLICT (name) DO UPDATE SET bytes_b64 = $2",
           {name, Base64Encode(bytes)});
}

std::optional<std::string> PgStore::GetObject(const std::string& name) {
  Timed timed;
  auto db = pool_.Acquire();
  auto r = db->Exec("SELECT bytes_b64 FROM objects WHERE name = $1", {name});
  if (!r.Rows()) return std::nullopt;
  auto bytes = Base64Decode(r.Text(0, 0));
  if (!bytes) throw StoreError("object " + name + " is not valid base64");
  return bytes;
}

void PgStore::RegisterNode(const std::string& tag, const std::string& node_id, const std::string& address) {
  auto db = pool_.Acquire();
  db->Exec(
      "INSERT INTO nodes(tag, node_id, address, seen_ms) VALUES($1, $2, $3, $4) ON CONFLICT (tag) DO UPDATE SET "
      "node_id = $2, address = $3, seen_ms = $4",
      {tag, node_id, address, UnixMillis()});
}

void PgStore::TouchNode(const std::string& tag) {
  auto db = pool_.Acquire();
  db->Exec("UPDATE nodes SET seen_ms = $2 WHERE tag = $1", {tag, UnixMillis()});
}

std::optional<std::string> PgStore::NodeAddress(const std::string& tag) {
  auto db = pool_.Acquire();
  auto r = db->Exec("SELECT address FROM nodes WHERE tag = $1", {tag});
  if (!r.Rows()) return std::nullopt;
  return r.Text(0, 0);
}

}  // namespace fg::store

#include "cluster/batch_codec.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace fg::cluster {
namespace json = boost::json;

namespace {
std::string Str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (!v->is_string()) throw std::invalid_argument("field " + std::string(key) + " is not a string");
  return std::string(v->as_string());
}
std::int64_t Int(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return 0;
  if (!v->is_int64()) throw std::invalid_argument("field " + std::string(key) + " is not an integer");
  return v->as_int64();
}
}  // namespace

std::string EncodeCommit(const CommitMessage& m) {
  json::array entries;
  for (const auto& e : m.batch.entries) {
    json::object o{{"p", e.pos},       {"ev", e.event},  {"a", e.audience},  {"o", e.order_id},
                   {"s", e.order_seq}, {"d", e.payload}, {"t", e.created_ms}};
    if (!e.owner_id.empty()) {
      o["ow"] = e.owner_id;
      o["od"] = e.owner_payload;
    }
    entries.push_back(std::move(o));
  }
  json::array owners;
  for (const auto& [order, owner] : m.owners) owners.push_back(json::array{json::string(order), json::string(owner)});
  json::object out{
      {"n", m.node}, {"lo", m.batch.lo}, {"hi", m.batch.hi}, {"e", std::move(entries)}, {"own", std::move(owners)}};
  if (m.jobs) out["j"] = true;
  if (m.ack != 0) out["ack"] = m.ack;
  return json::serialize(out);
}

CommitMessage DecodeCommit(std::string_view text) {
  json::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) throw std::invalid_argument("not a JSON object");
  const auto& o = v.as_object();
  CommitMessage d;
  d.node = Str(o, "n");
  d.batch.lo = Int(o, "lo");
  d.batch.hi = Int(o, "hi");
  if (d.batch.lo < 0 || d.batch.hi < d.batch.lo) throw std::invalid_argument("bad position range");
  if (const auto* es = o.if_contains("e")) {
    if (!es->is_array()) throw std::invalid_argument("entries are not an array");
    std::int64_t last = d.batch.lo - 1;
    for (const auto& ev : es->as_array()) {
      if (!ev.is_object()) throw std::invalid_argument("an entry is not an object");
      const auto& eo = ev.as_object();
      store::LogEntry e;
      e.pos = Int(eo, "p");
      if (e.pos <= last || e.pos > d.batch.hi) throw std::invalid_argument("entry position out of order or range");
      last = e.pos;
      e.event = Str(eo, "ev");
      e.audience = static_cast<int>(Int(eo, "a"));
      if (e.audience < 0) throw std::invalid_argument("undelivered entry in a batch");
      e.order_id = Str(eo, "o");
      e.order_seq = Int(eo, "s");
      e.payload = Str(eo, "d");
      e.created_ms = Int(eo, "t");
      e.owner_id = Str(eo, "ow");
      e.owner_payload = Str(eo, "od");
      if (e.owner_id.empty() && !e.owner_payload.empty()) throw std::invalid_argument("an owner payload without owner");
      d.batch.entries.push_back(std::move(e));
    }
  }
  if (const auto* j = o.if_contains("j")) {
    if (!j->is_bool()) throw std::invalid_argument("field j is not a boolean");
    d.jobs = j->as_bool();
  }
  if (const auto* ack = o.if_contains("ack")) {
    if (!ack->is_uint64() && !(ack->is_int64() && ack->as_int64() > 0))
      throw std::invalid_argument("field ack is not a positive integer");
    d.ack = ack->to_number<std::uint64_t>();
    if (d.ack == 0) throw std::invalid_argument("field ack is not a positive integer");
  }
  if (const auto* own = o.if_contains("own")) {
    if (!own->is_array()) throw std::invalid_argument("owners are not an array");
    for (const auto& pair : own->as_array()) {
      if (!pair.is_array() || pair.as_array().size() != 2 || !pair.as_array()[0].is_string() ||
          !pair.as_array()[1].is_string())
        throw std::invalid_argument("an owner is not [order, user]");
      d.owners.emplace_back(std::string(pair.as_array()[0].as_string()), std::string(pair.as_array()[1].as_string()));
    }
  }
  return d;
}

}  // namespace fg::cluster

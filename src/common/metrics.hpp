// The process's Prometheus metrics (prometheus-cpp core): one registry, like the default
// registerer of Prometheus's Go and Python clients, that every layer records into and that
// `GET /metrics` serializes. Names, labels and meanings: docs/operations.md.
//
// Hot paths hold pointers to their metrics, resolved once (a labelled Add() is a map lookup under
// the family's lock); a Counter::Increment is one atomic add. Label values are bounded sets:
// route patterns, event names, error codes, outcomes — never ids, addresses or free text.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace fg::metrics {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

class Metrics {
 public:
  static Metrics& Get();

 private:
  Metrics();
  std::shared_ptr<prometheus::Registry> registry_;  // first: every member below registers in it

 public:
  // The exposition text (format 0.0.4) of everything registered.
  std::string Serialize() const;

  // Sockets: connections{transport,role} and subscriptions, send_queue_bytes are gauges set
  // when /metrics is read (gathered from the loops' shards).
  Family<Gauge>& connections;
  Gauge& subscriptions;
  Gauge& send_queue_bytes;
  Family<Counter>& handshakes;      // {layer="engineio|socketio|tls", result="ok|<code>"}
  Family<Counter>& slow_consumers;  // {transport}
  // Events
  Family<Counter>& events_published;  // {event}
  Counter& deliveries;
  Family<Histogram>& publish_to_write;  // {event}, seconds
  // HTTP API
  Family<Counter>& http_requests;  // {route (pattern), method, status}
  Family<Counter>& ipns;           // {provider, outcome}
  // Jobs
  Family<Gauge>& jobs;                // {state}, set when /metrics is read
  Family<Counter>& jobs_finished;     // {outcome="succeeded|retried|failed|stopped"}
  Histogram& job_duration;            // seconds, one attempt
  Family<Histogram>& supplier_calls;  // {operation}, seconds
  Family<Counter>& supplier_errors;   // {operation, kind}
  // Store and loops
  Histogram& store_calls;            // seconds, one store transaction
  Family<Gauge>& loop_lag;           // {loop}, seconds, the last sample
  Family<Histogram>& loop_lag_hist;  // {loop}, seconds
  // Limits
  Family<Counter>& rate_limited;  // {kind="socket_event|api_key|api_user"}
  Counter& rate_limit_disconnects;
  // Cluster (REDIS_URL)
  Gauge& cluster_redis_up;            // 1 while subscribed
  Family<Counter>& cluster_messages;  // {outcome="published|received|dropped"}
  Counter& cluster_gap_fills;         // reads of the log from the store after a gap
  Counter& cluster_filled_events;     // events delivered from those reads
  Family<Counter>& cluster_forwards;  // {kind="poll|websocket", outcome="forwarded|failed"}
  Counter& cluster_node_lookups;      // store reads of a sid tag no node announced
  Family<Counter>& cluster_owner_waits;  // {outcome="acknowledged|timeout|unpublished"}
  Family<Counter>& emitter_messages;     // {outcome="logged|not_logged|invalid|unsupported"}
  Gauge& emitter_lease;                  // 1 while this node takes the emitter's messages into the log

  // Latency buckets, seconds: 50 µs … 10 s.
  static const Histogram::BucketBoundaries& LatencyBuckets();
};

inline Metrics& M() {
  return Metrics::Get();
}

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace fg::metrics

#include "common/metrics.hpp"

#include <prometheus/text_serializer.h>

namespace fg::metrics {

namespace {
using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Registry;

Family<Counter>& C(Registry& r, const char* name, const char* help) {
  return BuildCounter().Name(name).Help(help).Register(r);
}
Family<Gauge>& G(Registry& r, const char* name, const char* help) {
  return BuildGauge().Name(name).Help(help).Register(r);
}
Family<Histogram>& H(Registry& r, const char* name, const char* help) {
  return BuildHistogram().Name(name).Help(help).Register(r);
}
}  // namespace

const Histogram::BucketBoundaries& Metrics::LatencyBuckets() {
  static const Histogram::BucketBoundaries b{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
  return b;
}

Metrics& Metrics::Get() {
  static Metrics m;
  return m;
}

Metrics::Metrics()
    : registry_(std::make_shared<Registry>()),
      connections(G(*registry_, "fg_connections", "Connected /fulfillment sockets by transport and role")),
      subscriptions(G(*registry_, "fg_subscriptions", "Order subscriptions held by connected sockets").Add({})),
      send_queue_bytes(
          G(*registry_, "fg_send_queue_bytes", "Bytes queued for connected sockets, not yet written").Add({})),
      handshakes(C(*registry_, "fg_handshakes_total",
                   "Engine.IO session opens and Socket.IO /fulfillment CONNECTs by result (ok or the refusal code)")),
      slow_consumers(C(*registry_, "fg_slow_consumer_disconnects_total",
                       "Sockets closed because they did not read what was sent to them")),
      events_published(C(*registry_, "fg_events_published_total", "Events published (API, fulfilment flow) by name")),
      deliveries(C(*registry_, "fg_deliveries_total", "Event frames handed to a socket's transport").Add({})),
      publish_to_write(H(*registry_, "fg_publish_to_write_seconds",
                         "From an event's publish to its frame handed to the transports of a loop's recipients")),
      http_requests(C(*registry_, "fg_http_requests_total", "HTTP API requests by route pattern and status")),
      ipns(C(*registry_, "fg_ipn_total", "Payment and supplier webhooks by provider and outcome")),
      jobs(G(*registry_, "fg_jobs", "Fulfilment jobs in the store by state")),
      jobs_finished(C(*registry_, "fg_job_attempts_total", "Fulfilment job attempts by outcome")),
      job_duration(
          H(*registry_, "fg_job_duration_seconds", "Duration of one fulfilment job attempt").Add({}, LatencyBuckets())),
      supplier_calls(H(*registry_, "fg_supplier_request_duration_seconds", "Supplier API calls by operation")),
      supplier_errors(C(*registry_, "fg_supplier_errors_total", "Failed supplier API calls by operation and kind")),
      store_calls(
          H(*registry_, "fg_store_call_duration_seconds", "Time of one store transaction, BEGIN to COMMIT or ROLLBACK")
              .Add({}, LatencyBuckets())),
      loop_lag(G(*registry_, "fg_event_loop_lag_seconds", "How late the last timer of each event loop fired")),
      loop_lag_hist(H(*registry_, "fg_event_loop_lag_distribution_seconds", "How late event-loop timers fire")),
      rate_limited(C(*registry_, "fg_rate_limited_total", "Requests and socket events refused by a per-client limit")),
      rate_limit_disconnects(C(*registry_, "fg_rate_limit_disconnects_total",
                               "Sockets disconnected for exceeding their event rate persistently")
                                 .Add({})),
      cluster_redis_up(
          G(*registry_, "fg_cluster_redis_up", "1 while this node is subscribed to Redis (cluster mode)").Add({})),
      cluster_messages(
          C(*registry_, "fg_cluster_messages_total",
            "Messages between nodes through Redis: published, received, dropped (Redis away or queue full)")),
      cluster_gap_fills(C(*registry_, "fg_cluster_gap_fills_total",
                          "Reads of the delivery log from the store to fill a gap (a missed Redis message)")
                            .Add({})),
      cluster_filled_events(C(*registry_, "fg_cluster_filled_events_total",
                              "Events delivered from the store instead of Redis (gap fills)")
                                .Add({})),
      cluster_forwards(C(*registry_, "fg_cluster_forwards_total",
                         "Requests for a session held by another node, sent on to it (polls; WebSocket tunnels)")),
      cluster_node_lookups(C(*registry_, "fg_cluster_node_lookups_total",
                             "Store reads of a session id's node tag that no node announced (rate-limited)")
                               .Add({})),
      cluster_owner_waits(
          C(*registry_, "fg_cluster_owner_waits_total",
            "Owner changes written here, by how the wait for every node to forget the old owner ended")),
      emitter_messages(C(*registry_, "fg_emitter_messages_total",
                         "Messages of @socket.io/redis-emitter taken by this node, by outcome")),
      emitter_lease(G(*registry_, "fg_emitter_lease",
                      "1 while this node holds the lease to take @socket.io/redis-emitter messages into the log")
                        .Add({})) {
  // The series whose labels are known up front exist from the start (at 0), so rates and alerts
  // work before the first event; the others appear with their first label value.
  for (const char* transport : {"polling", "websocket"}) {
    for (const char* role : {"user", "admin"}) connections.Add({{"transport", transport}, {"role", role}});
    slow_consumers.Add({{"transport", transport}});
  }
  for (const char* layer : {"engineio", "socketio"}) handshakes.Add({{"layer", layer}, {"result", "ok"}});
  for (const char* state : {"queued", "running", "retry", "completed", "failed"}) jobs.Add({{"state", state}});
  for (const char* outcome : {"succeeded", "retried", "failed", "stopped"}) jobs_finished.Add({{"outcome", outcome}});
  for (const char* op : {"place_order", "get_keys"}) supplier_calls.Add({{"operation", op}}, LatencyBuckets());
  for (const char* kind : {"socket_event", "api_key", "api_user"}) rate_limited.Add({{"kind", kind}});
  for (const char* outcome : {"published", "received", "dropped"}) cluster_messages.Add({{"outcome", outcome}});
  for (const char* outcome : {"acknowledged", "timeout", "unpublished"})
    cluster_owner_waits.Add({{"outcome", outcome}});
  for (const char* outcome : {"logged", "not_logged", "invalid", "unsupported"})
    emitter_messages.Add({{"outcome", outcome}});
  for (const char* kind : {"poll", "websocket"})
    for (const char* outcome : {"forwarded", "failed"}) cluster_forwards.Add({{"kind", kind}, {"outcome", outcome}});
  for (const char* outcome : {"processed", "duplicate", "ignored", "invalid_signature", "invalid_body"})
    ipns.Add({{"provider", "nowpayments"}, {"outcome", outcome}});
  for (const char* outcome : {"recorded", "invalid_secret"}) ipns.Add({{"provider", "kinguin"}, {"outcome", outcome}});
  for (const char* op : {"place_order", "get_keys"}) {
    for (const char* kind : {"timeout", "network"}) supplier_errors.Add({{"operation", op}, {"kind", kind}});
  }
}

std::string Metrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace fg::metrics

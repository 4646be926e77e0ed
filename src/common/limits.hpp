// Every bound the gateway enforces on network input and per-connection state, in one place.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace fg {

struct Limits {
  // Engine.IO maxPayload: largest polling POST body and largest WebSocket message (1 MB, Node's default).
  std::size_t max_payload = 1'000'000;
  // REST request bodies (publish API, order registration). Events fan out to many sockets: keep them small.
  std::size_t max_api_body = 1'000'000;
  // Request line + headers; browsers send ~1-2 KiB, 16 KiB leaves room for large cookies.
  std::size_t max_header_bytes = 16 * 1024;
  // Bytes queued for one connection before it is treated as a slow consumer and disconnected.
  std::size_t max_send_queue_bytes = 4 * 1024 * 1024;
  // Frames a loop collects for its combined write pass before flushing inline (16 bytes each):
  // bounds the memory of one huge batch publish; ordinary broadcasts stay far below it.
  std::size_t max_combined_frames = 1 << 18;
  // Order subscriptions per socket: a shopper watches a handful; bounds index growth per socket.
  std::size_t max_subscriptions_per_socket = 256;
  // Order ids are opaque strings; anything longer is certainly not ours.
  std::size_t max_order_id_length = 128;
  // Open Engine.IO sessions (WebSocket and polling). Polling sessions hold no socket between
  // requests, so without this bound handshakes alone could pile up memory for 45 s each.
  std::size_t max_sessions = 100'000;
  // Read timeout while a response is pending (a long-poll GET is held up to pingInterval; the
  // read notices an aborted poll). Must exceed the ping interval.
  std::chrono::seconds http_idle_timeout{60};
  // A connection with no response pending must deliver a complete request header within this
  // (it also closes idle keep-alive connections): slow or silent clients do not hold fds.
  std::chrono::seconds header_timeout{10};
  // ...and then its body within this.
  std::chrono::seconds body_timeout{30};
  // Provider webhook bodies (IPNs are ~1 KiB): bounds the signature work an anonymous caller causes.
  std::size_t max_webhook_body = 64 * 1024;
  // Bytes of request bodies still arriving, over all connections (reserved from Content-Length, or
  // the body limit when chunked). Past it new bodies get 503: 600 half-sent 1 MB bodies cannot
  // pin 600 MB.
  std::size_t max_inflight_body_bytes = 64 * 1024 * 1024;
  // Open TCP connections (HTTP and WebSocket). 0: the open-files limit minus 256 (fds for the
  // database, key files, the supplier and accept back-off). Past it the oldest connection that has
  // not sent a request yet is closed to make room, else the new one is.
  std::size_t max_connections = 0;
  // Of max_connections, kept for health checks and the REST API: Engine.IO handshakes and upgrades
  // are refused (503) once fewer than this many remain.
  std::size_t connection_reserve = 64;
  // Open TCP connections from one client address. High enough for a large NAT or a 20k-client load
  // test from one address; the global bound and idle eviction protect the process below it.
  std::size_t max_connections_per_ip = 20'000;
  // Engine.IO sessions from one client address (joined or not).
  std::size_t max_sessions_per_ip = 20'000;
  // Sessions that have not yet joined a namespace (anonymous, unauthenticated). When full, the
  // oldest such session is closed to make room: a client that joins within the round trip it takes
  // is never locked out by a flood of handshakes.
  std::size_t max_pending_sessions = 10'000;
  // ...from one client address (its own oldest is closed past it).
  std::size_t max_pending_sessions_per_ip = 1'000;
  // Engine.IO handshakes per client address: sustained rate and burst (token bucket). 0: off.
  double handshakes_per_ip_per_s = 1'000;
  double handshake_burst_per_ip = 20'000;
  // Take the client address from X-Forwarded-For (last hop) — only behind a proxy that sets it.
  bool trust_proxy = false;
  // Connection state recovery: how long after a disconnect (or a restart) a client may come back
  // with its pid and offset and get every event it missed. 0: recovery off (no pid, no offsets).
  std::chrono::milliseconds recovery_window{120000};
  // Entries the delivery log keeps at most (older ones go first; entries older than the window go
  // anyway); and the most events one recovery replays (beyond it: a fresh session, never a partial
  // replay).
  std::int64_t recovery_log_max = 1'000'000;
  std::int64_t max_replay_events = 100'000;
  // Client → server Socket.IO events (subscribe, unsubscribe, admin calls, refresh) per socket:
  // sustained rate and burst (token bucket). Past it an event gets the error ack `rate_limited`;
  // a socket refused more than `socket_event_burst` times within 10 s is disconnected. 0: off.
  double socket_events_per_s = 20;
  double socket_event_burst = 100;
  // REST API requests per caller per second (burst: twice that): the API key (the backend's
  // publishes) and each user token (by its sub). Past it: 429 rate_limited with Retry-After. 0: off.
  double api_key_requests_per_s = 10'000;
  double api_user_requests_per_s = 20;
  // Orders a subscribe found unknown, remembered so repeats do not reach the store thread.
  std::size_t unknown_order_cache = 10'000;
};

}  // namespace fg

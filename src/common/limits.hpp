// Every bound the gateway enforces on network input and per-connection state, in one place.
#pragma once

#include <chrono>
#include <cstddef>

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
  // Binary attachments in one Socket.IO packet.
  std::size_t max_attachments = 16;
  // Open Engine.IO sessions (WebSocket and polling). Polling sessions hold no socket between
  // requests, so without this bound handshakes alone could pile up memory for 45 s each.
  std::size_t max_sessions = 100'000;
  // An HTTP keep-alive connection with no request in flight is closed after this long.
  std::chrono::seconds http_idle_timeout{60};
};

}  // namespace fg

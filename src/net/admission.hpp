// What an anonymous peer may make the server hold before it has authenticated: TCP connections
// (in total and per client address) and bytes of request bodies still arriving. One per listener,
// shared by its connections; thread-safe (atomics, and a short lock for the per-address map).
//
//   connections < max - reserve     everything is served
//   max - reserve ≤ connections     Engine.IO handshakes/upgrades get 503 (the reserve is for
//                                   /healthz and the REST API); a new connection has 1 s to send
//                                   its request header, so idle floods cannot sit in the reserve
//   connections ≥ max               the oldest connection that has not sent a request yet is closed
//                                   to make room (a health check sends its request at once, an idle
//                                   flood does not); with none, the new connection is closed at once
//                                   (never EMFILE)
#pragma once

#include "common/limits.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace fg::net {

class HttpConnection;

class Admission : public std::enable_shared_from_this<Admission> {
 public:
  explicit Admission(const Limits& limits) : limits_(limits) {}

  // A slot for a new connection from `ip`, released when the last holder drops it; null when a
  // bound is reached (the caller closes the socket). The slot moves with the socket (HTTP → WebSocket).
  std::shared_ptr<void> AdmitConnection(const std::string& ip);
  // A fresh connection waiting for its first request: closed (HttpConnection::Evict) when room is
  // needed. Forget() once the request header has arrived.
  std::uint64_t WaitingForRequest(std::weak_ptr<HttpConnection> conn);
  void Forget(std::uint64_t id);
  // Few connections left: refuse Engine.IO, shorten header timeouts.
  bool NearCapacity() const;
  std::size_t Connections() const { return connections_.load(std::memory_order_relaxed); }

  // Reserves `bytes` of the in-flight body budget; false when it would go over.
  bool ReserveBody(std::size_t bytes);
  void ReleaseBody(std::size_t bytes) { inflight_body_.fetch_sub(bytes, std::memory_order_relaxed); }
  std::size_t InflightBodyBytes() const { return inflight_body_.load(std::memory_order_relaxed); }

  const Limits& LimitsRef() const { return limits_; }

 private:
  void Release(const std::string& ip);
  bool EvictOneWaiting();
  const Limits& limits_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> inflight_body_{0};
  std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> per_ip_;
  std::mutex waiting_mutex_;
  std::uint64_t next_waiting_ = 1;
  std::list<std::pair<std::uint64_t, std::weak_ptr<HttpConnection>>> waiting_;  // oldest first
  std::unordered_map<std::uint64_t, std::list<std::pair<std::uint64_t, std::weak_ptr<HttpConnection>>>::iterator>
      waiting_index_;
};

}  // namespace fg::net

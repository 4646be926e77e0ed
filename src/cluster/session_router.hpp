// No sticky sessions: any node serves any request of any session. A node's Engine.IO sids start
// with its tag ("<tag>.<random>", the tag a hash of the node id: it names no host), so a node that
// gets a request for a session it does not hold knows at once which node does, without asking
// anyone — and passes the request there:
// - long-polling GET/POST: sent on to the owner over HTTP (a connection per request), its answer
//   relayed back; a client that goes away aborts the forwarded request too;
// - the WebSocket upgrade (the probe of a polling session): the raw connection is tunnelled to the
//   owner, byte for byte, for its lifetime — one extra hop per frame, no store or Redis round trip.
// A WebSocket-only client never needs this: its first request makes the session where it lands.
// Where a tag lives comes from the nodes' figures on Redis (every 2 s), else from the store's
// `nodes` table (read once, off the event loop, then remembered).
#pragma once

#include "common/rate_limit.hpp"
#include "engineio/server.hpp"
#include "store/pg_store.hpp"
#include "store/store_worker.hpp"

#include <chrono>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace fg::cluster {

class SessionRouter : public engineio::Forwarder {
 public:
  SessionRouter(std::string node_id, engineio::Server& engine, store::PgStore& store, store::StoreWorker& worker,
                std::chrono::milliseconds poll_timeout);
  static std::string TagFor(const std::string& node_id);  // 8 characters of base64url
  const std::string& Tag() const { return tag_; }

  void Learn(const std::string& tag, const std::string& address);
  bool Forward(const std::shared_ptr<net::HttpConnection>& conn, net::Request& req, const std::string& sid,
               bool upgrade) override;

 private:
  std::optional<std::string> Known(const std::string& tag) const;
  void ForwardTo(const std::string& address, const std::shared_ptr<net::HttpConnection>& conn, net::Request req,
                 bool upgrade);

  const std::string node_id_, tag_;
  engineio::Server& engine_;
  store::PgStore& store_;
  store::StoreWorker& worker_;
  const std::chrono::milliseconds poll_timeout_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::string> addresses_;  // tag → host:port
  // Store lookups of tags nobody announced: anyone can send a sid with a made-up tag, so they are
  // rate-limited (20/s, burst 20) — past it the sid is simply unknown — and never on a loop.
  std::mutex lookup_mutex_;
  TokenBucket lookups_;  // under lookup_mutex_
};

}  // namespace fg::cluster

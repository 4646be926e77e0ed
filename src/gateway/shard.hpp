// One loop's share of the subscription index. Every socket lives on exactly one loop, so its
// subscriptions live in that loop's shard and are touched by that loop's thread only: publishing
// posts the (already encoded) frame to every shard, and each shard delivers to its own sockets.
// Delivery rule: order events go to the order's subscribers and to every admin, each socket once;
// admin events go to admins only. Send() must not re-enter the shard: transports report a
// close (e.g. a slow consumer cut off during this very broadcast) from a posted handler.
#pragma once

#include "gateway/events.hpp"
#include "net/message.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace fg::gateway {

// A recipient as the shard sees it (the gateway's connection object implements it).
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // `pos`: the event's position in the delivery log (0: not logged); `order_id`: the order it is
  // about (empty for admin events without one).
  virtual void Send(const net::SharedMessage& message, std::int64_t pos, const std::string& order_id) = 0;
  virtual bool IsAdmin() const = 0;
  virtual const std::string& UserId() const = 0;
  // For /metrics: whether it is on a WebSocket now, and the bytes waiting to be written to it.
  virtual bool OnWebSocket() const { return true; }
  virtual std::size_t QueuedBytes() const { return 0; }
};

struct ShardStats {
  std::size_t total = 0;
  std::size_t admins = 0;
  std::size_t users = 0;
  std::map<std::string, std::size_t> watched;  // orderId → subscribers (only ≥ 1)
  std::size_t subscriptions = 0;
  std::size_t queued_bytes = 0;
  std::size_t sockets[2][2] = {};  // [admin?][websocket?]
};

// An order event's variant for the order's owner alone (e.g. with signed key links).
struct OwnerVariant {
  std::string user_id;
  net::SharedMessage frame;  // null: no variant, everyone gets the same frame
};

class Shard {
 public:
  enum class SubscribeResult { kOk, kAlready, kLimit };

  void Add(Subscriber* s);
  // Also drops every subscription of s; returns the orders that s was subscribed to.
  std::vector<std::string> Remove(Subscriber* s);
  SubscribeResult Subscribe(Subscriber* s, const std::string& order_id, std::size_t max_per_socket);
  bool Unsubscribe(Subscriber* s, const std::string& order_id);  // true when s was subscribed
  // The order changed hands: drops its subscribers that are neither `owner` nor admins; returns how many.
  std::size_t Revoke(const std::string& order_id, const std::string& owner);
  // Delivers `frame` to this shard's recipients; returns how many sockets it was handed to.
  // With an owner variant, the socket of that user gets owner.frame and everyone else `frame`.
  std::size_t Route(Audience audience, const std::string& order_id, const net::SharedMessage& frame,
                    const OwnerVariant& owner = {}, std::int64_t pos = 0);
  ShardStats Stats() const;
  std::size_t SubscriptionCount(Subscriber* s) const;

 private:
  std::unordered_map<std::string, std::vector<Subscriber*>> by_order_;
  std::unordered_map<Subscriber*, std::set<std::string>> by_socket_;
  std::unordered_set<Subscriber*> admins_;
  std::unordered_map<std::string, std::size_t> users_;  // connected users: userId → sockets
};

}  // namespace fg::gateway

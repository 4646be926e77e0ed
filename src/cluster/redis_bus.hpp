// The live link between gateway nodes: Redis pub/sub through hiredis (Debian's libhiredis). Two
// connections, each on a thread of its own, so no event loop ever waits on Redis: one publishes
// (a bounded queue, pipelined; also runs the odd other command, each with its reply), one
// subscribes (channels and patterns) and hands each message to a callback.
//
// Redis is a fast path, not the record: everything published here is already committed to the
// shared store, so a message lost to a Redis restart or a network blip is found again there
// (cluster/sequencer.hpp). Hence the failure behaviour: while Redis is away, Publish drops (and
// counts) instead of queueing without bound, and both threads reconnect with backoff (100 ms,
// doubling to 2 s); on_connected runs after every (re)subscription so the owner can fill the gap,
// on_lost when a subscription is lost (what the owner caches on the strength of hearing every
// change must go: it may miss some until on_connected).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

struct redisContext;
struct redisReply;

namespace fg::cluster {

struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
};
// redis://[[user]:password@]host[:port][/db] ; nullopt with `error` set when it is not one.
std::optional<RedisAddress> ParseRedisUrl(const std::string& url, std::string& error);

class RedisBus {
 public:
  using OnMessage = std::function<void(const std::string& channel, std::string payload)>;
  struct Subscription {
    std::vector<std::string> channels;
    std::vector<std::string> patterns;  // PSUBSCRIBE; their messages come with the channel they were sent on
    OnMessage on_message;
    std::function<void()> on_connected;
    std::function<void()> on_lost;
  };
  RedisBus(RedisAddress address, Subscription subscription, std::size_t max_queued = 10'000);
  ~RedisBus();  // stops both threads
  RedisBus(const RedisBus&) = delete;
  RedisBus& operator=(const RedisBus&) = delete;

  void Start();
  void Stop();
  // Queued for the publisher thread; dropped (counted) when the queue is full or Redis is away.
  // on_receivers (on the publisher thread) gets PUBLISH's answer, the number of subscribers
  // that received it, or -1 when it was dropped.
  void Publish(const std::string& channel, std::string payload, std::function<void(long long)> on_receivers = {});
  // Any other command, on the publisher's connection; `done` gets the reply, or nullptr when the
  // command was dropped or failed. Called on the publisher thread (or the caller's, when dropped).
  void Command(std::vector<std::string> argv, std::function<void(const redisReply*)> done);

  bool Subscribed() const { return subscribed_.load(); }
  struct Counters {
    std::uint64_t published = 0, received = 0, dropped = 0, reconnects = 0;
  };
  Counters Stats() const;

 private:
  void PublishLoop();
  void SubscribeLoop();
  redisContext* Connect(std::string& error) const;
  bool Sleep(std::chrono::milliseconds d);  // false when stopping

  const RedisAddress address_;
  const Subscription sub_;
  const std::size_t max_queued_;
  struct Queued {
    std::vector<std::string> argv;
    std::function<void(const redisReply*)> done;
  };
  void Enqueue(Queued q);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::deque<Queued> queue_;                               // under mutex_
  bool publisher_up_ = false;                              // under mutex_: drop instead of queueing when down
  redisContext* sub_ctx_ = nullptr;                        // under mutex_ (Stop shuts its socket down)
  std::atomic<bool> subscribed_{false};
  std::atomic<std::uint64_t> published_{0}, received_{0}, dropped_{0}, reconnects_{0};
  std::thread publisher_, subscriber_;
};

}  // namespace fg::cluster

#include "cluster/redis_bus.hpp"

#include "common/log.hpp"
#include "common/metrics.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace fg::cluster {

std::optional<RedisAddress> ParseRedisUrl(const std::string& url, std::string& error) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) {
    error = "REDIS_URL must be redis://[:password@]host[:port]";
    return std::nullopt;
  }
  std::string rest = url.substr(kScheme.size());
  RedisAddress a;
  if (const auto at = rest.rfind('@'); at != std::string::npos) {
    const std::string auth = rest.substr(0, at);
    const auto colon = auth.find(':');
    a.password = colon == std::string::npos ? auth : auth.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    int p = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      error = "REDIS_URL has a bad port";
      return std::nullopt;
    }
    a.port = p;
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) {
    error = "REDIS_URL has no host";
    return std::nullopt;
  }
  a.host = rest;
  return a;
}

namespace {
prometheus::Counter& Messages(const char* outcome) {
  return metrics::M().cluster_messages.Add({{"outcome", outcome}});
}
}  // namespace

RedisBus::RedisBus(RedisAddress address, Subscription subscription, std::size_t max_queued)
    : address_(std::move(address)), sub_(std::move(subscription)), max_queued_(max_queued) {}

RedisBus::~RedisBus() {
  Stop();
}

void RedisBus::Start() {
  publisher_ = std::thread([this] { PublishLoop(); });
  subscriber_ = std::thread([this] { SubscribeLoop(); });
}

void RedisBus::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    stop_ = true;
    if (sub_ctx_) ::shutdown(sub_ctx_->fd, SHUT_RDWR);  // wakes the subscriber's blocking read
  }
  wake_.notify_all();
  if (publisher_.joinable()) publisher_.join();
  if (subscriber_.joinable()) subscriber_.join();
}

void RedisBus::Publish(const std::string& channel, std::string payload, std::function<void(long long)> on_receivers) {
  Queued q{{"PUBLISH", channel, std::move(payload)}, {}};
  if (on_receivers)
    q.done = [on_receivers = std::move(on_receivers)](const redisReply* r) {
      on_receivers(r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1);
    };
  Enqueue(std::move(q));
}

void RedisBus::Command(std::vector<std::string> argv, std::function<void(const redisReply*)> done) {
  Enqueue(Queued{std::move(argv), std::move(done)});
}

void RedisBus::Enqueue(Queued q) {
  {
    std::lock_guard lock(mutex_);
    if (publisher_up_ && queue_.size() < max_queued_) {
      queue_.push_back(std::move(q));
      wake_.notify_all();
      return;
    }
  }
  ++dropped_;
  static auto& dropped = Messages("dropped");
  dropped.Increment();
  if (q.done) q.done(nullptr);
}

RedisBus::Counters RedisBus::Stats() const {
  return Counters{published_.load(), received_.load(), dropped_.load(), reconnects_.load()};
}

bool RedisBus::Sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stop_; });
}

redisContext* RedisBus::Connect(std::string& error) const {
  const timeval timeout{2, 0};
  redisContext* c = redisConnectWithTimeout(address_.host.c_str(), address_.port, timeout);
  if (!c || c->err) {
    error = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return nullptr;
  }
  redisEnableKeepAlive(c);
  if (!address_.password.empty()) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "AUTH %b", address_.password.data(), address_.password.size()));
    const bool ok = r && r->type != REDIS_REPLY_ERROR;
    error = !r ? std::string(c->errstr) : ok ? std::string() : std::string(r->str, r->len);
    if (r) freeReplyObject(r);
    if (!ok) {
      redisFree(c);
      return nullptr;
    }
  }
  // Replies are bounded by what we subscribe to; a reader buffer past 64 MiB means trouble.
  c->reader->maxbuf = 64 * 1024 * 1024;
  return c;
}

void RedisBus::PublishLoop() {
  auto backoff = std::chrono::milliseconds(100);
  redisContext* c = nullptr;
  while (true) {
    if (!c) {
      std::string error;
      c = Connect(error);
      if (!c) {
        Log(spdlog::level::warn, "redis: publisher cannot connect; retrying",
            {{"error", error}, {"retryMs", backoff.count()}});
        if (!Sleep(backoff)) return;
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        continue;
      }
      backoff = std::chrono::milliseconds(100);
      std::lock_guard lock(mutex_);
      publisher_up_ = true;
    }
    std::deque<Queued> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) break;
      batch.swap(queue_);
    }
    // Pipelined: every command of the batch goes out, then the replies are read.
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& q : batch) {
      argv.clear();
      lens.clear();
      for (const auto& a : q.argv) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
    }
    std::size_t answered = 0;
    bool ok = true;
    for (; answered < batch.size() && ok; ++answered) {
      void* reply = nullptr;
      ok = redisGetReply(c, &reply) == REDIS_OK;
      if (!ok) break;
      if (batch[answered].done) batch[answered].done(static_cast<const redisReply*>(reply));
      if (reply) freeReplyObject(reply);
    }
    static auto& published = Messages("published");
    static auto& dropped = Messages("dropped");
    if (ok) {
      published_ += batch.size();
      published.Increment(static_cast<double>(batch.size()));
      continue;
    }
    // What was not confirmed is counted as dropped: the receivers find it in the store.
    std::deque<Queued> lost;
    for (std::size_t i = answered; i < batch.size(); ++i) lost.push_back(std::move(batch[i]));
    Log(spdlog::level::warn, "redis: publish failed; reconnecting", {{"error", std::string(c->errstr)}});
    redisFree(c);
    c = nullptr;
    ++reconnects_;
    {
      std::lock_guard lock(mutex_);
      publisher_up_ = false;
      for (auto& q : queue_) lost.push_back(std::move(q));
      queue_.clear();
    }
    dropped_ += lost.size();
    dropped.Increment(static_cast<double>(lost.size()));
    for (auto& q : lost)
      if (q.done) q.done(nullptr);
  }
  std::deque<Queued> left;  // stopping: whoever waits on a reply hears it will not come
  {
    std::lock_guard lock(mutex_);
    publisher_up_ = false;
    left.swap(queue_);
  }
  for (auto& q : left)
    if (q.done) q.done(nullptr);
  if (c) redisFree(c);
}

void RedisBus::SubscribeLoop() {
  auto backoff = std::chrono::milliseconds(100);
  bool first = true;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
    }
    std::string error;
    redisContext* c = Connect(error);
    if (c) {
      const auto subscribe = [c](const char* command, const std::vector<std::string>& names) {
        if (names.empty()) return;
        std::vector<const char*> argv{command};
        std::vector<std::size_t> lens{std::strlen(command)};
        for (const auto& n : names) {
          argv.push_back(n.data());
          lens.push_back(n.size());
        }
        redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
      };
      subscribe("SUBSCRIBE", sub_.channels);
      subscribe("PSUBSCRIBE", sub_.patterns);
      bool ok = true;
      for (std::size_t i = 0; i < sub_.channels.size() + sub_.patterns.size() && ok; ++i) {
        void* reply = nullptr;
        ok = redisGetReply(c, &reply) == REDIS_OK;
        if (reply) freeReplyObject(reply);
      }
      if (!ok) {
        error = c->errstr;
        redisFree(c);
        c = nullptr;
      }
    }
    if (!c) {
      Log(spdlog::level::warn, "redis: subscriber cannot connect; retrying",
          {{"error", error}, {"retryMs", backoff.count()}});
      if (!Sleep(backoff)) return;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      if (stop_) {
        redisFree(c);
        return;
      }
      sub_ctx_ = c;
    }
    backoff = std::chrono::milliseconds(100);
    subscribed_ = true;
    metrics::M().cluster_redis_up.Set(1);
    if (!first) ++reconnects_;
    Log(spdlog::level::info, first ? "redis: subscribed" : "redis: subscribed again",
        {{"host", address_.host}, {"port", address_.port}});
    first = false;
    if (sub_.on_connected) sub_.on_connected();
    for (;;) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK) break;
      auto* r = static_cast<redisReply*>(raw);
      // ["message", channel, payload] or ["pmessage", pattern, channel, payload]
      const auto kind =
          r && r->type == REDIS_REPLY_ARRAY && r->elements >= 3 && r->element[0]->type == REDIS_REPLY_STRING
              ? std::string_view(r->element[0]->str, r->element[0]->len)
              : std::string_view();
      const std::size_t at = kind == "message" && r->elements == 3 ? 1 : kind == "pmessage" && r->elements == 4 ? 2 : 0;
      if (at != 0 && r->element[at]->type == REDIS_REPLY_STRING && r->element[at + 1]->type == REDIS_REPLY_STRING) {
        ++received_;
        static auto& received = Messages("received");
        received.Increment();
        sub_.on_message(std::string(r->element[at]->str, r->element[at]->len),
                        std::string(r->element[at + 1]->str, r->element[at + 1]->len));
      }
      if (r) freeReplyObject(r);
    }
    subscribed_ = false;
    metrics::M().cluster_redis_up.Set(0);
    if (sub_.on_lost) sub_.on_lost();
    {
      std::lock_guard lock(mutex_);
      sub_ctx_ = nullptr;
      if (stop_) {
        redisFree(c);
        return;
      }
    }
    Log(spdlog::level::warn, "redis: subscription lost; reconnecting", {{"error", std::string(c->errstr)}});
    redisFree(c);
  }
}

}  // namespace fg::cluster

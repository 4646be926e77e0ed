// The order store port. Calls are synchronous and may block on disk: they run only on the
// StoreWorker's thread, never on an event loop. Adapters: SQLite (default, embedded); PostgreSQL
// comes later behind the same interface.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace fg::store {

struct OrderRecord {
  std::string order_id;
  std::string user_id;
  std::string status;
  std::string created_at;
  std::string updated_at;
};

struct UpsertResult {
  bool created = false;
  OrderRecord order;
  std::string previous_user_id;  // the owner before an update (equal to order.user_id when unchanged)
};

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OrderStore {
 public:
  virtual ~OrderStore() = default;
  virtual std::optional<OrderRecord> GetOrder(const std::string& order_id) = 0;
  // Creates the order or updates its owner (and status when given). Throws StoreError.
  virtual UpsertResult UpsertOrder(const std::string& order_id, const std::string& user_id,
                                   const std::optional<std::string>& status) = 0;
  // The order's owner when it is known in memory (never blocks, may be called from an event
  // loop); nullopt means "ask GetOrder". Adapters without a cache keep this default.
  virtual std::optional<std::string> CachedOwner(const std::string& /*order_id*/) const { return std::nullopt; }
  // True when the order is known in memory not to exist (a bounded negative cache the store keeps
  // exact); false means "ask GetOrder". Never blocks.
  virtual bool CachedMissing(const std::string& /*order_id*/) const { return false; }
};

// Runs store calls on its own thread(s) and hands results back to the caller's executor.
class StoreWorker {
 public:
  explicit StoreWorker(std::size_t threads = 1) : pool_(threads) {}
  ~StoreWorker() { Stop(); }
  // work() runs on the worker; done(result) runs on `exec`. Exceptions from work are caught and
  // delivered as done(std::nullopt) with the message in `error`.
  template <class Exec, class Work, class Done>
  void Submit(Exec exec, Work work, Done done) {
    boost::asio::post(pool_, [exec, work = std::move(work), done = std::move(done)]() mutable {
      using R = decltype(work());
      std::optional<R> result;
      std::string error;
      try {
        result.emplace(work());
      } catch (const std::exception& e) {
        error = e.what();
      }
      boost::asio::post(exec, [done = std::move(done), r = std::move(result), e = std::move(error)]() mutable {
        done(std::move(r), e);
      });
    });
  }
  void Stop() {
    pool_.join();
  }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace fg::store

// A small pool that runs blocking work — store calls, fulfilment calls, webhook signature checks —
// off the event loops and hands each result back to the caller's executor.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <optional>
#include <string>

namespace fg::store {

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
  // work() runs on the worker; nothing comes back (the work reports by itself).
  template <class Work>
  void Post(Work work) {
    boost::asio::post(pool_, std::move(work));
  }
  void Stop() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace fg::store

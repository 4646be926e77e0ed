// One io_context per core, each run by exactly one thread. Whatever is created on a loop (a
// connection, an Engine.IO session, a gateway shard) is touched only by that loop's thread; work for
// another loop is posted to it. No locks on the hot path.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace fg::net {

class Loops {
 public:
  explicit Loops(std::size_t count);
  ~Loops();
  Loops(const Loops&) = delete;
  Loops& operator=(const Loops&) = delete;

  std::size_t Size() const { return contexts_.size(); }
  boost::asio::io_context& At(std::size_t i) { return *contexts_[i]; }
  // Round-robin choice for a new connection.
  boost::asio::io_context& Next();
  // Index of the loop whose thread is calling, or Size() when called from elsewhere.
  std::size_t CurrentIndex() const;

  void Start();  // one thread per loop
  void Stop();   // stops every loop; Join() waits for the threads
  void Join();

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace fg::net

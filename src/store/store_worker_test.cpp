#include "store/store_worker.hpp"

#include "store/order_store.hpp"

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <stdexcept>
#include <thread>

namespace fg::store {
namespace {

TEST(StoreWorker, RunsWorkOffTheCallerAndReportsErrors) {
  boost::asio::io_context io;
  StoreWorker w(1);
  std::thread::id worker_thread;
  int value = 0;
  std::string error;
  w.Submit(
      io.get_executor(),
      [&] {
        worker_thread = std::this_thread::get_id();
        return 42;
      },
      [&](std::optional<int> r, const std::string&) { value = r.value_or(-1); });
  w.Submit(
      io.get_executor(), []() -> int { throw StoreError("boom"); },
      [&](std::optional<int> r, const std::string& e) {
        EXPECT_FALSE(r);
        error = e;
      });
  auto guard = boost::asio::make_work_guard(io);
  std::thread t([&] { io.run_for(std::chrono::seconds(2)); });
  while (error.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  guard.reset();
  t.join();
  EXPECT_EQ(value, 42);
  EXPECT_NE(worker_thread, std::this_thread::get_id());
  EXPECT_EQ(error, "boom");
}

}  // namespace
}  // namespace fg::store

#include "store/sqlite_order_store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <thread>

#include <unistd.h>

namespace fg::store {
namespace {

TEST(SqliteStore, CreatesThenUpdates) {
  SqliteStore s(":memory:");
  EXPECT_FALSE(s.GetOrder("o1"));
  auto r = s.UpsertOrder("o1", "alice", std::nullopt);
  EXPECT_TRUE(r.created);
  EXPECT_EQ(r.order.status, "created");
  r = s.UpsertOrder("o1", "alice", std::string("paid"));
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.order.status, "paid");
  r = s.UpsertOrder("o1", "bob", std::nullopt);
  EXPECT_EQ(r.order.status, "paid") << "status kept when not given";
  EXPECT_EQ(s.GetOrder("o1")->user_id, "bob");
}

TEST(SqliteStore, SurvivesReopen) {
  const auto path = std::filesystem::temp_directory_path() / ("fg-store-test-" + std::to_string(::getpid()) + ".db");
  {
    SqliteStore s(path.string());
    s.UpsertOrder("o-persist", "carol", std::nullopt);
  }
  {
    SqliteStore s(path.string());
    ASSERT_TRUE(s.GetOrder("o-persist"));
    EXPECT_EQ(s.GetOrder("o-persist")->user_id, "carol");
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST(SqliteStore, ReportsUnopenableFile) {
  EXPECT_THROW(SqliteStore("/nonexistent-dir/x/y.db"), StoreError);
}

TEST(StoreWorker, RunsWorkOffTheCallerAndReportsErrors) {
  boost::asio::io_context io;
  StoreWorker w(1);
  std::thread::id worker_thread;
  int value = 0;
  std::string error;
  w.Submit(io.get_executor(), [&] { worker_thread = std::this_thread::get_id(); return 42; },
           [&](std::optional<int> r, const std::string&) { value = r.value_or(-1); });
  w.Submit(io.get_executor(), []() -> int { throw StoreError("boom"); },
           [&](std::optional<int> r, const std::string& e) { EXPECT_FALSE(r); error = e; });
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

// The store contract against SQLite: a database file per test.
#include "store/sqlite_order_store.hpp"
#include "store/store_contract.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>

namespace fg::store::testing {
namespace {

class SqliteBackend : public Backend {
 public:
  SqliteBackend() {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("fg-contract-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".db"))
                .string();
    Remove();
  }
  ~SqliteBackend() override { Remove(); }
  std::unique_ptr<Store> Open() override { return std::make_unique<SqliteStore>(path_); }

 private:
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract,
                         ::testing::Values(BackendParam{"Sqlite", [] { return std::make_unique<SqliteBackend>(); }}),
                         BackendName);

}  // namespace
}  // namespace fg::store::testing

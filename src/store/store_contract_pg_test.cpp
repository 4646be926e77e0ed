// The store contract against PostgreSQL: a schema per test.
#include "store/pg_store.hpp"
#include "store/pg_test_support.hpp"
#include "store/store_contract.hpp"

namespace fg::store::testing {
namespace {

class PgBackend : public Backend {
 public:
  std::unique_ptr<Store> Open() override { return std::make_unique<PgStore>(schema_.Url(), "node-a"); }

 private:
  PgSchema schema_;
};

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContract,
                         ::testing::Values(BackendParam{"Postgres", [] { return std::make_unique<PgBackend>(); }}),
                         BackendName);

}  // namespace
}  // namespace fg::store::testing

// The store contract, run against each back-end: store_contract_test.cpp holds the tests (TEST_P),
// store_contract_sqlite_test.cpp (unit_tests) and store_contract_pg_test.cpp (pg_tests, a real
// PostgreSQL) instantiate them. Each test gets a database of its own.
#pragma once

#include "store/store.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace fg::store::testing {

class Backend {
 public:
  virtual ~Backend() = default;
  // A store on this test's database; a second call opens the same database again (a restart).
  virtual std::unique_ptr<Store> Open() = 0;
};

struct BackendParam {
  std::string name;
  std::function<std::unique_ptr<Backend>()> make;
};

class StoreContract : public ::testing::TestWithParam<BackendParam> {
 protected:
  void SetUp() override { backend_ = GetParam().make(); }
  std::unique_ptr<Store> Open() { return backend_->Open(); }
  std::unique_ptr<Backend> backend_;
};

inline void PrintTo(const BackendParam& p, std::ostream* os) {
  *os << p.name;
}

inline std::string BackendName(const ::testing::TestParamInfo<BackendParam>& info) {
  return info.param.name;
}

}  // namespace fg::store::testing

// PostgreSQL for tests: FG_TEST_DATABASE_URL names a scratch database (scripts/test.sh starts one
// with scripts/services.sh). Without it these tests fail: they are never skipped. Each test works in
// a schema of its own, dropped afterwards.
#pragma once

#include "store/pg_db.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace fg::store::testing {

inline std::string TestDatabaseUrl() {
  const char* url = std::getenv("FG_TEST_DATABASE_URL");
  if (!url || !*url) throw std::runtime_error("FG_TEST_DATABASE_URL is not set (scripts/services.sh start-postgres)");
  return url;
}

class PgSchema {
 public:
  PgSchema() {
    static std::atomic<int> counter{0};
    name_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    PgDb(TestDatabaseUrl()).Script(("DROP SCHEMA IF EXISTS " + name_ + " CASCADE; CREATE SCHEMA " + name_).c_str());
    const std::string base = TestDatabaseUrl();
    url_ = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + name_;
  }
  ~PgSchema() {
    try {
      PgDb(TestDatabaseUrl()).Script(("DROP SCHEMA IF EXISTS " + name_ + " CASCADE").c_str());
    } catch (...) {
    }
  }
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;
  // A connection string whose tables live in this schema.
  const std::string& Url() const { return url_; }

 private:
  std::string name_, url_;
};

}  // namespace fg::store::testing

// Against a real PostgreSQL: FG_TEST_DATABASE_URL names a scratch database (scripts/test.sh
// starts one with scripts/services.sh). Without it these tests fail: they are never skipped.
#include "store/pg_db.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

namespace fg::store {
namespace {

std::string Url() {
  const char* url = std::getenv("FG_TEST_DATABASE_URL");
  if (!url || !*url) throw std::runtime_error("FG_TEST_DATABASE_URL is not set (scripts/services.sh start-postgres)");
  return url;
}

TEST(PgDb, ParametersRoundTripAsTextWithNullsAndUnicode) {
  PgDb db(Url());
  EXPECT_GE(db.ServerVersion(), 150000);
  auto r = db.Exec("SELECT $1::text, $2::bigint, $3::text IS NULL, $4::boolean",
                   {std::string("Café \"x\" ü"), std::int64_t{9007199254740993}, std::nullopt, true});
  ASSERT_EQ(r.Rows(), 1);
  EXPECT_EQ(r.Text(0, 0), "Café \"x\" ü");
  EXPECT_EQ(r.Int(0, 1), 9007199254740993);
  EXPECT_EQ(r.Text(0, 2), "t");
  EXPECT_EQ(r.Text(0, 3), "t");
  EXPECT_THROW(r.Int(0, 0), StoreError);
}

TEST(PgDb, ErrorsCarryTheServersMessageAndTheConnectionStaysUsable) {
  PgDb db(Url());
  try {
    db.Exec("SELECT * FROM no_such_table_here");
    FAIL() << "no error";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_table_here"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db.Exec("SELECT 41 + $1::int", {1}).Int(0, 0), 42);
}

TEST(PgDb, ATransactionRollsBackOnAnException) {
  PgDb db(Url());
  db.Script("DROP TABLE IF EXISTS pg_db_test_tx; CREATE TABLE pg_db_test_tx (v integer)");
  EXPECT_THROW(db.Transaction([&] {
    db.Exec("INSERT INTO pg_db_test_tx VALUES ($1)", {1});
    throw StoreError("stop");
  }),
               StoreError);
  db.Transaction([&] { EXPECT_EQ(db.Exec("INSERT INTO pg_db_test_tx VALUES ($1)", {2}).Affected(), 1); });
  EXPECT_EQ(db.Exec("SELECT count(*), max(v) FROM pg_db_test_tx").Int(0, 0), 1);
  EXPECT_EQ(db.Exec("SELECT max(v) FROM pg_db_test_tx").Int(0, 0), 2);
}

TEST(PgDb, MigrationsApplyOnceEvenWhenNodesStartTogether) {
  {
    PgDb db(Url());
    db.Script("DROP TABLE IF EXISTS schema_migrations; DROP TABLE IF EXISTS pg_db_test_m");
  }
  const std::vector<PgMigration> steps{
      {1, "CREATE TABLE pg_db_test_m (id integer PRIMARY KEY)"},
      {2, "ALTER TABLE pg_db_test_m ADD COLUMN name text NOT NULL DEFAULT ''"},
  };
  int applied[4] = {};
  std::vector<std::thread> nodes;
  for (int i = 0; i < 4; ++i) nodes.emplace_back([&, i] { applied[i] = PgDb(Url()).Migrate(steps); });
  for (auto& t : nodes) t.join();
  EXPECT_EQ(applied[0] + applied[1] + applied[2] + applied[3], 2) << "each step exactly once";
  PgDb db(Url());
  EXPECT_EQ(db.Migrate(steps), 0);
  db.Exec("INSERT INTO pg_db_test_m(id, name) VALUES ($1, $2)", {1, "x"});
  const std::vector<PgMigration> more{steps[0], steps[1], {3, "ALTER TABLE pg_db_test_m ADD COLUMN n integer"}};
  EXPECT_EQ(db.Migrate(more), 1);
  EXPECT_EQ(db.Exec("SELECT max(version) FROM schema_migrations").Int(0, 0), 3);
}

TEST(PgDb, ABrokenConnectionFailsOneCallThenReconnects) {
  PgDb db(Url());
  EXPECT_EQ(db.Exec("SELECT $1::int", {7}).Int(0, 0), 7);  // prepared on this connection
  PgDb other(Url());
  other.Exec("SELECT pg_terminate_backend($1::int)", {db.BackendPid()});
  EXPECT_THROW(db.Exec("SELECT $1::int", {7}), StoreError);
  EXPECT_EQ(db.Exec("SELECT $1::int", {8}).Int(0, 0), 8) << "reconnected, statement prepared again";
}

TEST(PgDb, ABadUrlIsOneLineWithoutThePassword) {
  try {
    PgDb db("postgres://fg:secret-password-123@127.0.0.1:1/fg?connect_timeout=2");
    FAIL() << "connected";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find("secret-password-123"), std::string::npos) << what;
    EXPECT_NE(what.find("cannot connect"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace fg::store

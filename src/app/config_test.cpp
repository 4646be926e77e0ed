#include "app/config.hpp"
#include "app/data_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fg::app {
namespace {

// Parses `args` (after the program name) into a fresh Config.
Config Parse(std::vector<std::string> args) {
  CLI::App app;
  Config c;
  AddServeOptions(app, c);
  std::vector<const char*> argv{"fulfillment-gateway"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return c;
}

TEST(Config, DefaultsComeFromThePartsThatUseThem) {
  const Config c = Parse({});
  EXPECT_EQ(c.limits.max_send_queue_bytes, Limits{}.max_send_queue_bytes);
  EXPECT_EQ(c.engine.options.ping_interval, engineio::Options{}.ping_interval);
  EXPECT_EQ(c.sio.connect_timeout, socketio::ServerOptions{}.connect_timeout);
  EXPECT_EQ(c.service.paid_statuses, fulfillment::ServiceConfig{}.paid_statuses);
  EXPECT_EQ(c.engine.cors_origins, engineio::ServerConfig{}.cors_origins);
}

TEST(Config, FlagsSetTheFieldsTheyName) {
  Config c = Parse({"--max-payload",       "5000",
                    "--ping-interval",     "300",
                    "--header-timeout",    "7",
                    "--cors-origins",      " http://a.example , ,http://b.example",
                    "--paid-statuses",     "finished",
                    "--max-subscriptions", "9",
                    "--job-backoff-base",  "10",
                    "--signed-url-ttl",    "60",
                    "--jwt-secret",        "0123456789abcdef",
                    "--api-key",           "k"});
  EXPECT_EQ(c.limits.max_payload, 5000u);  // maxPayload bounds all three places a message is read
  EXPECT_EQ(c.engine.options.max_payload, 5000u);
  EXPECT_EQ(c.sio.max_packet_bytes, 5000u);
  EXPECT_EQ(c.engine.options.ping_interval, std::chrono::milliseconds(300));
  EXPECT_EQ(c.limits.header_timeout, std::chrono::seconds(7));
  EXPECT_EQ(c.engine.cors_origins, (std::vector<std::string>{"http://a.example", "http://b.example"}));
  EXPECT_EQ(c.service.paid_statuses, std::vector<std::string>{"finished"});
  EXPECT_EQ(c.limits.max_subscriptions_per_socket, 9u);
  EXPECT_EQ(c.service.backoff.base, std::chrono::milliseconds(10));
  EXPECT_EQ(c.service.url_ttl, std::chrono::seconds(60));
  EXPECT_FALSE(Finish(c).has_value());
}

TEST(Config, EnvironmentIsReadWhenNoFlagIsGiven) {
  ::setenv("MAX_SESSIONS", "77", 1);
  const Config c = Parse({});
  ::unsetenv("MAX_SESSIONS");
  EXPECT_EQ(c.limits.max_sessions, 77u);
}

TEST(Config, NegativeDurationsAreRefused) {
  EXPECT_THROW(Parse({"--ping-timeout", "-1"}), CLI::ParseError);
}

TEST(Config, FinishChecksSecretsAndDerivesDefaults) {
  Config c = Parse({"--api-key", "k"});
  EXPECT_NE(Finish(c).value_or("").find("JWT_SECRET is not set"), std::string::npos);
  c = Parse({"--api-key", "k", "--jwt-secret", "short"});
  EXPECT_NE(Finish(c).value_or("").find("too short"), std::string::npos);
  c = Parse({"--jwt-secret", "0123456789abcdef"});
  EXPECT_NE(Finish(c).value_or("").find("API_KEY"), std::string::npos);
  c = Parse({"--jwt-secret", "0123456789abcdef", "--api-key", "k", "--url-signing-secret", "abc"});
  EXPECT_NE(Finish(c).value_or("").find("URL_SIGNING_SECRET is too short"), std::string::npos);
  c = Parse({"--jwt-secret", "0123456789abcdef", "--api-key", "k", "--job-max-attempts", "0"});
  EXPECT_TRUE(Finish(c).has_value());

  c = Parse({"--jwt-secret", "0123456789abcdef", "--api-key", "k", "--demo", "--header-timeout", "0", "--public-url",
             "https://shop.example/track/"});
  ASSERT_FALSE(Finish(c).has_value());
  EXPECT_GT(c.limits.max_connections, 0u);                      // from the open-files limit
  EXPECT_EQ(c.limits.header_timeout, std::chrono::seconds(1));  // at least a second
  EXPECT_DOUBLE_EQ(c.sim.failure_rate, 0.15);                   // the demo's simulator fails sometimes
  EXPECT_EQ(c.engine.cors_origins.back(), "https://shop.example");
}

TEST(DataDir, SecretsAreGeneratedOnceAndShortOnesRefused) {
  const auto dir = std::filesystem::temp_directory_path() / ("fg-config-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  PrepareDataDir(dir);
  EXPECT_EQ(std::filesystem::status(dir).permissions(), std::filesystem::perms::owner_all);
  const std::string first = DataDirSecret(dir / "s", 32, kMinSecretBytes);
  EXPECT_GE(first.size(), 43u);
  EXPECT_EQ(DataDirSecret(dir / "s", 32, kMinSecretBytes), first);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "s").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ofstream(dir / "short") << "abc\n";
  EXPECT_THROW(DataDirSecret(dir / "short", 32, kMinSecretBytes), std::runtime_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fg::app

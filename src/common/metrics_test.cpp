#include "common/metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace fg::metrics {
namespace {

// The value of the first sample line `name{labels} value` (labels as serialized), or -1.
double Sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// Families whose label values are known up front are there from the start, at 0; the others
// (route, event, provider, loop labels) appear with their first series (integration tests).
TEST(Metrics, ExposesTheKnownSeriesFromTheStart) {
  const std::string text = M().Serialize();
  for (const char* family :
       {"fg_connections gauge", "fg_subscriptions gauge", "fg_send_queue_bytes gauge", "fg_handshakes_total counter",
        "fg_deliveries_total counter", "fg_jobs gauge", "fg_job_attempts_total counter",
        "fg_job_duration_seconds histogram", "fg_supplier_request_duration_seconds histogram",
        "fg_store_call_duration_seconds histogram", "fg_rate_limited_total counter",
        "fg_rate_limit_disconnects_total counter", "fg_slow_consumer_disconnects_total counter", "fg_ipn_total counter",
        "fg_supplier_errors_total counter"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family), std::string::npos) << family;
  }
  EXPECT_EQ(Sample(text, R"(fg_connections{role="admin",transport="polling"})"), 0);
  EXPECT_EQ(Sample(text, R"(fg_slow_consumer_disconnects_total{transport="websocket"})"), 0);
}

TEST(Metrics, CountsAndObservationsShowInTheText) {
  auto& m = M();
  const double before = std::max(0.0, Sample(m.Serialize(), "fg_deliveries_total"));
  m.deliveries.Increment(5);
  EXPECT_DOUBLE_EQ(Sample(m.Serialize(), "fg_deliveries_total"), before + 5);
  auto& h = m.publish_to_write.Add({{"event", "unit:test"}}, Metrics::LatencyBuckets());
  h.Observe(0.0003);  // falls in the 0.0005 bucket, not in 0.00025
  const std::string text = m.Serialize();
  EXPECT_EQ(Sample(text, R"(fg_publish_to_write_seconds_bucket{event="unit:test",le="0.00025"})"), 0);
  EXPECT_EQ(Sample(text, R"(fg_publish_to_write_seconds_bucket{event="unit:test",le="0.0005"})"), 1);
  EXPECT_EQ(Sample(text, R"(fg_publish_to_write_seconds_count{event="unit:test"})"), 1);
}

}  // namespace
}  // namespace fg::metrics

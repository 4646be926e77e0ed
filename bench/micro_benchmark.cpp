// Google Benchmark micro-benchmarks for the hot pure code: the codecs and the shard router.
//   build/micro_benchmark --benchmark_min_time=0.2
#include "common/metrics.hpp"
#include "engineio/packet.hpp"
#include "gateway/events.hpp"
#include "gateway/shard.hpp"
#include "net/ws_frame.hpp"
#include "socketio/packet.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <vector>

namespace {

void BM_EngineIoDecodePayload(benchmark::State& state) {
  const std::string body =
      "4hello\x1e"
      "bAQIDBA==\x1e"
      "3\x1e"
      R"(42/fulfillment,1["subscribe:order",{"orderId":"o-123"}])";
  for (auto _ : state) {
    std::vector<fg::engineio::Packet> out;
    benchmark::DoNotOptimize(fg::engineio::DecodePayload(body, out));
  }
}
BENCHMARK(BM_EngineIoDecodePayload);

void BM_SocketIoDecodeSubscribe(benchmark::State& state) {
  const std::string packet = R"(2/fulfillment,12["subscribe:order",{"orderId":"ord_qohrUhzO2OYhhWLm"}])";
  for (auto _ : state) benchmark::DoNotOptimize(fg::socketio::Decode(packet));
}
BENCHMARK(BM_SocketIoDecodeSubscribe);

void BM_EncodeEventFrame(benchmark::State& state) {
  const std::string data =
      R"({"orderId":"ord_qohrUhzO2OYhhWLm","status":"processing","jobProgress":50,"timestamp":"2026-11-26T00:00:00.000Z"})";
  for (auto _ : state) benchmark::DoNotOptimize(fg::gateway::EncodeEventMessage("fulfillment:status-change", data));
}
BENCHMARK(BM_EncodeEventFrame);

void BM_WsParseHeader(benchmark::State& state) {
  const std::string frame("\x81\x85\x01\x02\x03\x04iglhn", 11);
  for (auto _ : state) {
    fg::net::ws::FrameHeader h;
    benchmark::DoNotOptimize(fg::net::ws::ParseHeader(frame, h));
  }
}
BENCHMARK(BM_WsParseHeader);

struct NullSubscriber : fg::gateway::Subscriber {
  void Send(const fg::net::SharedMessage& f, std::int64_t, const std::string&) override {
    benchmark::DoNotOptimize(f.get());
  }
  bool IsAdmin() const override { return false; }
  const std::string& UserId() const override { return user; }
  std::string user = "u";
};

// The router's own cost per recipient (the transport's write is not included).
void BM_ShardRouteBroadcast(benchmark::State& state) {
  fg::gateway::Shard shard;
  std::vector<std::unique_ptr<NullSubscriber>> subs;
  for (int i = 0; i < state.range(0); ++i) {
    subs.push_back(std::make_unique<NullSubscriber>());
    shard.Add(subs.back().get());
    shard.Subscribe(subs.back().get(), "order", 10);
  }
  auto frame = std::make_shared<const std::string>("42/fulfillment,[\"e\",{}]");
  for (auto _ : state) benchmark::DoNotOptimize(shard.Route(fg::gateway::Audience::kOrderAndAdmins, "order", frame));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ShardRouteBroadcast)->Arg(100)->Arg(15000);

// What metrics add on the publish path (gateway.cpp PublishAll): one counter increment per event,
// and per event and loop a histogram observation plus a deliveries increment.
void BM_MetricsCounterIncrement(benchmark::State& state) {
  auto& c = fg::metrics::M().events_published.Add({{"event", "bench"}});
  for (auto _ : state) c.Increment();
}
BENCHMARK(BM_MetricsCounterIncrement)->Threads(1)->Threads(2);

void BM_MetricsHistogramObserve(benchmark::State& state) {
  auto& h = fg::metrics::M().publish_to_write.Add({{"event", "bench"}}, fg::metrics::Metrics::LatencyBuckets());
  double v = 0.0001;
  for (auto _ : state) {
    h.Observe(v);
    v = v < 0.01 ? v * 1.1 : 0.0001;
  }
}
BENCHMARK(BM_MetricsHistogramObserve)->Threads(1)->Threads(2);

// The whole per-event cost on one loop: published counter, time since publish, observation,
// deliveries counter.
void BM_MetricsPerEvent(benchmark::State& state) {
  auto& m = fg::metrics::M();
  auto& published = m.events_published.Add({{"event", "bench"}});
  auto& h = m.publish_to_write.Add({{"event", "bench"}}, fg::metrics::Metrics::LatencyBuckets());
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    published.Increment();
    h.Observe(fg::metrics::SecondsSince(start));
    m.deliveries.Increment(3);
  }
}
BENCHMARK(BM_MetricsPerEvent);

}  // namespace

BENCHMARK_MAIN();

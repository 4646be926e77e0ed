// The cluster's ordering and exactly-once rules without a network: batches arriving out of order,
// twice, or never (filled from the store), and the fg:log message codec.
#include "cluster/sequencer.hpp"
#include "cluster/batch_codec.hpp"

#include <gtest/gtest.h>

namespace fg::cluster {
namespace {

store::LogEntry At(std::int64_t pos, std::string order = "o1") {
  store::LogEntry e;
  e.pos = pos;
  e.event = "fulfillment:status-change";
  e.order_id = std::move(order);
  e.payload = "{\"p\":" + std::to_string(pos) + "}";
  return e;
}

Batch Range(std::int64_t lo, std::int64_t hi, std::vector<std::int64_t> delivered) {
  Batch b{lo, hi, {}};
  for (auto p : delivered) b.entries.push_back(At(p));
  return b;
}

struct Recorder {
  std::vector<std::int64_t> got;
  Sequencer::Deliver Fn() {
    return [this](std::vector<store::LogEntry>& entries) {
      for (const auto& e : entries) got.push_back(e.pos);
    };
  }
};

TEST(Sequencer, DeliversInPositionOrderWhateverTheArrivalOrder) {
  Recorder r;
  Sequencer s(10, r.Fn());
  s.Offer(Range(14, 15, {14, 15}));  // waits for 11..13
  s.Offer(Range(12, 13, {12}));      // 13 taken but never delivered (e.g. key:revealed)
  EXPECT_TRUE(r.got.empty());
  EXPECT_GT(s.GapAge(Sequencer::Clock::now() + std::chrono::seconds(1)), std::chrono::milliseconds(500));
  s.Offer(Range(11, 11, {11}));
  EXPECT_EQ(r.got, (std::vector<std::int64_t>{11, 12, 14, 15}));
  EXPECT_EQ(s.Delivered(), 15);
  EXPECT_EQ(s.GapAge(Sequencer::Clock::now()), Sequencer::Clock::duration::zero());
}

TEST(Sequencer, EachPositionOnceThoughBatchesArriveTwice) {
  Recorder r;
  Sequencer s(0, r.Fn());
  s.Offer(Range(1, 2, {1, 2}));
  s.Offer(Range(1, 2, {1, 2}));  // Redis brings back what the commit offered
  s.Offer(Range(4, 4, {4}));
  s.Offer(Range(4, 4, {4}));  // waiting twice: kept once
  s.Offer(Range(3, 3, {3}));
  EXPECT_EQ(r.got, (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(s.Stats().duplicates, 2u);
  s.Offer(Range(0, 0, {}));  // an owner-only message: no positions
  s.Offer(Range(5, 4, {}));  // malformed: ignored
  EXPECT_EQ(s.Delivered(), 4);
}

TEST(Sequencer, AGapIsFilledFromTheStoreAndLaterBatchesFollow) {
  Recorder r;
  Sequencer s(0, r.Fn());
  s.Offer(Range(5, 6, {5, 6}));  // 1..4 were lost with a Redis restart
  s.Offer(Range(8, 8, {8}));
  EXPECT_TRUE(r.got.empty());
  // The store, read after head 6 was seen: 1..6 (3 was never delivered); 5..6 overlap the batch.
  std::vector<store::LogEntry> read{At(1), At(2), At(4), At(5), At(6)};
  s.Fill(read, 6, true);
  EXPECT_EQ(r.got, (std::vector<std::int64_t>{1, 2, 4, 5, 6}));
  EXPECT_EQ(s.Delivered(), 6);
  s.Offer(Range(7, 7, {7}));
  EXPECT_EQ(r.got, (std::vector<std::int64_t>{1, 2, 4, 5, 6, 7, 8}));
}

TEST(Sequencer, AFillUpToTheHeadCoversTrailingUndeliveredPositions) {
  Recorder r;
  Sequencer s(0, r.Fn());
  s.Fill({At(1)}, 3, true);  // 2 and 3 taken, not delivered
  EXPECT_EQ(s.Delivered(), 3);
  s.Offer(Range(4, 4, {4}));
  EXPECT_EQ(r.got, (std::vector<std::int64_t>{1, 4}));
  s.Fill({At(5), At(6)}, 9, false);  // stopped at its limit: only as far as it read
  EXPECT_EQ(s.Delivered(), 6);
  s.Fill({}, 4, true);  // an older head changes nothing
  EXPECT_EQ(s.Delivered(), 6);
  EXPECT_EQ(r.got, (std::vector<std::int64_t>{1, 4, 5, 6}));
}

TEST(BatchCodec, RoundTripsEveryField) {
  CommitMessage m;
  m.node = "node-a";
  m.batch = Range(7, 9, {7, 9});
  m.batch.entries[1].audience = 1;
  m.batch.entries[1].owner_id = "alice";
  m.batch.entries[1].owner_payload = R"({"url":"x"})";
  m.batch.entries[1].order_seq = 4;
  m.batch.entries[1].created_ms = 1790000000123;
  m.owners = {{"o1", "alice"}, {"o\"2", "bob"}};
  m.jobs = true;
  m.ack = 42;
  const auto d = DecodeCommit(EncodeCommit(m));
  EXPECT_TRUE(d.jobs);
  EXPECT_EQ(d.ack, 42u);
  EXPECT_EQ(DecodeCommit(R"({"lo":0,"hi":0})").ack, 0u);
  EXPECT_FALSE(DecodeCommit(R"({"lo":0,"hi":0})").jobs);
  EXPECT_EQ(d.node, "node-a");
  EXPECT_EQ(d.batch.lo, 7);
  EXPECT_EQ(d.batch.hi, 9);
  ASSERT_EQ(d.batch.entries.size(), 2u);
  EXPECT_EQ(d.batch.entries[1].pos, 9);
  EXPECT_EQ(d.batch.entries[1].audience, 1);
  EXPECT_EQ(d.batch.entries[1].owner_id, "alice");
  EXPECT_EQ(d.batch.entries[1].owner_payload, R"({"url":"x"})");
  EXPECT_EQ(d.batch.entries[1].order_seq, 4);
  EXPECT_EQ(d.batch.entries[1].created_ms, 1790000000123);
  EXPECT_EQ(d.batch.entries[0].payload, m.batch.entries[0].payload);
  EXPECT_EQ(d.owners, m.owners);
}

TEST(BatchCodec, RejectsWhatCouldMisplaceAnEvent) {
  for (const char* bad : {"", "[]", "{\"lo\":\"1\"}", R"({"lo":5,"hi":4})", R"({"lo":-1,"hi":2})",
                          R"({"lo":1,"hi":2,"e":[{"p":3}]})",            // outside its range
                          R"({"lo":1,"hi":3,"e":[{"p":2},{"p":2}]})",    // twice
                          R"({"lo":1,"hi":3,"e":[{"p":2,"a":-1}]})",     // undelivered
                          R"({"lo":1,"hi":3,"e":[{"p":2,"d":5}]})",      // payload not text
                          R"({"lo":1,"hi":3,"e":[{"p":2,"od":"{}"}]})",  // an owner's payload without an owner
                          R"({"lo":0,"hi":0,"own":[["o1"]]})", R"({"lo":0,"hi":0,"own":{}})",
                          R"({"lo":0,"hi":0,"j":1})", R"({"lo":0,"hi":0,"ack":0})", R"({"lo":0,"hi":0,"ack":-3})",
                          R"({"lo":0,"hi":0,"ack":"1"})", R"({"lo":0,"hi":0,"ack":1.5})"}) {
    EXPECT_THROW(DecodeCommit(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace fg::cluster

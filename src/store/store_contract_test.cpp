// What every store adapter must do, whichever database is under it (store_contract.hpp): orders
// and their owners, the fulfillment flow's rows, the delivery log with its positions, pruning and
// timelines, recovery sessions across a restart.
#include "store/store_contract.hpp"

#include <limits>

namespace fg::store::testing {
namespace {

LogEntry Entry(const std::string& event, const std::string& order_id, int audience = 0) {
  LogEntry e;
  e.event = event;
  e.order_id = order_id;
  e.audience = audience;
  e.payload = "{}";
  return e;
}

std::vector<std::int64_t> Positions(const std::vector<LogEntry>& entries) {
  std::vector<std::int64_t> out;
  for (const auto& e : entries) out.push_back(e.pos);
  return out;
}

TEST_P(StoreContract, OrdersAreCreatedThenUpdated) {
  auto s = Open();
  EXPECT_FALSE(s->GetOrder("o1"));
  auto r = s->UpsertOrder("o1", "alice", std::nullopt);
  EXPECT_TRUE(r.created);
  EXPECT_EQ(r.order.status, "created");
  EXPECT_FALSE(r.order.created_at.empty());
  r = s->UpsertOrder("o1", "alice", std::string("paid"));
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.order.status, "paid");
  r = s->UpsertOrder("o1", "bob", std::nullopt);
  EXPECT_EQ(r.order.status, "paid") << "status kept when not given";
  EXPECT_EQ(r.previous_user_id, "alice");
  EXPECT_EQ(s->GetOrder("o1")->user_id, "bob");
}

TEST_P(StoreContract, OwnerCacheFollowsCommittedWritesOnly) {
  auto s = Open();
  EXPECT_FALSE(s->CachedOwner("o1"));
  s->UpsertOrder("o1", "alice", std::nullopt);
  EXPECT_EQ(s->CachedOwner("o1"), "alice");
  s->UpsertOrder("o1", "bob", std::nullopt);
  EXPECT_EQ(s->CachedOwner("o1"), "bob") << "a reassigned order must not keep its old owner";
  EXPECT_THROW(s->Transaction([](Tx& tx) {
    auto o = tx.GetOrder("o1");
    o->user_id = "mallory";
    tx.UpdateOrder(*o);
    throw StoreError("abort");
  }),
               StoreError);
  EXPECT_EQ(s->GetOrder("o1")->user_id, "bob");
  EXPECT_EQ(s->CachedOwner("o1"), "bob");
  s->Transaction([](Tx& tx) {
    OrderRow ghost;
    ghost.order_id = "ghost";
    ghost.user_id = "eve";
    tx.UpdateOrder(ghost);
  });
  EXPECT_FALSE(s->CachedOwner("ghost")) << "updating an order that does not exist caches nothing";
  EXPECT_FALSE(s->GetOrder("nope"));
  EXPECT_TRUE(s->CachedMissing("nope"));
  s->UpsertOrder("nope", "carol", std::nullopt);
  EXPECT_FALSE(s->CachedMissing("nope")) << "the creation's commit forgets it";
  s->ForgetOrder("nope");
  EXPECT_FALSE(s->CachedOwner("nope"));
}

TEST_P(StoreContract, OrdersItemsAndListsKeepEveryField) {
  auto s = Open();
  s->Transaction([](Tx& tx) {
    OrderRow o;
    o.order_id = "o1";
    o.user_id = "alice";
    o.currency = "EUR";
    o.payment_json = R"({"amount":"9.90"})";
    tx.InsertOrder(o);
    o.order_id = "o2";
    o.user_id = "bob";
    tx.InsertOrder(o);
    tx.InsertItem(ItemRow{"i1", "o1", "p-1", 2, "pending", "", "", "Game \"Deluxe\" ü", "4.95"});
    tx.InsertItem(ItemRow{"i2", "o1", "p-2", 1, "pending", "", "", "", ""});
  });
  s->Transaction([](Tx& tx) {
    auto o = tx.GetOrder("o1");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->currency, "EUR");
    EXPECT_EQ(o->payment_json, R"({"amount":"9.90"})");
    EXPECT_EQ(o->job_progress, -1);
    EXPECT_EQ(o->number, 1);
    EXPECT_EQ(tx.GetOrder("o2")->number, 2);
    o->fulfillment_status = "processing";
    o->job_id = "j1";
    o->job_progress = 40;
    o->supplier_ref = "sup-1";
    tx.UpdateOrder(*o);
    auto items = tx.GetItems("o1");
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].item_id, "i1");
    EXPECT_EQ(items[0].name, "Game \"Deluxe\" ü");
    EXPECT_EQ(items[0].unit_price, "4.95");
    EXPECT_EQ(items[0].quantity, 2);
    items[1].status = "delivered";
    items[1].key_ref = "keys/i2";
    items[1].key_type = "steam";
    tx.UpdateItem(items[1]);
  });
  s->Transaction([](Tx& tx) {
    auto o = tx.GetOrder("o1");
    EXPECT_EQ(o->fulfillment_status, "processing");
    EXPECT_EQ(o->job_progress, 40);
    EXPECT_EQ(o->supplier_ref, "sup-1");
    EXPECT_EQ(tx.GetItems("o1")[1].key_ref, "keys/i2");
    EXPECT_EQ(tx.ListOrders("alice", 10).size(), 1u);
    auto all = tx.ListOrders("", 10);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].order_id, "o2") << "newest first";
    EXPECT_EQ(tx.ListOrders("", 1).size(), 1u);
  });
}

TEST_P(StoreContract, JobsAreLeasedOnceUntilTheLeaseRunsOut) {
  auto s = Open();
  s->Transaction([](Tx& tx) {
    JobRow j;
    j.job_id = "j1";
    j.order_id = "o1";
    j.next_run_at_ms = 1000;
    tx.InsertJob(j);
    j.job_id = "j2";
    j.order_id = "o2";
    j.next_run_at_ms = 5000;
    tx.InsertJob(j);
  });
  s->Transaction([](Tx& tx) {
    EXPECT_FALSE(tx.LeaseNextJob("fulfillment", 999, 100)) << "not due yet";
    auto first = tx.LeaseNextJob("fulfillment", 1000, 100);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->job_id, "j1");
    EXPECT_EQ(first->state, "running");
    EXPECT_EQ(first->attempts, 1);
    EXPECT_EQ(first->lease_until_ms, 1100);
    EXPECT_FALSE(tx.LeaseNextJob("fulfillment", 1050, 100)) << "leased: not handed out twice";
    EXPECT_FALSE(tx.LeaseNextJob("other", 10'000, 100));
    auto again = tx.LeaseNextJob("fulfillment", 1100, 100);  // the lease ran out (a worker died)
    ASSERT_TRUE(again);
    EXPECT_EQ(again->job_id, "j1");
    EXPECT_EQ(again->attempts, 2);
    again->state = "completed";
    again->result = R"({"ok":true})";
    again->permanent = true;
    tx.UpdateJob(*again);
    EXPECT_EQ(tx.GetJob("j1")->result, R"({"ok":true})");
    EXPECT_TRUE(tx.GetJob("j1")->permanent);
    EXPECT_EQ(tx.GetJobForOrder("fulfillment", "o2")->job_id, "j2");
    EXPECT_FALSE(tx.GetJobForOrder("fulfillment", "o3"));
    EXPECT_EQ(tx.ListJobs(std::string("completed"), 10).size(), 1u);
    EXPECT_EQ(tx.ListJobs(std::nullopt, 10).size(), 2u);
    const auto counts = tx.CountJobs("");
    EXPECT_EQ(counts.at("completed"), 1);
    EXPECT_EQ(counts.at("queued"), 1);
  });
  JobRow dup;
  dup.job_id = "j3";
  dup.order_id = "o1";
  EXPECT_THROW(s->Transaction([&](Tx& tx) { tx.InsertJob(dup); }), StoreError) << "one job per (queue, order)";
}

TEST_P(StoreContract, WebhooksAndNotificationKeys) {
  auto s = Open();
  s->Transaction([](Tx& tx) {
    WebhookRow w;
    w.provider = "nowpayments";
    w.event_type = "payment";
    w.external_id = "x1";
    w.order_id = "o1";
    w.raw_body = R"({"a":1})";
    w.body_size = 7;
    const auto id = tx.InsertWebhook(w);
    EXPECT_GT(id, 0);
    w.id = id;
    w.status = "processed";
    tx.UpdateWebhook(w);
    for (int i = 0; i < 5; ++i) {
      WebhookRow bad;
      bad.provider = "nowpayments";
      bad.status = "failed";
      bad.error = "bad signature";
      tx.InsertWebhook(bad);
    }
    tx.PruneFailedWebhooks(2);
    const auto counts = tx.CountWebhooks("");
    EXPECT_EQ(counts.at("processed"), 1);
    EXPECT_EQ(counts.at("failed"), 2) << "only the newest failed records are kept";
    EXPECT_TRUE(tx.RememberNotification("nowpayments", "k1"));
    EXPECT_FALSE(tx.RememberNotification("nowpayments", "k1")) << "seen before";
    EXPECT_TRUE(tx.RememberNotification("other", "k1"));
  });
}

TEST_P(StoreContract, PositionsGrowAndReadsFilterByOrder) {
  auto s = Open();
  std::vector<std::int64_t> seen;
  s->Transaction([&](Tx& tx) {
    for (const auto* order : {"a", "b", "a", ""}) {
      auto e = Entry("x", order, *order ? 0 : 1);
      e.owner_id = "alice";
      e.owner_payload = R"({"mine":true})";
      tx.LogEvent(e);
      seen.push_back(e.pos);
    }
    EXPECT_EQ(tx.LogHead(), 4);
  });
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3, 4}));
  const auto all = s->ReadLog(0, std::nullopt, 100);
  EXPECT_EQ(Positions(all), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(all[0].owner_payload, R"({"mine":true})");
  EXPECT_EQ(all[3].audience, 1);
  EXPECT_GT(all[0].created_ms, 0);
  EXPECT_EQ(Positions(s->ReadLog(1, std::vector<std::string>{"a"}, 100)), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(Positions(s->ReadLog(0, std::vector<std::string>{"b", "a"}, 100)), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(Positions(s->ReadLog(0, std::vector<std::string>{"b", "a"}, 2)), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(Positions(s->ReadLog(0, std::vector<std::string>{"a\"b", "c\\d", "a,b"}, 100)), std::vector<std::int64_t>{})
      << "odd order ids are values, not syntax";
  EXPECT_EQ(Positions(s->ReadLog(0, std::nullopt, 2)), (std::vector<std::int64_t>{1, 2}));  // bounded reads
  EXPECT_EQ(s->LogBounds().head, 4);
  EXPECT_EQ(s->LogBounds().pruned_through, 0);
}

TEST_P(StoreContract, AfterCommitRunsOnCommitOnlyAndInCommitOrder) {
  auto s = Open();
  std::vector<std::int64_t> handed;
  const auto log_one = [&](Tx& tx) {
    auto e = Entry("x", "a");
    tx.LogEvent(e);
    tx.AfterCommit([&handed, pos = e.pos] { handed.push_back(pos); });
  };
  s->Transaction(log_one);
  EXPECT_THROW(s->Transaction([&](Tx& tx) {
    log_one(tx);
    throw std::runtime_error("rolled back");
  }),
               std::runtime_error);
  s->Transaction(log_one);
  EXPECT_EQ(handed, (std::vector<std::int64_t>{1, 2}));  // the rolled-back one handed nothing, used no position
}

TEST_P(StoreContract, PruningByAgeAndSizeMovesTheReplayFloor) {
  auto s = Open();
  s->Transaction([&](Tx& tx) {
    for (int i = 0; i < 10; ++i) {
      auto e = Entry("x", "a");
      tx.LogEvent(e);
    }
  });
  s->PruneLog(0, 4);  // keep the newest 4
  EXPECT_EQ(s->LogBounds().pruned_through, 6);
  EXPECT_EQ(Positions(s->ReadLog(0, std::nullopt, 100)), (std::vector<std::int64_t>{7, 8, 9, 10}));
  s->PruneLog(std::numeric_limits<std::int64_t>::max(), 100);  // everything is older than "now"
  const auto b = s->LogBounds();
  EXPECT_EQ(b.head, 10);
  EXPECT_EQ(b.pruned_through, 9);  // the newest entry stays
  EXPECT_EQ(Positions(s->ReadLog(9, std::nullopt, 100)), (std::vector<std::int64_t>{10}));
  s->PruneLog(std::numeric_limits<std::int64_t>::max(), 0);
  EXPECT_EQ(s->LogBounds().pruned_through, 9);
  s->Transaction([&](Tx& tx) {
    auto e = Entry("x", "a");
    tx.LogEvent(e);
    EXPECT_EQ(e.pos, 11);  // positions are never reused
  });
}

TEST_P(StoreContract, TimelinesOutlivePruningAndUndeliveredEntriesAreNeverReplayed) {
  auto s = Open();
  s->UpsertOrder("o1", "alice", std::nullopt);
  s->Transaction([&](Tx& tx) {
    auto a = Entry("fulfillment:status-change", "o1");
    tx.LogEvent(a, Tx::Timeline::kRequired);  // pos 1, seq 1
    EXPECT_EQ(a.order_seq, 1);
    auto unknown = Entry("fulfillment:status-change", "nobody-knows");
    tx.LogEvent(unknown, Tx::Timeline::kIfOrder);  // pos 2, in no timeline
    EXPECT_EQ(unknown.order_seq, 0);
    auto admin = Entry("admin:job-queue", "o1", 1);
    tx.LogEvent(admin);                                            // pos 3, in no timeline
    EXPECT_EQ(tx.AppendEvent("o1", "key:revealed", "{}").seq, 2);  // pos 4, never delivered
    auto b = Entry("fulfillment:status-change", "o1");
    tx.LogEvent(b, Tx::Timeline::kIfOrder);  // pos 5, seq 3
    EXPECT_EQ(b.order_seq, 3);
  });
  EXPECT_THROW(s->Transaction([&](Tx& tx) {
    auto missing = Entry("fulfillment:status-change", "nobody-knows");
    tx.LogEvent(missing, Tx::Timeline::kRequired);
  }),
               StoreError);
  EXPECT_EQ(Positions(s->ReadLog(0, std::nullopt, 100)), (std::vector<std::int64_t>{1, 2, 3, 5}));
  EXPECT_EQ(Positions(s->ReadLog(0, std::vector<std::string>{"o1"}, 100)), (std::vector<std::int64_t>{1, 3, 5}));
  s->PruneLog(std::numeric_limits<std::int64_t>::max(), 0);
  EXPECT_EQ(s->LogBounds().pruned_through, 4);
  std::vector<std::int64_t> seqs;
  s->Transaction([&](Tx& tx) {
    for (const auto& e : tx.Events("o1", 0, 100)) seqs.push_back(e.seq);
    EXPECT_EQ(tx.TimelineSeq("o1"), 3);
    EXPECT_EQ(tx.Events("o1", 1, 1).size(), 1u);
    EXPECT_TRUE(tx.Events("nobody-knows", 0, 100).empty());
  });
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2, 3}));  // the whole timeline, pruning or not
}

TEST_P(StoreContract, SessionWritesGoTogether) {
  auto s = Open();
  s->SaveSession(SessionRow{"pid-a", "sid-a", "alice", false, 0, "{}", 0, ""});
  s->WriteSessions({{"pid-a", std::nullopt},
                    {"pid-b", SessionRow{"pid-b", "sid-b", "bob", false, 2, R"({"o1":2})", 5, ""}},
                    {"pid-c", SessionRow{"pid-c", "sid-c", "carol", true, 0, "{}", 0, ""}}});
  EXPECT_FALSE(s->LoadSession("pid-a"));
  ASSERT_TRUE(s->LoadSession("pid-b"));
  EXPECT_EQ(s->LoadSession("pid-b")->subscriptions_json, R"({"o1":2})");
  EXPECT_EQ(s->LoadSession("pid-b")->disconnected_ms, 5);
  EXPECT_EQ(s->LoadSession("pid-b")->created_pos, 2);
  EXPECT_TRUE(s->LoadSession("pid-c")->admin);
  s->SaveSession(SessionRow{"pid-b", "sid-b", "bob", false, 2, R"({"o1":2,"o2":7})", 0, ""});  // saved again: replaced
  EXPECT_EQ(s->LoadSession("pid-b")->subscriptions_json, R"({"o1":2,"o2":7})");
}

TEST_P(StoreContract, SessionsSurviveARestartAndSettle) {
  {
    auto s = Open();
    s->SaveSession(SessionRow{"pid-live", "sid-1", "alice", false, 3, R"({"o1":3})", 0, ""});
    s->SaveSession(SessionRow{"pid-old", "sid-2", "bob", false, 0, "{}", 1000, ""});
    s->SaveSession(SessionRow{"pid-gone", "sid-3", "carol", true, 0, "{}", 0, ""});
    s->DeleteSession("pid-gone");
    auto e = Entry("x", "a");
    s->Transaction([&](Tx& tx) { tx.LogEvent(e); });
  }
  auto s = Open();  // a restart after a crash
  EXPECT_EQ(s->LogBounds().head, 1) << "the log outlives the process";
  s->SettleSessions(50'000, 10'000);
  const auto live = s->LoadSession("pid-live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->disconnected_ms, 50'000);  // disconnected as of the restart
  EXPECT_EQ(live->user_id, "alice");
  EXPECT_EQ(live->subscriptions_json, R"({"o1":3})");
  EXPECT_FALSE(s->LoadSession("pid-old"));   // past the window already
  EXPECT_FALSE(s->LoadSession("pid-gone"));  // an explicit disconnect
  s->SaveSession(SessionRow{"pid-now", "sid-4", "dave", false, 0, "{}", 0, ""});
  s->PruneSessions(60'000);  // while running: disconnected sessions past the window go
  EXPECT_FALSE(s->LoadSession("pid-live"));
  EXPECT_TRUE(s->LoadSession("pid-now"));  // connected ones stay
}

}  // namespace
}  // namespace fg::store::testing

#include "gateway/shard.hpp"

#include <gtest/gtest.h>

namespace fg::gateway {
namespace {

struct FakeSocket : Subscriber {
  FakeSocket(std::string u, bool a) : user(std::move(u)), admin(a) {}
  void Send(const net::SharedMessage& f, std::int64_t, const std::string&) override { got.push_back(*f); }
  bool IsAdmin() const override { return admin; }
  const std::string& UserId() const override { return user; }
  bool OnWebSocket() const override { return websocket; }
  std::size_t QueuedBytes() const override { return queued; }
  std::string user;
  bool admin;
  bool websocket = true;
  std::size_t queued = 0;
  std::vector<std::string> got;
};

net::SharedMessage F(const char* s) {
  return std::make_shared<const std::string>(s);
}

TEST(Shard, StatsCountSocketsByRoleAndTransportSubscriptionsAndQueuedBytes) {
  Shard shard;
  FakeSocket a("u1", false), b("u2", false), admin("root", true);
  b.websocket = false;
  a.queued = 100;
  admin.queued = 23;
  for (auto* s : {&a, &b, &admin}) shard.Add(s);
  shard.Subscribe(&a, "o1", 10);
  shard.Subscribe(&a, "o2", 10);
  shard.Subscribe(&b, "o1", 10);
  const auto st = shard.Stats();
  EXPECT_EQ(st.sockets[0][1], 1u);  // user, websocket
  EXPECT_EQ(st.sockets[0][0], 1u);  // user, polling
  EXPECT_EQ(st.sockets[1][1], 1u);  // admin, websocket
  EXPECT_EQ(st.sockets[1][0], 0u);
  EXPECT_EQ(st.subscriptions, 3u);
  EXPECT_EQ(st.queued_bytes, 123u);
}

TEST(Shard, OrderEventsReachSubscribersAndAdminsOnce) {
  Shard shard;
  FakeSocket alice("alice", false), bob("bob", false), admin("root", true), admin_sub("root2", true);
  for (auto* s : {&alice, &bob, &admin, &admin_sub}) shard.Add(s);
  EXPECT_EQ(shard.Subscribe(&alice, "o1", 10), Shard::SubscribeResult::kOk);
  EXPECT_EQ(shard.Subscribe(&alice, "o1", 10), Shard::SubscribeResult::kAlready);
  EXPECT_EQ(shard.Subscribe(&bob, "o2", 10), Shard::SubscribeResult::kOk);
  EXPECT_EQ(shard.Subscribe(&admin_sub, "o1", 10), Shard::SubscribeResult::kOk);

  EXPECT_EQ(shard.Route(Audience::kOrderAndAdmins, "o1", F("e1")), 3u);
  EXPECT_EQ(alice.got, std::vector<std::string>{"e1"});
  EXPECT_TRUE(bob.got.empty());
  EXPECT_EQ(admin.got, std::vector<std::string>{"e1"});
  EXPECT_EQ(admin_sub.got, std::vector<std::string>{"e1"});
}

TEST(Shard, AdminEventsReachAdminsOnly) {
  Shard shard;
  FakeSocket alice("alice", false), admin("root", true);
  shard.Add(&alice);
  shard.Add(&admin);
  shard.Subscribe(&alice, "o1", 10);
  EXPECT_EQ(shard.Route(Audience::kAdminsOnly, "o1", F("job")), 1u);
  EXPECT_TRUE(alice.got.empty());
  EXPECT_EQ(admin.got.size(), 1u);
}

TEST(Shard, RemoveDropsEverySubscriptionAndCounts) {
  Shard shard;
  FakeSocket a("alice", false), a2("alice", false), admin("root", true);
  shard.Add(&a);
  shard.Add(&a2);
  shard.Add(&admin);
  shard.Subscribe(&a, "o1", 10);
  shard.Subscribe(&a, "o2", 10);
  shard.Subscribe(&a2, "o1", 10);
  auto st = shard.Stats();
  EXPECT_EQ(st.total, 3u);
  EXPECT_EQ(st.admins, 1u);
  EXPECT_EQ(st.users, 2u);
  EXPECT_EQ(st.watched, (std::map<std::string, std::size_t>{{"o1", 2}, {"o2", 1}}));
  shard.Remove(&a);
  st = shard.Stats();
  EXPECT_EQ(st.total, 2u);
  EXPECT_EQ(st.watched, (std::map<std::string, std::size_t>{{"o1", 1}}));
  shard.Remove(&admin);
  EXPECT_EQ(shard.Stats().admins, 0u);
  EXPECT_EQ(shard.Route(Audience::kOrderAndAdmins, "o2", F("x")), 0u);
  EXPECT_TRUE(a.got.empty());
}

TEST(Shard, RevokeKeepsTheNewOwnerAndAdmins) {
  Shard shard;
  FakeSocket alice("alice", false), alice2("alice", false), bob("bob", false), admin("root", true);
  for (auto* s : {&alice, &alice2, &bob, &admin}) {
    shard.Add(s);
    shard.Subscribe(s, "o1", 10);
  }
  shard.Subscribe(&alice, "o2", 10);
  EXPECT_EQ(shard.Revoke("o1", "bob"), 2u);
  EXPECT_EQ(shard.Route(Audience::kOrderAndAdmins, "o1", F("after")), 2u);
  EXPECT_TRUE(alice.got.empty());
  EXPECT_TRUE(alice2.got.empty());
  EXPECT_EQ(bob.got, std::vector<std::string>{"after"});
  EXPECT_EQ(admin.got, std::vector<std::string>{"after"});
  EXPECT_EQ(shard.SubscriptionCount(&alice), 1u) << "other orders untouched";
  EXPECT_EQ(shard.Subscribe(&alice, "o1", 10), Shard::SubscribeResult::kOk) << "the index forgot the revoked one";
  EXPECT_EQ(shard.Revoke("unknown", "x"), 0u);
}

TEST(Shard, UnsubscribeAndLimit) {
  Shard shard;
  FakeSocket a("alice", false);
  shard.Add(&a);
  EXPECT_EQ(shard.Subscribe(&a, "o1", 2), Shard::SubscribeResult::kOk);
  EXPECT_EQ(shard.Subscribe(&a, "o2", 2), Shard::SubscribeResult::kOk);
  EXPECT_EQ(shard.Subscribe(&a, "o3", 2), Shard::SubscribeResult::kLimit);
  shard.Unsubscribe(&a, "o1");
  shard.Unsubscribe(&a, "never");
  EXPECT_EQ(shard.SubscriptionCount(&a), 1u);
  EXPECT_EQ(shard.Subscribe(&a, "o3", 2), Shard::SubscribeResult::kOk);
  EXPECT_EQ(shard.Route(Audience::kOrderAndAdmins, "o1", F("x")), 0u);
}

TEST(Shard, OwnerVariantReachesTheOwnerOnly) {
  Shard shard;
  FakeSocket owner("alice", false), admin("root", true), subscribed_admin("root2", true), other("mallory", false);
  for (auto* s : {&owner, &admin, &subscribed_admin, &other}) shard.Add(s);
  shard.Subscribe(&owner, "o1", 10);
  shard.Subscribe(&subscribed_admin, "o1", 10);
  shard.Subscribe(&other, "o1", 10);  // not the owner (e.g. a stale subscription): never the owner's copy
  EXPECT_EQ(shard.Route(Audience::kOrderAndAdmins, "o1", F("plain"), OwnerVariant{"alice", F("with-links")}), 4u);
  EXPECT_EQ(owner.got, std::vector<std::string>{"with-links"});
  EXPECT_EQ(admin.got, std::vector<std::string>{"plain"});
  EXPECT_EQ(subscribed_admin.got, std::vector<std::string>{"plain"});
  EXPECT_EQ(other.got, std::vector<std::string>{"plain"});
}

}  // namespace
}  // namespace fg::gateway

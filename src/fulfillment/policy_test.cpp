#include "fulfillment/policy.hpp"

#include <gtest/gtest.h>

namespace fg::fulfillment {
namespace {

TEST(OrderStateMachine, OnlyForward) {
  using S = OrderStatus;
  EXPECT_TRUE(CanTransition(S::kCreated, S::kPaid));
  EXPECT_TRUE(CanTransition(S::kPaid, S::kProcessing));
  EXPECT_TRUE(CanTransition(S::kProcessing, S::kFulfilled));
  for (auto s : {S::kCreated, S::kPaid, S::kProcessing}) EXPECT_TRUE(CanTransition(s, S::kFailed));
  EXPECT_FALSE(CanTransition(S::kPaid, S::kCreated));
  EXPECT_FALSE(CanTransition(S::kCreated, S::kProcessing)) << "no skipping";
  EXPECT_FALSE(CanTransition(S::kProcessing, S::kPaid));
  EXPECT_FALSE(CanTransition(S::kFulfilled, S::kFailed));
  EXPECT_FALSE(CanTransition(S::kFailed, S::kPaid));
  EXPECT_FALSE(CanTransition(S::kPaid, S::kPaid));
  EXPECT_EQ(ParseOrderStatus("processing"), S::kProcessing);
  EXPECT_FALSE(ParseOrderStatus("shipped"));
}

TEST(Backoff, ExponentialWithJitterAndCap) {
  Backoff b{std::chrono::milliseconds(1000), std::chrono::milliseconds(10000)};
  EXPECT_EQ(b.Delay(1, 0.0).count(), 500);
  EXPECT_EQ(b.Delay(1, 0.999).count(), 999);
  EXPECT_EQ(b.Delay(2, 0.0).count(), 1000);
  EXPECT_EQ(b.Delay(3, 0.0).count(), 2000);
  EXPECT_EQ(b.Delay(4, 0.5).count(), 6000);
  EXPECT_EQ(b.Delay(5, 0.0).count(), 5000) << "capped at 10 s";
  EXPECT_EQ(b.Delay(40, 0.0).count(), 5000);
  for (int n = 1; n < 10; ++n) EXPECT_LE(b.Delay(n, 0.3), b.Delay(n + 1, 0.3));
}

TEST(PaymentRank, OnlyForwardAndFinalFailures) {
  EXPECT_LT(PaymentRank("waiting"), PaymentRank("confirming"));
  EXPECT_LT(PaymentRank("partially_paid"), PaymentRank("finished"));
  EXPECT_LT(PaymentRank("finished"), PaymentRank("refunded"));
  EXPECT_EQ(PaymentRank("made-up"), 0);
  EXPECT_EQ(PaymentRank(""), 0);
  for (const char* s : {"failed", "expired", "refunded"}) EXPECT_TRUE(IsFinalPaymentFailure(s)) << s;
  for (const char* s : {"", "waiting", "finished", "partially_paid"}) EXPECT_FALSE(IsFinalPaymentFailure(s)) << s;
}

}  // namespace
}  // namespace fg::fulfillment

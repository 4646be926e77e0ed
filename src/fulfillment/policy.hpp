// Pure rules of the fulfillment flow: the order state machine and the retry schedule.
#pragma once

#include "events/events.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace fg::fulfillment {

using events::OrderStatus;
using events::ParseOrderStatus;
using events::ToString;
// created → paid → processing → fulfilled, and any non-terminal state → failed. Nothing moves back.
bool CanTransition(OrderStatus from, OrderStatus to);

// How far a NOWPayments payment has got (waiting < confirming < confirmed < sending <
// partially_paid < finished < failed = expired < refunded; 0 for anything else). An IPN that does
// not move it forward changes nothing.
int PaymentRank(std::string_view payment_status);
// refunded, failed or expired: the money is not (or no longer) ours.
bool IsFinalPaymentFailure(std::string_view payment_status);

// Exponential backoff with "equal jitter": the n-th retry (n ≥ 1) waits
// d/2 + U[0, d/2) where d = min(cap, base · 2^(n-1)). `unit_random` ∈ [0, 1).
struct Backoff {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{60000};
  std::chrono::milliseconds Delay(int retry, double unit_random) const;
};

}  // namespace fg::fulfillment

// Pure rules of the fulfillment flow: the order state machine and the retry schedule.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace fg::fulfillment {

// created → paid → processing → fulfilled, and any non-terminal state → failed. Nothing moves back.
enum class OrderStatus { kCreated, kPaid, kProcessing, kFulfilled, kFailed };
std::string_view ToString(OrderStatus s);
std::optional<OrderStatus> ParseOrderStatus(std::string_view s);
bool CanTransition(OrderStatus from, OrderStatus to);

// Exponential backoff with "equal jitter": the n-th retry (n ≥ 1) waits
// d/2 + U[0, d/2) where d = min(cap, base · 2^(n-1)). `unit_random` ∈ [0, 1).
struct Backoff {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{60000};
  std::chrono::milliseconds Delay(int retry, double unit_random) const;
};

}  // namespace fg::fulfillment

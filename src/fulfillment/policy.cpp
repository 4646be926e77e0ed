#include "fulfillment/policy.hpp"

#include <algorithm>

namespace fg::fulfillment {

std::string_view ToString(OrderStatus s) {
  switch (s) {
    case OrderStatus::kCreated: return "created";
    case OrderStatus::kPaid: return "paid";
    case OrderStatus::kProcessing: return "processing";
    case OrderStatus::kFulfilled: return "fulfilled";
    case OrderStatus::kFailed: return "failed";
  }
  return "created";
}

std::optional<OrderStatus> ParseOrderStatus(std::string_view s) {
  for (auto st : {OrderStatus::kCreated, OrderStatus::kPaid, OrderStatus::kProcessing, OrderStatus::kFulfilled, OrderStatus::kFailed}) {
    if (ToString(st) == s) return st;
  }
  return std::nullopt;
}

bool CanTransition(OrderStatus from, OrderStatus to) {
  if (from == OrderStatus::kFulfilled || from == OrderStatus::kFailed) return false;
  if (to == OrderStatus::kFailed) return true;
  return static_cast<int>(to) == static_cast<int>(from) + 1;
}

std::chrono::milliseconds Backoff::Delay(int retry, double unit_random) const {
  const int shift = std::clamp(retry - 1, 0, 30);
  const long long exp = std::min<long long>(cap.count(), base.count() * (1LL << shift));
  const double half = static_cast<double>(exp) / 2.0;
  return std::chrono::milliseconds(static_cast<long long>(half + std::clamp(unit_random, 0.0, 0.999999) * half));
}

}  // namespace fg::fulfillment

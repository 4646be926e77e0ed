#include "fulfillment/policy.hpp"

#include <algorithm>
#include <utility>

namespace fg::fulfillment {

bool CanTransition(OrderStatus from, OrderStatus to) {
  if (from == OrderStatus::kFulfilled || from == OrderStatus::kFailed) return false;
  if (to == OrderStatus::kFailed) return true;
  return static_cast<int>(to) == static_cast<int>(from) + 1;
}

int PaymentRank(std::string_view status) {
  static constexpr std::pair<std::string_view, int> kRanks[] = {{"waiting", 1}, {"confirming", 2},     {"confirmed", 3},
                                                                {"sending", 4}, {"partially_paid", 5}, {"finished", 6},
                                                                {"failed", 7},  {"expired", 7},        {"refunded", 8}};
  for (const auto& [name, rank] : kRanks) {
    if (name == status) return rank;
  }
  return 0;
}

bool IsFinalPaymentFailure(std::string_view payment_status) {
  return PaymentRank(payment_status) >= PaymentRank("failed");
}

std::chrono::milliseconds Backoff::Delay(int retry, double unit_random) const {
  const int shift = std::clamp(retry - 1, 0, 30);
  const long long exp = std::min<long long>(cap.count(), base.count() * (1LL << shift));
  const double half = static_cast<double>(exp) / 2.0;
  return std::chrono::milliseconds(static_cast<long long>(half + std::clamp(unit_random, 0.0, 0.999999) * half));
}

}  // namespace fg::fulfillment

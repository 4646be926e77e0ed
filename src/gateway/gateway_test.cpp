#include "gateway/gateway.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace fg::gateway {
namespace {

TEST(Routing, EventFrameIsOneSocketIoEventPacket) {
  EXPECT_EQ(EncodeEventMessage("payment:confirmed", R"({"orderId":"o"})"),
            R"(42/fulfillment,["payment:confirmed",{"orderId":"o"}])");
}

TEST(Stats, JsonShape) {
  GlobalStats s;
  s.total = 3;
  s.admins = 1;
  s.users = 2;
  s.watched = {{"o1", 2}};
  auto j = s.ToJson();
  EXPECT_EQ(j.at("totalConnected").as_uint64(), 3u);
  EXPECT_EQ(j.at("admins").as_uint64(), 1u);
  EXPECT_EQ(j.at("adminSubscribersCount").as_uint64(), 1u);
  EXPECT_EQ(j.at("users").as_uint64(), 2u);
  EXPECT_EQ(j.at("ordersBeingWatched").as_uint64(), 1u);
  EXPECT_EQ(boost::json::serialize(j.at("watchedOrders")), R"([{"orderId":"o1","subscribers":2}])");
  EXPECT_TRUE(j.at("timestamp").is_string());
}

}  // namespace
}  // namespace fg::gateway

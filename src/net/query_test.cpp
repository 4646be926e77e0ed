#include "net/query.hpp"

#include <gtest/gtest.h>

namespace fg::net {
namespace {

TEST(Query, DecodesAndFindsTheFirstOccurrence) {
  const Query q("/socket.io/?EIO=4&transport=polling&t=a%20b+c&dup=1&dup=2&empty=&flag");
  EXPECT_EQ(q.Get("EIO"), "4");
  EXPECT_EQ(q.Get("t"), "a b c");
  EXPECT_EQ(q.Get("dup"), "1");
  EXPECT_EQ(q.Get("empty"), "");
  EXPECT_EQ(q.Get("flag"), "");
  EXPECT_FALSE(q.Get("sid"));
  EXPECT_EQ(q.GetOr("sid", "none"), "none");
  const auto m = q.ToMap();
  EXPECT_EQ(m.at("dup"), "1");
  EXPECT_EQ(m.size(), 6u);
}

TEST(Query, NoQueryOrInvalidTextIsEmpty) {
  EXPECT_FALSE(Query("/healthz").Get("a"));
  EXPECT_FALSE(Query("/x?a=%zz").Get("a"));
  EXPECT_TRUE(Query("/x?a=%zz").ToMap().empty());
}

}  // namespace
}  // namespace fg::net

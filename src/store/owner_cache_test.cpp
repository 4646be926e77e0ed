#include "store/owner_cache.hpp"

#include <gtest/gtest.h>

namespace fg::store {
namespace {

TEST(OwnerCache, AReadThatBeganBeforeAForgetIsNotCached) {
  OwnerCache cache(10);
  cache.Put("o1", "alice", cache.Epoch());
  const auto before = cache.Epoch();  // a read of o1 and o2 begins: o1 is alice, o2 is carol
  cache.Forget("o1");                 // another node gave o1 to bob meanwhile
  cache.Put("o1", "alice", before);   // the read ends
  cache.Put("o2", "carol", before);
  EXPECT_EQ(cache.Get("o1"), std::nullopt);  // not the old owner back
  EXPECT_EQ(cache.Get("o2"), std::nullopt);  // any entry of that read is suspect: a miss costs a lookup
  cache.Put("o1", "bob", cache.Epoch());
  EXPECT_EQ(cache.Get("o1"), "bob");
}

TEST(OwnerCache, AWriteInAnOlderEpochDropsTheEntryItWouldHaveReplaced) {
  OwnerCache cache(10);
  cache.Put("o1", "alice", cache.Epoch());
  const auto before = cache.Epoch();
  cache.Forget("o9");
  cache.Put("o1", "bob", before);  // this node's own write of o1, its epoch moved on by another order
  EXPECT_EQ(cache.Get("o1"), std::nullopt);
}

TEST(OwnerCache, MissingOrdersFollowTheSameEpochs) {
  OwnerCache cache(10);
  const auto before = cache.Epoch();
  cache.Forget("o1");  // created on another node
  cache.PutMissing("o1", before);
  EXPECT_FALSE(cache.IsMissing("o1"));
  cache.PutMissing("o1", cache.Epoch());
  EXPECT_TRUE(cache.IsMissing("o1"));
}

TEST(OwnerCache, DisabledItCachesNothingAndReadsFromThenAreNotKeptAfter) {
  OwnerCache cache(10);
  cache.Put("o1", "alice", cache.Epoch());
  cache.SetEnabled(false);  // this node stopped hearing the others
  EXPECT_EQ(cache.Get("o1"), std::nullopt);
  const auto during = cache.Epoch();
  cache.Put("o2", "bob", during);
  cache.PutMissing("o3", during);
  EXPECT_EQ(cache.Get("o2"), std::nullopt);
  EXPECT_FALSE(cache.IsMissing("o3"));
  cache.SetEnabled(true);  // hears them again: a read begun while deaf is not kept
  cache.Put("o2", "bob", during);
  EXPECT_EQ(cache.Get("o2"), std::nullopt);
  cache.Put("o2", "bob", cache.Epoch());
  EXPECT_EQ(cache.Get("o2"), "bob");
}

}  // namespace
}  // namespace fg::store

// The DH key pair pool: key pairs are precomputed per configured group within a time
// budget, handed out once each, and fresh ones are generated when none is ready.
#include <gtest/gtest.h>

#include <set>

#include "control/ike/dh_pool.hpp"

namespace mbox::ike {
namespace {

using Steady = std::chrono::steady_clock;

Steady::time_point far_future() { return Steady::now() + std::chrono::hours(1); }

TEST(DhPool, RefillsEveryConfiguredGroupToItsDepth) {
    DhPoolCounters counters;
    DhPool pool(3, counters);
    pool.set_groups({19, 31, 19});  // duplicates (two peers, same group) count once
    pool.refill(far_future());
    EXPECT_EQ(pool.ready(19), 3u);
    EXPECT_EQ(pool.ready(31), 3u);
    EXPECT_EQ(pool.ready(14), 0u);
    EXPECT_EQ(counters.precomputed, 6u);
    pool.refill(far_future());  // already full: nothing more
    EXPECT_EQ(counters.precomputed, 6u);
}

TEST(DhPool, EachKeyPairIsHandedOutOnceThenFreshOnesAreGenerated) {
    DhPoolCounters counters;
    DhPool pool(2, counters);
    pool.set_groups({31});
    pool.refill(far_future());
    std::set<std::vector<uint8_t>> seen;
    std::string error;
    for (int i = 0; i < 4; ++i) {
        auto pair = pool.take(31, error);
        ASSERT_NE(pair, nullptr) << error;
        EXPECT_EQ(pair->group(), 31);
        EXPECT_TRUE(seen.insert(pair->public_value()).second) << "key pair " << i << " handed out twice";
    }
    EXPECT_EQ(counters.taken_ready, 2u);
    EXPECT_EQ(counters.taken_fresh, 2u);
    EXPECT_EQ(pool.ready(31), 0u);
    // A group nobody configured is generated on the spot.
    auto other = pool.take(19, error);
    ASSERT_NE(other, nullptr) << error;
    EXPECT_EQ(other->group(), 19);
    EXPECT_EQ(counters.taken_fresh, 3u);
}

TEST(DhPool, KeysOfGroupsNoLongerConfiguredAreFreed) {
    DhPoolCounters counters;
    DhPool pool(2, counters);
    pool.set_groups({19, 31});
    pool.refill(far_future());
    pool.set_groups({31});
    EXPECT_EQ(pool.ready(19), 0u);
    EXPECT_EQ(pool.ready(31), 2u);
}

TEST(DhPool, ADeadlineInThePastGeneratesNothing) {
    DhPoolCounters counters;
    DhPool pool(4, counters);
    pool.set_groups({19});
    pool.refill(Steady::now() - std::chrono::seconds(1));
    EXPECT_EQ(pool.ready(19), 0u);
    EXPECT_EQ(counters.precomputed, 0u);
}

TEST(DhPool, DepthZeroKeepsNothingAndUnsupportedGroupsAreRefused) {
    DhPoolCounters counters;
    DhPool pool(0, counters);
    pool.set_groups({19, 999});
    pool.refill(far_future());
    EXPECT_EQ(pool.ready(19), 0u);
    EXPECT_EQ(counters.precomputed, 0u);
    std::string error;
    EXPECT_EQ(pool.take(999, error), nullptr);
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(counters.taken_fresh, 0u);
}

}  // namespace
}  // namespace mbox::ike

// The pre-filter of the outbound policy lookups: an address is in the ranges exactly
// when one of the prefixes holds it, whatever the prefixes' overlaps and edges.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "dataplane/address_ranges.hpp"

namespace mbox::dataplane {
namespace {

Ipv4Prefix prefix(const char* text) { return Ipv4Prefix::parse(text)->network(); }
uint32_t ip(const char* text) { return Ipv4Address::parse(text)->value; }

AddressRanges ranges_of(std::vector<Ipv4Prefix> prefixes) {
    std::ranges::sort(prefixes);
    AddressRanges r;
    r.assign(prefixes);
    return r;
}

TEST(AddressRanges, EmptyHoldsNothing) {
    const AddressRanges r;
    EXPECT_FALSE(r.contains(0));
    EXPECT_FALSE(r.contains(ip("10.0.0.1")));
    EXPECT_FALSE(r.contains(UINT32_MAX));
}

TEST(AddressRanges, HoldsEachPrefixUpToItsEdges) {
    const auto r = ranges_of({prefix("10.2.0.0/16"), prefix("192.0.2.0/24"), prefix("10.9.9.9/32")});
    EXPECT_TRUE(r.contains(ip("10.2.0.0")));
    EXPECT_TRUE(r.contains(ip("10.2.255.255")));
    EXPECT_FALSE(r.contains(ip("10.1.255.255")));
    EXPECT_FALSE(r.contains(ip("10.3.0.0")));
    EXPECT_TRUE(r.contains(ip("10.9.9.9")));
    EXPECT_FALSE(r.contains(ip("10.9.9.8")));
    EXPECT_FALSE(r.contains(ip("10.9.9.10")));
    EXPECT_TRUE(r.contains(ip("192.0.2.128")));
    EXPECT_FALSE(r.contains(ip("192.0.3.0")));
    EXPECT_FALSE(r.contains(0));
}

TEST(AddressRanges, NestedAndAdjacentPrefixesMergeWithoutLosingAnyAddress) {
    // 10.0.0.0/8 holds 10.2.3.0/24; 10.0.0.0/8 and 11.0.0.0/8 touch.
    const auto r = ranges_of({prefix("10.2.3.0/24"), prefix("11.0.0.0/8"), prefix("10.0.0.0/8")});
    EXPECT_TRUE(r.contains(ip("10.0.0.0")));
    EXPECT_TRUE(r.contains(ip("10.2.3.4")));
    EXPECT_TRUE(r.contains(ip("10.200.0.1")));
    EXPECT_TRUE(r.contains(ip("11.255.255.255")));
    EXPECT_FALSE(r.contains(ip("9.255.255.255")));
    EXPECT_FALSE(r.contains(ip("12.0.0.0")));
}

TEST(AddressRanges, TheWholeSpaceAndItsTopEdge) {
    EXPECT_TRUE(ranges_of({prefix("0.0.0.0/0")}).contains(0));
    EXPECT_TRUE(ranges_of({prefix("0.0.0.0/0"), prefix("10.0.0.0/8")}).contains(UINT32_MAX));
    const auto top = ranges_of({prefix("255.255.255.255/32"), prefix("255.255.255.0/24")});
    EXPECT_TRUE(top.contains(UINT32_MAX));
    EXPECT_TRUE(top.contains(ip("255.255.255.0")));
    EXPECT_FALSE(top.contains(ip("255.255.254.255")));
}

TEST(AddressRanges, AssignReplacesTheOldContent) {
    auto r = ranges_of({prefix("10.2.0.0/16")});
    const std::vector<Ipv4Prefix> other{prefix("10.3.0.0/16")};
    r.assign(other);
    EXPECT_FALSE(r.contains(ip("10.2.0.1")));
    EXPECT_TRUE(r.contains(ip("10.3.0.1")));
}

// Prefixes added and removed one at a time leave the ranges that assigning the
// remaining set at once gives: random nesting, overlapping and touching prefixes,
// looked up at every prefix's edges and at random addresses.
TEST(AddressRanges, AddAndRemoveAgreeWithAssigningTheRemainingSet) {
    std::mt19937 random(11);
    const auto pick = [&](uint32_t n) { return static_cast<uint32_t>(random() % n); };
    std::vector<Ipv4Prefix> set;  // sorted, distinct
    AddressRanges changed(4096);
    for (int round = 0; round < 2000; ++round) {
        if (set.size() < 20 || pick(3) != 0) {
            const auto length = static_cast<uint8_t>(pick(33));
            const Ipv4Prefix p = Ipv4Prefix{Ipv4Address{pick(4) << 30 | pick(1u << 12) << 18 | pick(1u << 18)}, length}.network();
            const auto at = std::ranges::lower_bound(set, p);
            if (at != set.end() && *at == p) continue;
            set.insert(at, p);
            changed.add(p);
        } else {
            const auto at = set.begin() + pick(static_cast<uint32_t>(set.size()));
            const Ipv4Prefix p = *at;
            set.erase(at);
            changed.remove(p, set);
        }
        AddressRanges whole;
        whole.assign(set);
        for (int probe = 0; probe < 16; ++probe) {
            const Ipv4Prefix& p = set[pick(static_cast<uint32_t>(set.size()))];
            const uint32_t last = p.address.value | ~p.mask();
            for (const uint32_t a : {p.address.value, p.address.value - 1, last, last + 1, static_cast<uint32_t>(random())})
                ASSERT_EQ(changed.contains(a), whole.contains(a)) << round << " " << a;
        }
    }
}

}  // namespace
}  // namespace mbox::dataplane

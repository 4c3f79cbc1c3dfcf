// The pre-filter of the outbound policy lookups: an address is in the ranges exactly
// when one of the prefixes holds it, whatever the prefixes' overlaps and edges.
#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace mbox::dataplane

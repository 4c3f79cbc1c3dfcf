// RouteTable: the rte_lpm-backed longest-prefix-match table every worker forwards with.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/route_table.hpp"
#include "eal_environment.hpp"
#include "route_printers.hpp"

namespace mbox::dataplane {

namespace {

uint32_t ip(const char* text) { return Ipv4Address::parse(text).value().value; }

RouteEntry entry(const char* prefix, NextHop hop) { return {Ipv4Prefix::parse(prefix).value(), hop}; }

NextHop connected(uint16_t port) { return {NextHop::Kind::Connected, port, 0}; }
NextHop via(const char* gateway, uint16_t port) { return {NextHop::Kind::Gateway, port, ip(gateway)}; }

class RouteTableTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!mbox::testing::eal_ready()) GTEST_SKIP() << "EAL not initialised";
    }

    std::unique_ptr<RouteTable> build(const std::vector<RouteEntry>& entries) {
        std::string error;
        auto table = RouteTable::build(entries, error);
        EXPECT_NE(table, nullptr) << error;
        EXPECT_EQ(error, "");
        return table;
    }

    // The hop the table chooses for `addr`, or nullopt on a miss.
    static std::optional<NextHop> lookup(const RouteTable& t, const char* addr) {
        const NextHop* h = t.lookup(ip(addr));
        return h == nullptr ? std::nullopt : std::optional<NextHop>(*h);
    }
};

TEST_F(RouteTableTest, MostSpecificPrefixWins) {
    const auto t = build({
        entry("10.0.0.0/24", connected(1)),
        entry("10.0.0.0/25", connected(2)),
        entry("10.0.0.7/32", via("192.0.2.7", 3)),
    });
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(lookup(*t, "10.0.0.7"), via("192.0.2.7", 3));  // the /32 beats the /25 and the /24
    EXPECT_EQ(lookup(*t, "10.0.0.8"), connected(2));         // inside the /25, not the /32
    EXPECT_EQ(lookup(*t, "10.0.0.127"), connected(2));       // last address of the /25
    EXPECT_EQ(lookup(*t, "10.0.0.128"), connected(1));       // upper half: only the /24 covers it
    EXPECT_EQ(lookup(*t, "10.0.0.255"), connected(1));
}

TEST_F(RouteTableTest, AddressCoveredByNoPrefixMissesWithoutDefaultRoute) {
    const auto t = build({entry("10.0.0.0/24", connected(1)), entry("10.0.0.7/32", connected(2))});
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(lookup(*t, "10.0.1.0"), std::nullopt);
    EXPECT_EQ(lookup(*t, "9.255.255.255"), std::nullopt);
    EXPECT_EQ(lookup(*t, "0.0.0.0"), std::nullopt);
    EXPECT_EQ(lookup(*t, "255.255.255.255"), std::nullopt);
}

// rte_lpm_add() refuses depth 0, so 0.0.0.0/0 (every `ip default-gateway`) needs
// handling of its own. (Found by this test; fixed in f893538.)
TEST_F(RouteTableTest, DefaultRouteCatchesEverythingNoLongerPrefixCovers) {
    const auto t = build({
        entry("0.0.0.0/0", via("198.51.100.254", 1)),
        entry("10.0.0.0/24", connected(0)),
        entry("10.0.0.0/25", connected(2)),
        entry("10.0.0.9/32", connected(3)),
    });
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(lookup(*t, "10.0.0.9"), connected(3));
    EXPECT_EQ(lookup(*t, "10.0.0.10"), connected(2));
    EXPECT_EQ(lookup(*t, "10.0.0.200"), connected(0));
    for (const char* elsewhere : {"10.0.1.1", "203.0.113.9", "0.0.0.1", "255.255.255.254", "128.0.0.0"})
        EXPECT_EQ(lookup(*t, elsewhere), via("198.51.100.254", 1)) << elsewhere;
}

TEST_F(RouteTableTest, LaterEntryForSamePrefixReplacesEarlier) {
    const auto t = build({
        entry("10.0.0.0/24", connected(1)),
        entry("10.9.0.0/16", connected(4)),
        entry("10.0.0.0/24", via("192.0.2.1", 2)),
    });
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(lookup(*t, "10.0.0.1"), via("192.0.2.1", 2));
    EXPECT_EQ(lookup(*t, "10.9.3.3"), connected(4));
    EXPECT_EQ(t->size(), 2u);  // one next hop per distinct prefix
}

TEST_F(RouteTableTest, HostBitsInPrefixAreIgnored) {
    // "10.0.0.77/24" means the network 10.0.0.0/24: it covers the whole /24, not just .77 ...
    const auto t = build({entry("10.0.0.77/24", connected(1)), entry("10.5.5.5/8", connected(5))});
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(lookup(*t, "10.0.0.0"), connected(1));
    EXPECT_EQ(lookup(*t, "10.0.0.255"), connected(1));
    EXPECT_EQ(lookup(*t, "10.200.1.1"), connected(5));
    EXPECT_EQ(lookup(*t, "10.0.1.0"), connected(5));

    // ... and it is the same prefix as 10.0.0.0/24, so the later of the two wins.
    const auto same = build({entry("10.0.0.0/24", connected(1)), entry("10.0.0.77/24", connected(2))});
    ASSERT_NE(same, nullptr);
    EXPECT_EQ(same->size(), 1u);
    EXPECT_EQ(lookup(*same, "10.0.0.1"), connected(2));
}

TEST_F(RouteTableTest, EmptyTableBuildsAndMatchesNothing) {
    const auto t = build({});
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->size(), 0u);
    for (const char* a : {"0.0.0.0", "10.0.0.1", "255.255.255.255"}) EXPECT_EQ(lookup(*t, a), std::nullopt) << a;
}

// BUG (dataplane/route_table.cpp, RouteTable::build): cfg.number_tbl8s is fixed at
// 256, and rte_lpm needs one tbl8 group per /24 that holds a prefix longer than /24, so
// the 257th host route (or local/broadcast /32 of the 129th+ connected network, or
// static /32 ...) in a distinct /24 fails with -ENOSPC and the whole table - hence the
// whole forwarding state - is refused. max_rules is already sized from the entries; size
// number_tbl8s the same way (e.g. the number of distinct /24s holding a prefix longer
// than /24, plus headroom).
TEST_F(RouteTableTest, ManyHostRoutesInDistinctSlash24sAllResolve) {
    std::vector<RouteEntry> entries;
    for (uint32_t i = 0; i < 1000; ++i)
        entries.push_back({Ipv4Prefix{Ipv4Address{(10u << 24) | (i << 8) | 1u}, 32}, connected(static_cast<uint16_t>(i % 7))});
    const auto t = build(entries);
    ASSERT_NE(t, nullptr);
    for (uint32_t i = 0; i < 1000; ++i) {
        const NextHop* h = t->lookup((10u << 24) | (i << 8) | 1u);
        ASSERT_NE(h, nullptr) << i;
        EXPECT_EQ(*h, connected(static_cast<uint16_t>(i % 7))) << i;
        EXPECT_EQ(t->lookup((10u << 24) | (i << 8) | 2u), nullptr) << i;
    }
}

TEST_F(RouteTableTest, TablesAreIndependent) {
    // Each table gets its own rte_lpm (distinct names): building a second one, and
    // destroying the first, leaves the other intact.
    auto first = build({entry("10.0.0.0/8", connected(1))});
    const auto second = build({entry("10.0.0.0/8", connected(2))});
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(lookup(*first, "10.1.1.1"), connected(1));
    first.reset();
    EXPECT_EQ(lookup(*second, "10.1.1.1"), connected(2));
}

}  // namespace
}  // namespace mbox::dataplane

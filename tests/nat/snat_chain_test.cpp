// The firewall-snat chain: rule order, the match on egress port, protocol, source and
// destination, and the external address a translating rule gives a host.
#include "nat/snat_chain.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace mbox::nat {
namespace {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

constexpr uint32_t addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

Rule rule(uint32_t number, uint16_t port, Action action = Action::Overload) {
    Rule r;
    r.number = number;
    r.port = port;
    r.action = action;
    return r;
}

TEST(SnatChain, EmptyChainMatchesNothing) {
    const SnatChain chain;
    EXPECT_TRUE(chain.empty());
    EXPECT_FALSE(chain.match(0, kTcp, addr(10, 0, 0, 1), addr(8, 8, 8, 8)));
}

TEST(SnatChain, LowestNumberWinsWhateverTheInputOrder) {
    Rule overload = rule(20, 1);
    Rule exempt = rule(10, 1, Action::Exempt);
    exempt.destination = {{addr(10, 2, 0, 0), 16}};  // the tunnel's far side is not translated
    const SnatChain chain({overload, exempt});

    ASSERT_EQ(chain.rules().size(), 2u);
    EXPECT_EQ(chain.rules()[0].number, 10u);
    EXPECT_EQ(chain.rules()[1].number, 20u);
    EXPECT_EQ(chain.match(1, kTcp, addr(10, 1, 0, 5), addr(10, 2, 3, 4)), 0);
    EXPECT_EQ(chain.match(1, kTcp, addr(10, 1, 0, 5), addr(8, 8, 8, 8)), 1);
}

TEST(SnatChain, OnlyTheEgressPortsRulesApply) {
    const SnatChain chain({rule(1, 3), rule(2, 7)});
    EXPECT_EQ(chain.match(3, kUdp, 1, 2), 0);
    EXPECT_EQ(chain.match(7, kUdp, 1, 2), 1);
    EXPECT_FALSE(chain.match(0, kUdp, 1, 2));
    EXPECT_FALSE(chain.match(5, kUdp, 1, 2));
    EXPECT_FALSE(chain.match(8, kUdp, 1, 2));  // beyond any port with a rule
    EXPECT_FALSE(chain.match(65535, kUdp, 1, 2));
}

TEST(SnatChain, ProtocolZeroIsAnyElseExact) {
    Rule udp_only = rule(1, 0);
    udp_only.protocol = kUdp;
    Rule any = rule(2, 0);
    const SnatChain chain({udp_only, any});
    EXPECT_EQ(chain.match(0, kUdp, 1, 2), 0);
    EXPECT_EQ(chain.match(0, kTcp, 1, 2), 1);
    EXPECT_EQ(chain.match(0, 47, 1, 2), 1);
}

TEST(SnatChain, SourceAndDestinationAreAnyOfTheirPrefixes) {
    Rule r = rule(1, 0);
    r.source = {{addr(10, 1, 0, 0), 24}, {addr(192, 168, 7, 9), 32}};
    r.destination = {{addr(198, 51, 100, 0), 24}, {addr(203, 0, 113, 0), 25}};
    const SnatChain chain({r});
    EXPECT_EQ(chain.match(0, kTcp, addr(10, 1, 0, 200), addr(198, 51, 100, 1)), 0);
    EXPECT_EQ(chain.match(0, kTcp, addr(192, 168, 7, 9), addr(203, 0, 113, 127)), 0);
    EXPECT_FALSE(chain.match(0, kTcp, addr(10, 1, 1, 0), addr(198, 51, 100, 1)));     // source outside
    EXPECT_FALSE(chain.match(0, kTcp, addr(192, 168, 7, 8), addr(198, 51, 100, 1)));  // /32 exact
    EXPECT_FALSE(chain.match(0, kTcp, addr(10, 1, 0, 1), addr(203, 0, 113, 128)));    // destination outside
}

TEST(SnatChain, PrefixIgnoresHostBitsAndLengthZeroIsEverything) {
    EXPECT_TRUE((Prefix{addr(10, 1, 0, 77), 24}).contains(addr(10, 1, 0, 1)));
    EXPECT_TRUE((Prefix{addr(1, 2, 3, 4), 0}).contains(addr(255, 255, 255, 255)));
    EXPECT_FALSE((Prefix{addr(10, 1, 0, 0), 32}).contains(addr(10, 1, 0, 1)));
}

TEST(SnatChain, OverloadUsesTheInterfaceAddressExemptKeepsTheSource) {
    EXPECT_EQ(SnatChain::external_address(rule(1, 0, Action::Overload), addr(10, 0, 0, 1), addr(198, 51, 100, 1)),
              addr(198, 51, 100, 1));
    EXPECT_EQ(SnatChain::external_address(rule(1, 0, Action::Exempt), addr(10, 0, 0, 1), addr(198, 51, 100, 1)),
              addr(10, 0, 0, 1));
}

// RFC 4787 REQ-2: one internal host, one pool address, every time.
TEST(SnatChain, TranslatePairsEachHostWithOnePoolAddressSpreadOverThePool) {
    Rule r = rule(1, 0, Action::Translate);
    r.pool_first = addr(198, 51, 100, 10);
    r.pool_last = addr(198, 51, 100, 13);
    std::map<uint32_t, int> per_address;
    for (uint32_t host = addr(10, 0, 0, 0); host < addr(10, 0, 1, 0); ++host) {
        const uint32_t external = SnatChain::external_address(r, host, 0);
        ASSERT_GE(external, r.pool_first);
        ASSERT_LE(external, r.pool_last);
        ASSERT_EQ(external, SnatChain::external_address(r, host, 0));
        ++per_address[external];
    }
    // 256 consecutive hosts over 4 addresses: a real hash gives each roughly 64.
    ASSERT_EQ(per_address.size(), 4u);
    for (const auto& [address, hosts] : per_address) EXPECT_GT(hosts, 32) << address;
}

TEST(SnatChain, TranslateHandlesOneAddressAndTheWholeSpace) {
    Rule one = rule(1, 0, Action::Translate);
    one.pool_first = one.pool_last = addr(198, 51, 100, 10);
    EXPECT_EQ(SnatChain::external_address(one, addr(10, 0, 0, 1), 0), addr(198, 51, 100, 10));

    Rule all = rule(1, 0, Action::Translate);
    all.pool_first = 0;
    all.pool_last = 0xffffffff;
    std::set<uint32_t> seen;
    for (uint32_t host = 1; host <= 16; ++host) seen.insert(SnatChain::external_address(all, host, 0));
    EXPECT_EQ(seen.size(), 16u);  // no division by a wrapped-around zero size
}

}  // namespace
}  // namespace mbox::nat

// The worker's SA tables: inbound by SPI, outbound policies by longest remote prefix.
#include <gtest/gtest.h>

#include <random>

#include "dataplane/sa_table.hpp"

namespace mbox::dataplane {
namespace {

Ipv4Prefix prefix(const char* text) { return *Ipv4Prefix::parse(text); }
uint32_t ip(const char* text) { return Ipv4Address::parse(text)->value; }

std::unique_ptr<OutboundSa> outbound(std::vector<Ipv4Prefix> local, std::vector<Ipv4Prefix> remote) {
    auto sa = std::make_unique<OutboundSa>();
    sa->local_nets = std::move(local);
    sa->remote_nets = std::move(remote);
    return sa;
}

std::unique_ptr<SaTable> table() {
    std::string error;
    auto t = SaTable::create(0, error);
    EXPECT_NE(t, nullptr) << error;
    return t;
}

TEST(SaTable, InboundBySpi) {
    auto t = table();
    InboundSa a(64, false), b(64, false);
    a.spi = 0x1001;
    b.spi = 0x1002;
    ASSERT_TRUE(t->add_inbound(&a));
    ASSERT_TRUE(t->add_inbound(&b));
    EXPECT_EQ(t->inbound(0x1001), &a);
    EXPECT_EQ(t->inbound(0x1002), &b);
    EXPECT_EQ(t->inbound(0x1003), nullptr);
    t->remove_inbound(&a);
    EXPECT_EQ(t->inbound(0x1001), nullptr);
    EXPECT_EQ(t->inbound(0x1002), &b);
}

TEST(SaTable, EveryLocalRemotePairMatchesAndNothingElse) {
    auto t = table();
    auto sa = outbound({prefix("10.1.0.0/24"), prefix("10.3.0.0/24")}, {prefix("10.2.0.0/24")});
    ASSERT_TRUE(t->add_outbound(sa.get()));
    EXPECT_EQ(t->policy_count(), 2u);
    EXPECT_EQ(t->outbound(ip("10.1.0.5"), ip("10.2.0.9")), sa.get());
    EXPECT_EQ(t->outbound(ip("10.3.0.5"), ip("10.2.0.9")), sa.get());
    EXPECT_EQ(t->outbound(ip("10.4.0.5"), ip("10.2.0.9")), nullptr);  // source outside
    EXPECT_EQ(t->outbound(ip("10.1.0.5"), ip("10.9.0.9")), nullptr);  // destination outside
}

TEST(SaTable, LongestRemotePrefixWinsAndRemovalFallsBack) {
    auto t = table();
    auto wide = outbound({prefix("10.1.0.0/16")}, {prefix("10.0.0.0/8")});
    auto narrow = outbound({prefix("10.1.0.0/16")}, {prefix("10.2.3.0/24")});
    ASSERT_TRUE(t->add_outbound(wide.get()));
    ASSERT_TRUE(t->add_outbound(narrow.get()));
    EXPECT_EQ(t->outbound(ip("10.1.0.1"), ip("10.2.3.4")), narrow.get());
    EXPECT_EQ(t->outbound(ip("10.1.0.1"), ip("10.2.4.4")), wide.get());
    t->remove_outbound(narrow.get());
    EXPECT_EQ(t->outbound(ip("10.1.0.1"), ip("10.2.3.4")), wide.get());
    EXPECT_EQ(t->policy_count(), 1u);
}

TEST(SaTable, RemovingAWideRemoteKeepsTheNarrowOneInsideIt) {
    auto t = table();
    auto wide = outbound({prefix("10.1.0.0/16")}, {prefix("10.0.0.0/8")});
    auto narrow = outbound({prefix("10.1.0.0/16")}, {prefix("10.2.3.0/24")});
    auto beside = outbound({prefix("10.1.0.0/16")}, {prefix("11.0.0.0/8")});
    ASSERT_TRUE(t->add_outbound(wide.get()));
    ASSERT_TRUE(t->add_outbound(narrow.get()));
    ASSERT_TRUE(t->add_outbound(beside.get()));
    t->remove_outbound(wide.get());
    EXPECT_EQ(t->outbound(ip("10.1.0.1"), ip("10.2.3.4")), narrow.get());
    EXPECT_EQ(t->outbound(ip("10.1.0.1"), ip("10.2.4.4")), nullptr) << "only the removed /8 held it";
    EXPECT_EQ(t->outbound(ip("10.1.0.1"), ip("11.0.0.1")), beside.get());
    t->remove_outbound(narrow.get());
    t->remove_outbound(beside.get());
    EXPECT_EQ(t->outbound(ip("10.1.0.1"), ip("11.0.0.1")), nullptr);
    // Added again after the table emptied: found again.
    ASSERT_TRUE(t->add_outbound(narrow.get()));
    EXPECT_EQ(t->outbound(ip("10.1.0.1"), ip("10.2.3.4")), narrow.get());
}

TEST(SaTable, ARemoteOfTheWholeSpaceTakesEveryDestination) {
    auto t = table();
    auto all = outbound({prefix("10.1.0.0/16")}, {prefix("0.0.0.0/0")});
    ASSERT_TRUE(t->add_outbound(all.get()));
    EXPECT_EQ(t->outbound(ip("10.1.0.1"), ip("192.0.2.1")), all.get());
    EXPECT_EQ(t->outbound(ip("10.1.0.1"), UINT32_MAX), all.get());
    EXPECT_EQ(t->outbound(ip("10.9.0.1"), ip("192.0.2.1")), nullptr) << "source outside the local-net";
}

TEST(SaTable, SameRemoteNetworkKeepsTheOrderAdded) {
    auto t = table();
    auto first = outbound({prefix("10.1.0.0/16")}, {prefix("10.2.0.0/24")});
    auto second = outbound({prefix("10.1.5.0/24")}, {prefix("10.2.0.0/24")});
    ASSERT_TRUE(t->add_outbound(first.get()));
    ASSERT_TRUE(t->add_outbound(second.get()));
    EXPECT_EQ(t->outbound(ip("10.1.5.1"), ip("10.2.0.1")), first.get());  // first added holds it too
    t->remove_outbound(first.get());
    EXPECT_EQ(t->outbound(ip("10.1.5.1"), ip("10.2.0.1")), second.get());
    EXPECT_EQ(t->outbound(ip("10.1.6.1"), ip("10.2.0.1")), nullptr);
}

TEST(SaTable, TenThousandTunnelsEachFindTheirOwn) {
    auto t = table();
    std::vector<std::unique_ptr<OutboundSa>> sas;
    for (uint32_t i = 0; i < 10000; ++i) {
        const Ipv4Prefix remote{Ipv4Address{0x0a000000 | (i << 8)}, 24};  // 10.x.y.0/24
        sas.push_back(outbound({prefix("192.168.0.0/16")}, {remote}));
        ASSERT_TRUE(t->add_outbound(sas.back().get())) << i;
    }
    for (uint32_t i = 0; i < 10000; i += 7)
        ASSERT_EQ(t->outbound(ip("192.168.1.1"), 0x0a000000 | (i << 8) | 9), sas[i].get()) << i;
    for (uint32_t i = 0; i < 10000; i += 2) t->remove_outbound(sas[i].get());
    EXPECT_EQ(t->policy_count(), 5000u);
    EXPECT_EQ(t->outbound(ip("192.168.1.1"), 0x0a000000 | (4 << 8) | 9), nullptr);
    EXPECT_EQ(t->outbound(ip("192.168.1.1"), 0x0a000000 | (5 << 8) | 9), sas[5].get());
}

// The lookup against its definition (every policy whose remote holds the destination,
// longest remote first, then the order added, the first whose local holds the source)
// through random adds and removes: remote networks that nest, share lengths and
// collide in the table's slots, looked up inside, at the edges of and outside them.
TEST(SaTable, RandomAddsAndRemovesAgreeWithTheDefinition) {
    auto t = table();
    std::mt19937 random(7);
    const auto pick = [&](uint32_t n) { return static_cast<uint32_t>(random() % n); };
    const auto random_prefix = [&](uint8_t shortest) {
        const auto length = static_cast<uint8_t>(shortest + pick(33 - shortest));
        // Few distinct high bits, so that networks nest and overlap.
        const uint32_t address = (0x0a000000u | pick(4) << 22 | pick(1u << 22)) & ~pick(1u << 8);
        return Ipv4Prefix{Ipv4Address{address}, length}.network();
    };
    std::vector<std::unique_ptr<OutboundSa>> live;  // in the order added
    const auto expected = [&](uint32_t src, uint32_t dst) -> OutboundSa* {
        OutboundSa* best = nullptr;
        int best_length = -1;
        for (const auto& sa : live)
            for (const auto& remote : sa->remote_nets)
                for (const auto& local : sa->local_nets)
                    if (remote.contains(Ipv4Address{dst}) && local.contains(Ipv4Address{src}) &&
                        remote.length > best_length) {
                        best = sa.get();
                        best_length = remote.length;
                    }
        return best;
    };
    for (int round = 0; round < 3000; ++round) {
        if (live.size() < 40 || (live.size() < 200 && pick(3) != 0)) {
            std::vector<Ipv4Prefix> locals{random_prefix(8)}, remotes{random_prefix(6)};
            if (pick(2) == 0) remotes.push_back(random_prefix(6));
            live.push_back(outbound(std::move(locals), std::move(remotes)));
            ASSERT_TRUE(t->add_outbound(live.back().get()));
        } else {
            const auto victim = live.begin() + pick(static_cast<uint32_t>(live.size()));
            t->remove_outbound(victim->get());
            live.erase(victim);
        }
        for (int probe = 0; probe < 8; ++probe) {
            const auto& sa = live[pick(static_cast<uint32_t>(live.size()))];
            const Ipv4Prefix& remote = sa->remote_nets[pick(static_cast<uint32_t>(sa->remote_nets.size()))];
            const uint32_t edges[] = {remote.address.value, remote.address.value | ~remote.mask(),
                                      remote.address.value - 1, (remote.address.value | ~remote.mask()) + 1,
                                      0x0a000000u | pick(1u << 24)};
            const uint32_t src = pick(2) == 0 ? sa->local_nets[0].address.value | pick(256) : 0x0a000000u | pick(1u << 24);
            for (const uint32_t dst : edges) ASSERT_EQ(t->outbound(src, dst), expected(src, dst)) << round;
        }
    }
}

TEST(SaTable, FullTableRefusesWholeSa) {
    auto t = table();
    std::vector<Ipv4Prefix> many;
    for (uint32_t i = 0; i < 200; ++i) many.push_back(Ipv4Prefix{Ipv4Address{0x0a000000 | (i << 8)}, 24});
    auto huge = outbound(many, many);  // 40,000 pairs: more than kMaxPolicies
    EXPECT_FALSE(t->add_outbound(huge.get()));
    EXPECT_EQ(t->policy_count(), 0u);
}

}  // namespace
}  // namespace mbox::dataplane

// One worker's NAT sessions: endpoint-independent mappings with port preservation,
// the worker's slice of the port range, exhaustion and the other creation failures,
// TCP state and timeouts in ticks, bounded expiry, and a randomized run against a
// std::map model that proves the two open-addressing indexes (backward-shift
// deletion) and the port bitmaps stay in step with what was created and removed.
#include "nat/session_table.hpp"

#include <gtest/gtest.h>

#include <compare>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <tuple>

namespace mbox::nat {
namespace {

constexpr uint8_t kIcmp = 1;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kGre = 47;
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kRst = 0x04;
constexpr uint8_t kAck = 0x10;

constexpr uint64_t kTicks = 1000;  // per second

constexpr uint32_t addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}
constexpr uint32_t kHost = addr(10, 1, 0, 10);
constexpr uint32_t kHost2 = addr(10, 1, 0, 11);
constexpr uint32_t kRemote = addr(203, 0, 113, 9);
constexpr uint32_t kRemote2 = addr(198, 18, 0, 7);
constexpr uint32_t kExternal = addr(198, 51, 100, 1);
constexpr uint32_t kExternal2 = addr(198, 51, 100, 2);
constexpr uint32_t kExternal3 = addr(198, 51, 100, 3);

Limits limits(uint16_t first = 1024, uint16_t last = 65535, uint32_t sessions = 1024, uint16_t addresses = 4) {
    Limits l;
    l.max_sessions = sessions;
    l.port_first = first;
    l.port_last = last;
    l.max_external_addresses = addresses;
    return l;
}

// Seconds, short enough to count in.
constexpr Timeouts kShort{.tcp_established = 100, .tcp_transitory = 10, .udp = 20, .icmp = 5, .other = 30};

struct Created {
    Session* session;
    CreateError error;
};

// An outbound packet's mapping: (protocol, internal:port) -> external, for `remote`.
Created open(SessionTable& t, uint8_t protocol, uint32_t host, uint16_t port, uint64_t now = 0,
             uint32_t external = kExternal, uint32_t remote = kRemote) {
    CreateError error = CreateError::None;
    const bool ports = protocol != kGre;
    Session* s = t.create(protocol, ports, host, ports ? port : 0, remote, 80, external, 3, now, error);
    return {s, error};
}

Session* open_ok(SessionTable& t, uint8_t protocol, uint32_t host, uint16_t port, uint64_t now = 0,
                 uint32_t external = kExternal, uint32_t remote = kRemote) {
    const Created c = open(t, protocol, host, port, now, external, remote);
    EXPECT_EQ(c.error, CreateError::None);
    EXPECT_NE(c.session, nullptr);
    return c.session;
}

// ---- mappings ----

TEST(SessionTable, NewMappingKeepsAFreeInternalPortAndIsFoundBothWays) {
    SessionTable t(limits(), Timeouts{}, 0, 1, kTicks);
    Session* s = open_ok(t, kTcp, kHost, 40000, 5);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->external_address, kExternal);
    EXPECT_EQ(s->external_port, 40000);  // port preservation
    EXPECT_EQ(s->internal_address, kHost);
    EXPECT_EQ(s->internal_port, 40000);
    EXPECT_EQ(s->remote_address, kRemote);
    EXPECT_EQ(s->remote_port, 80);
    EXPECT_EQ(s->rule, 3);
    EXPECT_EQ(s->created, 5u);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.find_outbound(kTcp, true, kHost, 40000, kRemote, 6), s);
    EXPECT_EQ(t.find_inbound(kTcp, true, kExternal, 40000, kRemote, 6), s);
    EXPECT_EQ(t.find_inbound(kTcp, true, kExternal2, 40000, kRemote, 6), nullptr);  // other address
    EXPECT_EQ(t.find_inbound(kUdp, true, kExternal, 40000, kRemote, 6), nullptr);   // other protocol
}

TEST(SessionTable, TwoHostsOnTheSamePortGetDifferentExternalPorts) {
    SessionTable t(limits(), Timeouts{}, 0, 1, kTicks);
    Session* a = open_ok(t, kUdp, kHost, 5060);
    Session* b = open_ok(t, kUdp, kHost2, 5060);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->external_port, 5060);
    EXPECT_NE(b->external_port, 5060);
    EXPECT_GE(b->external_port, t.slice_first());
    EXPECT_LE(b->external_port, t.slice_last());
    EXPECT_EQ(t.find_inbound(kUdp, true, kExternal, a->external_port, kRemote, 1), a);
    EXPECT_EQ(t.find_inbound(kUdp, true, kExternal, b->external_port, kRemote, 1), b);
}

TEST(SessionTable, InternalPortOutsideTheSliceIsNotKept) {
    SessionTable t(limits(1024, 65535), Timeouts{}, 0, 2, kTicks);
    Session* s = open_ok(t, kTcp, kHost, 60000);  // worker 1's half
    ASSERT_NE(s, nullptr);
    EXPECT_GE(s->external_port, t.slice_first());
    EXPECT_LE(s->external_port, t.slice_last());
    Session* low = open_ok(t, kTcp, kHost, 80);  // below the range
    ASSERT_NE(low, nullptr);
    EXPECT_GE(low->external_port, 1024);
}

// RFC 4787 REQ-1 / RFC 5382 REQ-1 (mapping), REQ-8 (filtering): one mapping per
// internal endpoint, whichever remote, and any remote may use it.
TEST(SessionTable, MappingIsEndpointIndependent) {
    SessionTable t(limits(), Timeouts{}, 0, 1, kTicks);
    Session* s = open_ok(t, kUdp, kHost, 4000);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(t.find_outbound(kUdp, true, kHost, 4000, kRemote2, 1), s);
    const Created again = open(t, kUdp, kHost, 4000, 1, kExternal, kRemote2);
    EXPECT_EQ(again.session, s);
    EXPECT_EQ(again.error, CreateError::None);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.find_inbound(kUdp, true, kExternal, s->external_port, kRemote2, 1), s);
}

TEST(SessionTable, TcpUdpAndEchoHaveTheirOwnPorts) {
    SessionTable t(limits(), Timeouts{}, 0, 1, kTicks);
    Session* tcp = open_ok(t, kTcp, kHost, 7000);
    Session* udp = open_ok(t, kUdp, kHost, 7000);
    Session* echo = open_ok(t, kIcmp, kHost, 7000);
    ASSERT_TRUE(tcp && udp && echo);
    EXPECT_EQ(tcp->external_port, 7000);
    EXPECT_EQ(udp->external_port, 7000);
    EXPECT_EQ(echo->external_port, 7000);
    EXPECT_EQ(t.find_inbound(kTcp, true, kExternal, 7000, kRemote, 1), tcp);
    EXPECT_EQ(t.find_inbound(kUdp, true, kExternal, 7000, kRemote, 1), udp);
    EXPECT_EQ(t.find_inbound(kIcmp, true, kExternal, 7000, kRemote, 1), echo);
}

TEST(SessionTable, AddressOnlyMappingsKeyOnTheRemote) {
    SessionTable t(limits(), Timeouts{}, 0, 1, kTicks);
    Session* gre = open_ok(t, kGre, kHost, 0);
    ASSERT_NE(gre, nullptr);
    EXPECT_EQ(gre->external_port, 0);
    EXPECT_EQ(t.find_outbound(kGre, false, kHost, 0, kRemote, 1), gre);
    EXPECT_EQ(t.find_outbound(kGre, false, kHost, 0, kRemote2, 1), nullptr);
    EXPECT_EQ(t.find_inbound(kGre, false, kExternal, 0, kRemote, 1), gre);
    EXPECT_EQ(t.find_inbound(kGre, false, kExternal, 0, kRemote2, 1), nullptr);

    // The same host to another remote; a second host to the same remote through
    // another external address: fine.
    EXPECT_NE(open_ok(t, kGre, kHost, 0, 1, kExternal, kRemote2), gre);
    EXPECT_NE(open_ok(t, kGre, kHost2, 0, 1, kExternal2, kRemote), nullptr);
    // A third host to the same remote through the same external address: whose would
    // the answers be?
    const Created conflict = open(t, kGre, kHost + 5, 0, 1, kExternal, kRemote);
    EXPECT_EQ(conflict.session, nullptr);
    EXPECT_EQ(conflict.error, CreateError::Conflict);
    EXPECT_EQ(t.size(), 3u);
}

TEST(SessionTable, AddressOnlyConflictEndsWithTheOtherMapping) {
    SessionTable t(limits(), kShort, 0, 1, kTicks);
    ASSERT_NE(open_ok(t, kGre, kHost, 0, 0), nullptr);
    EXPECT_EQ(open(t, kGre, kHost2, 0, 29 * kTicks).error, CreateError::Conflict);
    EXPECT_NE(open_ok(t, kGre, kHost2, 0, 30 * kTicks), nullptr);  // kHost's timed out
}

TEST(SessionTable, IcmpEchoAndOtherIcmpDoNotMeet) {
    SessionTable t(limits(), Timeouts{}, 0, 1, kTicks);
    CreateError error;
    Session* other = t.create(kIcmp, false, kHost, 0, kRemote, 0, kExternal, 0, 0, error);
    Session* echo = open_ok(t, kIcmp, kHost, 0);
    ASSERT_TRUE(other && echo);
    EXPECT_NE(other, echo);
    EXPECT_EQ(t.find_outbound(kIcmp, false, kHost, 0, kRemote, 1), other);
    EXPECT_EQ(t.find_outbound(kIcmp, true, kHost, 0, kRemote, 1), echo);
}

// ---- worker slices and owners ----

struct SliceCase {
    unsigned workers;
    std::vector<std::pair<uint16_t, uint16_t>> slices;
};

// 11 ports: split evenly, the last worker takes the remainder. Each worker allocates
// until its slice is exhausted; every port it gets is its own by owner_inbound, and
// together the workers hand out each port of the range exactly once.
TEST(SessionTable, WorkersSplitThePortsAndOwnWhatTheyAllocate) {
    const std::vector<SliceCase> cases = {
        {1, {{1000, 1010}}},
        {2, {{1000, 1004}, {1005, 1010}}},
        {3, {{1000, 1002}, {1003, 1005}, {1006, 1010}}},
    };
    for (const SliceCase& c : cases) {
        std::multiset<uint16_t> handed_out;
        for (unsigned w = 0; w < c.workers; ++w) {
            SessionTable t(limits(1000, 1010), Timeouts{}, w, c.workers, kTicks);
            EXPECT_EQ(t.slice_first(), c.slices[w].first) << c.workers << "/" << w;
            EXPECT_EQ(t.slice_last(), c.slices[w].second) << c.workers << "/" << w;
            for (uint16_t port = 0;; ++port) {
                const Created made = open(t, kUdp, kHost, port);
                if (made.session == nullptr) {
                    EXPECT_EQ(made.error, CreateError::PortsExhausted);
                    break;
                }
                const uint16_t external = made.session->external_port;
                EXPECT_EQ(t.owner_inbound(kUdp, true, external, kRemote), w) << external;
                handed_out.insert(external);
            }
            EXPECT_EQ(t.size(), size_t{c.slices[w].second} - c.slices[w].first + 1u);
            EXPECT_EQ(t.owner_inbound(kUdp, true, 999, kRemote), c.workers);
            EXPECT_EQ(t.owner_inbound(kUdp, true, 1011, kRemote), c.workers);
        }
        std::multiset<uint16_t> all;
        for (uint16_t p = 1000; p <= 1010; ++p) all.insert(p);
        EXPECT_EQ(handed_out, all) << c.workers << " workers";
    }
}

TEST(SessionTable, OwnersAgreeBothWaysAndSpreadOverWorkers) {
    const SessionTable t(limits(), Timeouts{}, 0, 4, kTicks);
    std::set<unsigned> port_owners, low_port_owners, address_owners;
    for (uint32_t i = 0; i < 256; ++i) {
        const uint32_t host = kHost + i;
        const uint32_t remote = kRemote + i * 7;
        // Endpoint-independent: the remote plays no part for TCP/UDP/echo. An inside
        // port in the range goes to the worker whose slice holds it (so it can be kept).
        const auto port = static_cast<uint16_t>(limits().port_first + i * 251);
        const unsigned owner = t.owner_outbound(kUdp, true, host, port, kRemote);
        EXPECT_EQ(t.owner_outbound(kUdp, true, host, port, kRemote2), owner);
        EXPECT_EQ(owner, t.owner_inbound(kUdp, true, port, kRemote));
        EXPECT_LT(owner, 4u);
        port_owners.insert(owner);
        // A port below the range: a hash of the endpoint, spread too.
        const unsigned low = t.owner_outbound(kUdp, true, host, 53, kRemote);
        EXPECT_LT(low, 4u);
        low_port_owners.insert(low);
        // Address-only: (protocol, remote), the same both ways, whoever the host.
        const unsigned by_remote = t.owner_outbound(kGre, false, host, 0, remote);
        EXPECT_EQ(t.owner_inbound(kGre, false, 0, remote), by_remote);
        EXPECT_EQ(t.owner_outbound(kGre, false, kHost2, 0, remote), by_remote);
        address_owners.insert(by_remote);
    }
    EXPECT_EQ(port_owners.size(), 4u);
    EXPECT_EQ(low_port_owners.size(), 4u);
    EXPECT_EQ(address_owners.size(), 4u);
}

TEST(SessionTable, ImpossibleLimitsAreRefused) {
    EXPECT_THROW(SessionTable(limits(), Timeouts{}, 0, 0, kTicks), std::invalid_argument);
    EXPECT_THROW(SessionTable(limits(), Timeouts{}, 2, 2, kTicks), std::invalid_argument);
    EXPECT_THROW(SessionTable(limits(1000, 1001), Timeouts{}, 0, 3, kTicks), std::invalid_argument);
    EXPECT_THROW(SessionTable(limits(2000, 1000), Timeouts{}, 0, 1, kTicks), std::invalid_argument);
    EXPECT_THROW(SessionTable(limits(1000, 2000, 0), Timeouts{}, 0, 1, kTicks), std::invalid_argument);
    EXPECT_THROW(SessionTable(limits(), Timeouts{}, 0, 1, 0), std::invalid_argument);
}

// ---- running out ----

TEST(SessionTable, TheGatewaysIkePortsAreNeverHandedOutForUdp) {
    // An inside NAT-T client sends from 4500: it gets another port, so replies to the
    // gateway's own 4500 stay the gateway's.
    SessionTable t(limits(), Timeouts{}, 0, 1, kTicks);
    EXPECT_NE(open_ok(t, kUdp, kHost, 4500)->external_port, 4500);
    EXPECT_NE(open_ok(t, kUdp, kHost, 500)->external_port, 500);
    EXPECT_EQ(open_ok(t, kTcp, kHost, 4500)->external_port, 4500) << "TCP 4500 is not the gateway's";
    // A slice of 4499..4501: UDP has two ports, then none; 4500 never.
    SessionTable small(limits(4499, 4501), Timeouts{}, 0, 1, kTicks);
    std::set<uint16_t> udp;
    for (uint32_t h = 0; h < 2; ++h) udp.insert(open_ok(small, kUdp, kHost + h, 4500)->external_port);
    EXPECT_EQ(udp, (std::set<uint16_t>{4499, 4501}));
    EXPECT_EQ(open(small, kUdp, kHost + 2, 4500).error, CreateError::PortsExhausted);
    small.clear();
    EXPECT_EQ(open_ok(small, kUdp, kHost, 4501)->external_port, 4501);
    EXPECT_NE(open_ok(small, kUdp, kHost2, 4500)->external_port, 4500) << "still reserved after clear()";
}

TEST(SessionTable, TenPortsGiveTenMappingsThenNoneAndNoPortTwice) {
    SessionTable t(limits(2000, 2009), kShort, 0, 1, kTicks);
    std::map<uint16_t, uint32_t> port_to_host;
    for (uint32_t i = 0; i < 10; ++i) {
        Session* s = open_ok(t, kUdp, kHost + i, 2000);
        ASSERT_NE(s, nullptr);
        EXPECT_TRUE(port_to_host.emplace(s->external_port, kHost + i).second) << s->external_port;
    }
    const Created eleventh = open(t, kUdp, kHost + 10, 2000);
    EXPECT_EQ(eleventh.session, nullptr);
    EXPECT_EQ(eleventh.error, CreateError::PortsExhausted);
    EXPECT_EQ(t.size(), 10u);
    for (const auto& [port, host] : port_to_host)
        EXPECT_EQ(t.find_inbound(kUdp, true, kExternal, port, kRemote, 1)->internal_address, host);

    // TCP has ports of its own; another external address has a slice of its own.
    EXPECT_NE(open_ok(t, kTcp, kHost + 10, 2000), nullptr);
    EXPECT_NE(open_ok(t, kUdp, kHost + 10, 2000, 0, kExternal2), nullptr);

    // Once the UDP mappings have timed out and been swept, their ports are free again.
    EXPECT_EQ(t.expire(20 * kTicks, t.capacity()), 12u);
    Session* later = open_ok(t, kUdp, kHost + 10, 2005, 20 * kTicks);
    ASSERT_NE(later, nullptr);
    EXPECT_EQ(later->external_port, 2005);
}

// find_* of an expired mapping removes it on the spot: its port is free at once.
TEST(SessionTable, FindingAnExpiredMappingFreesItsPort) {
    SessionTable t(limits(2000, 2001), kShort, 0, 1, kTicks);
    ASSERT_NE(open_ok(t, kUdp, kHost, 2000), nullptr);
    ASSERT_NE(open_ok(t, kUdp, kHost2, 2001), nullptr);
    EXPECT_EQ(open(t, kUdp, kHost + 5, 2000, 1).error, CreateError::PortsExhausted);

    const uint64_t later = 20 * kTicks;  // udp = 20 s: expired now
    EXPECT_EQ(t.find_outbound(kUdp, true, kHost, 2000, kRemote, later), nullptr);
    EXPECT_EQ(t.size(), 1u);
    Session* s = open_ok(t, kUdp, kHost + 5, 2000, later);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->external_port, 2000);
    EXPECT_EQ(t.find_inbound(kUdp, true, kExternal, 2001, kRemote, later), nullptr);  // the other one, inbound
    EXPECT_EQ(t.size(), 1u);
}

// The allocator moves on from the last port it gave: a port just freed is not handed
// to the next host at once, whose packets the old peer might still be sending to.
TEST(SessionTable, AFreedPortWaitsItsTurn) {
    SessionTable t(limits(2000, 2009), kShort, 0, 1, kTicks);
    Session* first = open_ok(t, kUdp, kHost, 1, 0);  // 1: outside the range, not kept
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->external_port, 2000);
    EXPECT_EQ(open_ok(t, kUdp, kHost, 2, 10 * kTicks)->external_port, 2001);
    EXPECT_EQ(t.find_outbound(kUdp, true, kHost, 1, kRemote, 20 * kTicks), nullptr);  // 2000 is free
    EXPECT_EQ(open_ok(t, kUdp, kHost, 3, 20 * kTicks)->external_port, 2002);
}

TEST(SessionTable, FullTableRefusesANewMapping) {
    SessionTable t(limits(1024, 65535, 3), Timeouts{}, 0, 1, kTicks);
    for (uint16_t port = 1; port <= 3; ++port) ASSERT_NE(open_ok(t, kUdp, kHost, port), nullptr);
    const Created full = open(t, kGre, kHost, 0);
    EXPECT_EQ(full.session, nullptr);
    EXPECT_EQ(full.error, CreateError::TableFull);
    EXPECT_EQ(t.capacity(), 3u);
    EXPECT_EQ(t.size(), 3u);
}

TEST(SessionTable, ExternalAddressesAreLimitedUntilOneIsUnused) {
    SessionTable t(limits(1024, 65535, 16, 2), kShort, 0, 1, kTicks);
    ASSERT_NE(open_ok(t, kUdp, kHost, 1, 0, kExternal), nullptr);
    ASSERT_NE(open_ok(t, kTcp, kHost, 1, 5 * kTicks, kExternal2), nullptr);
    const Created third = open(t, kUdp, kHost, 2, 5 * kTicks, kExternal3);
    EXPECT_EQ(third.session, nullptr);
    EXPECT_EQ(third.error, CreateError::TooManyAddresses);
    // Address-only mappings use no port, so no address slot.
    EXPECT_NE(open_ok(t, kGre, kHost, 0, 5 * kTicks, kExternal3), nullptr);
    // kExternal's one mapping (UDP, 20 s) goes: its slot serves kExternal3.
    EXPECT_EQ(t.find_outbound(kUdp, true, kHost, 1, kRemote, 20 * kTicks), nullptr);
    EXPECT_NE(open_ok(t, kUdp, kHost, 2, 20 * kTicks, kExternal3), nullptr);
}

// ---- timeouts and TCP state (1000 ticks a second) ----

TEST(SessionTable, EachProtocolStartsWithItsTimeout) {
    SessionTable t(limits(), kShort, 0, 1, kTicks);
    const uint64_t now = 1000;
    EXPECT_EQ(open_ok(t, kTcp, kHost, 1, now)->expires, now + 10 * kTicks);  // transitory until answered
    EXPECT_EQ(open_ok(t, kTcp, kHost, 1, now)->tcp, TcpState::New);
    EXPECT_EQ(open_ok(t, kUdp, kHost, 1, now)->expires, now + 20 * kTicks);
    EXPECT_EQ(open_ok(t, kIcmp, kHost, 1, now)->expires, now + 5 * kTicks);
    EXPECT_EQ(open_ok(t, kGre, kHost, 0, now)->expires, now + 30 * kTicks);
    EXPECT_EQ(open_ok(t, kUdp, kHost, 1, now)->tcp, TcpState::None);
}

TEST(SessionTable, AMappingLivesUntilItsExpiryTick) {
    SessionTable t(limits(), kShort, 0, 1, kTicks);
    Session* s = open_ok(t, kUdp, kHost, 5000, 1000);
    ASSERT_NE(s, nullptr);
    const uint64_t expires = 1000 + 20 * kTicks;
    EXPECT_EQ(t.find_outbound(kUdp, true, kHost, 5000, kRemote, expires - 1), s);
    EXPECT_EQ(t.find_inbound(kUdp, true, kExternal, 5000, kRemote, expires - 1), s);
    EXPECT_EQ(t.find_inbound(kUdp, true, kExternal, 5000, kRemote, expires), nullptr);
    EXPECT_EQ(t.size(), 0u);
}

TEST(SessionTable, TouchCountsAndRefreshes) {
    SessionTable t(limits(), kShort, 0, 1, kTicks);
    Session* s = open_ok(t, kUdp, kHost, 1, 0);
    ASSERT_NE(s, nullptr);
    t.touch(*s, Direction::Outbound, 0, 100, 7 * kTicks);
    t.touch(*s, Direction::Inbound, 0, 60, 9 * kTicks);
    t.touch(*s, Direction::Inbound, 0, 40, 12 * kTicks);
    EXPECT_EQ(s->packets_out, 1u);
    EXPECT_EQ(s->bytes_out, 100u);
    EXPECT_EQ(s->packets_in, 2u);
    EXPECT_EQ(s->bytes_in, 100u);
    EXPECT_EQ(s->expires, 32 * kTicks);
    EXPECT_EQ(t.find_outbound(kUdp, true, kHost, 1, kRemote, 25 * kTicks), s);  // past the first expiry
}

// A TCP mapping made at tick 0, and the packets that pass through it.
class TcpMapping : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_NE(s, nullptr); }
    void packet(Direction direction, uint8_t flags, uint64_t now) { t.touch(*s, direction, flags, 60, now); }

    SessionTable t{limits(), kShort, 0, 1, kTicks};
    Session* s = open_ok(t, kTcp, kHost, 1, 0);
};

TEST_F(TcpMapping, HandshakeDataAndCloseMoveTheTimeout) {
    packet(Direction::Outbound, kSyn, 1 * kTicks);
    EXPECT_EQ(s->tcp, TcpState::New);
    EXPECT_EQ(s->expires, 1 * kTicks + 10 * kTicks);
    packet(Direction::Inbound, kSyn | kAck, 2 * kTicks);
    EXPECT_EQ(s->tcp, TcpState::Established);
    EXPECT_EQ(s->expires, 2 * kTicks + 100 * kTicks);
    packet(Direction::Outbound, kFin | kAck, 3 * kTicks);  // half closed: still established
    EXPECT_EQ(s->tcp, TcpState::Established);
    EXPECT_EQ(s->fin_seen, 1);
    EXPECT_EQ(s->expires, 3 * kTicks + 100 * kTicks);
    packet(Direction::Inbound, kFin | kAck, 4 * kTicks);
    EXPECT_EQ(s->tcp, TcpState::Closing);
    EXPECT_EQ(s->fin_seen, 3);
    EXPECT_EQ(s->expires, 4 * kTicks + 10 * kTicks);
    packet(Direction::Outbound, kAck, 5 * kTicks);  // the last ACK
    EXPECT_EQ(s->tcp, TcpState::Closing);
    EXPECT_EQ(s->expires, 5 * kTicks + 10 * kTicks);
}

TEST_F(TcpMapping, ResetClosesAndANewSynReopens) {
    packet(Direction::Outbound, kSyn, 0);
    packet(Direction::Inbound, kSyn | kAck, 0);
    ASSERT_EQ(s->tcp, TcpState::Established);
    packet(Direction::Inbound, kRst | kAck, 50 * kTicks);
    EXPECT_EQ(s->tcp, TcpState::Closing);
    EXPECT_EQ(s->expires, 60 * kTicks);
    // The same internal endpoint connects again through its mapping.
    packet(Direction::Outbound, kSyn, 55 * kTicks);
    EXPECT_EQ(s->tcp, TcpState::New);
    EXPECT_EQ(s->fin_seen, 0);
    EXPECT_EQ(s->expires, 65 * kTicks);
}

TEST_F(TcpMapping, PickedUpMidConnectionBecomesEstablishedOnTheAnswer) {
    packet(Direction::Outbound, kAck, 1 * kTicks);
    EXPECT_EQ(s->tcp, TcpState::New);
    packet(Direction::Inbound, kAck, 2 * kTicks);
    EXPECT_EQ(s->tcp, TcpState::Established);
}

TEST_F(TcpMapping, InsideHostAnsweringASynIsEstablished) {
    packet(Direction::Inbound, kSyn, 1 * kTicks);
    EXPECT_EQ(s->tcp, TcpState::New);
    packet(Direction::Outbound, kSyn | kAck, 2 * kTicks);
    EXPECT_EQ(s->tcp, TcpState::Established);
}

TEST(SessionTable, NewTimeoutsApplyFromTheNextPacket) {
    SessionTable t(limits(), kShort, 0, 1, kTicks);
    Session* s = open_ok(t, kUdp, kHost, 1, 0);
    ASSERT_NE(s, nullptr);
    Timeouts longer = kShort;
    longer.udp = 90;
    t.set_timeouts(longer);
    EXPECT_EQ(t.timeouts().udp, 90u);
    EXPECT_EQ(s->expires, 20 * kTicks);
    t.touch(*s, Direction::Outbound, 0, 1, kTicks);
    EXPECT_EQ(s->expires, 91 * kTicks);
}

// ---- sweeping ----

TEST(SessionTable, ExpireLooksAtBudgetSlotsAndResumes) {
    SessionTable t(limits(1024, 65535, 10), kShort, 0, 1, kTicks);
    for (uint16_t port = 1; port <= 10; ++port) ASSERT_NE(open_ok(t, kUdp, kHost, port, 0), nullptr);
    EXPECT_EQ(t.expire(20 * kTicks - 1, 10), 0u);  // all alive: none removed
    EXPECT_EQ(t.expire(20 * kTicks, 3), 3u);
    EXPECT_EQ(t.expire(20 * kTicks, 3), 3u);
    EXPECT_EQ(t.expire(20 * kTicks, 3), 3u);
    EXPECT_EQ(t.expire(20 * kTicks, 3), 1u);
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(t.expire(20 * kTicks, 100), 0u);
}

TEST(SessionTable, ExpireBudgetCountsFreeSlotsToo) {
    SessionTable t(limits(1024, 65535, 10), kShort, 0, 1, kTicks);
    ASSERT_NE(open_ok(t, kUdp, kHost, 1, 0), nullptr);  // slot 0
    for (uint16_t port = 2; port <= 6; ++port) ASSERT_NE(open_ok(t, kUdp, kHost, port, 30 * kTicks), nullptr);
    EXPECT_EQ(t.expire(20 * kTicks, 1), 1u);  // slot 0: expired
    EXPECT_EQ(t.expire(20 * kTicks, 8), 0u);  // slots 1-8: alive or free
    EXPECT_EQ(t.size(), 5u);
}

TEST(SessionTable, ClearForgetsEverythingAndFreesEveryPort) {
    SessionTable t(limits(3000, 3001), Timeouts{}, 0, 1, kTicks);
    ASSERT_NE(open_ok(t, kUdp, kHost, 3000), nullptr);
    ASSERT_NE(open_ok(t, kUdp, kHost2, 3000), nullptr);
    t.clear();
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(t.find_outbound(kUdp, true, kHost, 3000, kRemote, 0), nullptr);
    EXPECT_EQ(t.find_inbound(kUdp, true, kExternal, 3001, kRemote, 0), nullptr);
    size_t live = 0;
    t.for_each([&](const Session&) { ++live; });
    EXPECT_EQ(live, 0u);
    Session* s = open_ok(t, kUdp, kHost2, 3000);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->external_port, 3000);
}

TEST(SessionTable, ForEachVisitsTheLiveMappings) {
    SessionTable t(limits(), Timeouts{}, 0, 1, kTicks);
    open_ok(t, kUdp, kHost, 1);
    open_ok(t, kTcp, kHost, 2);
    open_ok(t, kGre, kHost, 0);
    std::multiset<uint8_t> protocols;
    t.for_each([&](const Session& s) { protocols.insert(s.protocol); });
    EXPECT_EQ(protocols, (std::multiset<uint8_t>{kTcp, kUdp, kGre}));
}

// ---- against a model ----

// What the table should hold, keyed as find_outbound is. `expires` as in the table:
// a mapping stays in the table (holding its port) after expiry until found or swept.
struct ModelKey {
    uint8_t protocol;
    uint32_t host;
    uint16_t port;
    uint32_t remote;  // address-only only
    auto operator<=>(const ModelKey&) const = default;
};
struct ModelEntry {
    uint32_t external;
    uint16_t external_port;
    uint64_t expires;
};

bool has_ports(uint8_t protocol) { return protocol != kGre; }
int port_class(uint8_t protocol) { return protocol == kTcp ? 0 : protocol == kUdp ? 1 : 2; }

class Model {
public:
    Model(SessionTable& table, uint32_t seed)
        : t_(table), first_port_(table.slice_first()), ports_(table.slice_last() - first_port_ + 1u), rng_(seed) {}

    void run(int operations) {
        for (int i = 0; i < operations && !::testing::Test::HasFailure(); ++i) {
            if (pick(4) == 0) now_ += pick(300);
            switch (pick(10)) {
            case 0: case 1: case 2: case 3: create(); break;
            case 4: case 5: find_outbound(); break;
            case 6: case 7: find_inbound(); break;
            case 8: expire(); break;
            default: if (pick(2000) == 0) clear(); else find_outbound(); break;
            }
            if (i % 997 == 0) check_all();
        }
        check_all();
    }

private:
    uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

    ModelKey random_key() {
        static constexpr uint8_t protocols[] = {kTcp, kUdp, kIcmp, kGre};
        const uint8_t protocol = protocols[pick(4)];
        const uint32_t host = kHost + pick(12);
        const uint32_t remote = kRemote + pick(4);
        // Mostly ports in (or just past) the slice, some anywhere (other slices, below the range).
        const uint16_t port = static_cast<uint16_t>(pick(5) == 0 ? pick(3000) : first_port_ + pick(ports_ + 5));
        return has_ports(protocol) ? ModelKey{protocol, host, port, 0} : ModelKey{protocol, host, 0, remote};
    }

    uint64_t lifetime(uint8_t protocol) const {
        const Timeouts& t = t_.timeouts();
        const uint32_t seconds = protocol == kTcp ? t.tcp_transitory : protocol == kUdp ? t.udp
                                 : protocol == kIcmp ? t.icmp : t.other;
        return uint64_t{seconds} * kTicks;
    }

    // The model's side of a find: an expired entry goes.
    const ModelEntry* live(std::map<ModelKey, ModelEntry>::iterator it) {
        if (it == entries_.end()) return nullptr;
        if (it->second.expires <= now_) {
            entries_.erase(it);
            return nullptr;
        }
        return &it->second;
    }

    std::map<ModelKey, ModelEntry>::iterator by_inbound(uint8_t protocol, uint32_t external, uint16_t port,
                                                        uint32_t remote) {
        for (auto it = entries_.begin(); it != entries_.end(); ++it) {
            const bool same_end = has_ports(protocol) ? it->second.external_port == port
                                                      : it->first.remote == remote;
            if (it->first.protocol == protocol && it->second.external == external && same_end) return it;
        }
        return entries_.end();
    }

    void expect_same(const Session* s, const ModelKey& k, const ModelEntry* e) {
        ASSERT_EQ(s != nullptr, e != nullptr) << "protocol " << int(k.protocol) << " host " << k.host;
        if (s == nullptr) return;
        EXPECT_EQ(s->protocol, k.protocol);
        EXPECT_EQ(s->internal_address, k.host);
        EXPECT_EQ(s->internal_port, k.port);
        EXPECT_EQ(s->external_address, e->external);
        EXPECT_EQ(s->external_port, e->external_port);
        EXPECT_EQ(s->expires, e->expires);
    }

    void find_outbound() {
        const ModelKey k = random_key();
        const ModelEntry* e = live(entries_.find(k));
        Session* s = t_.find_outbound(k.protocol, has_ports(k.protocol), k.host, k.port, k.remote, now_);
        expect_same(s, k, e);
        if (s != nullptr && pick(2) == 0) {
            t_.touch(*s, Direction::Outbound, 0, 100, now_);
            entries_[k].expires = now_ + lifetime(k.protocol);
        }
    }

    void find_inbound() {
        static constexpr uint8_t protocols[] = {kTcp, kUdp, kIcmp, kGre};
        const uint8_t protocol = protocols[pick(4)];
        const uint32_t external = kExternal + pick(3);
        const uint16_t port = has_ports(protocol) ? static_cast<uint16_t>(first_port_ + pick(ports_)) : 0;
        const uint32_t remote = kRemote + pick(4);
        auto it = by_inbound(protocol, external, port, remote);
        const ModelKey k = it == entries_.end() ? ModelKey{} : it->first;
        const ModelEntry* e = live(it);
        expect_same(t_.find_inbound(protocol, has_ports(protocol), external, port, remote, now_), k, e);
    }

    CreateError expected_error(const ModelKey& k, uint32_t external) {
        if (entries_.size() == t_.capacity()) return CreateError::TableFull;
        if (!has_ports(k.protocol)) {
            return live(by_inbound(k.protocol, external, 0, k.remote)) ? CreateError::Conflict : CreateError::None;
        }
        std::set<uint32_t> addresses;
        size_t taken = 0;
        for (const auto& [key, entry] : entries_) {
            if (!has_ports(key.protocol)) continue;
            addresses.insert(entry.external);
            taken += entry.external == external && port_class(key.protocol) == port_class(k.protocol);
        }
        if (!addresses.contains(external) && addresses.size() == t_.limits().max_external_addresses)
            return CreateError::TooManyAddresses;
        return taken == ports_ ? CreateError::PortsExhausted : CreateError::None;
    }

    bool port_taken(const ModelKey& k, uint32_t external, uint16_t port) const {
        for (const auto& [key, entry] : entries_)
            if (has_ports(key.protocol) && port_class(key.protocol) == port_class(k.protocol) &&
                entry.external == external && entry.external_port == port)
                return true;
        return false;
    }

    void create() {
        const ModelKey k = random_key();
        const uint32_t external = kExternal + pick(3);
        const uint32_t remote = has_ports(k.protocol) ? kRemote + pick(4) : k.remote;
        CreateError error = CreateError::None;
        const ModelEntry* existing = live(entries_.find(k));
        Session* s = t_.create(k.protocol, has_ports(k.protocol), k.host, k.port, remote, 1, external, 0, now_, error);
        if (existing != nullptr) {  // endpoint-independent: the mapping there is
            EXPECT_EQ(error, CreateError::None);
            expect_same(s, k, existing);
            return;
        }
        const CreateError expected = expected_error(k, external);
        ASSERT_EQ(error, expected) << "protocol " << int(k.protocol) << " at " << now_;
        ++outcomes_[error];
        if (expected != CreateError::None) {
            EXPECT_EQ(s, nullptr);
            return;
        }
        ASSERT_NE(s, nullptr);
        if (has_ports(k.protocol)) {
            EXPECT_GE(s->external_port, t_.slice_first());
            EXPECT_LE(s->external_port, t_.slice_last());
            EXPECT_FALSE(port_taken(k, external, s->external_port)) << "port handed out twice: " << s->external_port;
            const bool preservable = k.port >= t_.slice_first() && k.port <= t_.slice_last();
            if (preservable && !port_taken(k, external, k.port)) {
                EXPECT_EQ(s->external_port, k.port);
            }
        }
        entries_[k] = ModelEntry{external, s->external_port, now_ + lifetime(k.protocol)};
    }

    // Whatever the sweep removed must have been expired, and no more than it says.
    void expire() {
        const size_t removed = t_.expire(now_, pick(40));
        std::set<ModelKey> in_table;
        t_.for_each([&](const Session& s) {
            in_table.insert(has_ports(s.protocol) ? ModelKey{s.protocol, s.internal_address, s.internal_port, 0}
                                                  : ModelKey{s.protocol, s.internal_address, 0, s.remote_address});
        });
        size_t gone = 0;
        for (auto it = entries_.begin(); it != entries_.end();) {
            if (in_table.contains(it->first)) {
                ++it;
                continue;
            }
            EXPECT_LE(it->second.expires, now_) << "a live mapping was swept";
            it = entries_.erase(it);
            ++gone;
        }
        EXPECT_EQ(removed, gone);
        EXPECT_EQ(in_table.size(), entries_.size());
    }

    void clear() {
        t_.clear();
        entries_.clear();
    }

    // Looking up at tick 0 removes nothing: every entry, both ways, finds its session.
    void check_all() {
        ASSERT_EQ(t_.size(), entries_.size());
        for (const auto& [k, e] : entries_) {
            const bool ports = has_ports(k.protocol);
            Session* out = t_.find_outbound(k.protocol, ports, k.host, k.port, k.remote, 0);
            expect_same(out, k, &e);
            const uint32_t remote = ports ? kRemote : k.remote;
            EXPECT_EQ(t_.find_inbound(k.protocol, ports, e.external, e.external_port, remote, 0), out);
        }
    }

    SessionTable& t_;
    uint16_t first_port_;  // the slice
    uint32_t ports_;
    std::mt19937 rng_;
    uint64_t now_ = 1;
    std::map<ModelKey, ModelEntry> entries_;

public:
    std::map<CreateError, int> outcomes_;  // of creates that made no mapping before
};

// The run met every way a create can end: the model was checked on each.
void expect_every_outcome(const Model& m) {
    for (const CreateError e : {CreateError::None, CreateError::TableFull, CreateError::PortsExhausted,
                                CreateError::TooManyAddresses, CreateError::Conflict})
        EXPECT_TRUE(m.outcomes_.contains(e)) << "never seen: " << int(e);
}

// A mapping lives some thousands of ticks: some hundreds of operations.
constexpr Timeouts kStress{.tcp_transitory = 4, .udp = 6, .icmp = 3, .other = 8};

// Mappings that live some hundreds of operations; 16 ports a pool; two external
// addresses allowed of three used.
TEST(SessionTableModel, HundredThousandOperationsAgreeWithTheModel) {
    SessionTable t(limits(2000, 2015, 64, 2), kStress, 0, 1, kTicks);
    Model m(t, 4787);
    m.run(100000);
    expect_every_outcome(m);
}

// A tiny table (16 buckets per index): probe runs that wrap around the end, so
// removals shift entries back, across the wrap too; three ports a pool.
TEST(SessionTableModel, TinyTableAgreesWithTheModel) {
    SessionTable t(limits(2000, 2002, 8, 2), kStress, 0, 1, kTicks);
    Model m(t, 5382);
    m.run(100000);
    expect_every_outcome(m);
}

// A middle worker: its slice is not at the range's start.
TEST(SessionTableModel, MiddleWorkerAgreesWithTheModel) {
    SessionTable t(limits(1990, 2029, 64, 2), kStress, 1, 3, kTicks);
    ASSERT_EQ(t.slice_first(), 2003);
    ASSERT_EQ(t.slice_last(), 2015);
    Model m(t, 5508);
    m.run(50000);
    expect_every_outcome(m);
}

}  // namespace
}  // namespace mbox::nat

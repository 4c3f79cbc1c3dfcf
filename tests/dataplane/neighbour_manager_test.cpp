// control::NeighbourManager: the gateway's ARP (RFC 826) over bytes and an injected
// clock. A fake NeighbourOutput stands in for the data plane and records every frame
// sent, every neighbour installed in the workers and every one removed.
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "control/arp.hpp"
#include "control/neighbour_manager.hpp"

namespace mbox::control {
namespace {

using namespace std::chrono_literals;
using State = NeighbourEntry::State;

uint32_t ip(const char* text) { return Ipv4Address::parse(text).value().value; }

constexpr MacAddress kLanMac{0x02, 0, 0, 0, 0, 0x01};
constexpr MacAddress kWanMac{0x02, 0, 0, 0, 0, 0x02};
constexpr MacAddress kHostMac{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x10};
constexpr MacAddress kOtherMac{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x20};
constexpr MacAddress kZeroMac{};

struct Sent {
    uint16_t port;
    std::vector<uint8_t> frame;
};
struct Installed {
    uint32_t ip;
    MacAddress mac;
    uint16_t port;
    bool operator==(const Installed&) const = default;
};

class FakeOutput : public NeighbourOutput {
public:
    void transmit(uint16_t port, std::span<const uint8_t> frame) override {
        sent.push_back({port, {frame.begin(), frame.end()}});
    }
    void install(uint32_t ip, const MacAddress& mac, uint16_t port) override { installed.push_back({ip, mac, port}); }
    void remove(uint32_t ip) override { removed.push_back(ip); }

    std::vector<Sent> sent;
    std::vector<Installed> installed;
    std::vector<uint32_t> removed;
};

// An Ethernet/IPv4 ARP frame written out byte by byte (RFC 826 layout), independent of
// the codec under test. `length` cuts or pads it.
std::vector<uint8_t> arp_frame(uint16_t op, const MacAddress& sender_mac, uint32_t sender_ip,
                               const MacAddress& target_mac, uint32_t target_ip,
                               const MacAddress& eth_dst = kBroadcastMac, size_t length = 60) {
    std::vector<uint8_t> f;
    auto put_mac = [&](const MacAddress& m) { f.insert(f.end(), m.begin(), m.end()); };
    auto put16 = [&](uint16_t v) { f.push_back(uint8_t(v >> 8)), f.push_back(uint8_t(v)); };
    auto put32 = [&](uint32_t v) { put16(uint16_t(v >> 16)), put16(uint16_t(v)); };
    put_mac(eth_dst);
    put_mac(sender_mac);
    put16(0x0806);
    put16(1);       // hardware: Ethernet
    put16(0x0800);  // protocol: IPv4
    f.push_back(6);
    f.push_back(4);
    put16(op);
    put_mac(sender_mac);
    put32(sender_ip);
    put_mac(target_mac);
    put32(target_ip);
    f.resize(length, 0);
    return f;
}

MacAddress eth_destination(const std::vector<uint8_t>& f) { return {f[0], f[1], f[2], f[3], f[4], f[5]}; }
MacAddress eth_source(const std::vector<uint8_t>& f) { return {f[6], f[7], f[8], f[9], f[10], f[11]}; }

// The manager's timers shortened so that every step is an explicit time point.
NeighbourTimers test_timers() {
    NeighbourTimers t;
    t.reachable_time = 30s;
    t.probe_interval = 100ms;
    t.max_probes = 3;
    t.retry_interval = 500ms;
    t.failed_lifetime = 10s;
    return t;
}

class NeighbourManagerTest : public ::testing::Test {
protected:
    NeighbourManagerTest() : manager_(interfaces(), out_, test_timers()) {}

    static std::vector<NeighbourInterface> interfaces() {
        NeighbourInterface lan{"lan", 0, kLanMac,
                               {Ipv4Prefix::parse("10.1.0.1/24").value(), Ipv4Prefix::parse("10.9.0.1/24").value()},
                               {}};
        // A NAT translate pool on the wan: answered for, never used as a source.
        const config::Ipv4Range pool{Ipv4Address{ip("198.51.100.20")}, Ipv4Address{ip("198.51.100.29")}};
        NeighbourInterface wan{"wan", 1, kWanMac, {Ipv4Prefix::parse("198.51.100.1/24").value()}, {pool}};
        return {lan, wan};
    }

    std::optional<NeighbourEntry> entry(uint32_t addr) const {
        for (const auto& e : manager_.entries())
            if (e.ip == addr) return e;
        return std::nullopt;
    }

    // The one frame sent since the last call, parsed; fails the test otherwise.
    ArpPacket only_sent(uint16_t port, std::vector<uint8_t>* raw = nullptr) {
        EXPECT_EQ(out_.sent.size(), 1u);
        if (out_.sent.size() != 1) return {};
        const Sent s = out_.sent.front();
        out_.sent.clear();
        EXPECT_EQ(s.port, port);
        EXPECT_EQ(s.frame.size(), 60u);  // padded to the Ethernet minimum
        const auto parsed = parse_arp(s.frame);
        EXPECT_TRUE(parsed.has_value());
        if (raw != nullptr) *raw = s.frame;
        return parsed.value_or(ArpPacket{});
    }

    // The host at `addr` answers our request.
    void reply_from(uint32_t addr, const MacAddress& mac, Clock::time_point now, uint16_t port = 0,
                    uint32_t our_ip = 0) {
        if (our_ip == 0) our_ip = port == 0 ? ip("10.1.0.1") : ip("198.51.100.1");
        const MacAddress our_mac = port == 0 ? kLanMac : kWanMac;
        manager_.on_frame(port, arp_frame(2, mac, addr, our_mac, our_ip, our_mac), now);
    }

    FakeOutput out_;
    NeighbourManager manager_;
    const Clock::time_point t0_ = Clock::time_point{} + 1000s;
};

// ---- answering requests ----

TEST_F(NeighbourManagerTest, RequestForOurAddressIsAnsweredAndSenderLearned) {
    manager_.on_frame(0, arp_frame(1, kHostMac, ip("10.1.0.10"), kZeroMac, ip("10.1.0.1")), t0_);

    std::vector<uint8_t> raw;
    const ArpPacket reply = only_sent(0, &raw);
    EXPECT_EQ(eth_destination(raw), kHostMac);  // unicast back to the asker, not broadcast
    EXPECT_EQ(eth_source(raw), kLanMac);
    EXPECT_EQ(reply.op, ArpPacket::Op::Reply);
    EXPECT_EQ(reply.sender_mac, kLanMac);
    EXPECT_EQ(reply.sender_ip, ip("10.1.0.1"));
    EXPECT_EQ(reply.target_mac, kHostMac);
    EXPECT_EQ(reply.target_ip, ip("10.1.0.10"));

    // RFC 826: the asker is about to talk to us, so its mapping is learned and installed.
    EXPECT_EQ(out_.installed, (std::vector<Installed>{{ip("10.1.0.10"), kHostMac, 0}}));
    const auto e = entry(ip("10.1.0.10"));
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->state, State::Reachable);
    EXPECT_EQ(e->port, 0);
    EXPECT_EQ(manager_.counters().requests_received, 1u);
    EXPECT_EQ(manager_.counters().replies_sent, 1u);
}

TEST_F(NeighbourManagerTest, RequestForSecondaryAddressIsAnsweredWithThatAddress) {
    manager_.on_frame(0, arp_frame(1, kHostMac, ip("10.9.0.5"), kZeroMac, ip("10.9.0.1")), t0_);
    const ArpPacket reply = only_sent(0);
    EXPECT_EQ(reply.sender_ip, ip("10.9.0.1"));
    EXPECT_EQ(reply.target_ip, ip("10.9.0.5"));
}

TEST_F(NeighbourManagerTest, RequestForATranslatePoolAddressIsAnsweredOnItsInterfaceOnly) {
    manager_.on_frame(1, arp_frame(1, kHostMac, ip("198.51.100.254"), kZeroMac, ip("198.51.100.29")), t0_);
    const ArpPacket reply = only_sent(1);
    EXPECT_EQ(reply.sender_ip, ip("198.51.100.29"));
    EXPECT_EQ(reply.sender_mac, kWanMac);
    EXPECT_EQ(reply.target_ip, ip("198.51.100.254"));
    out_.sent.clear();
    manager_.on_frame(1, arp_frame(1, kHostMac, ip("198.51.100.254"), kZeroMac, ip("198.51.100.30")), t0_);
    manager_.on_frame(0, arp_frame(1, kHostMac, ip("10.1.0.10"), kZeroMac, ip("198.51.100.20")), t0_);
    EXPECT_TRUE(out_.sent.empty());
}

// A reloaded configuration moves the translate pool: the old addresses are no longer
// answered for, the new ones are, and on the interface the new rule names.
TEST_F(NeighbourManagerTest, ReplacedTranslatePoolsAreAnsweredForAndOldOnesAreNot) {
    const config::Ipv4Range moved{Ipv4Address{ip("10.9.0.50")}, Ipv4Address{ip("10.9.0.59")}};
    manager_.set_proxied({{"lan", {moved}}});
    manager_.on_frame(1, arp_frame(1, kHostMac, ip("198.51.100.254"), kZeroMac, ip("198.51.100.25")), t0_);
    EXPECT_TRUE(out_.sent.empty());
    manager_.on_frame(0, arp_frame(1, kHostMac, ip("10.9.0.5"), kZeroMac, ip("10.9.0.55")), t0_);
    const ArpPacket reply = only_sent(0);
    EXPECT_EQ(reply.sender_ip, ip("10.9.0.55"));
    EXPECT_EQ(reply.sender_mac, kLanMac);
    manager_.set_proxied({});
    manager_.on_frame(0, arp_frame(1, kHostMac, ip("10.9.0.5"), kZeroMac, ip("10.9.0.55")), t0_);
    EXPECT_TRUE(out_.sent.empty());
}

TEST_F(NeighbourManagerTest, RequestForSomeoneElseIsNeitherAnsweredNorLearned) {
    manager_.on_frame(0, arp_frame(1, kHostMac, ip("10.1.0.10"), kZeroMac, ip("10.1.0.20")), t0_);
    // Also our wan address asked on the lan port: not ours on that link.
    manager_.on_frame(0, arp_frame(1, kHostMac, ip("10.1.0.10"), kZeroMac, ip("198.51.100.1")), t0_);
    EXPECT_TRUE(out_.sent.empty());
    EXPECT_TRUE(out_.installed.empty());
    EXPECT_TRUE(manager_.entries().empty());
    EXPECT_EQ(manager_.counters().not_for_us, 2u);
    EXPECT_EQ(manager_.counters().replies_sent, 0u);
}

// ---- resolving next hops ----

TEST_F(NeighbourManagerTest, ResolveBroadcastsOneRequestFromOurAddressOnThatNetwork) {
    manager_.on_resolve(0, ip("10.9.0.7"), t0_);

    std::vector<uint8_t> raw;
    const ArpPacket req = only_sent(0, &raw);
    EXPECT_EQ(eth_destination(raw), kBroadcastMac);
    EXPECT_EQ(eth_source(raw), kLanMac);
    EXPECT_EQ(req.op, ArpPacket::Op::Request);
    EXPECT_EQ(req.sender_mac, kLanMac);
    EXPECT_EQ(req.sender_ip, ip("10.9.0.1"));  // not 10.1.0.1: the address on the target's network
    EXPECT_EQ(req.target_mac, kZeroMac);
    EXPECT_EQ(req.target_ip, ip("10.9.0.7"));
    EXPECT_EQ(entry(ip("10.9.0.7"))->state, State::Incomplete);
    EXPECT_TRUE(out_.installed.empty());

    // Further packets for the same hop while the request is out: no second request.
    manager_.on_resolve(0, ip("10.9.0.7"), t0_ + 10ms);
    EXPECT_TRUE(out_.sent.empty());
    EXPECT_EQ(manager_.counters().requests_sent, 1u);
}

TEST_F(NeighbourManagerTest, UnansweredRequestIsRetriedEveryProbeIntervalThenFails) {
    manager_.on_resolve(0, ip("10.1.0.50"), t0_);
    ASSERT_EQ(out_.sent.size(), 1u);
    out_.sent.clear();

    manager_.tick(t0_ + 99ms);  // not yet
    EXPECT_TRUE(out_.sent.empty());
    manager_.tick(t0_ + 100ms);  // second request
    EXPECT_EQ(only_sent(0).target_ip, ip("10.1.0.50"));
    manager_.tick(t0_ + 150ms);
    EXPECT_TRUE(out_.sent.empty());
    manager_.tick(t0_ + 200ms);  // third and last (max_probes = 3)
    std::vector<uint8_t> raw;
    EXPECT_EQ(only_sent(0, &raw).target_ip, ip("10.1.0.50"));
    EXPECT_EQ(eth_destination(raw), kBroadcastMac);
    EXPECT_EQ(entry(ip("10.1.0.50"))->state, State::Incomplete);

    manager_.tick(t0_ + 300ms);  // no answer to any of the three
    EXPECT_TRUE(out_.sent.empty());
    EXPECT_EQ(entry(ip("10.1.0.50"))->state, State::Failed);
    manager_.tick(t0_ + 5s);
    EXPECT_TRUE(out_.sent.empty()) << "a failed entry sends nothing by itself";
    EXPECT_TRUE(out_.installed.empty());
    EXPECT_EQ(manager_.counters().requests_sent, 3u);
}

TEST_F(NeighbourManagerTest, FailedEntryIsRetriedOnlyAfterRetryInterval) {
    manager_.on_resolve(0, ip("10.1.0.50"), t0_);
    for (auto t : {100ms, 200ms, 300ms}) manager_.tick(t0_ + t);
    ASSERT_EQ(entry(ip("10.1.0.50"))->state, State::Failed);
    out_.sent.clear();

    // Last request at +200ms, failure declared at +300ms; retry_interval is 500ms.
    manager_.on_resolve(0, ip("10.1.0.50"), t0_ + 350ms);
    manager_.on_resolve(0, ip("10.1.0.50"), t0_ + 650ms);
    EXPECT_TRUE(out_.sent.empty());
    EXPECT_EQ(entry(ip("10.1.0.50"))->state, State::Failed);

    manager_.on_resolve(0, ip("10.1.0.50"), t0_ + 800ms);
    const ArpPacket req = only_sent(0);
    EXPECT_EQ(req.target_ip, ip("10.1.0.50"));
    EXPECT_EQ(entry(ip("10.1.0.50"))->state, State::Incomplete);

    // And the retry is answered normally.
    reply_from(ip("10.1.0.50"), kHostMac, t0_ + 810ms);
    EXPECT_EQ(out_.installed, (std::vector<Installed>{{ip("10.1.0.50"), kHostMac, 0}}));
}

TEST_F(NeighbourManagerTest, FailedEntryIsForgottenAfterFailedLifetime) {
    manager_.on_resolve(0, ip("10.1.0.50"), t0_);
    for (auto t : {100ms, 200ms, 300ms}) manager_.tick(t0_ + t);
    ASSERT_EQ(entry(ip("10.1.0.50"))->state, State::Failed);
    manager_.tick(t0_ + 200ms + 10s);
    EXPECT_FALSE(entry(ip("10.1.0.50")).has_value());
    EXPECT_TRUE(out_.removed.empty()) << "never installed, so nothing to remove from the workers";
}

TEST_F(NeighbourManagerTest, ReplyInstallsTheNeighbourAndStopsRequests) {
    manager_.on_resolve(1, ip("198.51.100.254"), t0_);
    ASSERT_EQ(out_.sent.size(), 1u);
    out_.sent.clear();

    reply_from(ip("198.51.100.254"), kHostMac, t0_ + 5ms, 1);
    // Installing is what makes the workers send the packets waiting for this hop.
    EXPECT_EQ(out_.installed, (std::vector<Installed>{{ip("198.51.100.254"), kHostMac, 1}}));
    EXPECT_EQ(entry(ip("198.51.100.254"))->state, State::Reachable);
    EXPECT_EQ(manager_.counters().replies_received, 1u);

    for (auto t : {100ms, 200ms, 300ms, 400ms}) manager_.tick(t0_ + t);
    EXPECT_TRUE(out_.sent.empty()) << "a resolved neighbour is not asked again";
    EXPECT_EQ(out_.installed.size(), 1u);
}

TEST_F(NeighbourManagerTest, ResolveOfKnownNeighbourReinstallsWithoutAsking) {
    manager_.on_resolve(0, ip("10.1.0.10"), t0_);
    reply_from(ip("10.1.0.10"), kHostMac, t0_ + 1ms);
    out_.sent.clear();
    out_.installed.clear();
    // A worker still asks (it lost the entry): give it the answer we have.
    manager_.on_resolve(0, ip("10.1.0.10"), t0_ + 2ms);
    EXPECT_TRUE(out_.sent.empty());
    EXPECT_EQ(out_.installed, (std::vector<Installed>{{ip("10.1.0.10"), kHostMac, 0}}));
}

// ---- ageing ----

TEST_F(NeighbourManagerTest, ReachableGoesStaleAndAnAnsweredProbeMakesItReachableAgain) {
    manager_.on_resolve(0, ip("10.1.0.10"), t0_);
    reply_from(ip("10.1.0.10"), kHostMac, t0_);
    out_.sent.clear();

    manager_.tick(t0_ + 30s - 1ms);
    EXPECT_TRUE(out_.sent.empty());
    EXPECT_EQ(entry(ip("10.1.0.10"))->state, State::Reachable);

    manager_.tick(t0_ + 30s);  // reachable_time elapsed
    EXPECT_EQ(entry(ip("10.1.0.10"))->state, State::Stale);
    std::vector<uint8_t> raw;
    const ArpPacket probe = only_sent(0, &raw);
    EXPECT_EQ(eth_destination(raw), kHostMac) << "the probe is unicast to the MAC we know";
    EXPECT_EQ(probe.op, ArpPacket::Op::Request);
    EXPECT_EQ(probe.sender_ip, ip("10.1.0.1"));
    EXPECT_EQ(probe.target_ip, ip("10.1.0.10"));
    EXPECT_TRUE(out_.removed.empty()) << "a stale entry is still used while probed";

    reply_from(ip("10.1.0.10"), kHostMac, t0_ + 30s + 20ms);
    EXPECT_EQ(entry(ip("10.1.0.10"))->state, State::Reachable);
    EXPECT_EQ(out_.installed.size(), 1u) << "same MAC: no need to reinstall";

    // Confirmed again: quiet until another reachable_time has passed.
    for (auto t : {100ms, 200ms, 300ms, 400ms}) manager_.tick(t0_ + 30s + t);
    EXPECT_TRUE(out_.sent.empty());
    EXPECT_TRUE(out_.removed.empty());
    manager_.tick(t0_ + 60s + 20ms);
    EXPECT_EQ(entry(ip("10.1.0.10"))->state, State::Stale);
}

TEST_F(NeighbourManagerTest, StaleNeighbourThatNeverAnswersIsDeletedAndRemoved) {
    manager_.on_resolve(0, ip("10.1.0.10"), t0_);
    reply_from(ip("10.1.0.10"), kHostMac, t0_);
    out_.sent.clear();

    const auto stale_at = t0_ + 30s;
    manager_.tick(stale_at);
    manager_.tick(stale_at + 100ms);
    manager_.tick(stale_at + 200ms);
    ASSERT_EQ(out_.sent.size(), 3u) << "max_probes unicast probes";
    for (const auto& s : out_.sent) {
        EXPECT_EQ(eth_destination(s.frame), kHostMac);
        EXPECT_EQ(parse_arp(s.frame)->target_ip, ip("10.1.0.10"));
    }
    EXPECT_TRUE(out_.removed.empty());
    out_.sent.clear();

    manager_.tick(stale_at + 250ms);  // not yet a probe interval after the last probe
    EXPECT_TRUE(out_.removed.empty());
    manager_.tick(stale_at + 300ms);
    EXPECT_EQ(out_.removed, std::vector<uint32_t>{ip("10.1.0.10")});
    EXPECT_FALSE(entry(ip("10.1.0.10")).has_value());
    EXPECT_TRUE(out_.sent.empty());
}

TEST_F(NeighbourManagerTest, MacChangeIsInstalledAgain) {
    manager_.on_frame(0, arp_frame(1, kHostMac, ip("10.1.0.10"), kZeroMac, ip("10.1.0.1")), t0_);
    ASSERT_EQ(out_.installed.size(), 1u);
    // The host's NIC is replaced: its next ARP packet (here a gratuitous one, not for us)
    // refreshes the entry we already have.
    manager_.on_frame(0, arp_frame(1, kOtherMac, ip("10.1.0.10"), kZeroMac, ip("10.1.0.10")), t0_ + 1s);
    EXPECT_EQ(out_.installed, (std::vector<Installed>{{ip("10.1.0.10"), kHostMac, 0},
                                                       {ip("10.1.0.10"), kOtherMac, 0}}));
    EXPECT_EQ(entry(ip("10.1.0.10"))->mac, kOtherMac);
    // The same MAC again changes nothing.
    manager_.on_frame(0, arp_frame(1, kOtherMac, ip("10.1.0.10"), kZeroMac, ip("10.1.0.10")), t0_ + 2s);
    EXPECT_EQ(out_.installed.size(), 2u);
}

// ---- what is rejected ----

TEST_F(NeighbourManagerTest, MalformedAndTruncatedFramesAreCountedAndIgnored) {
    const uint32_t host = ip("10.1.0.10"), us = ip("10.1.0.1");
    std::vector<std::vector<uint8_t>> bad;
    bad.push_back(arp_frame(1, kHostMac, host, kZeroMac, us, kBroadcastMac, 41));  // one byte short of 42
    bad.push_back(arp_frame(1, kHostMac, host, kZeroMac, us, kBroadcastMac, 14));  // Ethernet header only
    bad.push_back({});
    auto wrong_type = arp_frame(1, kHostMac, host, kZeroMac, us);
    wrong_type[13] = 0x00;  // EtherType 0x0800
    bad.push_back(wrong_type);
    auto wrong_hw = arp_frame(1, kHostMac, host, kZeroMac, us);
    wrong_hw[15] = 6;  // hardware type 6 (IEEE 802)
    bad.push_back(wrong_hw);
    auto wrong_proto = arp_frame(1, kHostMac, host, kZeroMac, us);
    wrong_proto[16] = 0x86, wrong_proto[17] = 0xdd;
    bad.push_back(wrong_proto);
    auto wrong_len = arp_frame(1, kHostMac, host, kZeroMac, us);
    wrong_len[19] = 16;  // protocol address length 16
    bad.push_back(wrong_len);
    bad.push_back(arp_frame(3, kHostMac, host, kZeroMac, us));  // RARP request opcode

    for (const auto& f : bad) manager_.on_frame(0, f, t0_);
    // A well-formed request, but on a port that has no interface.
    manager_.on_frame(9, arp_frame(1, kHostMac, host, kZeroMac, us), t0_);

    EXPECT_EQ(manager_.counters().invalid, bad.size() + 1);
    EXPECT_EQ(manager_.counters().requests_received, 0u);
    EXPECT_TRUE(out_.sent.empty());
    EXPECT_TRUE(out_.installed.empty());
    EXPECT_TRUE(manager_.entries().empty());

    // The exact minimum (42 bytes, no padding) is accepted.
    manager_.on_frame(0, arp_frame(1, kHostMac, host, kZeroMac, us, kBroadcastMac, 42), t0_);
    EXPECT_EQ(manager_.counters().invalid, bad.size() + 1);
    EXPECT_EQ(out_.sent.size(), 1u);
}

TEST_F(NeighbourManagerTest, ResolveForAddressOnNoConnectedNetworkIsCounted) {
    manager_.on_resolve(0, ip("203.0.113.5"), t0_);     // on no network of lan
    manager_.on_resolve(0, ip("198.51.100.9"), t0_);    // wan's network, asked on lan
    manager_.on_resolve(0, ip("10.1.0.1"), t0_);        // our own address
    manager_.on_resolve(7, ip("10.1.0.10"), t0_);       // a port without an interface
    EXPECT_EQ(manager_.counters().resolve_off_link, 4u);
    EXPECT_TRUE(out_.sent.empty());
    EXPECT_TRUE(manager_.entries().empty());
}

TEST_F(NeighbourManagerTest, UnsolicitedReplyFromOffLinkSenderIsNotLearned) {
    manager_.on_frame(0, arp_frame(2, kHostMac, ip("192.0.2.9"), kLanMac, ip("10.1.0.1"), kLanMac), t0_);
    EXPECT_TRUE(out_.installed.empty());
    EXPECT_TRUE(manager_.entries().empty());
    EXPECT_TRUE(out_.sent.empty()) << "replies are never answered";
}

// ---- start-up ----

TEST_F(NeighbourManagerTest, AnnounceSendsGratuitousArpForEveryAddress) {
    manager_.announce();
    ASSERT_EQ(out_.sent.size(), 3u);
    struct Expected {
        uint16_t port;
        MacAddress mac;
        uint32_t address;
    };
    const Expected expected[] = {{0, kLanMac, ip("10.1.0.1")}, {0, kLanMac, ip("10.9.0.1")},
                                 {1, kWanMac, ip("198.51.100.1")}};
    for (size_t i = 0; i < 3; ++i) {
        const Sent& s = out_.sent[i];
        SCOPED_TRACE(Ipv4Address{expected[i].address}.to_string());
        EXPECT_EQ(s.port, expected[i].port);
        EXPECT_EQ(eth_destination(s.frame), kBroadcastMac);
        EXPECT_EQ(eth_source(s.frame), expected[i].mac);
        const auto g = parse_arp(s.frame);
        ASSERT_TRUE(g.has_value());
        EXPECT_EQ(g->op, ArpPacket::Op::Request);
        EXPECT_EQ(g->sender_mac, expected[i].mac);
        EXPECT_EQ(g->sender_ip, expected[i].address);  // gratuitous: sender and target are the same
        EXPECT_EQ(g->target_ip, expected[i].address);
    }
    EXPECT_TRUE(manager_.entries().empty());
}

}  // namespace
}  // namespace mbox::control

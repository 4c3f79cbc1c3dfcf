// Source NAT in the worker pipeline: firewall-snat rules on the wan port, one worker,
// packets in through process_burst() and out of the net_ring ports (pipeline_fixture.hpp).
//
//   host 10.1.0.10/.11 --- [lan] mbox [wan 198.51.100.1] --- gateway 198.51.100.254 --- internet
//                                                             `-- 10.2.0.0/16 (the "tunnel" side: exempt)
#include <rte_cycles.h>

#include <chrono>
#include <thread>

#include "dataplane/nat.hpp"
#include "nat/session_table.hpp"
#include "pipeline_fixture.hpp"

namespace mbox::dataplane {
namespace {

using namespace pipeline_testing;

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kTcpSyn = 0x02, kTcpAck = 0x10;
const uint32_t kHost2 = ip("10.1.0.11");
const uint32_t kServer = ip("203.0.113.7");
const uint32_t kPoolFirst = ip("198.51.100.20");
const uint32_t kPoolLast = ip("198.51.100.29");

// The pseudo-header (RFC 768, RFC 793) followed by the L4 bytes: what the TCP/UDP
// checksum covers.
Bytes with_pseudo_header(uint32_t src, uint32_t dst, uint8_t protocol, std::span<const uint8_t> l4) {
    Bytes b(12 + l4.size());
    put32(b, 0, src);
    put32(b, 4, dst);
    b[9] = protocol;
    put16(b, 10, static_cast<uint16_t>(l4.size()));
    std::copy(l4.begin(), l4.end(), b.begin() + 12);
    return b;
}

// The TCP/UDP checksum verifies; a UDP checksum of zero (none) passes.
bool l4_checksum_ok(std::span<const uint8_t> pkt) {
    const auto l4 = l4_of(pkt);
    if (pkt[9] == kProtoUdp && get16(l4, 6) == 0) return true;
    return checksum_ok(with_pseudo_header(get32(pkt, 12), get32(pkt, 16), pkt[9], l4));
}

Bytes udp_with_checksum(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const Bytes& data) {
    Bytes u = udp(sport, dport, data);
    put16(u, 6, checksum_of(with_pseudo_header(src, dst, kProtoUdp, u)));
    return u;
}

Bytes tcp(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags) {
    Bytes t(20, 0);
    put16(t, 0, sport);
    put16(t, 2, dport);
    put32(t, 4, 1000);
    t[12] = 5 << 4;
    t[13] = flags;
    put16(t, 14, 65535);
    put16(t, 16, checksum_of(with_pseudo_header(src, dst, kProtoTcp, t)));
    return t;
}

class NatPipeline : public Pipeline {
protected:
    void SetUp() override {
        Pipeline::SetUp();
        if (IsSkipped()) return;
        use_rules({{10, nat::Action::Exempt, wan_, 0, {}, {{ip("10.2.0.0"), 16}}},
                   {20, nat::Action::Overload, wan_, 0, {}, {}}});
        learn(kGateway, kGatewayMac, wan_);
        learn(kHost, kHostMac, lan_);
        learn(kHost2, kHostMac, lan_);
    }

    void TearDown() override {
        ctx_.nat = nullptr;
        Pipeline::TearDown();
    }

    // A fresh session table and a snapshot with these rules (and a default route out of wan).
    void use_rules(std::vector<nat::Rule> rules, nat::Limits limits = {}, nat::Timeouts timeouts = {}) {
        config::Config c = standard_config();
        c.routes.push_back({Ipv4Prefix::parse("0.0.0.0/0").value(), Ipv4Address{kGateway}, {}});
        auto state = make_state(c);
        ASSERT_NE(state, nullptr);
        state->nat = std::make_unique<NatState>();
        for (const auto& r : rules) {
            if (r.action == nat::Action::Translate) state->nat->external.push_back({r.pool_first, r.pool_last, true});
            if (r.action == nat::Action::Overload) state->nat->external.push_back({kWanAddr, kWanAddr, false});
        }
        state->nat->chain = nat::SnatChain(std::move(rules));
        state->nat->own_addresses = {kLanAddr, kWanAddr};
        state_ = std::move(state);
        ctx_.state = state_.get();
        table_ = std::make_unique<nat::SessionTable>(limits, timeouts, 0, 1, rte_get_tsc_hz());
        ctx_.nat = table_.get();
    }

    // From an inside host, out of the lan port; from the internet, into the wan port.
    static Bytes inside(uint32_t src, uint32_t dst, uint8_t protocol, const Bytes& l4, uint16_t flags = 0) {
        Ipv4Header h;
        h.src = src;
        h.dst = dst;
        h.protocol = protocol;
        h.flags_fragment = flags;
        return ethernet(kLanMac, kHostMac, kEtherTypeIpv4, ipv4(h, l4));
    }
    static Bytes outside(uint32_t src, uint32_t dst, uint8_t protocol, const Bytes& l4) {
        Ipv4Header h;
        h.src = src;
        h.dst = dst;
        h.protocol = protocol;
        return ethernet(kWanMac, kGatewayMac, kEtherTypeIpv4, ipv4(h, l4));
    }

    // The one frame a port sent, as an IP packet with valid checksums.
    Bytes only_packet(uint16_t port) {
        const auto frames = sent(port);
        EXPECT_EQ(frames.size(), 1u);
        if (frames.size() != 1) return {};
        const auto pkt = ip_of(frames[0]);
        EXPECT_TRUE(checksum_ok(ip_header(pkt))) << "IP header checksum";
        if (pkt[9] == kProtoUdp || pkt[9] == kProtoTcp) {
            EXPECT_TRUE(l4_checksum_ok(pkt)) << "L4 checksum";
        }
        if (pkt[9] == kProtoIcmp) {
            EXPECT_TRUE(checksum_ok(l4_of(pkt))) << "ICMP checksum";
        }
        return Bytes(pkt.begin(), pkt.end());
    }

    std::vector<nat::Session> sessions() const {
        std::vector<nat::Session> out;
        table_->for_each([&](const nat::Session& s) { out.push_back(s); });
        return out;
    }

    std::unique_ptr<nat::SessionTable> table_;
};

// ---- overload (PAT) ----

TEST_F(NatPipeline, UdpLeavesFromTheWanAddressWithItsPortAndTheReplyComesBack) {
    run(lan_, inside(kHost, kServer, kProtoUdp, udp_with_checksum(kHost, kServer, 5000, 53, filler(20, 1))));
    const Bytes out = only_packet(wan_);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(get32(out, 12), kWanAddr);
    EXPECT_EQ(get32(out, 16), kServer);
    EXPECT_EQ(get16(l4_of(out), 0), 5000) << "port preserved (free, in range)";
    EXPECT_EQ(Bytes(l4_of(out).begin() + 8, l4_of(out).end()), filler(20, 1));

    run(wan_, outside(kServer, kWanAddr, kProtoUdp, udp_with_checksum(kServer, kWanAddr, 53, 5000, filler(30, 2))));
    const Bytes back = only_packet(lan_);
    ASSERT_FALSE(back.empty());
    EXPECT_EQ(get32(back, 12), kServer);
    EXPECT_EQ(get32(back, 16), kHost);
    EXPECT_EQ(get16(l4_of(back), 2), 5000);
    EXPECT_EQ(back[8], 63) << "TTL decremented once";
    EXPECT_EQ(counters_.nat_created, 1u);
    EXPECT_EQ(counters_.nat_translated_out, 1u);
    EXPECT_EQ(counters_.nat_translated_in, 1u);
    EXPECT_EQ(counters_.snat_hits[1], 1u);
    expect_drops({});
}

TEST_F(NatPipeline, ChecksumlessUdpStaysChecksumless) {
    run(lan_, inside(kHost, kServer, kProtoUdp, udp(5001, 53, filler(8, 3))));
    const Bytes out = only_packet(wan_);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(get16(l4_of(out), 6), 0);
    EXPECT_EQ(get32(out, 12), kWanAddr);
}

TEST_F(NatPipeline, ExemptTrafficKeepsItsPrivateSource) {
    run(lan_, inside(kHost, kRemote, kProtoUdp, udp(5000, 53, filler(8, 4))));
    const Bytes out = only_packet(wan_);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(get32(out, 12), kHost);
    EXPECT_EQ(counters_.snat_hits[0], 1u);
    EXPECT_EQ(counters_.snat_hits[1], 0u);
    EXPECT_EQ(counters_.nat_created, 0u);
}

TEST_F(NatPipeline, TwoHostsOnTheSamePortGetTwoExternalPortsAndTheirOwnReplies) {
    run(lan_, inside(kHost, kServer, kProtoUdp, udp(7000, 53, filler(8, 5))));
    run(lan_, inside(kHost2, kServer, kProtoUdp, udp(7000, 53, filler(8, 6))));
    const auto frames = sent(wan_);
    ASSERT_EQ(frames.size(), 2u);
    const uint16_t first = get16(l4_of(ip_of(frames[0])), 0);
    const uint16_t second = get16(l4_of(ip_of(frames[1])), 0);
    EXPECT_EQ(first, 7000);
    EXPECT_NE(second, 7000);
    EXPECT_GE(second, 1024);

    run(wan_, outside(kServer, kWanAddr, kProtoUdp, udp(53, second, filler(8, 7))));
    EXPECT_EQ(get32(only_packet(lan_), 16), kHost2);
    run(wan_, outside(kServer, kWanAddr, kProtoUdp, udp(53, first, filler(8, 8))));
    EXPECT_EQ(get32(only_packet(lan_), 16), kHost);
}

TEST_F(NatPipeline, EndpointIndependentMappingAndFilteringForUdp) {
    // RFC 4787 REQ-1: the same inside endpoint keeps its external port towards any remote.
    run(lan_, inside(kHost, kServer, kProtoUdp, udp(40000, 3478, filler(8, 9))));
    run(lan_, inside(kHost, ip("192.0.2.55"), kProtoUdp, udp(40000, 3478, filler(8, 10))));
    const auto frames = sent(wan_);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(get16(l4_of(ip_of(frames[0])), 0), get16(l4_of(ip_of(frames[1])), 0));
    EXPECT_EQ(sessions().size(), 1u);
    // A third remote that the host never addressed reaches it too (endpoint-independent filtering).
    run(wan_, outside(ip("192.0.2.77"), kWanAddr, kProtoUdp, udp(9, 40000, filler(8, 11))));
    EXPECT_EQ(get32(only_packet(lan_), 16), kHost);
}

TEST_F(NatPipeline, PingThroughPatTranslatesTheIdentifierBothWays) {
    run(lan_, inside(kHost, kServer, kProtoIcmp, icmp(8, 0, 0x0042, 1, filler(16, 12))));
    const Bytes out = only_packet(wan_);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(get32(out, 12), kWanAddr);
    const uint16_t id = get16(l4_of(out), 4);
    EXPECT_GE(id, 1024) << "identifier 0x42 is outside the port range, so it is replaced";

    run(wan_, outside(kServer, kWanAddr, kProtoIcmp, icmp(0, 0, id, 1, filler(16, 12))));
    const Bytes back = only_packet(lan_);
    ASSERT_FALSE(back.empty());
    EXPECT_EQ(get32(back, 16), kHost);
    EXPECT_EQ(get16(l4_of(back), 4), 0x0042);
    EXPECT_EQ(Bytes(l4_of(back).begin() + 8, l4_of(back).end()), filler(16, 12));
}

TEST_F(NatPipeline, TimeExceededFromTheInternetReachesTheHostAboutItsOwnPacket) {
    const Bytes probe = udp_with_checksum(kHost, kServer, 33434, 33435, filler(12, 13));
    run(lan_, inside(kHost, kServer, kProtoUdp, probe));
    const Bytes out = only_packet(wan_);
    ASSERT_FALSE(out.empty());
    // A router past the gateway quotes what it received: the translated header + 8 bytes.
    const Bytes quoted(out.begin(), out.begin() + 28);
    const uint32_t router = ip("192.0.2.1");
    run(wan_, outside(router, kWanAddr, kProtoIcmp, icmp(11, 0, 0, 0, quoted)));
    const Bytes back = only_packet(lan_);
    ASSERT_FALSE(back.empty());
    EXPECT_EQ(get32(back, 12), router);
    EXPECT_EQ(get32(back, 16), kHost);
    const auto msg = l4_of(back);
    ASSERT_GE(msg.size(), 36u);
    EXPECT_EQ(msg[0], 11);
    const auto inner = msg.subspan(8);
    EXPECT_EQ(get32(inner, 12), kHost) << "the quoted source is the host again";
    EXPECT_EQ(get32(inner, 16), kServer);
    EXPECT_EQ(get16(inner, 20), 33434);
    EXPECT_TRUE(checksum_ok(inner.first(20))) << "quoted IP header checksum";
    EXPECT_EQ(counters_.nat_translated_in, 1u);
}

TEST_F(NatPipeline, TheGatewaysOwnErrorAboutATranslatedReplyQuotesTheExternalEndpoint) {
    run(lan_, inside(kHost, kServer, kProtoUdp, udp_with_checksum(kHost, kServer, 5000, 53, filler(8, 30))));
    ASSERT_FALSE(only_packet(wan_).empty());
    // A reply arriving with TTL 1: translated back, then it cannot be forwarded.
    Ipv4Header h;
    h.src = kServer;
    h.dst = kWanAddr;
    h.ttl = 1;
    run(wan_, ethernet(kWanMac, kGatewayMac, kEtherTypeIpv4, ipv4(h, udp(53, 5000, filler(8, 31)))));
    EXPECT_TRUE(sent(lan_).empty());
    const Bytes error = only_packet(wan_);
    ASSERT_FALSE(error.empty());
    EXPECT_EQ(get32(error, 12), kWanAddr);
    EXPECT_EQ(get32(error, 16), kServer);
    const auto msg = l4_of(error);
    ASSERT_GE(msg.size(), 36u);
    EXPECT_EQ(msg[0], 11) << "time exceeded";
    const auto quoted = msg.subspan(8);
    EXPECT_EQ(get32(quoted, 16), kWanAddr) << "the quote names the external endpoint, not the inside host";
    EXPECT_EQ(get16(quoted, 22), 5000);
    EXPECT_TRUE(checksum_ok(quoted.first(20))) << "quoted IP header checksum";
    expect_drops({{Drop::ttl_exceeded, 1}});
}

TEST_F(NatPipeline, AnInsideHostsErrorAboutNothingMappedLeavesStatelesslyFromTheWanAddress) {
    // Port unreachable about a datagram that reached the host untranslated (no mapping):
    // the outer source becomes the WAN address, the quote stays as the host wrote it,
    // and no mapping is made (with several workers, a mapping-less error once bounced
    // between them).
    Ipv4Header quoted_header;
    quoted_header.src = kServer;
    quoted_header.dst = kHost;
    const Bytes quoted = ipv4(quoted_header, udp(53, 6000, filler(8, 40)));
    run(lan_, inside(kHost, kServer, kProtoIcmp, icmp(3, 3, 0, 0, Bytes(quoted.begin(), quoted.begin() + 28))));
    const Bytes out = only_packet(wan_);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(get32(out, 12), kWanAddr);
    EXPECT_EQ(Bytes(l4_of(out).begin() + 8, l4_of(out).end()), Bytes(quoted.begin(), quoted.begin() + 28));
    EXPECT_TRUE(sessions().empty());
    EXPECT_EQ(counters_.nat_translated_out, 1u);
    expect_drops({});
}

TEST_F(NatPipeline, TcpMappingFollowsTheHandshake) {
    run(lan_, inside(kHost, kServer, kProtoTcp, tcp(kHost, kServer, 50000, 443, kTcpSyn)));
    const Bytes syn = only_packet(wan_);
    ASSERT_FALSE(syn.empty());
    EXPECT_EQ(get32(syn, 12), kWanAddr);
    ASSERT_EQ(sessions().size(), 1u);
    EXPECT_EQ(sessions()[0].tcp, nat::TcpState::New);
    const uint16_t port = get16(l4_of(syn), 0);
    run(wan_, outside(kServer, kWanAddr, kProtoTcp, tcp(kServer, kWanAddr, 443, port, kTcpSyn | kTcpAck)));
    const Bytes synack = only_packet(lan_);
    ASSERT_FALSE(synack.empty());
    EXPECT_EQ(get16(l4_of(synack), 2), 50000);
    EXPECT_EQ(sessions()[0].tcp, nat::TcpState::Established);
    const double hz = static_cast<double>(rte_get_tsc_hz());
    const double left = static_cast<double>(sessions()[0].expires - rte_rdtsc()) / hz;
    EXPECT_GT(left, 7000) << "established timeout (7440 s)";
}

TEST_F(NatPipeline, InboundWithoutMappingToTheWanAddressIsTheGatewaysOwn) {
    run(wan_, outside(kServer, kWanAddr, kProtoUdp, udp(53, 9999, filler(8, 14))));
    EXPECT_TRUE(sent(lan_).empty());
    expect_drops({{Drop::local_unsupported, 1}});
    // A ping to the gateway is answered by the gateway, not translated.
    run(wan_, outside(kServer, kWanAddr, kProtoIcmp, icmp(8, 0, 0x0042, 1, filler(8, 15))));
    const Bytes reply = only_packet(wan_);
    ASSERT_FALSE(reply.empty());
    EXPECT_EQ(get32(reply, 12), kWanAddr);
    EXPECT_EQ(get16(l4_of(reply), 4), 0x0042) << "the gateway's own reply keeps its identifier";
    EXPECT_EQ(counters_.nat_created, 0u);
}

TEST_F(NatPipeline, FragmentsOfTranslatedFlowsAreCountedDrops) {
    run(lan_, inside(kHost, kServer, kProtoUdp, udp(5000, 53, filler(8, 16)), 0x2000 /* MF */));
    EXPECT_TRUE(sent(wan_).empty());
    expect_drops({{Drop::nat_fragment, 1}});
}

// ---- translate pools ----

TEST_F(NatPipeline, TranslatePoolGivesOneHostOneAddressAndAnswersNothingElse) {
    nat::Rule pool{30, nat::Action::Translate, wan_, 0, {{ip("10.1.0.0"), 24}}, {}, kPoolFirst, kPoolLast};
    use_rules({pool});
    run(lan_, inside(kHost, kServer, kProtoUdp, udp(6000, 53, filler(8, 17))));
    run(lan_, inside(kHost, kServer, kProtoTcp, tcp(kHost, kServer, 6001, 80, kTcpSyn)));
    const auto frames = sent(wan_);
    ASSERT_EQ(frames.size(), 2u);
    const uint32_t external = get32(ip_of(frames[0]), 12);
    EXPECT_GE(external, kPoolFirst);
    EXPECT_LE(external, kPoolLast);
    EXPECT_EQ(get32(ip_of(frames[1]), 12), external) << "paired: the same pool address for every flow of a host";

    run(wan_, outside(kServer, external, kProtoUdp, udp(53, 6000, filler(8, 18))));
    EXPECT_EQ(get32(only_packet(lan_), 16), kHost);
    // Nothing else to a pool address gets through, not even a ping.
    run(wan_, outside(kServer, external, kProtoUdp, udp(53, 6999, filler(8, 19))));
    run(wan_, outside(kServer, external, kProtoIcmp, icmp(8, 0, 1, 1, filler(8, 20))));
    EXPECT_TRUE(sent(lan_).empty());
    EXPECT_TRUE(sent(wan_).empty());
    expect_drops({{Drop::nat_no_session, 2}});
}

// ---- limits ----

TEST_F(NatPipeline, PortExhaustionIsCountedAndNeverReusesALivePort) {
    nat::Limits small;
    small.port_first = 2000;
    small.port_last = 2001;
    use_rules({{20, nat::Action::Overload, wan_, 0, {}, {}}}, small);
    for (uint16_t p = 0; p < 3; ++p) run(lan_, inside(kHost, kServer, kProtoUdp, udp(3000 + p, 53, filler(8, 21))));
    const auto frames = sent(wan_);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_NE(get16(l4_of(ip_of(frames[0])), 0), get16(l4_of(ip_of(frames[1])), 0));
    expect_drops({{Drop::nat_ports_exhausted, 1}});
}

TEST_F(NatPipeline, IdleMappingsExpireAndFreeTheirPort) {
    nat::Limits small;
    small.port_first = 2000;
    small.port_last = 2000;
    nat::Timeouts quick;
    quick.udp = 1;
    use_rules({{20, nat::Action::Overload, wan_, 0, {}, {}}}, small, quick);
    run(lan_, inside(kHost, kServer, kProtoUdp, udp(3000, 53, filler(8, 22))));
    run(lan_, inside(kHost2, kServer, kProtoUdp, udp(3000, 53, filler(8, 23))));
    EXPECT_EQ(sent(wan_).size(), 1u);
    expect_drops({{Drop::nat_ports_exhausted, 1}});
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    nat_expire(ctx_, rte_rdtsc());
    EXPECT_EQ(counters_.nat_expired, 1u);
    EXPECT_TRUE(sessions().empty());
    run(lan_, inside(kHost2, kServer, kProtoUdp, udp(3000, 53, filler(8, 24))));
    const Bytes out = only_packet(wan_);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(get16(l4_of(out), 0), 2000);
}

TEST_F(NatPipeline, DumpAndClearCommands) {
    run(lan_, inside(kHost, kServer, kProtoUdp, udp(5000, 53, filler(8, 25))));
    run(lan_, inside(kHost2, kServer, kProtoIcmp, icmp(8, 0, 7, 1, filler(8, 26))));
    sent(wan_);
    NatDump dump;
    dump.sessions.reserve(1);  // room for one: the other is counted, not copied
    Command c{};
    c.kind = Command::Kind::NatDump;
    c.nat_dump = &dump;
    apply_command(ctx_, c);
    EXPECT_TRUE(dump.done.load());
    EXPECT_EQ(dump.live, 2u);
    EXPECT_EQ(dump.sessions.size(), 1u);
    c = Command{};
    c.kind = Command::Kind::NatClear;
    apply_command(ctx_, c);
    EXPECT_TRUE(sessions().empty());
    run(wan_, outside(kServer, kWanAddr, kProtoUdp, udp(53, 5000, filler(8, 27))));
    EXPECT_TRUE(sent(lan_).empty()) << "a cleared mapping takes no replies";
}

}  // namespace
}  // namespace mbox::dataplane

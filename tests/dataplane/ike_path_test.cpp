// The gateway's own IKE traffic through the worker pipeline (the bench:
// pipeline_fixture.hpp): IKE in (UDP 500, UDP 4500 with the non-ESP marker) punted to
// the control thread with the fields the IKE engine reads; IKE out (Command Originate)
// routed, held for ARP and sent in the clear even towards a tunnel's remote network;
// and the outbound sequence number's end (RFC 4303 §3.3.3).
#include <rte_udp.h>

#include "crypto/esp_engine.hpp"
#include "crypto/esp_session.hpp"
#include "dataplane/dataplane.hpp"
#include "dataplane/fragment.hpp"
#include "dataplane/originate.hpp"
#include "dataplane/sa_table.hpp"
#include "pipeline_fixture.hpp"

namespace mbox::dataplane {
namespace {

using namespace pipeline_testing;

const uint32_t kPeer = ip("198.51.100.7");      // an IKE peer on the wan link
const uint32_t kFarPeer = ip("10.2.3.4");       // a peer behind the wan gateway, inside 10.2.0.0/16
constexpr uint8_t kProtoEsp = 50;

Bytes ike_message(size_t length, uint8_t seed) {
    Bytes m = filler(length, seed);
    if (length >= 28) put32(m, 24, static_cast<uint32_t>(length));  // the IKE header's length field
    return m;
}

// Sized once and filled in place (GCC 12 warns falsely about vector::insert here).
Bytes with_marker(const Bytes& message) {
    Bytes b(4 + message.size(), 0);
    std::copy(message.begin(), message.end(), b.begin() + 4);
    return b;
}

// A UDP datagram with its RFC 768 checksum over the pseudo-header, computed here.
Bytes udp_checksummed(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const Bytes& data) {
    Bytes u = udp(sport, dport, data);
    Bytes pseudo(12 + u.size(), 0);
    put32(pseudo, 0, src);
    put32(pseudo, 4, dst);
    pseudo[9] = kProtoUdp;
    put16(pseudo, 10, static_cast<uint16_t>(u.size()));
    std::copy(u.begin(), u.end(), pseudo.begin() + 12);
    uint16_t sum = checksum_of(pseudo);
    put16(u, 6, sum == 0 ? 0xffff : sum);
    return u;
}

class IkePath : public Pipeline {
protected:
    void SetUp() override {
        Pipeline::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        std::string error;
        sas_ = SaTable::create(0, error);
        ASSERT_NE(sas_, nullptr) << error;
        esp_ = crypto::EspEngine::create(error);
        ASSERT_NE(esp_, nullptr) << error;
        reassembly_ = Reassembler::create(rte_get_tsc_hz(), SOCKET_ID_ANY, error);
        ASSERT_NE(reassembly_, nullptr) << error;
        ctx_.sas = sas_.get();
        ctx_.esp = esp_.get();
        ctx_.reassembly = reassembly_.get();
    }
    void TearDown() override {
        if (tunnel_) sas_->remove_outbound(tunnel_.get());
        reassembly_.reset();  // frees the fragments it holds before the pool is counted
        Pipeline::TearDown();
    }

    // From the peer on the wan link to our wan address.
    static Bytes from_peer(uint16_t sport, uint16_t dport, const Bytes& data, uint16_t flags_fragment = 0,
                           std::optional<uint16_t> udp_length = std::nullopt) {
        Ipv4Header h;
        h.src = kPeer;
        h.dst = kWanAddr;
        h.flags_fragment = flags_fragment;
        Bytes u = udp(sport, dport, data);
        if (udp_length) put16(u, 4, *udp_length);
        return ethernet(kWanMac, kGatewayMac, kEtherTypeIpv4, ipv4(h, u));
    }

    // A datagram as send_udp builds it, handed to this worker as the control thread would.
    void originate(const UdpDatagram& d, uint16_t id) {
        rte_mbuf* m = build_udp_datagram(pool_, d, id);
        ASSERT_NE(m, nullptr);
        Command c{};
        c.kind = Command::Kind::Originate;
        c.packet = m;
        apply_command(ctx_, c);
        tx_flush(ctx_);
    }

    // A tunnel whose policy takes every source towards 10.2.0.0/16.
    void install_tunnel() {
        std::string error;
        tunnel_ = std::make_unique<OutboundSa>();
        tunnel_->session = crypto::EspSession::create(crypto::EspAlgorithms{}, filler(16, 1), filler(20, 2), error);
        ASSERT_NE(tunnel_->session, nullptr) << error;
        tunnel_->spi = 0x5001;
        tunnel_->local_address = kWanAddr;
        tunnel_->peer_address = kGateway;
        tunnel_->local_nets = {Ipv4Prefix::parse("0.0.0.0/0").value()};
        tunnel_->remote_nets = {Ipv4Prefix::parse("10.2.0.0/16").value()};
        ASSERT_TRUE(sas_->add_outbound(tunnel_.get()));
    }

    std::unique_ptr<SaTable> sas_;
    std::unique_ptr<crypto::EspEngine> esp_;
    std::unique_ptr<Reassembler> reassembly_;
    std::unique_ptr<OutboundSa> tunnel_;
};

// ---- IKE in ----

TEST_F(IkePath, Udp500ToUsIsPuntedAsIkeWithItsAddressesPortsAndMessage) {
    const Bytes message = ike_message(76, 0x31);
    const Bytes frame = from_peer(500, 500, message);
    run(wan_, frame);
    const auto punts = drain_punts();
    ASSERT_EQ(punts.size(), 1u);
    EXPECT_EQ(punts[0].kind, Punt::Kind::Ike);
    EXPECT_EQ(punts[0].port, wan_);
    EXPECT_EQ(punts[0].frame, frame);
    const auto d = ike_datagram(punts[0].port, punts[0].frame);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->port, wan_);
    EXPECT_EQ(d->source, kPeer);
    EXPECT_EQ(d->destination, kWanAddr);
    EXPECT_EQ(d->source_port, 500);
    EXPECT_EQ(d->destination_port, 500);
    EXPECT_EQ(Bytes(d->message.begin(), d->message.end()), message);
    EXPECT_EQ(counters_.ike_punted, 1u);
    EXPECT_EQ(counters_.punted, 0u) << "IKE is counted apart from ARP";
    expect_drops({});
    EXPECT_TRUE(sent(wan_).empty());
}

TEST_F(IkePath, Udp4500WithTheNonEspMarkerIsPuntedWithTheMarkerStripped) {
    const Bytes message = ike_message(28, 0x40);  // exactly an IKE header
    run(wan_, from_peer(4501, 4500, with_marker(message)));  // a NAT changed the source port
    const auto punts = drain_punts();
    ASSERT_EQ(punts.size(), 1u);
    EXPECT_EQ(punts[0].kind, Punt::Kind::Ike);
    const auto d = ike_datagram(punts[0].port, punts[0].frame);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->source_port, 4501);
    EXPECT_EQ(d->destination_port, 4500);
    EXPECT_EQ(Bytes(d->message.begin(), d->message.end()), message) << "the marker is not part of the message";
    EXPECT_EQ(counters_.ike_punted, 1u);
    expect_drops({});
}

TEST_F(IkePath, ShortOrMismeasuredIkeIsDroppedEachForItsReason) {
    struct Case {
        const char* what;
        Bytes frame;
        Drop reason;
    };
    const std::vector<Case> cases = {
        {"500: 27 bytes", from_peer(500, 500, ike_message(27, 1)), Drop::ike_truncated},
        {"4500: marker and 27 bytes", from_peer(4500, 4500, with_marker(ike_message(27, 1))), Drop::ike_truncated},
        {"4500: the marker alone", from_peer(4500, 4500, Bytes(4, 0)), Drop::ike_truncated},
        {"500: UDP length past the IP packet", from_peer(500, 500, ike_message(40, 1), 0, 8 + 41),
         Drop::udp_bad_length},
        {"500: UDP length short of the IP packet", from_peer(500, 500, ike_message(40, 1), 0, 8 + 28),
         Drop::udp_bad_length},
        {"500: UDP length below its header", from_peer(500, 500, ike_message(40, 1), 0, 7), Drop::udp_bad_length},
        {"UDP to a port we do not serve", from_peer(500, 501, ike_message(40, 1)), Drop::local_unsupported},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        reset_counters();
        run(wan_, c.frame);
        EXPECT_TRUE(drain_punts().empty());
        EXPECT_EQ(counters_.ike_punted, 0u);
        expect_drops({{c.reason, 1}});
    }
}

TEST_F(IkePath, NatKeepaliveIsStillCountedAndConsumed) {
    run(wan_, from_peer(4500, 4500, Bytes{0xff}));
    EXPECT_TRUE(drain_punts().empty());
    EXPECT_TRUE(sent(wan_).empty());
    EXPECT_EQ(counters_.ike_punted, 0u);
    expect_drops({{Drop::nat_keepalive, 1}});
}

TEST_F(IkePath, IpFragmentedIkeIsReassembledAndPuntedWhole) {
    // An IKE_AUTH with certificates: 3000 bytes, three IP fragments, the last one first.
    const Bytes message = ike_message(3000, 0x55);
    const Bytes datagram = udp(4500, 4500, with_marker(message));
    Ipv4Header h;
    h.src = kPeer;
    h.dst = kWanAddr;
    h.id = 0x7777;
    std::vector<Bytes> fragments;
    for (size_t at = 0; at < datagram.size(); at += 1480) {
        const size_t n = std::min<size_t>(1480, datagram.size() - at);
        h.flags_fragment = static_cast<uint16_t>(at / 8 | (at + n < datagram.size() ? 0x2000 : 0));
        const Bytes part(datagram.begin() + static_cast<ptrdiff_t>(at), datagram.begin() + static_cast<ptrdiff_t>(at + n));
        fragments.push_back(ethernet(kWanMac, kGatewayMac, kEtherTypeIpv4, ipv4(h, part)));
    }
    ASSERT_EQ(fragments.size(), 3u);
    run(wan_, fragments[2]);
    run(wan_, std::vector<Bytes>{fragments[0], fragments[1]});
    const auto punts = drain_punts();
    ASSERT_EQ(punts.size(), 1u);
    EXPECT_EQ(punts[0].kind, Punt::Kind::Ike);
    EXPECT_GT(punts[0].segments, 1) << "punted as reassembled, not squeezed into one buffer";
    const auto d = ike_datagram(punts[0].port, punts[0].frame);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(Bytes(d->message.begin(), d->message.end()), message);
    EXPECT_EQ(counters_.reassembled, 1u);
    EXPECT_EQ(counters_.ike_punted, 1u);
    expect_drops({});
}

TEST_F(IkePath, FullPuntRingDropsIkeAsIkePuntFull) {
    for (unsigned k = 0; k < rte_ring_get_capacity(punts_); ++k) {
        Punt p{};
        p.kind = Punt::Kind::Resolve;
        ASSERT_EQ(rte_ring_sp_enqueue_elem(punts_, &p, sizeof p), 0);
    }
    run(wan_, from_peer(500, 500, ike_message(40, 1)));
    expect_drops({{Drop::ike_punt_full, 1}});
    EXPECT_EQ(counters_.ike_punted, 0u);
}

// ---- IKE out ----

TEST_F(IkePath, OriginatedDatagramLeavesWithEveryByteAsBuilt) {
    learn(kPeer, kStrangerMac, wan_);
    const Bytes message = ike_message(300, 0x21);
    originate({kWanAddr, kPeer, 4500, 4500, message, true}, 0xbeef);

    const auto out = sent(wan_);
    ASSERT_EQ(out.size(), 1u);
    Ipv4Header h;
    h.src = kWanAddr;
    h.dst = kPeer;
    h.id = 0xbeef;
    h.ttl = 64;
    h.flags_fragment = 0;
    const Bytes expected = ethernet(kStrangerMac, kWanMac, kEtherTypeIpv4,
                                    ipv4(h, udp_checksummed(kWanAddr, kPeer, 4500, 4500, with_marker(message))));
    EXPECT_EQ(out[0], expected);
    EXPECT_TRUE(checksum_ok(ip_header(ip_of(out[0]))));
    EXPECT_EQ(counters_.originated, 1u);
    EXPECT_EQ(counters_.forwarded, 0u);
    expect_drops({});

    // A NAT-T keepalive: one 0xff byte, no marker.
    originate({kWanAddr, kPeer, 4500, 4500, Bytes{0xff}, false}, 0xbef0);
    const auto keepalive = sent(wan_);
    ASSERT_EQ(keepalive.size(), 1u);
    h.id = 0xbef0;
    EXPECT_EQ(keepalive[0], ethernet(kStrangerMac, kWanMac, kEtherTypeIpv4,
                                     ipv4(h, udp_checksummed(kWanAddr, kPeer, 4500, 4500, Bytes{0xff}))));
}

TEST_F(IkePath, OriginatedDatagramToAnUnresolvedNextHopWaitsForArp) {
    originate({kWanAddr, kFarPeer, 500, 500, ike_message(60, 3), false}, 1);
    EXPECT_TRUE(sent(wan_).empty());
    const auto punts = drain_punts();
    ASSERT_EQ(punts.size(), 1u);
    EXPECT_EQ(punts[0].kind, Punt::Kind::Resolve);
    EXPECT_EQ(punts[0].ip, kGateway) << "the next hop towards the peer";
    EXPECT_EQ(ctx_.pending.count, 1);
    learn(kGateway, kGatewayMac, wan_);
    const auto out = sent(wan_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(eth_dst(out[0]), kGatewayMac);
    EXPECT_EQ(get32(ip_of(out[0]), 16), kFarPeer);
    EXPECT_EQ(counters_.originated, 1u);
    expect_drops({});
}

TEST_F(IkePath, OriginatedIkeToAPeerInsideATunnelsRemoteNetLeavesInTheClear) {
    ASSERT_NO_FATAL_FAILURE(install_tunnel());
    learn(kGateway, kGatewayMac, wan_);
    // The tunnel is live: a host's packet to the same address is encrypted ...
    run(lan_, host_frame(from_host(kFarPeer), udp(500, 500, filler(40, 1))));
    auto out = sent(wan_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(ip_of(out[0])[9], kProtoEsp);
    // ... but the gateway's own IKE to it is not.
    const Bytes message = ike_message(100, 9);
    originate({kWanAddr, kFarPeer, 500, 500, message, false}, 2);
    out = sent(wan_);
    ASSERT_EQ(out.size(), 1u);
    const auto pkt = ip_of(out[0]);
    EXPECT_EQ(pkt[9], kProtoUdp);
    EXPECT_EQ(get32(pkt, 16), kFarPeer);
    EXPECT_EQ(Bytes(l4_of(pkt).begin() + 8, l4_of(pkt).end()), message);
    EXPECT_EQ(tunnel_->counters.packets, 1u) << "only the host's packet went through the SA";
}

TEST_F(IkePath, OriginatedDatagramOverTheMtuIsFragmented) {
    learn(kPeer, kStrangerMac, wan_);
    const Bytes message = ike_message(1800, 4);
    originate({kWanAddr, kPeer, 500, 500, message, false}, 3);
    const auto out = sent(wan_);
    ASSERT_EQ(out.size(), 2u);
    Bytes joined;
    for (const auto& f : out) {
        const auto pkt = ip_of(f);
        EXPECT_LE(pkt.size(), 1500u);
        EXPECT_TRUE(checksum_ok(ip_header(pkt)));
        EXPECT_EQ(get16(pkt, 4), 3);
        for (size_t k = 20; k < pkt.size(); ++k) joined.push_back(pkt[k]);
    }
    EXPECT_EQ(joined, udp_checksummed(kWanAddr, kPeer, 500, 500, message));
    EXPECT_EQ(counters_.originated, 1u);
    EXPECT_EQ(counters_.fragments_created, 2u);
}

TEST_F(IkePath, OriginatedDatagramWithoutARouteIsDroppedByName) {
    originate({kWanAddr, ip("192.0.2.1"), 500, 500, ike_message(40, 1), false}, 4);
    originate({kWanAddr, kLanAddr, 500, 500, ike_message(40, 1), false}, 5);  // ourselves
    expect_drops({{Drop::originate_no_route, 2}});
    EXPECT_EQ(counters_.originated, 0u);
}

TEST_F(IkePath, PayloadsBeyondOneBufferAreRefusedWhenBuilt) {
    const size_t most = max_udp_payload(pool_, true);
    EXPECT_GE(most, 1500u - 20 - 8 - 4) << "a full 1500-byte datagram fits";
    const Bytes big(most + 1, 0);
    EXPECT_EQ(build_udp_datagram(pool_, {kWanAddr, kPeer, 4500, 4500, big, true}, 0), nullptr);
    rte_mbuf* m = build_udp_datagram(pool_, {kWanAddr, kPeer, 4500, 4500, std::span(big).first(most), true}, 0);
    ASSERT_NE(m, nullptr);
    rte_pktmbuf_free(m);
}

// ---- the end of the sequence number space ----

TEST_F(IkePath, OutboundSaStopsAtTheLastSequenceNumber) {
    ASSERT_NO_FATAL_FAILURE(install_tunnel());
    learn(kGateway, kGatewayMac, wan_);
    tunnel_->seq = UINT32_MAX - 1;  // no ESN: 2^32 - 1 is the last one (RFC 4303 §3.3.3)
    const Bytes frame = host_frame(from_host(kFarPeer), udp(1, 1, filler(20, 1)));
    run(lan_, std::vector<Bytes>{frame, frame});
    const auto out = sent(wan_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(get32(l4_of(ip_of(out[0])), 4), UINT32_MAX);
    expect_drops({{Drop::esp_sequence_exhausted, 1}});
    EXPECT_EQ(tunnel_->counters.drops[static_cast<size_t>(Drop::esp_sequence_exhausted)], 1u);
    run(lan_, frame);
    EXPECT_TRUE(sent(wan_).empty()) << "never in the clear, never with a wrapped number";
    EXPECT_EQ(tunnel_->seq, UINT32_MAX);
}

}  // namespace
}  // namespace mbox::dataplane

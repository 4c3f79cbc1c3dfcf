// IPv4 fragmentation around the ESP tunnel (RFC 4303 §3.3.5: fragment after
// encapsulation, reassemble before decapsulation), packet by packet.
//
// ipv4_fragment() is checked on its own; then two workers play the two gateways of a
// tunnel over real ethdev ports (net_ring): gateway A encapsulates a host's packet and
// splits the outer packet; its fragments, readdressed as if they came from A, go into
// gateway B, which reassembles, decapsulates and forwards the original.
//
//   host 10.1.0.10 --- [lan 10.1.0.1/24] gw [wan 198.51.100.1/24] --- peer/gateway 198.51.100.254
//                                                                        `-- 10.2.0.0/16
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "control/rib.hpp"
#include "crypto/esp_engine.hpp"
#include "crypto/esp_session.hpp"
#include "dataplane/fragment.hpp"
#include "dataplane/messages.hpp"
#include "dataplane/neighbour.hpp"
#include "dataplane/sa_table.hpp"
#include "dataplane/tx.hpp"
#include "dataplane/worker.hpp"
#include "eal_environment.hpp"
#include "packet_builder.hpp"
#include "ring_port.hpp"

namespace mbox::dataplane {
namespace {

using namespace mbox::testing;

uint32_t ip(const char* text) { return Ipv4Address::parse(text).value().value; }
Ipv4Prefix prefix(const char* text) { return Ipv4Prefix::parse(text).value(); }

constexpr Mac kLanMac{0x02, 0, 0, 0, 0, 0x01};
constexpr Mac kWanMac{0x02, 0, 0, 0, 0, 0x02};
constexpr Mac kHostMac{0x02, 0xaa, 0, 0, 0, 0x10};
constexpr Mac kPeerMac{0x02, 0xbb, 0, 0, 0, 0xfe};

const uint32_t kLanAddr = ip("10.1.0.1");
const uint32_t kWanAddr = ip("198.51.100.1");
const uint32_t kHost = ip("10.1.0.10");
const uint32_t kPeer = ip("198.51.100.254");  // the tunnel's far end, on the wan link
const uint32_t kRemote = ip("10.2.3.4");

constexpr uint8_t kProtoEsp = 50;
constexpr uint16_t kMoreFragments = 0x2000;
constexpr uint16_t kOffsetMask = 0x1fff;
constexpr uint32_t kSpi = 0x1001;

Bytes filler(size_t n, uint8_t seed) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
    return b;
}

// ---- ipv4_fragment on its own ----

class Fragmenter : public ::testing::Test {
protected:
    static constexpr unsigned kPoolSize = 255;

    void SetUp() override {
        if (!eal_ready()) GTEST_SKIP() << "EAL not available";
        static unsigned serial = 0;
        pool_ = rte_pktmbuf_pool_create(("mbox_frag_" + std::to_string(++serial)).c_str(), kPoolSize, 0, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
        ASSERT_NE(pool_, nullptr);
    }
    void TearDown() override {
        if (pool_ == nullptr) return;
        EXPECT_EQ(rte_mempool_avail_count(pool_), kPoolSize) << "mbufs leaked";
        rte_mempool_free(pool_);
    }

    rte_mbuf* mbuf_of(const Bytes& frame) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
        return m;
    }
    static Bytes bytes_of(rte_mbuf* m) {
        const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
        return Bytes(d, d + rte_pktmbuf_data_len(m));
    }

    rte_mempool* pool_ = nullptr;
};

Bytes frame_with(uint16_t flags_fragment, size_t payload, uint16_t id = 0x4242) {
    Ipv4Header h;
    h.src = kWanAddr;
    h.dst = kPeer;
    h.protocol = kProtoEsp;
    h.id = id;
    h.flags_fragment = flags_fragment;
    return ethernet(kPeerMac, kWanMac, kEtherTypeIpv4, ipv4(h, filler(payload, 5)));
}

TEST_F(Fragmenter, SplitsIntoEightByteMultiplesWithMoreFragmentsOnAllButTheLast) {
    const Bytes frame = frame_with(0, 1880);
    rte_mbuf* m = mbuf_of(frame);
    rte_mbuf* out[kMaxFragments];
    ASSERT_EQ(ipv4_fragment(m, 576, pool_, out), 4u);
    EXPECT_EQ(out[0], m) << "the original buffer is the first fragment";

    // (576 - 20) rounded down to a multiple of 8 is 552: 552 + 552 + 552 + 224 = 1880.
    const uint16_t expect_len[] = {552, 552, 552, 224};
    Bytes joined;
    for (int k = 0; k < 4; ++k) {
        EXPECT_EQ(out[k]->nb_segs, 1);
        const Bytes f = bytes_of(out[k]);
        rte_pktmbuf_free(out[k]);
        ASSERT_EQ(f.size(), kEthHeader + 20 + expect_len[k]) << "fragment " << k;
        EXPECT_EQ(Bytes(f.begin(), f.begin() + 14), Bytes(frame.begin(), frame.begin() + 14)) << "Ethernet slot";
        const auto pkt = ip_of(f);
        EXPECT_TRUE(checksum_ok(ip_header(pkt))) << "fragment " << k;
        EXPECT_EQ(get16(pkt, 2), 20 + expect_len[k]);
        EXPECT_EQ(get16(pkt, 4), 0x4242) << "identification kept";
        EXPECT_EQ(get16(pkt, 6) & kOffsetMask, k * 552 / 8);
        EXPECT_EQ((get16(pkt, 6) & kMoreFragments) != 0, k < 3) << "MF on all but the last";
        EXPECT_EQ(get16(pkt, 6) & kDontFragment, 0);
        EXPECT_EQ(get32(pkt, 12), kWanAddr);
        EXPECT_EQ(get32(pkt, 16), kPeer);
        EXPECT_EQ(pkt[9], kProtoEsp);
        joined.insert(joined.end(), pkt.begin() + 20, pkt.end());
    }
    EXPECT_EQ(joined, Bytes(frame.begin() + 34, frame.end())) << "payloads concatenate to the original";
}

TEST_F(Fragmenter, AFragmentSplitAgainKeepsItsOffsetAndItsMoreFragmentsFlag) {
    const Bytes frame = frame_with(kMoreFragments | 100, 1000);
    rte_mbuf* out[kMaxFragments];
    ASSERT_EQ(ipv4_fragment(mbuf_of(frame), 600, pool_, out), 2u);
    const Bytes a = bytes_of(out[0]), b = bytes_of(out[1]);
    rte_pktmbuf_free(out[0]);
    rte_pktmbuf_free(out[1]);
    EXPECT_EQ(get16(ip_of(a), 6), kMoreFragments | 100);
    EXPECT_EQ(get16(ip_of(b), 6), kMoreFragments | (100 + 576 / 8));
    EXPECT_EQ(get16(ip_of(b), 2), 20 + 1000 - 576);
}

TEST_F(Fragmenter, LeavesThePacketUntouchedWhenItCannotSplitIt) {
    const Bytes frame = frame_with(0, 1000);
    rte_mbuf* m = mbuf_of(frame);
    rte_mbuf* out[kMaxFragments];
    EXPECT_EQ(ipv4_fragment(m, 27, pool_, out), 0u) << "no room for 8 bytes of payload";
    EXPECT_EQ(ipv4_fragment(m, 100, pool_, std::span(out, 4)), 0u) << "13 fragments wanted, room for 4";
    EXPECT_EQ(bytes_of(m), frame);
    EXPECT_EQ(rte_mempool_avail_count(pool_), kPoolSize - 1) << "nothing allocated and kept";
    rte_pktmbuf_free(m);
}

// ---- two gateways ----

class EspFragmentation : public ::testing::Test {
protected:
    static constexpr unsigned kPoolSize = 2047;

    static void SetUpTestSuite() {
        if (!eal_ready()) return;
        pool_ = rte_pktmbuf_pool_create("mbox_efrag_pool", kPoolSize, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
        ASSERT_NE(pool_, nullptr);
        ASSERT_NO_FATAL_FAILURE(make_port("lan", 0, lan_));
        ASSERT_NO_FATAL_FAILURE(make_port("wan", 1, wan_));
        std::string error;
        engine_ = crypto::EspEngine::create(error).release();
        ASSERT_NE(engine_, nullptr) << error;
        ready_ = true;
    }

    static void make_port(const std::string& name, int i, uint16_t& id) {
        ASSERT_NO_FATAL_FAILURE(open_ring_port("net_ring_mbox_f_" + name, pool_, 1024, ports_[i]));
        id = ports_[i].id;
    }

    static void TearDownTestSuite() {
        if (!ready_) return;
        for (RingPort& p : ports_) close_ring_port(p);
        delete engine_;
        rte_mempool_free(pool_);
        ready_ = false;
    }

    // One gateway: a worker context with its own rings, tables and counters.
    struct Gateway {
        WorkerContext ctx;
        WorkerCounters counters;
        rte_ring* commands = nullptr;
        rte_ring* punts = nullptr;
        std::unique_ptr<NeighbourTable> neighbours;
        std::unique_ptr<SaTable> sas;
        std::unique_ptr<Reassembler> reassembly;
    };

    void SetUp() override {
        if (!ready_) GTEST_SKIP() << "EAL or the test ports are not available";
        state_ = make_state();
        ASSERT_NE(state_, nullptr);
        ASSERT_NO_FATAL_FAILURE(make_gateway(a_, 0));
        ASSERT_NO_FATAL_FAILURE(make_gateway(b_, 1));

        // The same keys both ways: what A seals, B opens.
        std::string error;
        const Bytes enc_key = filler(16, 0x11), auth_key = filler(20, 0x22);
        out_sa_ = std::make_unique<OutboundSa>();
        in_sa_ = std::make_unique<InboundSa>(1024, false);
        for (SaCommon* sa : {static_cast<SaCommon*>(out_sa_.get()), static_cast<SaCommon*>(in_sa_.get())}) {
            sa->session = crypto::EspSession::create(crypto::EspAlgorithms{}, enc_key, auth_key, error);
            ASSERT_NE(sa->session, nullptr) << error;
            sa->spi = kSpi;
            sa->local_address = kWanAddr;
            sa->peer_address = kPeer;
        }
        out_sa_->owner = 0;
        out_sa_->local_nets = {prefix("10.1.0.0/24")};
        out_sa_->remote_nets = {prefix("10.2.0.0/16")};
        // B decapsulates what A's host sent: 10.1.0.10 is "remote" to it, 10.2.3.4 "local".
        in_sa_->owner = 0;
        in_sa_->remote_nets = {prefix("10.1.0.0/24")};
        in_sa_->local_nets = {prefix("10.2.0.0/16")};
        ASSERT_TRUE(a_.sas->add_outbound(out_sa_.get()));
        ASSERT_TRUE(b_.sas->add_inbound(in_sa_.get()));

        learn(a_, kPeer, kPeerMac, wan_);
        learn(b_, kPeer, kPeerMac, wan_);
        learn(a_, kHost, kHostMac, lan_);
    }

    void make_gateway(Gateway& g, unsigned index) {
        static unsigned serial = 0;
        ++serial;
        g.commands = rte_ring_create_elem(("mbox_f_cmd_" + std::to_string(serial)).c_str(), sizeof(Command), 64,
                                          SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        g.punts = rte_ring_create_elem(("mbox_f_punt_" + std::to_string(serial)).c_str(), sizeof(Punt), 64,
                                       SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        ASSERT_NE(g.commands, nullptr);
        ASSERT_NE(g.punts, nullptr);
        std::string error;
        g.neighbours = NeighbourTable::create(index, 64, error);
        ASSERT_NE(g.neighbours, nullptr) << error;
        g.sas = SaTable::create(index, error);
        ASSERT_NE(g.sas, nullptr) << error;
        g.reassembly = Reassembler::create(rte_get_tsc_hz(), SOCKET_ID_ANY, error);
        ASSERT_NE(g.reassembly, nullptr) << error;
        WorkerContext& c = g.ctx;
        c.index = 0;  // both use queue 0 of the one-queue test ports; `index` only keeps table names apart
        c.ports = {lan_, wan_};
        c.commands = g.commands;
        c.punts = g.punts;
        c.pool = pool_;
        c.counters = &g.counters;
        c.neighbours = g.neighbours.get();
        c.tsc_hz = rte_get_tsc_hz();
        c.state = state_.get();
        c.esp = engine_;
        c.sas = g.sas.get();
        c.reassembly = g.reassembly.get();
    }

    void TearDown() override {
        if (!ready_ || a_.punts == nullptr) return;
        for (Gateway* g : {&a_, &b_}) {
            tx_flush(g->ctx);
            expire_pending(g->ctx, UINT64_MAX / 2 + rte_rdtsc());
            g->reassembly.reset();  // frees what it still holds
            Punt p;
            while (g->punts != nullptr && rte_ring_sc_dequeue_elem(g->punts, &p, sizeof p) == 0)
                if (p.kind == Punt::Kind::Packet) rte_pktmbuf_free(p.packet);
        }
        sent(lan_);
        sent(wan_);
        if (out_sa_) a_.sas->remove_outbound(out_sa_.get());
        if (in_sa_) b_.sas->remove_inbound(in_sa_.get());
        EXPECT_EQ(rte_mempool_avail_count(pool_), kPoolSize) << "mbufs leaked";
        for (Gateway* g : {&a_, &b_}) {
            rte_ring_free(g->commands);
            rte_ring_free(g->punts);
        }
    }

    static std::unique_ptr<ForwardingState> make_state(std::vector<config::Route> more_routes = {}) {
        config::Config c;
        config::Interface lan, wan;
        lan.name = "lan";
        lan.enabled = true;
        lan.addresses = {prefix("10.1.0.1/24")};
        wan.name = "wan";
        wan.enabled = true;
        wan.addresses = {prefix("198.51.100.1/24")};
        c.interfaces = {lan, wan};
        c.routes.push_back({prefix("10.2.0.0/16"), Ipv4Address{kPeer}, {}});
        c.routes.insert(c.routes.end(), more_routes.begin(), more_routes.end());
        const control::PortLookup port_of = [](std::string_view name) -> std::optional<uint16_t> {
            if (name == "lan") return lan_;
            if (name == "wan") return wan_;
            return std::nullopt;
        };
        auto s = std::make_unique<ForwardingState>();
        std::string error;
        s->routes = RouteTable::build(control::build_fib_entries(control::build_rib(c, port_of)), error);
        if (!s->routes) return nullptr;
        const auto set = [&](uint16_t id, const Mac& mac, uint32_t address) {
            PortState& p = s->ports[id];
            p.in_use = true;
            p.enabled = true;
            std::memcpy(p.mac, mac.data(), 6);
            p.mtu = 1500;
            p.primary_address = address;
        };
        set(lan_, kLanMac, kLanAddr);
        set(wan_, kWanMac, kWanAddr);
        return s;
    }

    static void learn(Gateway& g, uint32_t addr, const Mac& mac, uint16_t port) {
        Command c{};
        c.kind = Command::Kind::NeighbourUpdate;
        std::memcpy(c.mac, mac.data(), 6);
        c.port = port;
        c.ip = addr;
        apply_command(g.ctx, c);
    }

    static void run(Gateway& g, uint16_t port, const std::vector<Bytes>& frames) {
        rte_mbuf* burst[kBurstSize];
        const auto n = static_cast<uint16_t>(frames.size());
        for (uint16_t i = 0; i < n; ++i) {
            burst[i] = rte_pktmbuf_alloc(pool_);
            std::memcpy(rte_pktmbuf_append(burst[i], static_cast<uint16_t>(frames[i].size())), frames[i].data(),
                        frames[i].size());
        }
        process_burst(g.ctx, port, burst, n);
        tx_flush(g.ctx);
    }

    static std::vector<Bytes> sent(uint16_t port) { return take_sent(ports_[port == lan_ ? 0 : 1]); }

    static void expect_drops(const WorkerCounters& c, std::initializer_list<std::pair<Drop, uint64_t>> expected) {
        for (size_t i = 0; i < kDropReasonCount; ++i) {
            uint64_t want = 0;
            for (const auto& [reason, count] : expected)
                if (static_cast<size_t>(reason) == i) want = count;
            EXPECT_EQ(c.drops[i], want) << "drop counter " << kDropReasons[i].name;
        }
    }

    // A frame A sent to the peer, turned into one the peer (B) receives from A:
    // addresses swapped (the outer header is not covered by the ICV), MACs too.
    static Bytes as_received_by_b(const Bytes& frame) {
        Bytes f = frame;
        for (int k = 0; k < 4; ++k) std::swap(f[kEthHeader + 12 + k], f[kEthHeader + 16 + k]);
        put16(f, kEthHeader + 10, 0);
        put16(f, kEthHeader + 10, checksum_of(std::span(f).subspan(kEthHeader, 20)));
        std::copy(kWanMac.begin(), kWanMac.end(), f.begin());
        std::copy(kPeerMac.begin(), kPeerMac.end(), f.begin() + 6);
        return f;
    }

    // 1500 bytes of IP from the lan host to 10.2.3.4: with ESP's 60 bytes around it, the
    // outer packet is 1560 and does not fit the wan's 1500.
    static Bytes host_packet(uint16_t flags) {
        Ipv4Header h;
        h.src = kHost;
        h.dst = kRemote;
        h.flags_fragment = flags;
        return ipv4(h, udp(40000, 9, filler(1472, 3)));
    }
    static Bytes host_frame(const Bytes& packet) { return ethernet(kLanMac, kHostMac, kEtherTypeIpv4, packet); }

    static inline rte_mempool* pool_ = nullptr;
    static inline uint16_t lan_ = 0, wan_ = 0;
    static inline RingPort ports_[2];
    static inline crypto::EspEngine* engine_ = nullptr;
    static inline bool ready_ = false;

    std::unique_ptr<ForwardingState> state_;
    Gateway a_, b_;
    std::unique_ptr<OutboundSa> out_sa_;
    std::unique_ptr<InboundSa> in_sa_;
};

TEST_F(EspFragmentation, OuterPacketOverTheMtuWithoutDfLeavesAsFragmentsThePeerReassembles) {
    const Bytes original = host_packet(0);
    run(a_, lan_, {host_frame(original)});

    const auto out = sent(wan_);
    ASSERT_EQ(out.size(), 2u);
    // Outer packet: 20 IP + 8 ESP + 16 IV + 1504 (1500 + 2 trailer, padded to 16) + 12 ICV = 1560.
    // First fragment: 1480 bytes of it (a multiple of 8); second: the other 60.
    const auto first = ip_of(out[0]), second = ip_of(out[1]);
    for (const auto& f : out) {
        EXPECT_EQ(eth_dst(f), kPeerMac);
        EXPECT_EQ(eth_src(f), kWanMac);
        const auto pkt = ip_of(f);
        EXPECT_TRUE(checksum_ok(ip_header(pkt)));
        EXPECT_EQ(pkt[9], kProtoEsp);
        EXPECT_EQ(get32(pkt, 12), kWanAddr);
        EXPECT_EQ(get32(pkt, 16), kPeer);
        EXPECT_EQ(get16(pkt, 6) & kDontFragment, 0) << "outer DF clear";
        EXPECT_EQ(get16(pkt, 2), pkt.size());
    }
    EXPECT_EQ(first.size(), 1500u) << "the first fragment fills the MTU";
    EXPECT_EQ(second.size(), 20u + 60u);
    EXPECT_EQ(get16(first, 6), kMoreFragments | 0);
    EXPECT_EQ(get16(second, 6), 1480 / 8) << "offset 185, MF clear";
    EXPECT_EQ(get16(first, 4), get16(second, 4)) << "one identification";
    EXPECT_EQ(get32(first, 20), kSpi) << "the ESP header leads the first fragment";

    EXPECT_EQ(a_.counters.fragmented, 1u);
    EXPECT_EQ(a_.counters.fragments_created, 2u);
    EXPECT_EQ(a_.counters.ports[wan_].tx_packets, 2u);
    EXPECT_EQ(out_sa_->counters.packets, 1u);
    expect_drops(a_.counters, {});

    // B gets the last fragment first: it holds it, forwards nothing.
    run(b_, wan_, {as_received_by_b(out[1])});
    EXPECT_TRUE(sent(wan_).empty());
    EXPECT_EQ(b_.counters.reassembled, 0u);
    // Then the first: the datagram is whole, decapsulated, and the host's packet forwarded.
    run(b_, wan_, {as_received_by_b(out[0])});
    const auto forwarded = sent(wan_);
    ASSERT_EQ(forwarded.size(), 1u);
    const auto inner = ip_of(forwarded[0]);
    ASSERT_EQ(inner.size(), original.size());
    EXPECT_EQ(inner[8], original[8] - 2) << "TTL: one hop at A, one at B";
    EXPECT_TRUE(checksum_ok(ip_header(inner)));
    Bytes expected = original, actual(inner.begin(), inner.end());
    expected[8] = actual[8], expected[10] = actual[10], expected[11] = actual[11];
    EXPECT_EQ(actual, expected) << "the original packet, byte for byte";
    EXPECT_EQ(b_.counters.reassembled, 1u);
    EXPECT_EQ(in_sa_->counters.packets, 1u);
    expect_drops(b_.counters, {});
}

TEST_F(EspFragmentation, BothFragmentsInOneBurstReassembleToo) {
    run(a_, lan_, {host_frame(host_packet(0))});
    const auto out = sent(wan_);
    ASSERT_EQ(out.size(), 2u);
    run(b_, wan_, {as_received_by_b(out[0]), as_received_by_b(out[1])});
    EXPECT_EQ(sent(wan_).size(), 1u);
    EXPECT_EQ(b_.counters.reassembled, 1u);
    expect_drops(b_.counters, {});
}

TEST_F(EspFragmentation, DfSetGetsFragmentationNeededWithTheTunnelMtu) {
    const Bytes original = host_packet(kDontFragment);
    run(a_, lan_, {host_frame(original)});
    EXPECT_TRUE(sent(wan_).empty());
    const auto back = sent(lan_);
    ASSERT_EQ(back.size(), 1u);
    const auto pkt = ip_of(back[0]);
    EXPECT_EQ(get32(pkt, 12), kLanAddr);
    EXPECT_EQ(get32(pkt, 16), kHost);
    const auto msg = l4_of(pkt);
    EXPECT_EQ(msg[0], 3);
    EXPECT_EQ(msg[1], 4);
    // AES-128-CBC + HMAC-SHA1-96, raw ESP: 1500 - 20 (IPv4) - 8 (ESP) - 16 (IV) - 12 (ICV)
    // = 1444 bytes of padded payload, 1440 in whole blocks, minus 2 for pad length and
    // next header: 1438 is the largest inner packet that fits (1440 would need 1456).
    EXPECT_EQ(get16(msg, 6), 1438) << "the largest inner packet the tunnel carries whole";
    EXPECT_EQ(a_.counters.fragmented, 0u);
    expect_drops(a_.counters, {{Drop::esp_mtu_exceeded, 1}});
}

TEST_F(EspFragmentation, PacketThatFitsIsNotFragmented) {
    const Bytes small = ipv4([] {
        Ipv4Header h;
        h.src = kHost;
        h.dst = kRemote;
        return h;
    }(), udp(1, 2, filler(1400, 1)));
    run(a_, lan_, {host_frame(small)});
    const auto out = sent(wan_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(get16(ip_of(out[0]), 6) & (kMoreFragments | kOffsetMask), 0);
    EXPECT_EQ(a_.counters.fragmented, 0u);
}

// The worker keeps the route to the peer with the SA, for one forwarding snapshot only:
// the first packet after a new snapshot that sends the peer elsewhere follows it.
TEST_F(EspFragmentation, ANewSnapshotReroutesTheOuterPacketsOfAnSaInUse) {
    Ipv4Header h;
    h.src = kHost;
    h.dst = kRemote;
    const Bytes frame = host_frame(ipv4(h, udp(40000, 9, filler(100, 3))));
    run(a_, lan_, {frame});
    ASSERT_EQ(sent(wan_).size(), 1u);

    // The peer now reached through the lan host (a host route beats the wan's /24).
    auto rerouted = make_state({{prefix("198.51.100.254/32"), Ipv4Address{kHost}, {}}});
    ASSERT_NE(rerouted, nullptr);
    a_.ctx.state = rerouted.get();
    run(a_, lan_, {frame});
    EXPECT_TRUE(sent(wan_).empty());
    const auto out = sent(lan_);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0][kEthHeader + 9], IPPROTO_ESP);
    EXPECT_EQ(get32(out[0], kEthHeader + 16), kPeer);

    a_.ctx.state = state_.get();  // back before `rerouted` dies
    run(a_, lan_, {frame});
    EXPECT_EQ(sent(wan_).size(), 1u);
    expect_drops(a_.counters, {});
}

TEST_F(EspFragmentation, NonEspFragmentToTheGatewayIsDroppedAsLocalFragment) {
    Ipv4Header h;
    h.src = kPeer;
    h.dst = kWanAddr;
    h.protocol = kProtoIcmp;
    h.flags_fragment = kMoreFragments;
    run(b_, wan_, {ethernet(kWanMac, kPeerMac, kEtherTypeIpv4, ipv4(h, filler(64, 1)))});
    expect_drops(b_.counters, {{Drop::local_fragment, 1}});
}

TEST_F(EspFragmentation, IncompleteDatagramIsDroppedAfterTheTimeout) {
    run(a_, lan_, {host_frame(host_packet(0))});
    const auto out = sent(wan_);
    ASSERT_EQ(out.size(), 2u);
    run(b_, wan_, {as_received_by_b(out[0])});
    const uint64_t hz = rte_get_tsc_hz();
    b_.reassembly->expire(b_.counters, rte_rdtsc() + hz);  // 1 s: still waiting
    expect_drops(b_.counters, {});
    b_.reassembly->expire(b_.counters, rte_rdtsc() + 3 * hz);
    expect_drops(b_.counters, {{Drop::reassembly_timeout, 1}});
    // The late second half starts a new datagram, which never completes either.
    run(b_, wan_, {as_received_by_b(out[1])});
    EXPECT_TRUE(sent(wan_).empty());
    EXPECT_EQ(b_.counters.reassembled, 0u);
}

TEST_F(EspFragmentation, DuplicateFirstFragmentDiscardsTheDatagram) {
    run(a_, lan_, {host_frame(host_packet(0))});
    const auto out = sent(wan_);
    ASSERT_EQ(out.size(), 2u);
    run(b_, wan_, {as_received_by_b(out[0]), as_received_by_b(out[0])});
    run(b_, wan_, {as_received_by_b(out[1])});
    EXPECT_EQ(b_.counters.reassembled, 0u) << "nothing is built from inconsistent fragments";
    EXPECT_GE(b_.counters.drops[static_cast<size_t>(Drop::reassembly_failed)], 2u);
}

}  // namespace
}  // namespace mbox::dataplane

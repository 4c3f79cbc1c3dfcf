// The worker pipeline test bench: real mbufs through process_burst(), out through two
// real ethdev ports (net_ring, made with rte_eth_from_rings) whose TX rings the test
// reads back, with the punt ring standing in for the control thread. One binary per
// test file (each brings EAL up once and owns the port and pool names).
//
// Topology (as a configuration, through control::build_rib / build_fib_entries):
//
//   host 10.1.0.10 --- [lan 10.1.0.1/24] mbox [wan 198.51.100.1/24] --- gateway 198.51.100.254
//                                                                        `-- 10.2.0.0/16
#pragma once

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "control/rib.hpp"
#include "dataplane/messages.hpp"
#include "dataplane/neighbour.hpp"
#include "dataplane/tx.hpp"
#include "dataplane/worker.hpp"
#include "eal_environment.hpp"
#include "packet_builder.hpp"
#include "ring_port.hpp"

namespace mbox::dataplane::pipeline_testing {


using namespace mbox::testing;

inline uint32_t ip(const char* text) { return Ipv4Address::parse(text).value().value; }

constexpr Mac kLanMac{0x02, 0, 0, 0, 0, 0x01};
constexpr Mac kWanMac{0x02, 0, 0, 0, 0, 0x02};
constexpr Mac kHostMac{0x02, 0xaa, 0, 0, 0, 0x10};
constexpr Mac kGatewayMac{0x02, 0xbb, 0, 0, 0, 0xfe};
constexpr Mac kStrangerMac{0x02, 0xcc, 0, 0, 0, 0x99};

const uint32_t kLanAddr = ip("10.1.0.1");
const uint32_t kWanAddr = ip("198.51.100.1");
const uint32_t kHost = ip("10.1.0.10");
const uint32_t kGateway = ip("198.51.100.254");
const uint32_t kRemote = ip("10.2.3.4");  // behind the wan gateway

constexpr uint8_t kIcmpEchoReply = 0, kIcmpUnreachable = 3, kIcmpEchoRequest = 8, kIcmpTimeExceeded = 11;

inline Bytes filler(size_t n, uint8_t seed) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
    return b;
}

// A punt-ring element with the frame copied out (and the mbuf freed).
struct PuntRecord {
    Punt::Kind kind;
    uint16_t port;
    uint32_t ip;
    const ForwardingState* state;
    Bytes frame;
    uint16_t mbuf_port;
    uint16_t segments = 0;
};

class Pipeline : public ::testing::Test {
protected:
    static constexpr unsigned kPoolSize = 8191;

    // ---- once per binary: packet pool and the two ports ----

    static void SetUpTestSuite() {
        if (!mbox::testing::eal_ready()) return;
        // No per-lcore cache: rte_mempool_avail_count is then exact, which lets every
        // test check that no mbuf leaked.
        pool_ = rte_pktmbuf_pool_create("mbox_test_pool", kPoolSize, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
        ASSERT_NE(pool_, nullptr) << rte_strerror(rte_errno);
        ASSERT_NO_FATAL_FAILURE(make_port("lan", 0, lan_));
        ASSERT_NO_FATAL_FAILURE(make_port("wan", 1, wan_));
        ports_ready_ = true;
    }

    static void make_port(const std::string& name, int i, uint16_t& id) {
        ASSERT_NO_FATAL_FAILURE(open_ring_port("net_ring_mbox_" + name, pool_, 4096, ports_[i]));
        id = ports_[i].id;
    }

    static void TearDownTestSuite() {
        if (!ports_ready_) return;
        for (RingPort& p : ports_) close_ring_port(p);
        rte_mempool_free(pool_);
        ports_ready_ = false;
    }

    // ---- per test: a fresh worker ----

    void SetUp() override {
        if (!ports_ready_) GTEST_SKIP() << "EAL or the test ports are not available";
        static unsigned serial = 0;
        ++serial;
        commands_ = rte_ring_create_elem(("mbox_t_cmd_" + std::to_string(serial)).c_str(), sizeof(Command), 1024,
                                         SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        punts_ = rte_ring_create_elem(("mbox_t_punt_" + std::to_string(serial)).c_str(), sizeof(Punt), 1024,
                                      SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        ASSERT_NE(commands_, nullptr);
        ASSERT_NE(punts_, nullptr);
        std::string error;
        neighbours_ = NeighbourTable::create(0, 1024, error);
        ASSERT_NE(neighbours_, nullptr) << error;

        ctx_.index = 0;
        ctx_.ports = {lan_, wan_};
        ctx_.commands = commands_;
        ctx_.punts = punts_;
        ctx_.pool = pool_;
        ctx_.counters = &counters_;
        ctx_.neighbours = neighbours_.get();
        ctx_.tsc_hz = rte_get_tsc_hz();
        state_ = make_state(standard_config());
        ASSERT_NE(state_, nullptr);
        ctx_.state = state_.get();
    }

    void TearDown() override {
        if (!ports_ready_ || punts_ == nullptr) return;
        // Whatever the test left behind goes back to the pool; then the pool must be full.
        tx_flush(ctx_);
        sent(lan_);
        sent(wan_);
        expire_pending(ctx_, UINT64_MAX / 2 + rte_rdtsc());
        drain_punts();
        Command c;
        while (rte_ring_sc_dequeue_elem(commands_, &c, sizeof c) == 0)
            if (c.kind == Command::Kind::Transmit || c.kind == Command::Kind::Originate) rte_pktmbuf_free(c.packet);
        EXPECT_EQ(rte_mempool_avail_count(pool_), kPoolSize) << "mbufs leaked by the pipeline";
        rte_ring_free(commands_);
        rte_ring_free(punts_);
        neighbours_.reset();
    }

    static config::Config standard_config() {
        config::Config c;
        config::Interface lan;
        lan.name = "lan";
        lan.enabled = true;
        lan.addresses = {Ipv4Prefix::parse("10.1.0.1/24").value()};
        config::Interface wan;
        wan.name = "wan";
        wan.enabled = true;
        wan.mtu = 1500;
        wan.addresses = {Ipv4Prefix::parse("198.51.100.1/24").value()};
        c.interfaces = {lan, wan};
        c.routes.push_back({Ipv4Prefix::parse("10.2.0.0/16").value(), Ipv4Address{kGateway}, {}});
        return c;
    }

    static std::unique_ptr<ForwardingState> make_state(const config::Config& c) {
        const control::PortLookup port_of = [](std::string_view name) -> std::optional<uint16_t> {
            if (name == "lan") return lan_;
            if (name == "wan") return wan_;
            return std::nullopt;
        };
        auto s = std::make_unique<ForwardingState>();
        std::string error;
        s->routes = RouteTable::build(control::build_fib_entries(control::build_rib(c, port_of)), error);
        EXPECT_NE(s->routes, nullptr) << error;
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

    // ---- driving the worker ----

    static rte_mbuf* mbuf_of(const Bytes& frame) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        EXPECT_NE(m, nullptr);
        if (m == nullptr) return nullptr;
        char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
        EXPECT_NE(data, nullptr);
        if (!frame.empty()) std::memcpy(data, frame.data(), frame.size());
        return m;
    }

    // Received on `port`: process in bursts of at most kBurstSize, then flush TX.
    void run(uint16_t port, const std::vector<Bytes>& frames) {
        for (size_t at = 0; at < frames.size(); at += kBurstSize) {
            rte_mbuf* burst[kBurstSize];
            const auto n = static_cast<uint16_t>(std::min<size_t>(kBurstSize, frames.size() - at));
            for (uint16_t i = 0; i < n; ++i) burst[i] = mbuf_of(frames[at + i]);
            process_burst(ctx_, port, burst, n);
        }
        tx_flush(ctx_);
    }
    void run(uint16_t port, const Bytes& frame) { run(port, std::vector<Bytes>{frame}); }

    // What the port's TX ring received since the last call.
    std::vector<Bytes> sent(uint16_t port) { return take_sent(ports_[port == lan_ ? 0 : 1]); }

    std::vector<PuntRecord> drain_punts() {
        std::vector<PuntRecord> out;
        Punt p;
        while (rte_ring_sc_dequeue_elem(punts_, &p, sizeof p) == 0) {
            PuntRecord r{p.kind, p.port, p.ip, nullptr, {}, 0, 0};
            if (p.kind == Punt::Kind::Packet || p.kind == Punt::Kind::Ike) {
                r.frame.resize(rte_pktmbuf_pkt_len(p.packet));  // every segment
                const void* d = rte_pktmbuf_read(p.packet, 0, rte_pktmbuf_pkt_len(p.packet), r.frame.data());
                if (d != r.frame.data()) std::memcpy(r.frame.data(), d, r.frame.size());
                r.mbuf_port = p.packet->port;
                r.segments = p.packet->nb_segs;
                rte_pktmbuf_free(p.packet);
            } else if (p.kind == Punt::Kind::Retired) {
                r.state = p.state;
            }
            out.push_back(std::move(r));
        }
        return out;
    }

    // The control thread's answer to ARP: the next hop `addr` is at `mac` on `port`.
    void learn(uint32_t addr, const Mac& mac, uint16_t port) {
        Command c{};
        c.kind = Command::Kind::NeighbourUpdate;
        std::memcpy(c.mac, mac.data(), 6);
        c.port = port;
        c.ip = addr;
        apply_command(ctx_, c);
        tx_flush(ctx_);
    }

    // Every drop counter is zero except those listed, which have exactly these values.
    void expect_drops(std::initializer_list<std::pair<Drop, uint64_t>> expected) const {
        for (size_t i = 0; i < kDropReasonCount; ++i) {
            uint64_t want = 0;
            for (const auto& [reason, count] : expected)
                if (static_cast<size_t>(reason) == i) want = count;
            EXPECT_EQ(counters_.drops[i], want) << "drop counter " << kDropReasons[i].name;
        }
    }
    uint64_t total_drops() const { return std::accumulate(std::begin(counters_.drops), std::end(counters_.drops), 0ull); }
    void reset_counters() { counters_ = WorkerCounters{}; }

    // Frames from the lan host to the gateway.
    static Ipv4Header from_host(uint32_t dst, uint8_t protocol = kProtoUdp) {
        Ipv4Header h;
        h.src = kHost;
        h.dst = dst;
        h.protocol = protocol;
        return h;
    }
    static Bytes host_frame(const Ipv4Header& h, const Bytes& l4, size_t pad_to = 0) {
        return ethernet(kLanMac, kHostMac, kEtherTypeIpv4, ipv4(h, l4), pad_to);
    }

    // An ICMP error from the lan interface to the lan host, quoting `original` (an IP packet).
    void expect_icmp_error_to_host(const Bytes& frame, uint8_t type, uint8_t code, const Bytes& original,
                                   uint16_t next_hop_mtu = 0) {
        EXPECT_EQ(eth_dst(frame), kHostMac);
        EXPECT_EQ(eth_src(frame), kLanMac);
        ASSERT_EQ(eth_type(frame), kEtherTypeIpv4);
        const auto pkt = ip_of(frame);
        ASSERT_GE(pkt.size(), 20u);
        EXPECT_EQ(pkt[0], 0x45);
        EXPECT_TRUE(checksum_ok(ip_header(pkt))) << "IP header checksum";
        ASSERT_EQ(get16(pkt, 2), pkt.size()) << "total length matches the frame (no padding, no excess)";
        EXPECT_EQ(pkt[9], kProtoIcmp);
        EXPECT_GT(pkt[8], 1) << "TTL";
        EXPECT_EQ(get16(pkt, 6) & 0x3fff, 0) << "not a fragment";
        EXPECT_EQ(get32(pkt, 12), kLanAddr) << "from the interface the offending packet came in on";
        EXPECT_EQ(get32(pkt, 16), kHost);
        const auto msg = l4_of(pkt);
        ASSERT_GE(msg.size(), 8u);
        EXPECT_TRUE(checksum_ok(msg)) << "ICMP checksum";
        EXPECT_EQ(msg[0], type);
        EXPECT_EQ(msg[1], code);
        EXPECT_EQ(get16(msg, 4), 0) << "unused";
        EXPECT_EQ(get16(msg, 6), next_hop_mtu);
        // RFC 792: the offending IP header and the first 64 bits of its data, as received.
        const size_t quoted = std::min(original.size(), ip_header_length(original) + 8);
        EXPECT_EQ(Bytes(msg.begin() + 8, msg.end()), Bytes(original.begin(), original.begin() + quoted));
    }

    static inline rte_mempool* pool_ = nullptr;
    static inline uint16_t lan_ = 0, wan_ = 0;
    static inline RingPort ports_[2];
    static inline bool ports_ready_ = false;

    rte_ring* commands_ = nullptr;
    rte_ring* punts_ = nullptr;
    std::unique_ptr<NeighbourTable> neighbours_;
    std::unique_ptr<ForwardingState> state_;
    WorkerCounters counters_;
    WorkerContext ctx_;
};

}  // namespace mbox::dataplane::pipeline_testing

// SAs and the gateway's own datagrams through a real Dataplane with two workers (own
// main: --lcores=0@0,1@1,2@1, both workers share one CPU, so one of them is often
// descheduled with a full hand-off ring - the case that matters here).
//
//   * SAs deleted under traffic while packets for them wait on another worker's
//     hand-off ring: no hand-off may outlive its SA (an ASan build reports the
//     heap-use-after-free without the hand-off barrier; any build sees sequence
//     numbers used twice when the freed SA's memory is reused by the next one);
//   * replace_outbound_sa under load: every packet leaves as ESP, none in the clear;
//   * inbound SPIs allocated and refused by the control side; outbound duplicates;
//   * per-SA usage as the control thread polls it;
//   * IKE punted through poll_punts to on_ike (also reassembled), and send_udp.
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_jhash.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "control/forwarding_builder.hpp"
#include "control/sa_manager.hpp"
#include "crypto/esp_session.hpp"
#include "dataplane/dataplane.hpp"
#include "packet_builder.hpp"

namespace mbox {
namespace {

using namespace mbox::testing;
using dataplane::Dataplane;
using dataplane::OutboundSa;
using dataplane::InboundSa;

constexpr uint32_t kLocal = 0xc6336401;  // 198.51.100.1
constexpr uint32_t kPeer = 0xc6336402;   // 198.51.100.2
const Mac kPeerMac{0x02, 0, 0, 0, 0, 0x99};
const Mac kHostMac{0x02, 0, 0, 0, 0, 0x10};
constexpr unsigned kWorkers = 2;
constexpr uint8_t kProtoEsp = 50;

Ipv4Prefix prefix(const char* text) { return *Ipv4Prefix::parse(text); }

unsigned owner_of(uint32_t spi) { return rte_jhash_1word(spi, 0) % kWorkers; }

// The next SPI from `from` on whose owner is `worker`.
uint32_t spi_owned_by(unsigned worker, uint32_t& from) {
    while (owner_of(from) != worker) ++from;
    return from++;
}

config::Interface interface(const std::string& name, const std::string& device, const std::string& address) {
    config::Interface i;
    i.name = name;
    i.dpdk_device = device;
    i.addresses = {*Ipv4Prefix::parse(address)};
    i.enabled = true;
    return i;
}

template <typename Sa>
std::unique_ptr<Sa> make_sa(std::unique_ptr<Sa> sa, uint32_t spi, const char* local, const char* remote) {
    std::string error;
    sa->session = crypto::EspSession::create(crypto::EspAlgorithms{}, Bytes(16, 0x11), Bytes(20, 0x22), error);
    EXPECT_NE(sa->session, nullptr) << error;
    sa->spi = spi;
    sa->local_address = kLocal;
    sa->peer_address = kPeer;
    sa->local_nets = {prefix(local)};
    sa->remote_nets = {prefix(remote)};
    return sa;
}
std::unique_ptr<OutboundSa> outbound(uint32_t spi, const char* local = "10.1.0.0/16", const char* remote = "10.2.0.0/16") {
    return make_sa(std::make_unique<OutboundSa>(), spi, local, remote);
}
std::unique_ptr<InboundSa> inbound(uint32_t spi) {
    return make_sa(std::make_unique<InboundSa>(64, false), spi, "10.1.0.0/16", "10.2.0.0/16");
}

class TwoWorkers : public ::testing::Test {
protected:
    void SetUp() override {
        static unsigned serial = 0;
        tag_ = std::to_string(getpid()) + "_" + std::to_string(++serial);
        pool_ = rte_pktmbuf_pool_create(("life_pool" + tag_).c_str(), 16383, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                        SOCKET_ID_ANY);
        ASSERT_NE(pool_, nullptr);
        ASSERT_NO_FATAL_FAILURE(make_port("lan", lan_rx_, lan_tx_));
        ASSERT_NO_FATAL_FAILURE(make_port("wan", wan_rx_, wan_tx_));
        rte_ether_addr mac{};
        rte_eth_macaddr_get(lan_port_, &mac);
        std::memcpy(lan_mac_.data(), mac.addr_bytes, 6);
        rte_eth_macaddr_get(wan_port_, &mac);
        std::memcpy(wan_mac_.data(), mac.addr_bytes, 6);

        config_.interfaces = {interface("lan", "net_ring_life_lan" + tag_, "10.1.0.1/16"),
                              interface("wan", "net_ring_life_wan" + tag_, "198.51.100.1/24")};
        config_.routes.push_back({prefix("10.0.0.0/8"), Ipv4Address{kPeer}, {}});
        std::vector<dataplane::PortSpec> specs;
        for (const auto& i : config_.interfaces) specs.push_back({i.name, i.dpdk_device, 1500});
        std::string error;
        dp_ = Dataplane::start(specs, error);
        ASSERT_NE(dp_, nullptr) << error;
        ASSERT_EQ(dp_->worker_count(), kWorkers);
        auto built = control::build_forwarding_state(config_, *dp_);
        ASSERT_NE(built.state, nullptr) << built.error;
        dp_->publish(std::move(built.state));
        dp_->neighbour_update(kPeer, kPeerMac.data(), wan_port_);
        in_use_ = dp_->retiring();  // the snapshot in use
    }

    void make_port(const std::string& name, rte_ring* (&rx)[kWorkers], rte_ring* (&tx)[kWorkers]) {
        for (unsigned q = 0; q < kWorkers; ++q) {
            const std::string n = name + std::to_string(q) + tag_;
            rx[q] = rte_ring_create(("lrx" + n).c_str(), 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
            tx[q] = rte_ring_create(("ltx" + n).c_str(), 16384, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
            ASSERT_TRUE(rx[q] && tx[q]);
        }
        const int port = rte_eth_from_rings(("life_" + name + tag_).c_str(), rx, kWorkers, tx, kWorkers, rte_socket_id());
        ASSERT_GE(port, 0);
        (name == "lan" ? lan_port_ : wan_port_) = static_cast<uint16_t>(port);
    }

    void TearDown() override {
        managers_.clear();
        dp_.reset();
        for (auto* rings : {&lan_rx_, &lan_tx_, &wan_rx_, &wan_tx_})
            for (rte_ring* r : *rings) {
                void* m = nullptr;
                while (r != nullptr && rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
                rte_ring_free(r);
            }
        rte_mempool_free(pool_);
    }

    bool enqueue(rte_ring* ring, const Bytes& frame) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        if (m == nullptr) return false;
        std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
        if (rte_ring_sp_enqueue(ring, m) != 0) {
            rte_pktmbuf_free(m);
            return false;
        }
        return true;
    }

    // A host's packet into the tunnel, received by worker `queue`.
    bool feed(unsigned queue, uint16_t id) {
        Ipv4Header h;
        h.src = 0x0a010002;  // 10.1.0.2
        h.dst = 0x0a020002;  // 10.2.0.2
        h.id = id;
        return enqueue(lan_rx_[queue], ethernet(lan_mac_, kHostMac, kEtherTypeIpv4, ipv4(h, udp(40000, 9, Bytes(32, 7)))));
    }

    // What the wan port sent, from both workers' queues.
    std::vector<Bytes> collect() {
        std::vector<Bytes> out;
        for (rte_ring* r : wan_tx_) {
            void* objects[256];
            unsigned n;
            while ((n = rte_ring_sc_dequeue_burst(r, objects, 256, nullptr)) > 0)
                for (unsigned k = 0; k < n; ++k) {
                    auto* m = static_cast<rte_mbuf*>(objects[k]);
                    const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
                    out.emplace_back(d, d + rte_pktmbuf_data_len(m));
                    rte_pktmbuf_free(m);
                }
        }
        return out;
    }

    // Polls until `done` or the deadline; returns done().
    template <typename Done>
    bool wait(Done done, const Dataplane::PuntHandler& handler, std::chrono::seconds limit = std::chrono::seconds(20)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            if (dp_->poll_punts(handler) == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        return done();
    }

    uint64_t total_drops() const {
        uint64_t n = 0;
        for (uint64_t d : dp_->counters().drops) n += d;
        return n;
    }
    // A worker descheduled for a while may let the other fill its hand-off ring: that is
    // counted, and the only drop these tests allow.
    void expect_only_handoff_ring_full() const {
        const auto c = dp_->counters();
        for (size_t i = 0; i < dataplane::kDropReasonCount; ++i) {
            if (i == static_cast<size_t>(dataplane::Drop::handoff_ring_full)) continue;
            EXPECT_EQ(c.drops[i], 0u) << dataplane::kDropReasons[i].name;
        }
    }

    static Dataplane::PuntHandler ignore() {
        return {[](uint16_t, std::span<const uint8_t>) {}, [](uint16_t, uint32_t) {}, [](const dataplane::IkeDatagram&) {}};
    }

    std::string tag_;
    size_t in_use_ = 0;
    rte_mempool* pool_ = nullptr;
    rte_ring *lan_rx_[kWorkers] = {}, *lan_tx_[kWorkers] = {}, *wan_rx_[kWorkers] = {}, *wan_tx_[kWorkers] = {};
    uint16_t lan_port_ = 0, wan_port_ = 0;
    Mac lan_mac_{}, wan_mac_{};
    config::Config config_;
    std::unique_ptr<Dataplane> dp_;
    std::vector<std::unique_ptr<control::SaManager>> managers_;
};

// Sequence numbers per SPI, for ESP frames; counts the rest.
struct EspTally {
    std::map<uint32_t, std::vector<uint32_t>> seqs;
    size_t clear = 0;
    void add(const std::vector<Bytes>& frames) {
        for (const auto& f : frames) {
            const auto ip = ip_of(f);
            if (ip[9] != kProtoEsp) {
                ++clear;
                continue;
            }
            seqs[get32(l4_of(ip), 0)].push_back(get32(l4_of(ip), 4));
        }
    }
    size_t esp() const {
        size_t n = 0;
        for (const auto& [spi, s] : seqs) n += s.size();
        return n;
    }
    // Each SPI's numbers are 1..n, each exactly once (one writer per SA, never a freed one).
    void expect_each_spi_counts_from_one() const {
        for (const auto& [spi, s] : seqs) {
            std::vector<uint32_t> sorted = s;
            std::sort(sorted.begin(), sorted.end());
            for (size_t k = 0; k < sorted.size(); ++k)
                if (sorted[k] != k + 1) {
                    ADD_FAILURE() << "SPI " << std::hex << spi << std::dec << ": sequence number " << sorted[k]
                                  << " at position " << k + 1 << " of " << sorted.size();
                    break;
                }
        }
    }
};

TEST_F(TwoWorkers, HandedOffPacketsNeverOutliveTheirSa) {
    const auto handler = ignore();
    uint32_t next_spi = 0x10000;
    EspTally tally;
    size_t fed = 0;
    constexpr unsigned kRounds = 150;
    for (unsigned round = 0; round < kRounds; ++round) {
        // An SA one worker owns; the other receives most of its packets and hands them over.
        const unsigned owner = round % kWorkers;
        auto installed = dp_->add_outbound_sa(outbound(spi_owned_by(owner, next_spi)));
        ASSERT_TRUE(installed) << installed.error;
        for (uint16_t k = 0; k < 300; ++k) fed += feed(k % 8 == 0 ? owner : 1 - owner, static_cast<uint16_t>(k));
        // Once the owner has encrypted its first packets (hand-offs queued behind them),
        // delete it under their feet.
        const auto started = std::chrono::steady_clock::now();
        while (dp_->usage(*installed.sa).packets == 0 &&
               std::chrono::steady_clock::now() - started < std::chrono::seconds(2))
            std::this_thread::yield();
        dp_->remove_outbound_sa(installed.sa);
        dp_->poll_punts(handler);
        tally.add(collect());
    }
    ASSERT_TRUE(wait([&] { return dp_->retiring() == in_use_ && dp_->outbound_sas().empty(); }, handler))
        << dp_->retiring() - in_use_ << " SAs still not freed";
    ASSERT_TRUE(wait([&] {
        tally.add(collect());
        return tally.esp() + tally.clear + total_drops() >= fed;
    }, handler));
    tally.expect_each_spi_counts_from_one();
    EXPECT_GT(tally.esp(), 0u);
    EXPECT_GT(dp_->counters().handed_off, 0u) << "the case under test happened";
    expect_only_handoff_ring_full();
    EXPECT_EQ(tally.esp() + tally.clear + total_drops(), fed)
        << "every packet left, as ESP or (after its SA was gone) in the clear, or was counted";
}

TEST_F(TwoWorkers, ReplacingAnOutboundSaUnderLoadLeavesNothingInTheClear) {
    const auto handler = ignore();
    uint32_t spi = 0x20000;
    const uint32_t old_spi = spi_owned_by(0, spi), new_spi = spi_owned_by(1, spi);
    auto old_sa = dp_->add_outbound_sa(outbound(old_spi));
    ASSERT_TRUE(old_sa) << old_sa.error;
    EspTally tally;
    size_t fed = 0;
    const dataplane::OutboundSa* current = old_sa.sa;
    uint32_t next_spi = new_spi;
    // Traffic on both workers; the SA is replaced several times while it flows.
    for (unsigned round = 0; round < 40; ++round) {
        for (uint16_t k = 0; k < 200; ++k) fed += feed(k % 2, static_cast<uint16_t>(k));
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        auto next = dp_->replace_outbound_sa(current, outbound(next_spi));
        ASSERT_TRUE(next) << next.error;
        current = next.sa;
        next_spi = spi_owned_by(round % kWorkers, spi);
        dp_->poll_punts(handler);
        tally.add(collect());
    }
    ASSERT_TRUE(wait([&] {
        tally.add(collect());
        return tally.esp() + tally.clear + total_drops() >= fed;
    }, handler));
    EXPECT_EQ(tally.clear, 0u) << "no packet of the tunnel left in the clear";
    EXPECT_EQ(tally.esp() + total_drops(), fed);
    EXPECT_GT(tally.seqs.size(), 10u) << "the SAs took turns";
    tally.expect_each_spi_counts_from_one();
    ASSERT_TRUE(wait([&] { return dp_->retiring() == in_use_; }, handler));
    EXPECT_EQ(dp_->outbound_sas().size(), 1u) << "every replaced SA freed";
    expect_only_handoff_ring_full();
}

TEST_F(TwoWorkers, InboundSpisAreAllocatedUniqueAndDuplicatesRefused) {
    std::set<uint32_t> seen;
    for (int k = 0; k < 5000; ++k) {
        const uint32_t spi = dp_->allocate_inbound_spi();
        EXPECT_GE(spi, 256u);
        EXPECT_TRUE(seen.insert(spi).second) << "allocated twice: " << spi;
    }
    const uint32_t reserved = *seen.begin();
    auto first = dp_->add_inbound_sa(inbound(reserved));
    ASSERT_TRUE(first) << first.error;
    auto again = dp_->add_inbound_sa(inbound(reserved));
    EXPECT_FALSE(again);
    EXPECT_NE(again.error.find("already installed"), std::string::npos) << again.error;
    EXPECT_FALSE(dp_->add_inbound_sa(inbound(255))) << "SPIs below 256 are reserved (RFC 4303 §2.1)";
    for (uint32_t spi : seen) dp_->release_inbound_spi(spi);

    // Removed: the SPI can be installed again.
    dp_->remove_inbound_sa(first.sa);
    EXPECT_TRUE(dp_->add_inbound_sa(inbound(reserved)));
}

TEST_F(TwoWorkers, AFullInboundTableIsRefusedOnTheControlSide) {
    for (uint32_t k = 0; k < dataplane::SaTable::kMaxInbound; ++k) {
        auto r = dp_->add_inbound_sa(inbound(0x100000 + k));
        ASSERT_TRUE(r) << k << ": " << r.error;
        if (k % 512 == 0) dp_->poll_punts(ignore());
    }
    auto over = dp_->add_inbound_sa(inbound(0x200000));
    EXPECT_FALSE(over);
    EXPECT_NE(over.error.find("full"), std::string::npos) << over.error;
    // The workers installed every one (none silently failed): each is found by SPI.
    EXPECT_EQ(dp_->inbound_sas().size(), dataplane::SaTable::kMaxInbound);
}

TEST_F(TwoWorkers, OutboundPoliciesAreNeverSilentlyDuplicated) {
    auto a = dp_->add_outbound_sa(outbound(0x3001));
    ASSERT_TRUE(a) << a.error;
    auto b = dp_->add_outbound_sa(outbound(0x3002));
    EXPECT_FALSE(b) << "the same local-net x remote-net without replace";
    EXPECT_NE(b.error.find("10.1.0.0/16 -> 10.2.0.0/16"), std::string::npos) << b.error;
    EXPECT_TRUE(dp_->add_outbound_sa(outbound(0x3003, "10.1.0.0/16", "10.3.0.0/16"))) << "another pair is fine";
    EXPECT_TRUE(dp_->replace_outbound_sa(a.sa, outbound(0x3004))) << "replace may take over its own pairs";
    EXPECT_FALSE(dp_->replace_outbound_sa(a.sa, outbound(0x3005))) << "a is gone now";

    // More policies than the table holds: refused before any worker sees it.
    auto huge = outbound(0x3006);
    huge->local_nets.clear();
    huge->remote_nets.clear();
    for (uint32_t k = 0; k < 200; ++k) {
        huge->local_nets.push_back({Ipv4Address{0x0b000000 + (k << 8)}, 24});
        huge->remote_nets.push_back({Ipv4Address{0x0c000000 + (k << 8)}, 24});
    }
    auto refused = dp_->add_outbound_sa(std::move(huge));
    EXPECT_FALSE(refused);
    EXPECT_NE(refused.error.find("full"), std::string::npos) << refused.error;
}

TEST_F(TwoWorkers, ManualSaInstallReportsRefusals) {
    config::Config c;
    const auto manual = [](const std::string& name, uint32_t in_spi, uint32_t out_spi, const char* remote) {
        config::ManualSa sa;
        sa.name = name;
        sa.local_ip = Ipv4Address{kLocal};
        sa.peer = Ipv4Address{kPeer};
        sa.local_nets = {prefix("10.1.0.0/16")};
        sa.remote_nets = {prefix(remote)};
        sa.encryption = config::Encryption::AesGcm128;
        const std::vector<uint8_t> key(20, 0x42);
        sa.inbound = config::ManualSaKeys{in_spi, key, {}, {}, {}, {}};
        sa.outbound = config::ManualSaKeys{out_spi, key, {}, {}, {}, {}};
        return sa;
    };
    c.manual_sas = {manual("a", 0x4001, 0x5001, "10.2.0.0/16"), manual("same-spi", 0x4001, 0x5002, "10.3.0.0/16"),
                    manual("same-policy", 0x4003, 0x5003, "10.2.0.0/16")};
    control::SaManager sas(*dp_);
    const auto errors = sas.install_manual(c);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_NE(errors[0].find("same-spi"), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find("already installed"), std::string::npos) << errors[0];
    EXPECT_NE(errors[1].find("same-policy"), std::string::npos) << errors[1];
    EXPECT_EQ(dp_->inbound_sas().size(), 1u) << "a refused SA installs neither direction";
    EXPECT_EQ(dp_->outbound_sas().size(), 1u);
}

TEST_F(TwoWorkers, UsageIsReadableWhileTheOwnerWritesIt) {
    const auto handler = ignore();
    const auto before = std::chrono::steady_clock::now();
    auto out = dp_->add_outbound_sa(outbound(0x6001));
    auto in = dp_->add_inbound_sa(inbound(0x6002));
    ASSERT_TRUE(out && in);
    const auto idle = dp_->usage(*in.sa);
    EXPECT_EQ(idle.packets, 0u);
    EXPECT_EQ(idle.seq, 0u);
    EXPECT_GE(idle.last_used, before - std::chrono::milliseconds(5)) << "never used: the install time";

    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    constexpr unsigned kPackets = 500;
    size_t fed = 0;
    for (uint16_t k = 0; k < kPackets; ++k) fed += feed(k % 2, k);
    ASSERT_EQ(fed, kPackets);
    size_t sent = 0;
    ASSERT_TRUE(wait([&] {
        sent += collect().size();
        return sent >= kPackets;
    }, handler));
    const auto after = std::chrono::steady_clock::now();
    const auto u = dp_->usage(*out.sa);
    EXPECT_EQ(u.packets, kPackets);
    EXPECT_EQ(u.bytes, kPackets * (20u + 8 + 32));
    EXPECT_EQ(u.seq, kPackets);
    EXPECT_GT(u.last_used, before + std::chrono::milliseconds(15)) << "moved on from the install time";
    EXPECT_LE(u.last_used, after + std::chrono::milliseconds(5));
    EXPECT_LE(dp_->usage(*in.sa).last_used, before + std::chrono::milliseconds(15)) << "the inbound SA saw nothing";
}

TEST_F(TwoWorkers, IkeReachesOnIkeAndSendUdpLeavesByWorkerZero) {
    std::vector<dataplane::IkeDatagram> got;
    std::vector<Bytes> messages;
    Dataplane::PuntHandler handler = ignore();
    handler.on_ike = [&](const dataplane::IkeDatagram& d) {
        got.push_back(d);
        messages.emplace_back(d.message.begin(), d.message.end());
    };
    // A 500 datagram, and a 4500 one of 3000 bytes in three IP fragments.
    Bytes small(60, 0x5a), big(3000, 0);
    for (size_t k = 0; k < big.size(); ++k) big[k] = static_cast<uint8_t>(k * 13);
    Ipv4Header h;
    h.src = kPeer;
    h.dst = kLocal;
    ASSERT_TRUE(enqueue(wan_rx_[1], ethernet(wan_mac_, kPeerMac, kEtherTypeIpv4, ipv4(h, udp(500, 500, small)))));
    Bytes body(4 + big.size(), 0);
    std::copy(big.begin(), big.end(), body.begin() + 4);
    const Bytes datagram = udp(4500, 4500, body);
    h.id = 0x4242;
    for (size_t at = 0; at < datagram.size(); at += 1480) {
        const size_t n = std::min<size_t>(1480, datagram.size() - at);
        h.flags_fragment = static_cast<uint16_t>(at / 8 | (at + n < datagram.size() ? 0x2000 : 0));
        const Bytes part(datagram.begin() + static_cast<ptrdiff_t>(at), datagram.begin() + static_cast<ptrdiff_t>(at + n));
        ASSERT_TRUE(enqueue(wan_rx_[0], ethernet(wan_mac_, kPeerMac, kEtherTypeIpv4, ipv4(h, part))));
    }
    ASSERT_TRUE(wait([&] { return got.size() >= 2; }, handler));
    ASSERT_EQ(got.size(), 2u);
    const size_t k500 = got[0].destination_port == 500 ? 0 : 1;
    EXPECT_EQ(got[k500].source, kPeer);
    EXPECT_EQ(got[k500].destination, kLocal);
    EXPECT_EQ(got[k500].port, wan_port_);
    EXPECT_EQ(messages[k500], small);
    EXPECT_EQ(got[1 - k500].destination_port, 4500);
    EXPECT_EQ(messages[1 - k500], big) << "reassembled, copied out of its segments, marker stripped";
    EXPECT_EQ(dp_->counters().ike_punted, 2u);

    ASSERT_TRUE(dp_->send_udp(kLocal, kPeer, 4500, 4500, small, true));
    EXPECT_FALSE(dp_->send_udp(kLocal, kPeer, 4500, 4500, Bytes(dp_->max_udp_payload(true) + 1, 0), true));
    std::vector<Bytes> out;
    ASSERT_TRUE(wait([&] {
        for (auto& f : collect()) out.push_back(std::move(f));
        return !out.empty();
    }, handler));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(eth_dst(out[0]), kPeerMac);
    const auto pkt = ip_of(out[0]);
    EXPECT_EQ(pkt[9], kProtoUdp);
    EXPECT_EQ(get32(pkt, 12), kLocal);
    EXPECT_EQ(get32(pkt, 16), kPeer);
    const auto u = l4_of(pkt);
    EXPECT_EQ(get32(u, 8), 0u) << "non-ESP marker";
    EXPECT_EQ(Bytes(u.begin() + 12, u.end()), small);
    EXPECT_EQ(dp_->counters().originated, 1u);
}

}  // namespace
}  // namespace mbox

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    std::vector<std::string> args = {"sa_lifetime_test", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
                                     "--no-telemetry", "--lcores=0@0,1@1,2@1", "--log-level=error",
                                     "--file-prefix=mbox_life_" + std::to_string(::getpid())};
    std::vector<char*> eal;
    for (auto& a : args) eal.push_back(a.data());
    if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
        std::fprintf(stderr, "rte_eal_init failed\n");
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    rte_eal_cleanup();
    return rc;
}

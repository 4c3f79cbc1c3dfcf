// Adding and removing SAs under load (issue: "adding or removing one SA under load must
// not stall or drop other SAs' traffic"). A real Dataplane with one worker lcore
// encrypts a steady stream for one SA while the control side (this thread, as the
// control thread would) installs and removes 300 other SAs, one at a time, through the
// SA manager. Every packet of the steady SA must come out, in order, with consecutive
// sequence numbers, nothing dropped, and every removed SA must be handed back and freed.
//
// Its own main: the data plane needs a worker lcore (--lcores=0@0,1@1).
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "control/forwarding_builder.hpp"
#include "control/sa_manager.hpp"
#include "dataplane/dataplane.hpp"
#include "packet_builder.hpp"

namespace mbox {
namespace {

using namespace mbox::testing;

constexpr uint32_t kPeer = 0xc6336402;  // 198.51.100.2
const Mac kPeerMac{0x02, 0, 0, 0, 0, 0x99};
constexpr uint32_t kSteadySpi = 0x2001;
constexpr unsigned kPackets = 30000;
constexpr unsigned kChurnedSas = 300;

config::ManualSa manual_sa(const std::string& name, const std::string& remote, uint32_t in_spi, uint32_t out_spi) {
    config::ManualSa sa;
    sa.name = name;
    sa.local_ip = Ipv4Address{0xc6336401};
    sa.peer = Ipv4Address{kPeer};
    sa.local_nets = {*Ipv4Prefix::parse("10.1.0.0/16")};
    sa.remote_nets = {*Ipv4Prefix::parse(remote)};
    sa.encryption = config::Encryption::AesGcm128;
    const std::vector<uint8_t> key(20, 0x42);
    sa.inbound = config::ManualSaKeys{in_spi, key, {}, {}, {}, {}};
    sa.outbound = config::ManualSaKeys{out_spi, key, {}, {}, {}, {}};
    return sa;
}

config::Interface interface(const std::string& name, const std::string& device, const std::string& address) {
    config::Interface i;
    i.name = name;
    i.dpdk_device = device;
    i.addresses = {*Ipv4Prefix::parse(address)};
    i.enabled = true;
    return i;
}

class SaChurn : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string tag = std::to_string(getpid());
        lan_rx_ = rte_ring_create(("churn_lan_rx" + tag).c_str(), 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        lan_tx_ = rte_ring_create(("churn_lan_tx" + tag).c_str(), 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        wan_rx_ = rte_ring_create(("churn_wan_rx" + tag).c_str(), 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        wan_tx_ = rte_ring_create(("churn_wan_tx" + tag).c_str(), 8192, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        pool_ = rte_pktmbuf_pool_create(("churn_pool" + tag).c_str(), 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                        SOCKET_ID_ANY);
        ASSERT_TRUE(lan_rx_ && lan_tx_ && wan_rx_ && wan_tx_ && pool_);
        const int lan = rte_eth_from_rings("churn_lan", &lan_rx_, 1, &lan_tx_, 1, rte_socket_id());
        const int wan = rte_eth_from_rings("churn_wan", &wan_rx_, 1, &wan_tx_, 1, rte_socket_id());
        ASSERT_GE(lan, 0);
        ASSERT_GE(wan, 0);
        rte_ether_addr mac{};
        rte_eth_macaddr_get(static_cast<uint16_t>(lan), &mac);
        std::memcpy(lan_mac_.data(), mac.addr_bytes, 6);

        config_.interfaces = {interface("lan", "net_ring_churn_lan", "10.1.0.1/16"),
                              interface("wan", "net_ring_churn_wan", "198.51.100.1/24")};
        config_.routes.push_back({*Ipv4Prefix::parse("10.0.0.0/8"), Ipv4Address{kPeer}, {}});
        config_.manual_sas = {manual_sa("steady", "10.2.0.0/16", 0x1001, kSteadySpi)};
        config_.ipsec_enabled = true;

        std::vector<dataplane::PortSpec> specs;
        for (const auto& i : config_.interfaces) specs.push_back({i.name, i.dpdk_device, 1500});
        std::string error;
        dp_ = dataplane::Dataplane::start(specs, error);
        ASSERT_NE(dp_, nullptr) << error;
        auto built = control::build_forwarding_state(config_, *dp_);
        ASSERT_NE(built.state, nullptr) << built.error;
        dp_->publish(std::move(built.state));
        dp_->neighbour_update(kPeer, kPeerMac.data(), *dp_->port_of("wan"));
        steady_ = std::make_unique<control::SaManager>(*dp_);
        ASSERT_TRUE(steady_->install_manual(config_).empty());
    }

    void TearDown() override {
        steady_.reset();
        dp_.reset();
        for (rte_ring* r : {lan_rx_, lan_tx_, wan_rx_, wan_tx_}) {
            void* m = nullptr;
            while (r != nullptr && rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
            rte_ring_free(r);
        }
        rte_mempool_free(pool_);
    }

    // Queues up to `n` packets for the steady SA on the lan port; returns how many.
    unsigned feed(unsigned n) {
        unsigned queued = 0;
        for (; queued < n && rte_ring_free_count(lan_rx_) > 0; ++queued) {
            Ipv4Header h;
            h.src = 0x0a010002;  // 10.1.0.2
            h.dst = 0x0a020002;  // 10.2.0.2
            h.id = static_cast<uint16_t>(sent_);
            const Bytes frame = ethernet(lan_mac_, {0x02, 0, 0, 0, 0, 0x10}, kEtherTypeIpv4,
                                         ipv4(h, udp(40000, 9, Bytes(32, static_cast<uint8_t>(sent_)))));
            rte_mbuf* m = rte_pktmbuf_alloc(pool_);
            if (m == nullptr) break;
            std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
            if (rte_ring_sp_enqueue(lan_rx_, m) != 0) {
                rte_pktmbuf_free(m);
                break;
            }
            ++sent_;
        }
        return queued;
    }

    // Takes what the wan port sent: each must be ESP of the steady SA with the next
    // sequence number.
    void collect() {
        void* objects[256];
        const unsigned n = rte_ring_sc_dequeue_burst(wan_tx_, objects, 256, nullptr);
        for (unsigned k = 0; k < n; ++k) {
            auto* m = static_cast<rte_mbuf*>(objects[k]);
            const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
            const std::span<const uint8_t> frame(d, rte_pktmbuf_data_len(m));
            const auto ip = ip_of(frame);
            if (ip[9] != 50 || get32(l4_of(ip), 0) != kSteadySpi || get32(l4_of(ip), 4) != received_ + 1)
                ++out_of_order_;
            ++received_;
            rte_pktmbuf_free(m);
        }
    }

    rte_ring *lan_rx_ = nullptr, *lan_tx_ = nullptr, *wan_rx_ = nullptr, *wan_tx_ = nullptr;
    rte_mempool* pool_ = nullptr;
    Mac lan_mac_{};
    config::Config config_;
    std::unique_ptr<dataplane::Dataplane> dp_;
    std::unique_ptr<control::SaManager> steady_;
    unsigned sent_ = 0, received_ = 0, out_of_order_ = 0;
};

TEST_F(SaChurn, AddingAndRemovingOtherSasDropsAndStallsNothing) {
    const dataplane::Dataplane::PuntHandler ignore{[](uint16_t, std::span<const uint8_t>) {}, [](uint16_t, uint32_t) {}, {}};
    const unsigned per_round = kPackets / kChurnedSas;
    for (unsigned i = 0; i < kChurnedSas; ++i) {
        feed(per_round);
        // One more SA in, then out again: both directions, as an IKE rekey would.
        config::Config other;
        other.manual_sas = {manual_sa("churn" + std::to_string(i), "10.3." + std::to_string(i % 250) + ".0/24",
                                      0x3000 + i, 0x4000 + i)};
        {
            control::SaManager churn(*dp_);
            ASSERT_TRUE(churn.install_manual(other).empty());
            dp_->poll_punts(ignore);
            collect();
        }  // removed here
        dp_->poll_punts(ignore);
        collect();
    }
    feed(kPackets - sent_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while ((received_ < sent_ || sent_ < kPackets) && std::chrono::steady_clock::now() < deadline) {
        feed(kPackets - sent_);
        dp_->poll_punts(ignore);
        collect();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    for (int k = 0; k < 50 && (dp_->outbound_sas().size() > 1 || dp_->inbound_sas().size() > 1); ++k) {
        dp_->poll_punts(ignore);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }

    EXPECT_EQ(sent_, kPackets);
    EXPECT_EQ(received_, kPackets) << "every packet of the steady SA came out";
    EXPECT_EQ(out_of_order_, 0u) << "as ESP of the steady SA, sequence numbers 1, 2, 3, ... in order";
    const auto c = dp_->counters();
    uint64_t drops = 0;
    for (uint64_t d : c.drops) drops += d;
    EXPECT_EQ(drops, 0u);
    EXPECT_EQ(dp_->outbound_sas().size(), 1u) << "every churned outbound SA handed back and freed";
    EXPECT_EQ(dp_->inbound_sas().size(), 1u) << "every churned inbound SA handed back and freed";
    ASSERT_EQ(dp_->outbound_sas().size(), 1u);
    EXPECT_EQ(dataplane::read_counter(dp_->outbound_sas()[0]->seq), kPackets);
}

}  // namespace
}  // namespace mbox

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    std::vector<std::string> args = {"sa_churn_test", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
                                     "--no-telemetry", "--lcores=0@0,1@1", "--log-level=error",
                                     "--file-prefix=mbox_churn_" + std::to_string(::getpid())};
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

// A tunnel's traffic never leaves in the clear: the networks of every configured
// manual SA and peer are in the forwarding snapshot (control::build_tunnel_policy), and
// esp_match_outbound drops what lies between them and no SA carries: `ipsec_stopped`
// while ipsec is stopped (unless `ipsec stopped-traffic forward`), `ipsec_no_sa` while
// it runs and the tunnel is not up.
//
//   host 10.1.0.10 --- [lan] mbox [wan] --- gateway 198.51.100.254 --- 10.2.0.0/16
//   tunnels: peer 198.51.100.254  10.1.0.0/24 <-> 10.2.3.0/24
//            manual-sa branch     10.1.0.0/24 <-> 10.2.4.0/24
//   10.2.9.0/24 is reached through the same gateway, in no tunnel.
#include "control/forwarding_builder.hpp"
#include "dataplane/esp.hpp"
#include "dataplane/sa_table.hpp"
#include "pipeline_fixture.hpp"

namespace mbox::dataplane {
namespace {

using namespace pipeline_testing;

Ipv4Prefix net(const char* text) { return Ipv4Prefix::parse(text).value(); }

const uint32_t kInPeerTunnel = ip("10.2.3.4");
const uint32_t kInManualTunnel = ip("10.2.4.4");
const uint32_t kInNoTunnel = ip("10.2.9.9");

// ---- the lookup ----

TEST(TunnelNetworks, CoversEveryLocalRemotePairAndNothingElse) {
    const TunnelNetworks networks(
        {{net("10.1.0.0/24"), net("10.2.3.0/24")}, {net("10.3.0.0/24"), net("10.2.3.0/24")}});
    EXPECT_TRUE(networks.covers(ip("10.1.0.5"), ip("10.2.3.9")));
    EXPECT_TRUE(networks.covers(ip("10.3.0.5"), ip("10.2.3.9")));
    EXPECT_FALSE(networks.covers(ip("10.4.0.5"), ip("10.2.3.9"))) << "source in no local-net";
    EXPECT_FALSE(networks.covers(ip("10.1.0.5"), ip("10.2.4.9"))) << "destination in no remote-net";
    EXPECT_FALSE(networks.covers(ip("10.2.3.9"), ip("10.1.0.5"))) << "the reverse direction is not outbound";
    EXPECT_TRUE(TunnelNetworks{}.empty());
    EXPECT_FALSE(TunnelNetworks{}.covers(ip("10.1.0.5"), ip("10.2.3.9")));
}

TEST(TunnelNetworks, ALongerRemoteWhoseLocalMissesFallsBackToAShorterOne) {
    // 10.2.3.0/24 belongs to a tunnel from 10.5.0.0/24 only; 10.0.0.0/8 to one from 10.1.0.0/24.
    const TunnelNetworks networks({{net("10.5.0.0/24"), net("10.2.3.0/24")},
                                   {net("10.1.0.0/24"), net("10.0.0.0/8")},
                                   {net("0.0.0.0/0"), net("192.0.2.0/24")}});
    EXPECT_TRUE(networks.covers(ip("10.1.0.5"), ip("10.2.3.9")));
    EXPECT_TRUE(networks.covers(ip("10.5.0.5"), ip("10.2.3.9")));
    EXPECT_TRUE(networks.covers(ip("172.16.0.1"), ip("192.0.2.7"))) << "local-net 0.0.0.0/0 takes any source";
    EXPECT_FALSE(networks.covers(ip("10.5.0.5"), ip("10.9.0.1")));
}

TEST(TunnelNetworks, RemoteNetsWrittenWithHostBitsMatchTheirNetwork) {
    const TunnelNetworks networks({{net("10.1.0.0/24"), net("10.2.3.77/24")}});
    EXPECT_TRUE(networks.covers(ip("10.1.0.5"), ip("10.2.3.9")));
}

// ---- the policy built from the configuration ----

// The pipeline bench with the snapshot built from a configuration with tunnels.
class TunnelTraffic : public Pipeline {
public:
    using Pipeline::standard_config;

protected:
    void use(const config::Config& c) {
        state_ = make_state(c);
        ASSERT_NE(state_, nullptr);
        state_->tunnels = control::build_tunnel_policy(c);
        ctx_.state = state_.get();
        learn(kGateway, kGatewayMac, wan_);
    }

    void send_from_host(uint32_t dst) { run(lan_, host_frame(from_host(dst), udp(40000, 9, filler(64, 1)))); }

    // The destinations of the packets the wan port sent.
    std::vector<uint32_t> sent_to() {
        std::vector<uint32_t> out;
        for (const Bytes& f : sent(wan_)) out.push_back(get32(ip_of(f), 16));
        return out;
    }
};

config::Config with_tunnels(bool ipsec_enabled, config::StoppedTraffic stopped = config::StoppedTraffic::Drop) {
    config::Config c = TunnelTraffic::standard_config();
    config::Peer peer;
    peer.address = Ipv4Address{kGateway};
    peer.local_nets = {net("10.1.0.0/24")};
    peer.remote_nets = {net("10.2.3.0/24")};
    c.peers.push_back(peer);
    config::ManualSa sa;
    sa.name = "branch";
    sa.local_nets = {net("10.1.0.0/24")};
    sa.remote_nets = {net("10.2.4.0/24")};
    c.manual_sas.push_back(sa);
    c.ipsec_enabled = ipsec_enabled;
    c.ipsec_stopped_traffic = stopped;
    return c;
}

TEST(TunnelPolicy, StoppedIpsecKeepsEveryTunnelsNetworksAsADrop) {
    const TunnelPolicy policy = control::build_tunnel_policy(with_tunnels(false));
    EXPECT_EQ(policy.drop, Drop::ipsec_stopped);
    EXPECT_TRUE(policy.networks.covers(kHost, kInPeerTunnel)) << "the peer's local-net x remote-net";
    EXPECT_TRUE(policy.networks.covers(kHost, kInManualTunnel)) << "the manual SA's";
    EXPECT_FALSE(policy.networks.covers(kHost, kInNoTunnel));
}

TEST(TunnelPolicy, StartedIpsecDropsWhatNoSaCarriesUnderItsOwnReason) {
    for (const auto stopped : {config::StoppedTraffic::Drop, config::StoppedTraffic::Forward}) {
        const TunnelPolicy policy = control::build_tunnel_policy(with_tunnels(true, stopped));
        EXPECT_EQ(policy.drop, Drop::ipsec_no_sa);
        EXPECT_TRUE(policy.networks.covers(kHost, kInPeerTunnel)) << "stopped-traffic has no say while ipsec runs";
        EXPECT_TRUE(policy.networks.covers(kHost, kInManualTunnel));
    }
}

TEST(TunnelPolicy, StoppedTrafficForwardLeavesNothingToDrop) {
    EXPECT_TRUE(control::build_tunnel_policy(with_tunnels(false, config::StoppedTraffic::Forward)).networks.empty());
}

TEST(TunnelPolicy, NoTunnelsNoPolicy) {
    EXPECT_TRUE(control::build_tunnel_policy(TunnelTraffic::standard_config()).networks.empty());
}

// ---- packets through the pipeline ----

TEST_F(TunnelTraffic, StoppedTunnelsTrafficIsDroppedAndCountedOtherTrafficForwarded) {
    ASSERT_NO_FATAL_FAILURE(use(with_tunnels(false)));
    send_from_host(kInPeerTunnel);
    send_from_host(kInManualTunnel);
    send_from_host(kInNoTunnel);
    EXPECT_EQ(sent_to(), std::vector<uint32_t>{kInNoTunnel}) << "nothing of a tunnel in the clear";
    expect_drops({{Drop::ipsec_stopped, 2}});
    EXPECT_EQ(counters_.ports[wan_].tx_packets, 1u);
}

TEST_F(TunnelTraffic, StoppedTrafficForwardSendsItInTheClear) {
    ASSERT_NO_FATAL_FAILURE(use(with_tunnels(false, config::StoppedTraffic::Forward)));
    send_from_host(kInPeerTunnel);
    send_from_host(kInNoTunnel);
    EXPECT_EQ(sent_to(), (std::vector<uint32_t>{kInPeerTunnel, kInNoTunnel}));
    expect_drops({});
}

TEST_F(TunnelTraffic, StartedTunnelWithoutAnSaIsDroppedAsNoSa) {
    ASSERT_NO_FATAL_FAILURE(use(with_tunnels(true)));
    send_from_host(kInPeerTunnel);
    send_from_host(kInNoTunnel);
    EXPECT_EQ(sent_to(), std::vector<uint32_t>{kInNoTunnel});
    expect_drops({{Drop::ipsec_no_sa, 1}});
}

// With the peer's SA installed its traffic goes to encapsulation; the manual SA's
// networks (its SA not installed) are still dropped; the rest is left to forwarding.
TEST_F(TunnelTraffic, AnSaTakesItsTrafficBeforeThePolicyDropsTheRest) {
    ASSERT_NO_FATAL_FAILURE(use(with_tunnels(true)));
    std::string error;
    const auto sas = SaTable::create(0, error);
    ASSERT_NE(sas, nullptr) << error;
    OutboundSa sa;
    sa.local_nets = {net("10.1.0.0/24")};
    sa.remote_nets = {net("10.2.3.0/24")};
    ASSERT_TRUE(sas->add_outbound(&sa));
    ctx_.sas = sas.get();

    Burst burst;
    for (const uint32_t dst : {kInPeerTunnel, kInManualTunnel, kInNoTunnel}) {
        const uint16_t i = burst.count++;
        burst.packets[i] = mbuf_of(host_frame(from_host(dst), udp(40000, 9, filler(64, 1))));
        burst.next[i] = Next::Transmit;
        burst.encapsulated[i] = false;
        burst.sa[i] = nullptr;
    }
    esp_match_outbound(ctx_, burst);
    EXPECT_EQ(burst.next[0], Next::EspOut);
    EXPECT_EQ(burst.sa[0], &sa);
    EXPECT_EQ(burst.next[1], Next::Drop);
    EXPECT_EQ(burst.next[2], Next::Transmit);
    expect_drops({{Drop::ipsec_no_sa, 1}});

    for (uint16_t i = 0; i < burst.count; ++i) rte_pktmbuf_free(burst.packets[i]);
    sas->remove_outbound(&sa);
    ctx_.sas = nullptr;
}

}  // namespace
}  // namespace mbox::dataplane

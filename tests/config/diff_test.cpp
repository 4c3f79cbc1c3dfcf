// ConfigDiff: each kind of change found, and nothing found where nothing changed
// (reordered peers, SAs and routes, moved lines).
#include <algorithm>

#include <gtest/gtest.h>

#include "config/diff.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

constexpr std::string_view kBefore = R"(interface eth0
 dpdk-device net_null0
 ip address 198.51.100.1/24
 enable
!
ip route 10.8.0.0/16 nexthop 198.51.100.7
ip route 10.9.0.0/16 nexthop 198.51.100.8
!
ipsec ike-policy 10 authentication psk policy AES SHA 14 version 1
ipsec ike-policy 20 authentication rsa-sig policy AES-256 SHA-256 31
ipsec esp-policy 10 policy AES SHA 14
ipsec esp-policy 20 policy AES-GCM-128
ipsec pki
 ca-cert ca.pem
 local-cert gw1.pem
 local-key gw1.key
!
ipsec peer 203.0.113.2
 local-net 10.1.0.0/24
 remote-net 10.2.0.0/24
 policy ike 10 esp 10
 psk Letmein99
!
ipsec peer 203.0.113.3
 local-net 10.1.0.0/24
 remote-net 10.3.0.0/24
 policy ike 10 esp 20
 psk Letmein99
!
ipsec peer any remote-id vpn.example.com
 local-net 10.1.0.0/24
 remote-net 10.4.0.0/24
 policy ike 20 esp 20
!
ipsec manual-sa a peer 203.0.113.9
ipsec manual-sa b peer 203.0.113.10
firewall-snat 10 exempt outbound eth0 src 10.1.0.0/24
ipsec start
)";

class Diff : public ::testing::Test {
protected:
    const Config before = parse_mbox_clean(kBefore);
    Config after = before;

    ConfigDiff changes() const { return diff(before, after); }
    Peer& peer(std::string_view name) {
        return *std::ranges::find_if(after.peers, [&](const Peer& p) { return p.name() == name; });
    }
};

using Names = std::vector<std::string>;

// (Designated initializers would leave members out, which -Wextra refuses.)
ConfigDiff only(bool ConfigDiff::*flag) {
    ConfigDiff expected;
    expected.*flag = true;
    return expected;
}

ConfigDiff only_peers(KeyedChanges peers) {
    ConfigDiff expected;
    expected.peers = std::move(peers);
    return expected;
}

TEST_F(Diff, NothingChanged) {
    EXPECT_TRUE(changes().empty());
    EXPECT_EQ(changes(), ConfigDiff{});
}

TEST_F(Diff, ReorderingAndMovingLinesIsNoChange) {
    std::ranges::reverse(after.peers);
    std::ranges::reverse(after.manual_sas);
    std::ranges::reverse(after.routes);
    for (auto& peer : after.peers) peer.where.line += 100;
    after.pki.where.line = 99;
    EXPECT_TRUE(changes().empty());
    // The same, written as text in another order.
    const Config reordered = parse_mbox_clean(R"(ipsec manual-sa b peer 203.0.113.10
ipsec peer any remote-id vpn.example.com
 policy ike 20 esp 20
 remote-net 10.4.0.0/24
ipsec peer any remote-id vpn.example.com
 local-net 10.1.0.0/24
ipsec peer 203.0.113.3 local-net 10.1.0.0/24
ipsec peer 203.0.113.3 remote-net 10.3.0.0/24
ipsec peer 203.0.113.3 policy ike 10 esp 20
ipsec peer 203.0.113.3 psk Letmein99
ipsec peer 203.0.113.2 local-net 10.1.0.0/24
ipsec peer 203.0.113.2 remote-net 10.2.0.0/24
ipsec peer 203.0.113.2 policy ike 10 esp 10
ipsec peer 203.0.113.2 psk Letmein99
ipsec manual-sa a peer 203.0.113.9
ipsec pki local-key gw1.key
ipsec pki ca-cert ca.pem
ipsec pki local-cert gw1.pem
ipsec start
firewall-snat 10 exempt outbound eth0 src 10.1.0.0/24
ipsec esp-policy 20 policy AES-GCM-128
ipsec esp-policy 10 policy AES SHA 14
ipsec ike-policy 20 authentication rsa-sig policy AES-256 SHA-256 31
ipsec ike-policy 10 authentication psk policy AES SHA 14 version 1
ip route 10.9.0.0/16 nexthop 198.51.100.8
ip route 10.8.0.0/16 nexthop 198.51.100.7
interface eth0 dpdk-device net_null0
interface eth0 ip address 198.51.100.1/24
interface eth0 enable
)");
    const ConfigDiff found = diff(before, reordered);
    EXPECT_TRUE(found.empty());
}

TEST_F(Diff, InterfacesAndRoutesRebuildForwarding) {
    after.interfaces[0].mtu = 1400;
    EXPECT_EQ(changes(), only(&ConfigDiff::forwarding));
    after = before;
    after.routes.pop_back();
    EXPECT_EQ(changes(), only(&ConfigDiff::forwarding));
    after = before;
    after.routes[0].nexthop = address("198.51.100.9");
    EXPECT_EQ(changes(), only(&ConfigDiff::forwarding));
}

TEST_F(Diff, SnatRulesAndNatSettings) {
    after.snat_rules[0].action = SnatAction::Overload;
    EXPECT_EQ(changes(), only(&ConfigDiff::nat));
    after = before;
    after.nat.timeouts.udp = 30;
    EXPECT_EQ(changes(), only(&ConfigDiff::nat));
}

TEST_F(Diff, IpsecStartStop) {
    after.ipsec_enabled = false;
    EXPECT_EQ(changes(), only(&ConfigDiff::ipsec_enabled));
}

TEST_F(Diff, StoppedTrafficAction) {
    after.ipsec_stopped_traffic = StoppedTraffic::Forward;
    EXPECT_EQ(changes(), only(&ConfigDiff::stopped_traffic));
}

TEST_F(Diff, ManualSasByName) {
    after.manual_sas[0].replay_window = 64;          // a changed
    after.manual_sas.erase(after.manual_sas.begin() + 1);  // b removed
    after.manual_sas.emplace_back().name = "c";           // c added
    EXPECT_EQ(changes().manual_sas, (KeyedChanges{Names{"c"}, Names{"b"}, Names{"a"}}));
    ConfigDiff expected;
    expected.manual_sas = {Names{"c"}, Names{"b"}, Names{"a"}};
    EXPECT_EQ(changes(), expected);
}

TEST_F(Diff, PeersByAddressAndAnyPeersByRemoteId) {
    peer("203.0.113.2").dpd = 30;
    after.peers.erase(after.peers.begin() + 1);  // 203.0.113.3
    Peer added;
    added.remote_id = "user@example.com";
    after.peers.push_back(added);
    EXPECT_EQ(changes(),
              only_peers({Names{"any remote-id user@example.com"}, Names{"203.0.113.3"}, Names{"203.0.113.2"}}));
}

TEST_F(Diff, AnyPeerWithANewRemoteIdIsAnotherPeer) {
    peer("any remote-id vpn.example.com").remote_id = "vpn2.example.com";
    EXPECT_EQ(changes(),
              only_peers({Names{"any remote-id vpn2.example.com"}, Names{"any remote-id vpn.example.com"}, {}}));
}

TEST_F(Diff, ReferencedPolicyChangeChangesThePeer) {
    after.ike_policies.at(10).keylife = 3600;  // used by .2 and .3
    EXPECT_EQ(changes(), only_peers({{}, {}, Names{"203.0.113.2", "203.0.113.3"}}));
    after = before;
    after.esp_policies.at(20).pfs_group = 31;  // used by .3 and the any peer
    EXPECT_EQ(changes(), only_peers({{}, {}, Names{"203.0.113.3", "any remote-id vpn.example.com"}}));
    after = before;
    after.esp_policies[30].id = 30;  // used by nobody
    EXPECT_TRUE(changes().empty());
    after.esp_policies.erase(10);  // a referenced policy vanished
    EXPECT_EQ(changes(), only_peers({{}, {}, Names{"203.0.113.2"}}));
}

TEST_F(Diff, PointingAtAnotherPolicyChangesThePeer) {
    peer("203.0.113.2").esp_policy = 20;
    EXPECT_EQ(changes(), only_peers({{}, {}, Names{"203.0.113.2"}}));
}

TEST_F(Diff, PkiChangeChangesEveryRsaSigPeer) {
    after.pki.local_cert->file = "gw1-renewed.pem";
    ConfigDiff expected = only_peers({{}, {}, Names{"any remote-id vpn.example.com"}});
    expected.pki = true;
    EXPECT_EQ(changes(), expected);
    // A peer that moves from psk to rsa-sig with the pki changing: changed anyway.
    after.ike_policies.at(10).authentication = IkeAuthentication::RsaSig;
    EXPECT_EQ(changes().peers.changed, (Names{"203.0.113.2", "203.0.113.3", "any remote-id vpn.example.com"}));
}

}  // namespace
}  // namespace mbox::config::testing

// Validation: each rule, starting from a configuration that passes, broken one way
// at a time, and the overload/exempt warning in its corner cases.
#include <gtest/gtest.h>

#include "config/validate.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

// Valid and warning-free. The peer's block starts on line 18, snat rules on 24.
constexpr std::string_view kValid = R"(interface eth0
 dpdk-device net_null0
 ip address 198.51.100.1/24
 enable
!
interface eth1
 dpdk-device net_null1
 ip address 10.1.0.1/24
 enable
!
ip route 0.0.0.0/0 nexthop 198.51.100.254
!
ipsec ike-policy 10 authentication psk policy AES SHA 14 version 1
ipsec ike-policy 20 authentication psk policy AES SHA-256 14 version 2
ipsec esp-policy 10 policy AES SHA 14
ipsec esp-policy 20 policy AES MD5-128
!
ipsec peer 203.0.113.2
 local-net 10.1.0.0/24
 remote-net 10.2.0.0/24
 policy ike 10 esp 10
 psk Letmein99
!
firewall-snat 10 exempt outbound eth0 src 10.1.0.0/24 dst 10.2.0.0/24
firewall-snat 20 overload outbound eth0
!
ipsec start
)";

class Validate : public ::testing::Test {
protected:
    Config config = parse_mbox_clean(kValid);
    Peer& peer() { return config.peers.at(0); }

    std::vector<std::string> found() const { return messages(validate(config)); }

    void replace_snat_rules(std::string_view lines) {
        config.snat_rules = parse_mbox_clean(lines).snat_rules;
    }
};

using Lines = std::vector<std::string>;

TEST_F(Validate, TheBaselineIsClean) { EXPECT_EQ(found(), Lines{}); }

TEST_F(Validate, EnabledInterfaceNeedsADevice) {
    config.interfaces[1].dpdk_device.clear();
    EXPECT_EQ(found(), Lines{"test.conf:6: error: interface eth1 is enabled but has no dpdk-device"});
    config.interfaces[1].enabled = false;
    EXPECT_EQ(found(), Lines{});
}

TEST_F(Validate, TwoInterfacesCannotShareADevice) {
    config.interfaces[1].dpdk_device = "net_null0";
    EXPECT_EQ(found(),
              Lines{"test.conf:6: error: interface eth1: dpdk-device 'net_null0' is already used by interface eth0"});
}

TEST_F(Validate, InterfaceNamesAreUnique) {
    config.interfaces.push_back(config.interfaces[1]);
    config.interfaces.back().dpdk_device = "net_null2";
    config.interfaces.back().where.line = 30;
    EXPECT_EQ(found(), Lines{"test.conf:30: error: interface eth1 is already defined at test.conf:6"});
}

TEST_F(Validate, DefaultGatewayMustBeOnTheInterfacesNetwork) {
    config.interfaces[0].default_gateway = address("198.51.100.254");
    EXPECT_EQ(found(), Lines{});
    config.interfaces[0].default_gateway = address("10.1.0.254");
    EXPECT_EQ(found(),
              Lines{"test.conf:1: error: interface eth0: default-gateway 10.1.0.254 is not on a connected network"});
}

TEST_F(Validate, RoutePrefixMustHaveNoHostBits) {
    config.routes[0].prefix = prefix("10.9.0.1/16");
    EXPECT_EQ(found(),
              Lines{"test.conf:11: error: ip route: 10.9.0.1/16 has host bits set (did you mean 10.9.0.0/16?)"});
}

TEST_F(Validate, RouteNexthopMustBeOnAConnectedNetwork) {
    config.routes[0].nexthop = address("192.0.2.1");
    EXPECT_EQ(found(),
              Lines{"test.conf:11: error: ip route 0.0.0.0/0: nexthop 192.0.2.1 is not on a connected network"});
}

TEST_F(Validate, PeerMustNameDefinedPolicies) {
    peer().ike_policy = 30;
    peer().esp_policy = 31;
    EXPECT_EQ(found(), (Lines{"test.conf:18: error: peer 203.0.113.2: ike-policy 30 is not defined",
                              "test.conf:18: error: peer 203.0.113.2: esp-policy 31 is not defined"}));
}

TEST_F(Validate, PeerMustHaveAPolicyStatement) {
    peer().ike_policy.reset();
    peer().esp_policy.reset();
    EXPECT_EQ(found(), Lines{"test.conf:18: error: peer 203.0.113.2: no 'policy ike N esp M' given"});
}

TEST_F(Validate, PeerNeedsLocalAndRemoteNets) {
    peer().local_nets.clear();
    peer().remote_nets.clear();
    EXPECT_EQ(found(), (Lines{"test.conf:18: error: peer 203.0.113.2: no local-net given",
                              "test.conf:18: error: peer 203.0.113.2: no remote-net given"}));
}

TEST_F(Validate, PeerAddressesAreUnique) {
    config.peers.push_back(peer());
    config.peers.back().where.line = 40;
    EXPECT_EQ(found(), Lines{"test.conf:40: error: peer 203.0.113.2 is already defined at test.conf:18"});
}

TEST_F(Validate, NatedNeedsALocalIp) {
    peer().nated = true;
    EXPECT_EQ(found(), Lines{"test.conf:18: error: peer 203.0.113.2: nated is set without a local ip"});
    peer().local_ip = address("198.51.100.1");
    EXPECT_EQ(found(), Lines{});
}

TEST_F(Validate, Md5_128IsIkeV2Only) {
    config.ike_policies.at(10).hash = Hash::Md5_128;
    EXPECT_EQ(found(), Lines{"test.conf:13: error: ike-policy 10: MD5-128 is IKEv2-only, but the policy is version 1"});
    config.ike_policies.at(10).version = 2;
    EXPECT_EQ(found(), Lines{});
}

TEST_F(Validate, Md5_128EspPolicyNeedsAnIkeV2Peer) {
    peer().esp_policy = 20;
    EXPECT_EQ(found(), Lines{"test.conf:18: error: peer 203.0.113.2: esp-policy 20 uses MD5-128, which is IKEv2-only, "
                             "but ike-policy 10 is version 1"});
    peer().ike_policy = 20;
    EXPECT_EQ(found(), Lines{});
}

TEST_F(Validate, PskPolicyNeedsAPsk) {
    peer().psk = SecretText();
    EXPECT_EQ(found(), Lines{"test.conf:18: error: peer 203.0.113.2: ike-policy 10 uses psk authentication but the "
                             "peer has no psk"});
    // rsa-sig needs no psk, but the pki instead.
    config.ike_policies.at(10).authentication = IkeAuthentication::RsaSig;
    EXPECT_EQ(found(), Lines{"test.conf:18: error: peer 203.0.113.2: ike-policy 10 uses rsa-sig authentication but "
                             "ipsec pki has no local-cert, local-key, ca-cert"});
}

TEST_F(Validate, SnatRuleNeedsADefinedInterface) {
    config.snat_rules[0].interface = "eth9";
    config.snat_rules[1].interface = "eth9";
    EXPECT_EQ(found(), (Lines{"test.conf:24: error: firewall-snat 10: interface eth9 is not defined",
                              "test.conf:25: error: firewall-snat 20: interface eth9 is not defined"}));
}

// ---- tunnel traffic caught by overload ----

TEST_F(Validate, OverloadWithoutExemptionWarns) {
    replace_snat_rules("firewall-snat 20 overload outbound eth0\n");
    EXPECT_EQ(found(), Lines{"test.conf:18: warning: peer 203.0.113.2: traffic 10.1.0.0/24 -> 10.2.0.0/24 is caught by "
                             "overload rule 20 with no exempt rule before it"});
}

TEST_F(Validate, ExemptionAfterTheOverloadRuleComesTooLate) {
    replace_snat_rules("firewall-snat 5 overload outbound eth0\nfirewall-snat 10 exempt outbound eth0\n");
    EXPECT_EQ(found(), Lines{"test.conf:18: warning: peer 203.0.113.2: traffic 10.1.0.0/24 -> 10.2.0.0/24 is caught by "
                             "overload rule 5 with no exempt rule before it"});
}

TEST_F(Validate, WiderExemptionCovers) {
    replace_snat_rules("firewall-snat 1 exempt outbound eth0 dst 10.0.0.0/8\nfirewall-snat 2 overload outbound eth0\n");
    EXPECT_EQ(found(), Lines{});
}

TEST_F(Validate, ExemptionOfPartOfTheTrafficDoesNotCover) {
    replace_snat_rules(
        "firewall-snat 1 exempt outbound eth0 src 10.1.0.0/25\nfirewall-snat 2 overload outbound eth0\n");
    EXPECT_EQ(found().size(), 1u);
    replace_snat_rules("firewall-snat 1 exempt outbound eth0 tcp\nfirewall-snat 2 overload outbound eth0\n");
    EXPECT_EQ(found().size(), 1u);
}

TEST_F(Validate, ProtocolLimitedOverloadWarnsForItsPart) {
    replace_snat_rules("firewall-snat 1 overload outbound eth0 udp\n");
    EXPECT_EQ(found(), Lines{"test.conf:18: warning: peer 203.0.113.2: traffic 10.1.0.0/24 -> 10.2.0.0/24 is caught by "
                             "overload rule 1 (udp only) with no exempt rule before it"});
    replace_snat_rules("firewall-snat 1 exempt outbound eth0 udp\nfirewall-snat 2 overload outbound eth0 udp\n");
    EXPECT_EQ(found(), Lines{});
}

TEST_F(Validate, NatIntoATunnelDoesNotWarnAboutTheTranslatedNetwork) {
    // The tunnel's local network holds the translate pool: its traffic is the chain's
    // output, not its input.
    for (auto& peer : config.peers) peer.local_nets = {Ipv4Prefix::parse("172.16.0.0/24").value()};
    replace_snat_rules("firewall-snat 5 translate outbound eth0 src 10.1.0.0/16 xsrc 172.16.0.1\n"
                       "firewall-snat 20 overload outbound eth0\n");
    EXPECT_EQ(found(), Lines{});
    // Without the pool in it, the same tunnel is caught by the overload rule.
    replace_snat_rules("firewall-snat 20 overload outbound eth0\n");
    EXPECT_EQ(found().size(), 1u);
}

TEST_F(Validate, TranslateWithoutExemptionWarns) {
    replace_snat_rules("firewall-snat 3 translate outbound eth0 src 10.1.0.0/16 xsrc 198.51.100.50-198.51.100.60\n");
    EXPECT_EQ(found(), Lines{"test.conf:18: warning: peer 203.0.113.2: traffic 10.1.0.0/24 -> 10.2.0.0/24 is caught by "
                             "translate rule 3 with no exempt rule before it"});
}

TEST_F(Validate, OverloadThatDoesNotMatchTheTunnelDoesNotWarn) {
    replace_snat_rules("firewall-snat 1 overload outbound eth0 src 192.168.0.0/16\n"
                       "firewall-snat 2 overload outbound eth0 dst 10.9.0.0/16\n");
    EXPECT_EQ(found(), Lines{});
}

TEST_F(Validate, ExemptionOnAnotherInterfaceDoesNotCover) {
    replace_snat_rules("firewall-snat 1 exempt outbound eth1\nfirewall-snat 2 overload outbound eth0\n");
    EXPECT_EQ(found(), Lines{"test.conf:18: warning: peer 203.0.113.2: traffic 10.1.0.0/24 -> 10.2.0.0/24 is caught by "
                             "overload rule 2 with no exempt rule before it"});
}

TEST_F(Validate, EachUnexemptedNetworkPairWarns) {
    peer().local_nets.push_back(prefix("10.3.0.0/24"));
    peer().remote_nets.push_back(prefix("10.4.0.0/24"));
    const Lines warnings = found();
    ASSERT_EQ(warnings.size(), 3u);  // all pairs but 10.1.0.0/24 -> 10.2.0.0/24
    EXPECT_NE(warnings[0].find("10.1.0.0/24 -> 10.4.0.0/24"), std::string::npos);
    EXPECT_NE(warnings[1].find("10.3.0.0/24 -> 10.2.0.0/24"), std::string::npos);
    EXPECT_NE(warnings[2].find("10.3.0.0/24 -> 10.4.0.0/24"), std::string::npos);
}

}  // namespace
}  // namespace mbox::config::testing

// The mbox language parser: every command, in block and single-line form, lands in
// the model field it names.
#include <gtest/gtest.h>

#include "config/mbox_language.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

const Interface& only_interface(const Config& config) {
    EXPECT_EQ(config.interfaces.size(), 1u);
    return config.interfaces.at(0);
}

const Peer& only_peer(const Config& config) {
    EXPECT_EQ(config.peers.size(), 1u);
    return config.peers.at(0);
}

// ---- interfaces ----

TEST(MboxInterface, BlockSetsEveryField) {
    const Config config = parse_mbox_clean(R"(interface eth0
 dpdk-device net_af_packet0,iface=wan0
 ip address 198.51.100.1/24
 ip address 198.51.100.2/32
 mtu 9000
 description uplink to the ISP
 ip default-gateway 198.51.100.254
 enable
!
)");
    const Interface& eth0 = only_interface(config);
    EXPECT_EQ(eth0.name, "eth0");
    EXPECT_EQ(eth0.dpdk_device, "net_af_packet0,iface=wan0");
    EXPECT_EQ(eth0.addresses, (std::vector{prefix("198.51.100.1/24"), prefix("198.51.100.2/32")}));
    EXPECT_EQ(eth0.mtu, 9000);
    EXPECT_EQ(eth0.description, "uplink to the ISP");
    EXPECT_EQ(eth0.default_gateway, address("198.51.100.254"));
    EXPECT_TRUE(eth0.enabled);
    EXPECT_EQ(eth0.where.line, 1);
}

TEST(MboxInterface, AcceptsPciAddressAsDevice) {
    EXPECT_EQ(only_interface(parse_mbox_clean("interface eth1\n dpdk-device 0000:3b:00.0\n")).dpdk_device,
              "0000:3b:00.0");
}

TEST(MboxInterface, ShutdownAndNoEnableDisable) {
    EXPECT_FALSE(only_interface(parse_mbox_clean("interface eth0\n enable\n shutdown\n")).enabled);
    EXPECT_FALSE(only_interface(parse_mbox_clean("interface eth0\n enable\n no enable\n")).enabled);
    EXPECT_TRUE(only_interface(parse_mbox_clean("interface eth0\n shutdown\n enable\n")).enabled);
}

TEST(MboxInterface, DescriptionQuotesAreOptionalAndStripped) {
    EXPECT_EQ(only_interface(parse_mbox_clean("interface eth0\n description \"to the lab\"\n")).description,
              "to the lab");
    EXPECT_EQ(only_interface(parse_mbox_clean("interface eth0\n description \" padded \"\n")).description,
              " padded ");
    EXPECT_EQ(only_interface(parse_mbox_clean("interface eth0\n description say \"hi\" twice\n")).description,
              "say \"hi\" twice");
}

TEST(MboxInterface, MtuBoundsAreInclusive) {
    EXPECT_EQ(only_interface(parse_mbox_clean("interface eth0\n mtu 68\n")).mtu, 68);
    EXPECT_EQ(only_interface(parse_mbox_clean("interface eth0\n mtu 9600\n")).mtu, 9600);
}

TEST(MboxInterface, SingleLineFormsAccumulateIntoOneInterface) {
    const Config config = parse_mbox_clean(R"(interface eth0 dpdk-device net_tap0
interface eth0 ip address 10.1.0.1/24
interface eth0 ip address 10.9.0.1/24
interface eth0 mtu 1400
interface eth0 description lab side
interface eth0 ip default-gateway 10.1.0.254
interface eth0 enable
)");
    const Interface& eth0 = only_interface(config);
    EXPECT_EQ(eth0.dpdk_device, "net_tap0");
    EXPECT_EQ(eth0.addresses, (std::vector{prefix("10.1.0.1/24"), prefix("10.9.0.1/24")}));
    EXPECT_EQ(eth0.mtu, 1400);
    EXPECT_EQ(eth0.description, "lab side");
    EXPECT_EQ(eth0.default_gateway, address("10.1.0.254"));
    EXPECT_TRUE(eth0.enabled);
    EXPECT_EQ(eth0.where.line, 1);  // where it was first named
}

TEST(MboxInterface, SingleLineAndBlockFormsBuildTheSameModel) {
    EXPECT_EQ(parse_mbox_clean("interface eth0 shutdown\ninterface eth0 no enable\ninterface eth0 mtu 1280\n"),
              parse_mbox_clean("interface eth0\n shutdown\n mtu 1280\n!\n"));
}

TEST(MboxInterface, ReopenedBlockMergesAndOrderIsKept) {
    const Config config = parse_mbox_clean(R"(interface eth1
 mtu 1400
!
interface eth0
!
interface eth1
 enable
)");
    ASSERT_EQ(config.interfaces.size(), 2u);
    EXPECT_EQ(config.interfaces[0].name, "eth1");
    EXPECT_EQ(config.interfaces[0].mtu, 1400);
    EXPECT_TRUE(config.interfaces[0].enabled);
    EXPECT_EQ(config.interfaces[1].name, "eth0");
}

// ---- lines, comments, blocks ----

TEST(MboxLines, CommentsBlankLinesAndStrayBangsAreIgnored) {
    const Config config =
        parse_mbox_clean("# lab gateway\n\n!\n   \n  # indented comment\ninterface eth0\r\n mtu 1400\r\n");
    EXPECT_EQ(only_interface(config).mtu, 1400);
}

TEST(MboxLines, BangWithTextIsACommentThatEndsTheBlock) {
    const ParseResult result =
        parse_mbox("! WAN side\ninterface eth0\n mtu 1400\n! end of eth0\n mtu 1500\n", "t.conf");
    EXPECT_EQ(messages(result.diagnostics),
              std::vector<std::string>{"t.conf:5: error: indented line outside a block (expected a header such as "
                                       "'interface NAME' above it)"});
    EXPECT_EQ(only_interface(result.config).mtu, 1400);
}

TEST(MboxLines, TabsIndentAndKeywordsIgnoreCase) {
    EXPECT_EQ(only_interface(parse_mbox_clean("Interface eth0\n\tMTU 1400\n\tEnable\n")).mtu, 1400);
}

TEST(MboxLines, UnindentedLineEndsTheBlock) {
    const ParseResult result = parse_mbox("interface eth0\n mtu 1400\nipsec start\n mtu 1500\n", "t.conf");
    EXPECT_EQ(messages(result.diagnostics),
              std::vector<std::string>{"t.conf:4: error: indented line outside a block (expected a header such as "
                                       "'interface NAME' above it)"});
    EXPECT_EQ(only_interface(result.config).mtu, 1400);
}

TEST(MboxLines, EmptyTextIsAnEmptyConfig) {
    EXPECT_EQ(parse_mbox_clean(""), Config{});
}

// ---- routes and ipsec start/stop ----

TEST(MboxRoute, RoutesKeepTheirOrder) {
    const Config config =
        parse_mbox_clean("ip route 0.0.0.0/0 nexthop 198.51.100.254\nip route 10.8.0.0/16 nexthop 10.1.0.2\n");
    ASSERT_EQ(config.routes.size(), 2u);
    EXPECT_EQ(config.routes[0].prefix, prefix("0.0.0.0/0"));
    EXPECT_EQ(config.routes[0].nexthop, address("198.51.100.254"));
    EXPECT_EQ(config.routes[1].prefix, prefix("10.8.0.0/16"));
    EXPECT_EQ(config.routes[1].nexthop, address("10.1.0.2"));
    EXPECT_EQ(config.routes[1].where.line, 2);
}

TEST(MboxIpsec, StartAndStopLastOneWins) {
    EXPECT_FALSE(parse_mbox_clean("").ipsec_enabled);
    EXPECT_TRUE(parse_mbox_clean("ipsec stop\nipsec start\n").ipsec_enabled);
    const Config stopped = parse_mbox_clean("ipsec start\nipsec stop\n");
    EXPECT_FALSE(stopped.ipsec_enabled);
    EXPECT_EQ(stopped.ipsec_enabled_where.line, 2);
}

TEST(MboxIpsec, StoppedTrafficIsDroppedUnlessForwardIsAsked) {
    EXPECT_EQ(parse_mbox_clean("").ipsec_stopped_traffic, StoppedTraffic::Drop);
    EXPECT_EQ(parse_mbox_clean("ipsec stopped-traffic forward\n").ipsec_stopped_traffic, StoppedTraffic::Forward);
    EXPECT_EQ(parse_mbox_clean("ipsec stopped-traffic FORWARD\nipsec stopped-traffic drop\n").ipsec_stopped_traffic,
              StoppedTraffic::Drop)
        << "the last line wins, words in any case";
}

// ---- policies ----

TEST(MboxIkePolicy, HeaderAloneGivesTheDefaults) {
    const Config config = parse_mbox_clean("ipsec ike-policy 7\n");
    const IkePolicy& policy = config.ike_policies.at(7);
    EXPECT_EQ(policy.id, 7);
    EXPECT_EQ(policy.authentication, IkeAuthentication::Psk);
    EXPECT_EQ(policy.keylife, kDefaultIkeKeylife);
    EXPECT_EQ(policy.version, 2);
}

TEST(MboxIkePolicy, BlockAndSingleLineFormsAgree) {
    const Config block = parse_mbox_clean(R"(ipsec ike-policy 20
 authentication rsa-sig
 policy AES-192 SHA-512 19
 keylife 7200
 version 1
!
)");
    const IkePolicy& policy = block.ike_policies.at(20);
    EXPECT_EQ(policy.authentication, IkeAuthentication::RsaSig);
    EXPECT_EQ(policy.encryption, Encryption::Aes192);
    EXPECT_EQ(policy.hash, Hash::Sha512);
    EXPECT_EQ(policy.dh_group, 19);
    EXPECT_EQ(policy.keylife, 7200u);
    EXPECT_EQ(policy.version, 1);
    EXPECT_EQ(parse_mbox_clean(
                  "ipsec ike-policy 20 authentication rsa-sig policy AES-192 SHA-512 19 keylife 7200 version 1\n"),
              block);
    // The sub-commands may come in any order on the single line.
    EXPECT_EQ(parse_mbox_clean(
                  "ipsec ike-policy 20 version 1 keylife 7200 policy AES-192 SHA-512 19 authentication rsa-sig\n"),
              block);
}

TEST(MboxIkePolicy, Curve25519IsGroup31InBothPolicies) {
    const Config config = parse_mbox_clean("ipsec ike-policy 1 policy AES-256 SHA-256 31\n"
                                           "ipsec esp-policy 1 policy AES-GCM-256 31\n");
    EXPECT_EQ(config.ike_policies.at(1).dh_group, 31);
    EXPECT_EQ(config.esp_policies.at(1).pfs_group, 31);
}

TEST(MboxIkePolicy, AlgorithmWordsIgnoreCase) {
    const Config config = parse_mbox_clean("ipsec ike-policy 1 policy aes-256 md5-128 21\n");
    const IkePolicy& policy = config.ike_policies.at(1);
    EXPECT_EQ(policy.encryption, Encryption::Aes256);
    EXPECT_EQ(policy.hash, Hash::Md5_128);
    EXPECT_EQ(policy.dh_group, 21);
}

TEST(MboxEspPolicy, PfsGroupIsOptional) {
    const Config config = parse_mbox_clean(R"(ipsec esp-policy 10 policy AES SHA 2 keylife 3600
ipsec esp-policy 11 policy 3DES MD5
ipsec esp-policy 12
 policy AES-256 SHA-256 14
 keylife 1800
!
ipsec esp-policy 13
 policy AES MD5-128
)");
    const EspPolicy& p10 = config.esp_policies.at(10);
    EXPECT_EQ(p10.encryption, Encryption::Aes128);
    EXPECT_EQ(p10.hash, Hash::Sha1);
    EXPECT_EQ(p10.pfs_group, 2);
    EXPECT_EQ(p10.keylife, 3600u);
    const EspPolicy& p11 = config.esp_policies.at(11);
    EXPECT_EQ(p11.encryption, Encryption::TripleDes);
    EXPECT_EQ(p11.hash, Hash::Md5);
    EXPECT_EQ(p11.pfs_group, std::nullopt);
    EXPECT_EQ(p11.keylife, kDefaultEspKeylife);
    const EspPolicy& p12 = config.esp_policies.at(12);
    EXPECT_EQ(p12.encryption, Encryption::Aes256);
    EXPECT_EQ(p12.hash, Hash::Sha256);
    EXPECT_EQ(p12.pfs_group, 14);
    EXPECT_EQ(p12.keylife, 1800u);
    EXPECT_EQ(config.esp_policies.at(13).hash, Hash::Md5_128);
    EXPECT_EQ(config.esp_policies.at(13).pfs_group, std::nullopt);
}

// ---- peers ----

TEST(MboxPeer, BlockSetsEveryField) {
    const Config config = parse_mbox_clean(R"(ipsec peer 203.0.113.2
 local ip 198.51.100.1 nated
 local-id gw1.example.net
 local-net 10.1.0.0/24,10.3.0.0/24
 local-net 10.4.0.0/24
 remote-id 192.168.7.2
 remote-ip any
 remote-net 10.2.0.0/24
 policy ike 10 esp 20
 psk "Let me in 99"
!
)");
    const Peer& peer = only_peer(config);
    EXPECT_EQ(peer.address, address("203.0.113.2"));
    EXPECT_EQ(peer.local_ip, address("198.51.100.1"));
    EXPECT_TRUE(peer.nated);
    EXPECT_EQ(peer.local_id, "gw1.example.net");
    EXPECT_EQ(peer.local_nets, (std::vector{prefix("10.1.0.0/24"), prefix("10.3.0.0/24"), prefix("10.4.0.0/24")}));
    EXPECT_EQ(peer.remote_id, "192.168.7.2");
    EXPECT_TRUE(peer.remote_ip_any);
    EXPECT_EQ(peer.remote_nets, std::vector{prefix("10.2.0.0/24")});
    EXPECT_EQ(peer.ike_policy, 10);
    EXPECT_EQ(peer.esp_policy, 20);
    EXPECT_EQ(peer.psk, "Let me in 99");
}

TEST(MboxPeer, LocalIpWithoutNated) {
    const Config config = parse_mbox_clean("ipsec peer 203.0.113.2\n local ip 198.51.100.1\n");
    const Peer& peer = only_peer(config);
    EXPECT_EQ(peer.local_ip, address("198.51.100.1"));
    EXPECT_FALSE(peer.nated);
}

TEST(MboxPeer, PskKeepsEverythingAfterTheKeyword) {
    EXPECT_EQ(only_peer(parse_mbox_clean("ipsec peer 192.0.2.1 psk Letmein99\n")).psk, "Letmein99");
    EXPECT_EQ(only_peer(parse_mbox_clean("ipsec peer 192.0.2.1 psk a#b \"c\n")).psk, "a#b \"c");
}

TEST(MboxPeer, SingleLineFormsAccumulateIntoOnePeer) {
    const Config single = parse_mbox_clean(R"(ipsec peer 203.0.113.2 local ip 198.51.100.1 nated
ipsec peer 203.0.113.2 local-net 10.1.0.0/24
ipsec peer 203.0.113.2 local-net 10.3.0.0/24
ipsec peer 203.0.113.2 remote-net 10.2.0.0/24
ipsec peer 203.0.113.2 policy ike 10 esp 10
ipsec peer 203.0.113.2 psk Letmein99
)");
    const Config block = parse_mbox_clean(R"(ipsec peer 203.0.113.2
 local ip 198.51.100.1 nated
 local-net 10.1.0.0/24,10.3.0.0/24
 remote-net 10.2.0.0/24
 policy ike 10 esp 10
 psk Letmein99
)");
    EXPECT_EQ(single, block);
    EXPECT_EQ(only_peer(single).local_nets.size(), 2u);
}

TEST(MboxPeer, PolicyAppliedAgainReplacesTheOldOne) {
    const Config config =
        parse_mbox_clean("ipsec peer 192.0.2.1 policy ike 1 esp 2\nipsec peer 192.0.2.1 policy ike 3 esp 4\n");
    const Peer& peer = only_peer(config);
    EXPECT_EQ(peer.ike_policy, 3);
    EXPECT_EQ(peer.esp_policy, 4);
}

// ---- firewall-snat ----

TEST(MboxSnat, EveryOptionInAnyOrder) {
    const Config config = parse_mbox_clean(
        "firewall-snat 30 exempt outbound eth0 remark \"say \\\"hi\\\"\" dst 10.2.0.0/24,10.5.0.0/16 udp "
        "src 10.1.0.0/24\n");
    ASSERT_EQ(config.snat_rules.size(), 1u);
    const SnatRule& rule = config.snat_rules[0];
    EXPECT_EQ(rule.rule, 30);
    EXPECT_EQ(rule.action, SnatAction::Exempt);
    EXPECT_EQ(rule.interface, "eth0");
    EXPECT_EQ(rule.protocol, IpProtocol::Udp);
    EXPECT_EQ(rule.src, std::vector{prefix("10.1.0.0/24")});
    EXPECT_EQ(rule.dst, (std::vector{prefix("10.2.0.0/24"), prefix("10.5.0.0/16")}));
    EXPECT_EQ(rule.remark, "say \"hi\"");
}

TEST(MboxSnat, MinimalRuleMatchesEverything) {
    const Config config = parse_mbox_clean("firewall-snat 12 overload outbound eth0\n");
    ASSERT_EQ(config.snat_rules.size(), 1u);
    const SnatRule& rule = config.snat_rules[0];
    EXPECT_EQ(rule.action, SnatAction::Overload);
    EXPECT_EQ(rule.protocol, std::nullopt);
    EXPECT_TRUE(rule.src.empty());
    EXPECT_TRUE(rule.dst.empty());
    EXPECT_EQ(rule.remark, "");
}

TEST(MboxSnat, ProtocolsAndUnquotedRemark) {
    const Config config = parse_mbox_clean(
        "firewall-snat 1 overload outbound eth0 tcp remark web\nfirewall-snat 2 overload outbound eth0 icmp\n");
    ASSERT_EQ(config.snat_rules.size(), 2u);
    EXPECT_EQ(config.snat_rules[0].protocol, IpProtocol::Tcp);
    EXPECT_EQ(config.snat_rules[0].remark, "web");
    EXPECT_EQ(config.snat_rules[1].protocol, IpProtocol::Icmp);
}

TEST(MboxSnat, RulesAreSortedByNumber) {
    const Config config = parse_mbox_clean(R"(firewall-snat 20 overload outbound eth0
firewall-snat 5 exempt outbound eth0
firewall-snat 65535 overload outbound eth1
firewall-snat 1 exempt outbound eth1
)");
    std::vector<int> numbers;
    for (const auto& rule : config.snat_rules) numbers.push_back(rule.rule);
    EXPECT_EQ(numbers, (std::vector{1, 5, 20, 65535}));
    EXPECT_EQ(config.snat_rules[0].where.line, 4);
}

TEST(MboxSnat, TranslateTakesAPoolOrOneAddress) {
    const Config config = parse_mbox_clean(
        "firewall-snat 40 translate outbound eth0 src 10.1.0.0/24 xsrc 198.51.100.10-198.51.100.20\n"
        "firewall-snat 41 translate outbound eth0 xsrc 198.51.100.30 remark static\n");
    ASSERT_EQ(config.snat_rules.size(), 2u);
    EXPECT_EQ(config.snat_rules[0].action, SnatAction::Translate);
    ASSERT_TRUE(config.snat_rules[0].xsrc);
    EXPECT_EQ(config.snat_rules[0].xsrc->first.to_string(), "198.51.100.10");
    EXPECT_EQ(config.snat_rules[0].xsrc->last.to_string(), "198.51.100.20");
    EXPECT_EQ(config.snat_rules[0].xsrc->size(), 11u);
    ASSERT_TRUE(config.snat_rules[1].xsrc);
    EXPECT_EQ(config.snat_rules[1].xsrc->first, config.snat_rules[1].xsrc->last);
}

TEST(MboxNat, SettingsAndDefaults) {
    EXPECT_EQ(parse_mbox_clean("").nat, NatSettings{});
    const Config config = parse_mbox_clean(
        "firewall-nat sessions 4096\nfirewall-nat port-range 10000-10999\n"
        "firewall-nat timeout tcp-established 600\nfirewall-nat timeout tcp-transitory 30\n"
        "firewall-nat timeout udp 20\nfirewall-nat timeout icmp 5\nfirewall-nat timeout other 7\n");
    EXPECT_EQ(config.nat.sessions, 4096u);
    EXPECT_EQ(config.nat.port_first, 10000);
    EXPECT_EQ(config.nat.port_last, 10999);
    EXPECT_EQ(config.nat.timeouts, (NatTimeouts{600, 30, 20, 5, 7}));
    EXPECT_EQ(config.nat.where.line, 1);
}

}  // namespace
}  // namespace mbox::config::testing

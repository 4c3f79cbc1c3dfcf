// The DESIGN.md example configurations: they parse cleanly, say the same thing in
// both forms (apart from the documented differences), and validate with exactly the
// warning their NAT rules deserve.
#include <string>

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "design_example.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

// The YAML example points at a secret under /etc; the test keeps it beside the YAML file.
Config parse_design_yaml(const TemporaryDirectory& directory) {
    directory.write("secrets/203.0.113.2.psk", "Letmein99\n");
    std::string yaml(kDesignExampleYaml);
    yaml.replace(yaml.find(kDesignExamplePskFile), kDesignExamplePskFile.size(), "secrets/203.0.113.2.psk");
    return parse_yaml_clean(yaml, (directory.path() / "design.yaml").string());
}

TEST(DesignExample, MboxFormParsesIntoTheModel) {
    const Config config = parse_mbox_clean(kDesignExampleMbox);

    ASSERT_EQ(config.interfaces.size(), 2u);
    EXPECT_EQ(config.interfaces[0].name, "eth0");
    EXPECT_EQ(config.interfaces[0].dpdk_device, "net_af_packet0,iface=wan0");
    EXPECT_EQ(config.interfaces[0].addresses, std::vector{prefix("198.51.100.1/24")});
    EXPECT_TRUE(config.interfaces[0].enabled);
    EXPECT_EQ(config.interfaces[1].dpdk_device, "net_af_packet1,iface=lan0");
    ASSERT_EQ(config.routes.size(), 1u);
    EXPECT_EQ(config.routes[0].prefix, prefix("0.0.0.0/0"));
    EXPECT_EQ(config.routes[0].nexthop, address("198.51.100.254"));

    const IkePolicy& ike10 = config.ike_policies.at(10);
    EXPECT_EQ(ike10.authentication, IkeAuthentication::Psk);
    EXPECT_EQ(ike10.encryption, Encryption::TripleDes);
    EXPECT_EQ(ike10.hash, Hash::Md5);
    EXPECT_EQ(ike10.dh_group, 2);
    EXPECT_EQ(ike10.keylife, 3600u);
    EXPECT_EQ(ike10.version, 1);
    const IkePolicy& ike20 = config.ike_policies.at(20);
    EXPECT_EQ(ike20.authentication, IkeAuthentication::RsaSig);
    EXPECT_EQ(ike20.encryption, Encryption::Aes256);
    EXPECT_EQ(ike20.hash, Hash::Sha256);
    EXPECT_EQ(ike20.dh_group, 14);
    EXPECT_EQ(ike20.keylife, 28800u);
    EXPECT_EQ(ike20.version, 2);
    const EspPolicy& esp10 = config.esp_policies.at(10);
    EXPECT_EQ(esp10.encryption, Encryption::Aes128);
    EXPECT_EQ(esp10.hash, Hash::Sha1);
    EXPECT_EQ(esp10.pfs_group, 2);
    EXPECT_EQ(esp10.keylife, 3600u);

    ASSERT_EQ(config.peers.size(), 1u);
    const Peer& peer = config.peers[0];
    EXPECT_EQ(peer.address, address("203.0.113.2"));
    EXPECT_EQ(peer.local_ip, address("198.51.100.1"));
    EXPECT_TRUE(peer.nated);
    EXPECT_EQ(peer.local_nets, (std::vector{prefix("10.1.0.0/24"), prefix("10.3.0.0/24")}));
    EXPECT_EQ(peer.remote_id, "192.168.7.2");
    EXPECT_EQ(peer.remote_nets, std::vector{prefix("10.2.0.0/24")});
    EXPECT_EQ(peer.ike_policy, 10);
    EXPECT_EQ(peer.esp_policy, 10);
    EXPECT_EQ(peer.psk, "Letmein99");

    ASSERT_EQ(config.snat_rules.size(), 2u);
    EXPECT_EQ(config.snat_rules[0].rule, 10);
    EXPECT_EQ(config.snat_rules[0].action, SnatAction::Exempt);
    EXPECT_EQ(config.snat_rules[0].remark, "bypass NAT for VPN tunnel");
    EXPECT_EQ(config.snat_rules[1].rule, 12);
    EXPECT_EQ(config.snat_rules[1].action, SnatAction::Overload);
    EXPECT_TRUE(config.ipsec_enabled);
}

// DESIGN.md's two examples differ in three places; past those they must be equal.
TEST(DesignExample, YamlFormSaysTheSameAsTheMboxForm) {
    const TemporaryDirectory directory;
    const Config from_mbox = parse_mbox_clean(kDesignExampleMbox);
    Config from_yaml = parse_design_yaml(directory);

    // 1. eth1 is a PCI device with an explicit MTU in the YAML example.
    ASSERT_EQ(from_yaml.interfaces.size(), 2u);
    EXPECT_EQ(from_yaml.interfaces[1].dpdk_device, "0000:3b:00.0");
    EXPECT_EQ(from_yaml.interfaces[1].mtu, 1500);
    from_yaml.interfaces[1].dpdk_device = "net_af_packet1,iface=lan0";
    from_yaml.interfaces[1].mtu.reset();
    // 2. ike-policy 20 appears in the mbox example only.
    EXPECT_FALSE(from_yaml.ike_policies.contains(20));
    from_yaml.ike_policies[20] = from_mbox.ike_policies.at(20);
    // 3. The secret comes from a psk-file.
    ASSERT_EQ(from_yaml.peers.size(), 1u);
    EXPECT_EQ(from_yaml.peers[0].psk_file, "secrets/203.0.113.2.psk");
    EXPECT_EQ(from_yaml.peers[0].psk, "Letmein99");
    from_yaml.peers[0].psk_file.clear();

    EXPECT_EQ(from_yaml, from_mbox);
}

// 10.3.0.0/24 is a local-net that rule 10 does not exempt, so rule 12 translates it.
TEST(DesignExample, ValidatesWithOneWarningForTheUnexemptedLocalNet) {
    const TemporaryDirectory directory;
    const auto conf = directory.write("design.conf", kDesignExampleMbox);
    EXPECT_EQ(messages(load_file(conf.string()).diagnostics),
              std::vector<std::string>{conf.string() +
                                       ":22: warning: peer 203.0.113.2: traffic 10.3.0.0/24 -> 10.2.0.0/24 is caught "
                                       "by overload rule 12 with no exempt rule before it"});

    parse_design_yaml(directory);  // writes the secret
    std::string yaml(kDesignExampleYaml);
    yaml.replace(yaml.find(kDesignExamplePskFile), kDesignExamplePskFile.size(), "secrets/203.0.113.2.psk");
    const auto yaml_file = directory.write("design.yaml", yaml);
    EXPECT_EQ(messages(load_file(yaml_file.string()).diagnostics),
              std::vector<std::string>{yaml_file.string() +
                                       ":13: warning: peer 203.0.113.2: traffic 10.3.0.0/24 -> 10.2.0.0/24 is caught "
                                       "by overload rule 12 with no exempt rule before it (ipsec.peers.203.0.113.2)"});
}

TEST(DesignExample, EmitsInCanonicalBlockForm) {
    EXPECT_EQ(emit_mbox(parse_mbox_clean(kDesignExampleMbox)), R"(interface eth0
 dpdk-device net_af_packet0,iface=wan0
 ip address 198.51.100.1/24
 enable
!
interface eth1
 dpdk-device net_af_packet1,iface=lan0
 ip address 10.1.0.1/24
 enable
!
ip route 0.0.0.0/0 nexthop 198.51.100.254
!
ipsec ike-policy 10
 authentication psk
 policy 3DES MD5 2
 keylife 3600
 version 1
!
ipsec ike-policy 20
 authentication rsa-sig
 policy AES-256 SHA-256 14
 keylife 28800
 version 2
!
ipsec esp-policy 10
 policy AES SHA 2
 keylife 3600
!
ipsec peer 203.0.113.2
 local ip 198.51.100.1 nated
 local-net 10.1.0.0/24,10.3.0.0/24
 remote-id 192.168.7.2
 remote-net 10.2.0.0/24
 policy ike 10 esp 10
 psk Letmein99
!
firewall-snat 10 exempt outbound eth0 src 10.1.0.0/24 dst 10.2.0.0/24 remark "bypass NAT for VPN tunnel"
firewall-snat 12 overload outbound eth0 remark "PAT all sources for Internet access"
!
ipsec start
)");
}

}  // namespace
}  // namespace mbox::config::testing

// The YAML form: every key lands in its model field, and every mistake is a
// diagnostic with line and key path, never an exception.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/yaml_form.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

std::vector<std::string> yaml_errors(std::string_view text) {
    return messages(parse_yaml(text, "t.yaml").diagnostics);
}

TEST(YamlForm, EmptyDocumentsAreEmptyConfigs) {
    EXPECT_EQ(parse_yaml_clean(""), Config{});
    EXPECT_EQ(parse_yaml_clean("# nothing yet\n"), Config{});
    EXPECT_EQ(parse_yaml_clean("interfaces:\nroutes:\nipsec:\nfirewall:\n"), Config{});
}

TEST(YamlForm, InterfaceKeys) {
    const Config config = parse_yaml_clean(R"(interfaces:
  eth0:
    dpdk-device: "net_af_packet0,iface=wan0"
    addresses: [198.51.100.1/24, 198.51.100.2/32]
    mtu: 9000
    enabled: true
    description: uplink to the ISP
    default-gateway: 198.51.100.254
  eth1: {dpdk-device: "0000:3b:00.0", enabled: false}
)");
    ASSERT_EQ(config.interfaces.size(), 2u);
    const Interface& eth0 = config.interfaces[0];
    EXPECT_EQ(eth0.name, "eth0");
    EXPECT_EQ(eth0.dpdk_device, "net_af_packet0,iface=wan0");
    EXPECT_EQ(eth0.addresses, (std::vector{prefix("198.51.100.1/24"), prefix("198.51.100.2/32")}));
    EXPECT_EQ(eth0.mtu, 9000);
    EXPECT_TRUE(eth0.enabled);
    EXPECT_EQ(eth0.description, "uplink to the ISP");
    EXPECT_EQ(eth0.default_gateway, address("198.51.100.254"));
    EXPECT_EQ(eth0.where.line, 2);
    EXPECT_EQ(eth0.where.key_path, "interfaces.eth0");
    EXPECT_EQ(config.interfaces[1].name, "eth1");
    EXPECT_EQ(config.interfaces[1].dpdk_device, "0000:3b:00.0");
    EXPECT_FALSE(config.interfaces[1].enabled);
}

TEST(YamlForm, Routes) {
    const Config config = parse_yaml_clean(R"(routes:
  - {prefix: 0.0.0.0/0, nexthop: 198.51.100.254}
  - prefix: 10.8.0.0/16
    nexthop: 10.1.0.2
)");
    ASSERT_EQ(config.routes.size(), 2u);
    EXPECT_EQ(config.routes[0].prefix, prefix("0.0.0.0/0"));
    EXPECT_EQ(config.routes[0].nexthop, address("198.51.100.254"));
    EXPECT_EQ(config.routes[1].prefix, prefix("10.8.0.0/16"));
    EXPECT_EQ(config.routes[1].nexthop, address("10.1.0.2"));
    EXPECT_EQ(config.routes[1].where.line, 3);
    EXPECT_EQ(config.routes[1].where.key_path, "routes[1]");
}

TEST(YamlForm, Curve25519IsGroup31InBothPolicies) {
    const Config config = parse_yaml_clean("ipsec:\n  ike-policies: {1: {dh-group: 31}}\n"
                                           "  esp-policies: {1: {encryption: AES-GCM-128, pfs-group: 31}}\n");
    EXPECT_EQ(config.ike_policies.at(1).dh_group, 31);
    EXPECT_EQ(config.esp_policies.at(1).pfs_group, 31);
}

TEST(YamlForm, IpsecPolicies) {
    const Config config = parse_yaml_clean(R"(ipsec:
  enabled: true
  ike-policies:
    10: {authentication: rsa-sig, encryption: aes-256, hash: SHA-512, dh-group: 19, keylife: 7200, version: 1}
    11: {}
  esp-policies:
    10: {encryption: 3DES, hash: MD5-128, pfs-group: 14, keylife: 1800}
    11: {encryption: AES-192, hash: SHA-256}
)");
    EXPECT_TRUE(config.ipsec_enabled);
    const IkePolicy& ike = config.ike_policies.at(10);
    EXPECT_EQ(ike.id, 10);
    EXPECT_EQ(ike.authentication, IkeAuthentication::RsaSig);
    EXPECT_EQ(ike.encryption, Encryption::Aes256);
    EXPECT_EQ(ike.hash, Hash::Sha512);
    EXPECT_EQ(ike.dh_group, 19);
    EXPECT_EQ(ike.keylife, 7200u);
    EXPECT_EQ(ike.version, 1);
    EXPECT_EQ(config.ike_policies.at(11).keylife, kDefaultIkeKeylife);
    const EspPolicy& esp = config.esp_policies.at(10);
    EXPECT_EQ(esp.encryption, Encryption::TripleDes);
    EXPECT_EQ(esp.hash, Hash::Md5_128);
    EXPECT_EQ(esp.pfs_group, 14);
    EXPECT_EQ(esp.keylife, 1800u);
    EXPECT_EQ(config.esp_policies.at(11).encryption, Encryption::Aes192);
    EXPECT_EQ(config.esp_policies.at(11).pfs_group, std::nullopt);
    EXPECT_EQ(config.esp_policies.at(11).keylife, kDefaultEspKeylife);
}

TEST(YamlForm, PeerKeys) {
    const Config config = parse_yaml_clean(R"(ipsec:
  peers:
    203.0.113.2:
      local-ip: 198.51.100.1
      nated: true
      local-id: gw1.example.net
      local-nets: [10.1.0.0/24, 10.3.0.0/24]
      remote-id: 192.168.7.2
      remote-ip: any
      remote-nets: [10.2.0.0/24]
      ike-policy: 10
      esp-policy: 20
      psk: "Let me in 99"
)");
    ASSERT_EQ(config.peers.size(), 1u);
    const Peer& peer = config.peers[0];
    EXPECT_EQ(peer.address, address("203.0.113.2"));
    EXPECT_EQ(peer.local_ip, address("198.51.100.1"));
    EXPECT_TRUE(peer.nated);
    EXPECT_EQ(peer.local_id, "gw1.example.net");
    EXPECT_EQ(peer.local_nets, (std::vector{prefix("10.1.0.0/24"), prefix("10.3.0.0/24")}));
    EXPECT_EQ(peer.remote_id, "192.168.7.2");
    EXPECT_TRUE(peer.remote_ip_any);
    EXPECT_EQ(peer.remote_nets, std::vector{prefix("10.2.0.0/24")});
    EXPECT_EQ(peer.ike_policy, 10);
    EXPECT_EQ(peer.esp_policy, 20);
    EXPECT_EQ(peer.psk, "Let me in 99");
    EXPECT_EQ(peer.psk_file, "");
}

TEST(YamlForm, PskFileIsReadRelativeToTheYamlFile) {
    const TemporaryDirectory directory;
    directory.write("secrets/peer.psk", "s3cret value\n");
    const Config config = parse_yaml_clean("ipsec: {peers: {192.0.2.1: {psk-file: secrets/peer.psk}}}\n",
                                           (directory.path() / "gw.yaml").string());
    ASSERT_EQ(config.peers.size(), 1u);
    EXPECT_EQ(config.peers[0].psk, "s3cret value");
    EXPECT_EQ(config.peers[0].psk_file, "secrets/peer.psk");
}

TEST(YamlForm, PskFileMayBeAbsolute) {
    const TemporaryDirectory directory;
    const auto secret = directory.write("peer.psk", "abc");
    const Config config =
        parse_yaml_clean("ipsec: {peers: {192.0.2.1: {psk-file: \"" + secret.string() + "\"}}}\n", "elsewhere/gw.yaml");
    ASSERT_EQ(config.peers.size(), 1u);
    EXPECT_EQ(config.peers[0].psk, "abc");
}

TEST(YamlForm, PskFileProblemsAreErrors) {
    const TemporaryDirectory directory;
    directory.write("empty.psk", "\n");
    const std::string yaml_file = (directory.path() / "gw.yaml").string();
    const auto errors = [&](std::string_view peer_body) {
        const std::string yaml = fmt::format("ipsec:\n  peers:\n    192.0.2.1: {}\n", peer_body);
        return messages(parse_yaml(yaml, yaml_file).diagnostics);
    };
    const std::string at = yaml_file + ":3: error: ";
    const std::string path = " (ipsec.peers.192.0.2.1)";
    EXPECT_EQ(errors("{psk-file: missing.psk}"),
              std::vector{at + "cannot read psk-file '" + (directory.path() / "missing.psk").string() + "'" + path});
    EXPECT_EQ(errors("{psk-file: empty.psk}"),
              std::vector{at + "psk-file '" + (directory.path() / "empty.psk").string() + "' is empty" + path});
    EXPECT_EQ(errors("{psk: a, psk-file: empty.psk}"), std::vector{at + "give psk or psk-file, not both" + path});
}

TEST(YamlForm, SnatRulesAreSortedByNumber) {
    const Config config = parse_yaml_clean(R"(firewall:
  snat:
    - {rule: 12, action: overload, interface: eth0, remark: "PAT all"}
    - {rule: 10, action: exempt, interface: eth0, protocol: tcp, src: [10.1.0.0/24], dst: [10.2.0.0/24, 10.4.0.0/16]}
)");
    ASSERT_EQ(config.snat_rules.size(), 2u);
    const SnatRule& exempt = config.snat_rules[0];
    EXPECT_EQ(exempt.rule, 10);
    EXPECT_EQ(exempt.action, SnatAction::Exempt);
    EXPECT_EQ(exempt.interface, "eth0");
    EXPECT_EQ(exempt.protocol, IpProtocol::Tcp);
    EXPECT_EQ(exempt.src, std::vector{prefix("10.1.0.0/24")});
    EXPECT_EQ(exempt.dst, (std::vector{prefix("10.2.0.0/24"), prefix("10.4.0.0/16")}));
    EXPECT_EQ(exempt.where.key_path, "firewall.snat[1]");
    const SnatRule& overload = config.snat_rules[1];
    EXPECT_EQ(overload.rule, 12);
    EXPECT_EQ(overload.action, SnatAction::Overload);
    EXPECT_EQ(overload.protocol, std::nullopt);
    EXPECT_TRUE(overload.src.empty());
    EXPECT_EQ(overload.remark, "PAT all");
}

TEST(YamlFormErrors, UnknownKeysAreReportedAtTheirLineWithTheirPath) {
    EXPECT_EQ(yaml_errors("interfaces:\n  eth0:\n    speed: 10G\n"),
              std::vector<std::string>{"t.yaml:3: error: unknown key 'speed' (expected one of: dpdk-device, addresses, "
                                       "mtu, enabled, description, default-gateway) (interfaces.eth0.speed)"});
    EXPECT_EQ(yaml_errors("ipsec:\n  peers:\n    192.0.2.1:\n      psk-fle: x\n"),
              std::vector<std::string>{"t.yaml:4: error: unknown key 'psk-fle' (expected one of: local-ip, nated, "
                                       "local-id, local-nets, remote-id, remote-ip, remote-nets, ike-policy, "
                                       "esp-policy, mode, dpd, psk, psk-file) (ipsec.peers.192.0.2.1.psk-fle)"});
    EXPECT_EQ(yaml_errors("nat: {}\n"),
              std::vector<std::string>{"t.yaml:1: error: unknown key 'nat' (expected one of: interfaces, routes, "
                                       "ipsec, firewall) (nat)"});
}

TEST(YamlFormErrors, WrongTypesAreDiagnosticsNotExceptions) {
    EXPECT_EQ(yaml_errors("interfaces:\n  eth0: {mtu: [1500]}\n"),
              std::vector<std::string>{"t.yaml:2: error: expected MTU, got a list (interfaces.eth0.mtu)"});
    EXPECT_EQ(yaml_errors("interfaces:\n  eth0: {addresses: 10.1.0.1/24}\n"),
              std::vector<std::string>{
                  "t.yaml:2: error: expected a list, got '10.1.0.1/24' (interfaces.eth0.addresses)"});
    EXPECT_EQ(yaml_errors("interfaces:\n  eth0:\n    enabled: yes\n"),
              std::vector<std::string>{"t.yaml:3: error: expected true or false, got 'yes' (interfaces.eth0.enabled)"});
    EXPECT_EQ(yaml_errors("interfaces:\n  eth0:\n    mtu:\n"),
              std::vector<std::string>{"t.yaml:3: error: expected MTU, got nothing (interfaces.eth0.mtu)"});
    EXPECT_EQ(yaml_errors("routes: {prefix: 0.0.0.0/0}\n"),
              std::vector<std::string>{"t.yaml:1: error: expected a list, got a map (routes)"});
    EXPECT_EQ(yaml_errors("- just a list\n"),
              std::vector<std::string>{"t.yaml:1: error: expected a map, got a list"});
    EXPECT_EQ(yaml_errors("ipsec: {ike-policies: {ten: {}}}\n"),
              std::vector<std::string>{
                  "t.yaml:1: error: invalid ike-policy number 'ten' (expected a number 1..65535) "
                  "(ipsec.ike-policies.ten)"});
}

TEST(YamlFormErrors, BadValuesUseTheSameMessagesAsTheMboxLanguage) {
    EXPECT_EQ(yaml_errors("ipsec:\n  esp-policies:\n    10: {encryption: AES-512}\n"),
              std::vector<std::string>{"t.yaml:3: error: unknown encryption 'AES-512' (expected one of: 3DES, AES, "
                                       "AES-192, AES-256, AES-GCM-128, AES-GCM-256) "
                                       "(ipsec.esp-policies.10.encryption)"});
    EXPECT_EQ(yaml_errors("routes:\n  - {prefix: 10.1.0.1/24, nexthop: 300.1.1.1}\n"),
              (std::vector<std::string>{
                  "t.yaml:2: error: route: 10.1.0.1/24 has host bits set (did you mean 10.1.0.0/24?) "
                  "(routes[0].prefix)",
                  "t.yaml:2: error: invalid address '300.1.1.1' (expected A.B.C.D) (routes[0].nexthop)"}));
}

TEST(YamlForm, IpsecStoppedTraffic) {
    EXPECT_EQ(parse_yaml_clean("ipsec: {enabled: false}\n").ipsec_stopped_traffic, StoppedTraffic::Drop);
    EXPECT_EQ(parse_yaml_clean("ipsec: {stopped-traffic: forward}\n").ipsec_stopped_traffic, StoppedTraffic::Forward);
    EXPECT_EQ(parse_yaml_clean("ipsec: {stopped-traffic: drop}\n").ipsec_stopped_traffic, StoppedTraffic::Drop);
    EXPECT_EQ(yaml_errors("ipsec:\n  enabled: false\n  stopped-traffic: pass\n"),
              std::vector<std::string>{"t.yaml:3: error: unknown stopped-traffic action 'pass' (expected one of: drop, "
                                       "forward) (ipsec.stopped-traffic)"});
}

TEST(YamlFormErrors, MissingRequiredKeysDuplicatesAndSyntax) {
    EXPECT_EQ(yaml_errors("routes:\n  - {nexthop: 10.0.0.1}\n"),
              std::vector<std::string>{"t.yaml:2: error: missing key 'prefix' (routes[0])"});
    EXPECT_EQ(yaml_errors("firewall:\n  snat:\n    - {rule: 1, action: exempt}\n"),
              std::vector<std::string>{"t.yaml:3: error: missing key 'interface' (firewall.snat[0])"});
    EXPECT_EQ(yaml_errors("interfaces:\n  eth0: {}\n  eth0: {}\n"),
              std::vector<std::string>{"t.yaml:3: error: duplicate key 'eth0' (interfaces.eth0)"});
    EXPECT_EQ(yaml_errors("firewall:\n  snat:\n    - {rule: 1, action: exempt, interface: a}\n"
                          "    - {rule: 1, action: exempt, interface: b}\n"),
              std::vector<std::string>{
                  "t.yaml:4: error: firewall-snat rule 1 is already defined at t.yaml:3 (firewall.snat[1])"});
    EXPECT_EQ(yaml_errors("routes:\n  -\n"),
              std::vector<std::string>{"t.yaml:1: error: expected a map, got nothing (routes[0])"});
    EXPECT_EQ(yaml_errors("ipsec: {enabled: true}\n---\nipsec: {enabled: false}\n"),
              std::vector<std::string>{
                  "t.yaml:2: error: more than one YAML document (a configuration is one document)"});
    EXPECT_EQ(yaml_errors("interfaces: [eth0\n"),
              std::vector<std::string>{"t.yaml:2: error: YAML syntax error: end of sequence flow not found"});
}

}  // namespace
}  // namespace mbox::config::testing

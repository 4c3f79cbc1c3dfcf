// Emitters and parsers agree: what is emitted parses back to the same model, in
// either form, and secrets stay hidden when asked.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "design_example.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

// Every field set, including text the emitters must quote or escape to keep.
constexpr std::string_view kEverything = R"(interface wan
 dpdk-device net_af_packet0,iface=wan0
 description "  padded, with "quotes"  "
 ip address 198.51.100.1/24
 ip address 198.51.100.9/32
 ip default-gateway 198.51.100.254
 mtu 1400
 shutdown
!
interface lan
 dpdk-device 0000:3b:00.0
 description "quoted whole" — café
 enable
!
ip route 10.8.0.0/16 nexthop 198.51.100.7
ip route 0.0.0.0/0 nexthop 198.51.100.254
ipsec ike-policy 1 authentication rsa-sig policy AES-192 MD5-128 21 keylife 60 version 2
ipsec ike-policy 65535 policy 3DES SHA-512 1 keylife 86400 version 1
ipsec esp-policy 3 policy AES-256 SHA-256
ipsec esp-policy 4 policy 3DES MD5 5 keylife 120
ipsec peer 192.0.2.10
 local ip 198.51.100.1
 local-id CN=gw1, O=Example
 local-net 10.1.0.0/24,10.3.0.0/24
 remote-id "peer two "
 remote-ip any
 remote-net 0.0.0.0/0
 policy ike 1 esp 3
 psk  "#not a comment" and spaces
ipsec peer 203.0.113.2 psk x
firewall-snat 7 exempt outbound wan icmp dst 10.2.0.0/24 remark "a \"quoted\" \\ backslash"
firewall-snat 3 overload outbound lan tcp src 10.1.0.0/24,10.3.0.0/24 remark ""
firewall-snat 9 translate outbound wan src 10.9.0.0/16 xsrc 198.51.100.20-198.51.100.29
firewall-snat 11 translate outbound wan udp xsrc 198.51.100.30
firewall-nat sessions 100000
firewall-nat port-range 2000-60000
firewall-nat timeout tcp-established 3600
firewall-nat timeout udp 45
ipsec stopped-traffic forward
ipsec start
)";

TEST(RoundTrip, EverythingSurvivesMboxEmitAndParse) {
    const Config original = parse_mbox_clean(kEverything);
    ASSERT_EQ(original.interfaces.size(), 2u);
    EXPECT_EQ(original.interfaces[0].description, "  padded, with \"quotes\"  ");
    EXPECT_EQ(original.peers[0].local_id, "CN=gw1, O=Example");
    EXPECT_EQ(original.peers[0].remote_id, "peer two ");
    EXPECT_EQ(original.peers[0].psk, "\"#not a comment\" and spaces");
    EXPECT_EQ(original.snat_rules[1].remark, "a \"quoted\" \\ backslash");

    const std::string emitted = emit_mbox(original);
    EXPECT_EQ(parse_mbox_clean(emitted), original) << emitted;
    EXPECT_EQ(emit_mbox(parse_mbox_clean(emitted)), emitted) << "emitting is not stable";
}

TEST(RoundTrip, MboxToYamlToMboxIsTheSame) {
    for (const std::string_view text : {kEverything, kDesignExampleMbox, std::string_view{}}) {
        const Config original = parse_mbox_clean(text);
        const std::string yaml = emit_yaml(original);
        const Config through_yaml = parse_yaml_clean(yaml);
        EXPECT_EQ(through_yaml, original) << yaml;
        EXPECT_EQ(emit_mbox(through_yaml), emit_mbox(original));
        EXPECT_EQ(emit_yaml(through_yaml), yaml);
    }
}

TEST(RoundTrip, EveryAlgorithmAndGroupSurvives) {
    for (const char* encryption : {"3DES", "AES", "AES-192", "AES-256"}) {
        for (const char* hash : {"MD5", "MD5-128", "SHA", "SHA-256", "SHA-512"}) {
            for (const int group : kSupportedDhGroups) {
                const Config original = parse_mbox_clean(
                    fmt::format("ipsec ike-policy 1 policy {0} {1} {2}\nipsec esp-policy 1 policy {0} {1} {2}\n",
                                encryption, hash, group));
                EXPECT_EQ(parse_mbox_clean(emit_mbox(original)), original);
                EXPECT_EQ(parse_yaml_clean(emit_yaml(original)), original);
            }
        }
    }
}

TEST(RoundTrip, PskFileStaysAFileNameInYaml) {
    const TemporaryDirectory directory;
    directory.write("peer.psk", "Letmein99\n");
    const std::string yaml_file = (directory.path() / "gw.yaml").string();
    const Config original = parse_yaml_clean("ipsec: {peers: {192.0.2.1: {psk-file: peer.psk}}}\n", yaml_file);
    const std::string yaml = emit_yaml(original);
    EXPECT_NE(yaml.find("psk-file: \"peer.psk\""), std::string::npos) << yaml;
    EXPECT_EQ(yaml.find("Letmein99"), std::string::npos) << yaml;
    EXPECT_EQ(parse_yaml_clean(yaml, yaml_file), original);
}

TEST(RoundTrip, RedactSecretsHidesThePsk) {
    const Config config = parse_mbox_clean(kDesignExampleMbox);
    const std::string shown = emit_mbox(config, EmitOptions{.redact_secrets = true});
    EXPECT_EQ(shown.find("Letmein99"), std::string::npos);
    EXPECT_NE(shown.find("\n psk ********\n"), std::string::npos) << shown;
    EXPECT_NE(emit_mbox(config).find("\n psk Letmein99\n"), std::string::npos);

    const std::string yaml = emit_yaml(config, EmitOptions{.redact_secrets = true});
    EXPECT_EQ(yaml.find("Letmein99"), std::string::npos);
    EXPECT_NE(yaml.find("psk: \"********\""), std::string::npos) << yaml;
}

TEST(RoundTrip, EmptyConfigEmitsOnlyTheServiceState) {
    EXPECT_EQ(emit_mbox(Config{}), "ipsec stop\n");
    EXPECT_EQ(parse_yaml_clean(emit_yaml(Config{})), Config{});
}

}  // namespace
}  // namespace mbox::config::testing

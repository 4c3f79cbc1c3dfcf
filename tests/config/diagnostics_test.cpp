// What the operator reads when a configuration is wrong: one row per mistake, with
// the exact line load_text() reports (parsing, then validation when parsing passed).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

// Nine lines that validate, for rows whose mistake is in what follows them.
constexpr std::string_view kBase = R"(interface eth0
 dpdk-device net_null0
 ip address 198.51.100.1/24
 enable
!
ipsec ike-policy 10 policy AES SHA 14 version 1
ipsec esp-policy 10 policy AES SHA
ipsec esp-policy 20 policy AES MD5-128
!
)";

std::string base_with_peer(std::string_view policy_line, std::string_view psk_line) {
    return std::string(kBase) + "ipsec peer 203.0.113.2\n local-net 10.1.0.0/24\n remote-net 10.2.0.0/24\n" +
           std::string(policy_line) + "\n" + std::string(psk_line) + "\n";
}

struct BadInput {
    std::string name;
    std::string file;  // its extension picks the parser
    std::string text;
    std::string expected;
};

void PrintTo(const BadInput& row, std::ostream* out) { *out << row.name; }

class ReportsExactly : public ::testing::TestWithParam<BadInput> {};

TEST_P(ReportsExactly, OneDiagnostic) {
    const BadInput& row = GetParam();
    EXPECT_EQ(messages(load_text(row.text, row.file).diagnostics), std::vector<std::string>{row.expected}) << row.text;
}

const BadInput kBadInputs[] = {
    {"UnknownKeyword", "bad.conf", "interface eth0\n speed 1000\n",
     "bad.conf:2: error: unknown keyword 'speed' (expected one of: dpdk-device, ip, mtu, enable, no, shutdown, "
     "description)"},
    {"UnknownTopLevelKeyword", "bad.conf", "!\nrouter bgp 65000\n",
     "bad.conf:2: error: unknown keyword 'router' (expected one of: interface, ip, ipsec, firewall-snat)"},
    {"UnknownKeywordInSingleLineForm", "bad.conf", "interface eth0 speed 1000\n",
     "bad.conf:1: error: unknown keyword 'speed' after 'interface eth0' (expected one of: dpdk-device, ip, mtu, "
     "enable, no, shutdown, description)"},
    {"MissingKeyword", "bad.conf", "ipsec\n",
     "bad.conf:1: error: missing keyword after 'ipsec' (expected one of: peer, ike-policy, esp-policy, start, stop)"},
    {"UnknownEncryption", "bad.conf", "ipsec esp-policy 10 policy AES-512 SHA\n",
     "bad.conf:1: error: unknown encryption 'AES-512' (expected one of: 3DES, AES, AES-192, AES-256)"},
    {"UnknownHash", "bad.conf", "ipsec ike-policy 10\n policy AES SHA-1 14\n",
     "bad.conf:2: error: unknown hash 'SHA-1' (expected one of: MD5, MD5-128, SHA, SHA-256, SHA-512)"},
    {"UnsupportedDhGroup", "bad.conf", "ipsec ike-policy 10 policy AES SHA 24\n",
     "bad.conf:1: error: invalid DH group '24' (expected one of: 1, 2, 5, 14, 15, 16, 17, 18, 19, 20, 21)"},
    {"BadAddress", "bad.conf", "ipsec peer 300.1.1.1\n",
     "bad.conf:1: error: invalid address '300.1.1.1' (expected A.B.C.D)"},
    {"BadPrefix", "bad.conf", "interface eth0\n ip address 10.1.0.1/33\n",
     "bad.conf:2: error: invalid prefix '10.1.0.1/33' (expected A.B.C.D/N, N 0..32)"},
    {"RouteWithHostBits", "bad.conf", "ip route 10.1.0.1/24 nexthop 10.0.0.1\n",
     "bad.conf:1: error: ip route: 10.1.0.1/24 has host bits set (did you mean 10.1.0.0/24?)"},
    {"BadNumber", "bad.conf", "interface eth0\n mtu 20000\n",
     "bad.conf:2: error: invalid MTU '20000' (expected a number 68..9600)"},
    {"DuplicateIkePolicy", "bad.conf", "ipsec ike-policy 10\n version 2\n!\nipsec ike-policy 10 version 1\n",
     "bad.conf:4: error: ike-policy 10 is already defined at bad.conf:1"},
    {"DuplicateEspPolicy", "bad.conf", "ipsec esp-policy 7 policy AES SHA\nipsec esp-policy 7\n",
     "bad.conf:2: error: esp-policy 7 is already defined at bad.conf:1"},
    {"DuplicateSnatRule", "bad.conf",
     "firewall-snat 10 exempt outbound eth0\nfirewall-snat 10 overload outbound eth0\n",
     "bad.conf:2: error: firewall-snat rule 10 is already defined at bad.conf:1"},
    {"PeerNamingMissingPolicy", "bad.conf", base_with_peer(" policy ike 30 esp 10", " psk x"),
     "bad.conf:10: error: peer 203.0.113.2: ike-policy 30 is not defined"},
    {"Md5_128InEspPolicyOfIkeV1Peer", "bad.conf", base_with_peer(" policy ike 10 esp 20", " psk x"),
     "bad.conf:10: error: peer 203.0.113.2: esp-policy 20 uses MD5-128, which is IKEv2-only, but ike-policy 10 is "
     "version 1"},
    {"MissingPsk", "bad.conf", base_with_peer(" policy ike 10 esp 10", "!"),
     "bad.conf:10: error: peer 203.0.113.2: ike-policy 10 uses psk authentication but the peer has no psk"},
    {"SnatRuleOnUndefinedInterface", "bad.conf", std::string(kBase) + "firewall-snat 10 exempt outbound eth9\n",
     "bad.conf:10: error: firewall-snat 10: interface eth9 is not defined"},
    {"IndentedLineOutsideABlock", "bad.conf", "ipsec start\n mtu 1500\n",
     "bad.conf:2: error: indented line outside a block (expected a header such as 'interface NAME' above it)"},
    {"SubCommandNotIndented", "bad.conf", "interface eth0\nmtu 1500\n",
     "bad.conf:2: error: 'mtu' belongs inside a block: indent it under its interface, ipsec peer or policy header"},
    {"MissingArgument", "bad.conf", "interface eth0\n mtu\n", "bad.conf:2: error: missing MTU after 'mtu'"},
    {"MissingArgumentInTheMiddle", "bad.conf", "ip route 10.1.0.0/24 10.0.0.1\n",
     "bad.conf:1: error: unknown keyword '10.0.0.1' after 'ip route 10.1.0.0/24' (expected one of: nexthop)"},
    {"ExtraArgument", "bad.conf", "interface eth0\n mtu 1500 1600\n",
     "bad.conf:2: error: extra argument '1600' after 'mtu 1500'"},
    {"NetworkListWithSpaces", "bad.conf", "ipsec peer 192.0.2.1 local-net 10.1.0.0/24, 10.3.0.0/24\n",
     "bad.conf:1: error: invalid network list '10.1.0.0/24,' (expected P[,P...]: prefixes separated by commas, no "
     "spaces)"},
    {"UnterminatedRemark", "bad.conf", "firewall-snat 1 exempt outbound eth0 remark \"VPN\n",
     "bad.conf:1: error: missing closing quote in the text after 'firewall-snat 1 exempt outbound eth0 remark'"},
    {"NotUtf8", "bad.conf", "interface eth0\n description caf\xe9\n",
     "bad.conf:2: error: line is not valid UTF-8 text"},
    {"YamlNotUtf8", "bad.yaml", "interfaces:\n  eth0: {description: caf\xe9}\n",
     "bad.yaml:2: error: description is not valid UTF-8 text (interfaces.eth0.description)"},
    {"YamlUnknownKey", "bad.yaml", "ipsec:\n  peers:\n    203.0.113.2:\n      ike-policcy: 10\n",
     "bad.yaml:4: error: unknown key 'ike-policcy' (expected one of: local-ip, nated, local-id, local-nets, remote-id, "
     "remote-ip, remote-nets, ike-policy, esp-policy, psk, psk-file) (ipsec.peers.203.0.113.2.ike-policcy)"},
    {"YamlWrongType", "bad.yaml", "ipsec:\n  peers:\n    203.0.113.2:\n      ike-policy: {id: 10}\n",
     "bad.yaml:4: error: expected ike-policy number, got a map (ipsec.peers.203.0.113.2.ike-policy)"},
    {"YamlWrongScalar", "bad.yaml", "ipsec:\n  enabled: maybe\n",
     "bad.yaml:2: error: expected true or false, got 'maybe' (ipsec.enabled)"},
    {"YamlBadAlgorithm", "bad.yaml", "ipsec:\n  ike-policies:\n    10: {hash: SHA-384}\n",
     "bad.yaml:3: error: unknown hash 'SHA-384' (expected one of: MD5, MD5-128, SHA, SHA-256, SHA-512) "
     "(ipsec.ike-policies.10.hash)"},
    {"YamlSyntax", "bad.yaml", "interfaces:\n  eth0: {mtu: 1500\n",
     "bad.yaml:3: error: YAML syntax error: end of map flow not found"},
    {"YamlValidationCarriesTheKeyPath", "bad.yaml",
     "interfaces: {eth0: {addresses: [10.0.0.1/24]}}\nroutes:\n  - {prefix: 0.0.0.0/0, nexthop: 192.0.2.1}\n",
     "bad.yaml:3: error: ip route 0.0.0.0/0: nexthop 192.0.2.1 is not on a connected network (routes[0])"},
};

INSTANTIATE_TEST_SUITE_P(BadInputs, ReportsExactly, ::testing::ValuesIn(kBadInputs),
                         [](const auto& info) { return info.param.name; });

TEST(Diagnostics, EveryMistakeInAFileIsReported) {
    const ParseResult result = load_text(R"(interface eth0
 dpdk-device net_null0
 mtu 9
 ip adress 10.0.0.1/24
!
ip route 10.0.0.0/8 nexthop 10.0.0.300
ipsec ike-policy 10 policy AES-512 SHA 14
ipsec ike-policy 10
ipsec esp-policy 10 policy AES SHA 3
ipsec peer 192.0.2.1
 local-net 10.1.0.1/24
 remote-nets 10.2.0.0/24
firewall-snat 5 exempt outbound eth0 src 10.1.0.0/24 extra
  enable
ipsec start
)",
                                         "many.conf");
    EXPECT_EQ(messages(result.diagnostics),
              (std::vector<std::string>{
                  "many.conf:3: error: invalid MTU '9' (expected a number 68..9600)",
                  "many.conf:4: error: unknown keyword 'adress' after 'ip' (expected one of: address, default-gateway)",
                  "many.conf:6: error: invalid address '10.0.0.300' (expected A.B.C.D)",
                  "many.conf:7: error: unknown encryption 'AES-512' (expected one of: 3DES, AES, AES-192, AES-256)",
                  "many.conf:8: error: ike-policy 10 is already defined at many.conf:7",
                  "many.conf:9: error: invalid PFS group '3' (expected one of: 1, 2, 5, 14, 15, 16, 17, 18, 19, 20, "
                  "21)",
                  "many.conf:11: error: local-net: 10.1.0.1/24 has host bits set (did you mean 10.1.0.0/24?)",
                  "many.conf:12: error: unknown keyword 'remote-nets' (expected one of: local, local-id, local-net, "
                  "remote-id, remote-ip, remote-net, policy, psk)",
                  "many.conf:13: error: unknown keyword 'extra' after 'firewall-snat 5 exempt outbound eth0 src "
                  "10.1.0.0/24' (expected one of: tcp, udp, icmp, src, dst, remark)",
                  "many.conf:14: error: indented line outside a block (expected a header such as 'interface NAME' "
                  "above it)",
              }));
}

TEST(Diagnostics, EveryMistakeInAYamlFileIsReported) {
    const ParseResult result = load_text(R"(interfaces:
  eth0: {mtu: 9, enabled: 1}
routes:
  - {prefix: 10.0.0.0/8}
ipsec:
  peers:
    192.0.2.1: {local-nets: [10.1.0.1/24], colour: blue}
)",
                                         "many.yaml");
    EXPECT_EQ(messages(result.diagnostics),
              (std::vector<std::string>{
                  "many.yaml:2: error: invalid MTU '9' (expected a number 68..9600) (interfaces.eth0.mtu)",
                  "many.yaml:2: error: expected true or false, got '1' (interfaces.eth0.enabled)",
                  "many.yaml:4: error: missing key 'nexthop' (routes[0])",
                  "many.yaml:7: error: local-net: 10.1.0.1/24 has host bits set (did you mean 10.1.0.0/24?) "
                  "(ipsec.peers.192.0.2.1.local-nets[0])",
                  "many.yaml:7: error: unknown key 'colour' (expected one of: local-ip, nated, local-id, local-nets, "
                  "remote-id, remote-ip, remote-nets, ike-policy, esp-policy, psk, psk-file) "
                  "(ipsec.peers.192.0.2.1.colour)",
              }));
}

TEST(Diagnostics, ValidationWaitsForACleanParse) {
    // The peer lacks nets and policies, but a syntax error comes first and alone.
    EXPECT_EQ(messages(load_text("ipsec peer 192.0.2.1\n mtu 1500\n", "a.conf").diagnostics),
              std::vector<std::string>{"a.conf:2: error: unknown keyword 'mtu' (expected one of: local, local-id, "
                                       "local-net, remote-id, remote-ip, remote-net, policy, psk)"});
}

TEST(Diagnostics, UnreadableFileIsOneErrorAtLineZero) {
    const TemporaryDirectory directory;
    const std::string missing = (directory.path() / "missing.conf").string();
    EXPECT_EQ(messages(load_file(missing).diagnostics),
              std::vector<std::string>{missing + ":0: error: cannot read file: No such file or directory"});
    EXPECT_EQ(messages(load_file(directory.path().string()).diagnostics),
              std::vector<std::string>{directory.path().string() + ":0: error: cannot read file: is a directory"});
}

TEST(Diagnostics, FormatIsChosenByExtension) {
    EXPECT_EQ(format_of("gw.yaml"), Format::Yaml);
    EXPECT_EQ(format_of("gw.YML"), Format::Yaml);
    EXPECT_EQ(format_of("gw.conf"), Format::Mbox);
    EXPECT_EQ(format_of("yaml"), Format::Mbox);
}

TEST(Diagnostics, WarningsAreMarkedAsSuch) {
    const Diagnostic warning{Severity::Warning, SourceLocation{"a.conf", 3, {}}, "careful"};
    EXPECT_EQ(warning.to_string(), "a.conf:3: warning: careful");
    EXPECT_FALSE(has_errors({warning}));
    EXPECT_TRUE(has_errors({warning, Diagnostic{Severity::Error, SourceLocation{"a.yaml", 1, "x.y"}, "bad"}}));
    EXPECT_EQ(Diagnostic(Severity::Error, SourceLocation{"a.yaml", 1, "x.y"}, "bad").to_string(),
              "a.yaml:1: error: bad (x.y)");
}

}  // namespace
}  // namespace mbox::config::testing

// What the operator reads when a configuration is wrong: one row per mistake, with
// the exact line load_text() reports (parsing, then validation when parsing passed).
#include <string>
#include <vector>

#include <fmt/format.h>
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

// "0xabab...": a key of `bytes` bytes.
std::string key(size_t bytes) {
    std::string text = "0x";
    for (size_t i = 0; i < bytes; ++i) text += "ab";
    return text;
}

// A manual-sa block of nine lines: esp on its 6th, inbound on its 7th.
std::string manual_sa(std::string_view name, std::string_view remote_net, std::string_view esp,
                      std::string_view inbound, std::string_view outbound) {
    return fmt::format("ipsec manual-sa {}\n local ip 198.51.100.1\n peer 203.0.113.2\n local-net 10.1.0.0/24\n"
                       " remote-net {}\n esp {}\n inbound {}\n outbound {}\n!\n",
                       name, remote_net, esp, inbound, outbound);
}

// kBase, then manual-sa branch1 on lines 10..18 (esp on 15, inbound on 16), then `more`.
std::string base_with_manual_sa(std::string_view esp, std::string_view inbound, std::string_view outbound,
                                std::string_view more = "") {
    return std::string(kBase) + manual_sa("branch1", "10.2.0.0/24", esp, inbound, outbound) + std::string(more);
}

// An AES/SHA manual SA whose keys are right; `inbound` may still be wrong.
std::string base_with_aes_sha_sa(std::string_view inbound) {
    return base_with_manual_sa("AES SHA", inbound, "spi 0x2001 enc-key " + key(16) + " auth-key " + key(20));
}

// One direction with the given key lengths (0: no auth-key).
std::string keys(std::string_view spi, size_t enc, size_t auth) {
    std::string text = fmt::format("spi {} enc-key {}", spi, key(enc));
    if (auth) text += " auth-key " + key(auth);
    return text;
}

// branch1 with `esp`, its inbound keys of the lengths given, its outbound keys right.
std::string wrong_inbound_keys(std::string_view esp, size_t enc, size_t auth, size_t right_enc, size_t right_auth) {
    return base_with_manual_sa(esp, keys("0x1001", enc, auth), keys("0x2001", right_enc, right_auth));
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
     "bad.conf:2: error: unknown keyword 'router' (expected one of: interface, ip, ipsec, firewall-snat, firewall-nat)"},
    {"UnknownKeywordInSingleLineForm", "bad.conf", "interface eth0 speed 1000\n",
     "bad.conf:1: error: unknown keyword 'speed' after 'interface eth0' (expected one of: dpdk-device, ip, mtu, "
     "enable, no, shutdown, description)"},
    {"MissingKeyword", "bad.conf", "ipsec\n",
     "bad.conf:1: error: missing keyword after 'ipsec' (expected one of: peer, manual-sa, ike-policy, esp-policy, pki, "
     "start, stop, stopped-traffic)"},
    {"UnknownStoppedTrafficAction", "bad.conf", "!\nipsec stopped-traffic pass\n",
     "bad.conf:2: error: unknown stopped-traffic action 'pass' (expected one of: drop, forward)"},
    {"MissingStoppedTrafficAction", "bad.conf", "ipsec stopped-traffic\n",
     "bad.conf:1: error: missing stopped-traffic action after 'ipsec stopped-traffic'"},
    {"StoppedTrafficTakesOneWord", "bad.conf", "ipsec stopped-traffic drop now\n",
     "bad.conf:1: error: extra argument 'now' after 'ipsec stopped-traffic drop'"},
    {"YamlUnknownStoppedTrafficAction", "bad.yaml", "ipsec:\n  stopped-traffic: yes\n",
     "bad.yaml:2: error: unknown stopped-traffic action 'yes' (expected one of: drop, forward) "
     "(ipsec.stopped-traffic)"},
    {"UnknownEncryption", "bad.conf", "ipsec esp-policy 10 policy AES-512 SHA\n",
     "bad.conf:1: error: unknown encryption 'AES-512' (expected one of: 3DES, AES, AES-192, AES-256, AES-GCM-128, "
     "AES-GCM-256)"},
    {"UnknownHash", "bad.conf", "ipsec ike-policy 10\n policy AES SHA-1 14\n",
     "bad.conf:2: error: unknown hash 'SHA-1' (expected one of: MD5, MD5-128, SHA, SHA-256, SHA-512)"},
    {"UnsupportedDhGroup", "bad.conf", "ipsec ike-policy 10 policy AES SHA 24\n",
     "bad.conf:1: error: invalid DH group '24' (expected one of: 1, 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 31)"},
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
    {"TranslateWithoutPool", "bad.conf", std::string(kBase) + "firewall-snat 10 translate outbound eth0\n",
     "bad.conf:10: error: firewall-snat 10: translate needs 'xsrc ADDR[-ADDR]' (the addresses to translate sources "
     "to)"},
    {"PoolOnOverload", "bad.conf", std::string(kBase) + "firewall-snat 10 overload outbound eth0 xsrc 192.0.2.1\n",
     "bad.conf:10: error: firewall-snat 10: xsrc is only for translate rules (overload translates to the interface "
     "address)"},
    {"PoolTooLarge", "bad.conf",
     std::string(kBase) + "firewall-snat 10 translate outbound eth0 xsrc 192.0.2.0-192.0.3.255\n",
     "bad.conf:10: error: firewall-snat 10: xsrc 192.0.2.0-192.0.3.255 holds 512 addresses (at most 256)"},
    {"PoolBackwards", "bad.conf", "firewall-snat 10 translate outbound eth0 xsrc 192.0.2.9-192.0.2.1\n",
     "bad.conf:1: error: invalid address range '192.0.2.9-192.0.2.1' (expected A.B.C.D or A.B.C.D-A.B.C.D, first <= "
     "last)"},
    {"PoolHoldsAnInterfaceAddress", "bad.conf",
     std::string(kBase) + "firewall-snat 10 translate outbound eth0 xsrc 198.51.100.1-198.51.100.9\n",
     "bad.conf:10: error: firewall-snat 10: xsrc 198.51.100.1-198.51.100.9 includes 198.51.100.1, an address of "
     "interface eth0"},
    {"PoolsOverlap", "bad.conf",
     std::string(kBase) + "firewall-snat 10 translate outbound eth0 src 10.1.0.0/24 xsrc 198.51.100.20-198.51.100.29\n"
                          "firewall-snat 11 translate outbound eth0 src 10.2.0.0/24 xsrc 198.51.100.25\n",
     "bad.conf:11: error: firewall-snat 11: xsrc 198.51.100.25 overlaps rule 10's xsrc 198.51.100.20-198.51.100.29"},
    {"PoolsTooLargeInAll", "bad.conf",
     std::string(kBase) + "firewall-snat 10 translate outbound eth0 src 10.1.0.0/24 xsrc 192.0.2.0-192.0.2.199\n"
                          "firewall-snat 11 translate outbound eth0 src 10.2.0.0/24 xsrc 203.0.113.0-203.0.113.99\n",
     "bad.conf:11: error: firewall-snat: the xsrc pools hold 300 addresses in all (at most 256)"},
    {"OverloadOnInterfaceWithoutAddress", "bad.conf",
     "interface eth0\n dpdk-device net_null0\n enable\n!\nfirewall-snat 10 overload outbound eth0\n",
     "bad.conf:5: error: firewall-snat 10: overload translates to eth0's address, and it has none"},
    {"NatPortRangeBackwards", "bad.conf", "firewall-nat port-range 5000-4000\n",
     "bad.conf:1: error: invalid port range '5000-4000' (expected FIRST-LAST, ports 1..65535, first <= last)"},
    {"NatSessionsTooFew", "bad.conf", "firewall-nat sessions 10\n",
     "bad.conf:1: error: invalid session count '10' (expected a number 1024..16777216)"},
    {"NatUnknownTimeout", "bad.conf", "firewall-nat timeout gre 30\n",
     "bad.conf:1: error: unknown keyword 'gre' after 'firewall-nat timeout' (expected one of: tcp-established, "
     "tcp-transitory, udp, icmp, other)"},
    {"NatUnknownSetting", "bad.conf", "firewall-nat size 30\n",
     "bad.conf:1: error: unknown keyword 'size' after 'firewall-nat' (expected one of: sessions, port-range, "
     "timeout)"},
    {"NatTimeoutZero", "bad.conf", "firewall-nat timeout udp 0\n",
     "bad.conf:1: error: invalid timeout in seconds '0' (expected a number 1..86400)"},
    {"YamlNatUnknownKey", "bad.yaml", "firewall:\n  nat: {sesions: 5000}\n",
     "bad.yaml:2: error: unknown key 'sesions' (expected one of: sessions, port-range, timeouts) "
     "(firewall.nat.sesions)"},
    {"YamlNatBadTimeout", "bad.yaml", "firewall:\n  nat:\n    timeouts: {udp: -1}\n",
     "bad.yaml:3: error: invalid timeout in seconds '-1' (expected a number 1..86400) (firewall.nat.timeouts.udp)"},
    {"IndentedLineOutsideABlock", "bad.conf", "ipsec start\n mtu 1500\n",
     "bad.conf:2: error: indented line outside a block (expected a header such as 'interface NAME' above it)"},
    {"SubCommandNotIndented", "bad.conf", "interface eth0\nmtu 1500\n",
     "bad.conf:2: error: 'mtu' belongs inside a block: indent it under its interface, ipsec peer, manual-sa or "
     "policy header"},
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
     "remote-ip, remote-nets, ike-policy, esp-policy, mode, dpd, psk, psk-file) (ipsec.peers.203.0.113.2.ike-policcy)"},
    {"YamlWrongType", "bad.yaml", "ipsec:\n  peers:\n    203.0.113.2:\n      ike-policy: {id: 10}\n",
     "bad.yaml:4: error: expected ike-policy number, got a map (ipsec.peers.203.0.113.2.ike-policy)"},
    {"YamlWrongScalar", "bad.yaml", "ipsec:\n  enabled: maybe\n",
     "bad.yaml:2: error: expected true or false, got 'maybe' (ipsec.enabled)"},
    {"YamlBadAlgorithm", "bad.yaml", "ipsec:\n  ike-policies:\n    10: {hash: SHA-384}\n",
     "bad.yaml:3: error: unknown hash 'SHA-384' (expected one of: MD5, MD5-128, SHA, SHA-256, SHA-512) "
     "(ipsec.ike-policies.10.hash)"},
    {"YamlSyntax", "bad.yaml", "interfaces:\n  eth0: {mtu: 1500\n",
     "bad.yaml:3: error: YAML syntax error: end of map flow not found"},
    // ---- manual SAs: key lengths per algorithm family, at the line of the keys ----
    {"ManualSa3DesKeyLength", "bad.conf", wrong_inbound_keys("3DES SHA", 16, 20, 24, 20),
     "bad.conf:16: error: manual-sa branch1: inbound enc-key is 16 bytes, but 3DES takes 24"},
    {"ManualSaAesKeyLength", "bad.conf", wrong_inbound_keys("AES SHA", 32, 20, 16, 20),
     "bad.conf:16: error: manual-sa branch1: inbound enc-key is 32 bytes, but AES takes 16"},
    {"ManualSaAes192KeyLength", "bad.conf", wrong_inbound_keys("AES-192 SHA", 16, 20, 24, 20),
     "bad.conf:16: error: manual-sa branch1: inbound enc-key is 16 bytes, but AES-192 takes 24"},
    {"ManualSaAes256KeyLength", "bad.conf", wrong_inbound_keys("AES-256 SHA", 24, 20, 32, 20),
     "bad.conf:16: error: manual-sa branch1: inbound enc-key is 24 bytes, but AES-256 takes 32"},
    {"ManualSaAesGcm128KeyLength", "bad.conf", wrong_inbound_keys("AES-GCM-128", 16, 0, 20, 0),
     "bad.conf:16: error: manual-sa branch1: inbound enc-key is 16 bytes, but AES-GCM-128 takes 20 (16-byte key and "
     "4-byte salt)"},
    {"ManualSaAesGcm256KeyLength", "bad.conf", wrong_inbound_keys("AES-GCM-256", 32, 0, 36, 0),
     "bad.conf:16: error: manual-sa branch1: inbound enc-key is 32 bytes, but AES-GCM-256 takes 36 (32-byte key and "
     "4-byte salt)"},
    {"ManualSaMd5KeyLength", "bad.conf", wrong_inbound_keys("AES MD5", 16, 20, 16, 16),
     "bad.conf:16: error: manual-sa branch1: inbound auth-key is 20 bytes, but MD5 takes 16"},
    {"ManualSaMd5_128KeyLength", "bad.conf", wrong_inbound_keys("AES MD5-128", 16, 12, 16, 16),
     "bad.conf:16: error: manual-sa branch1: inbound auth-key is 12 bytes, but MD5-128 takes 16"},
    {"ManualSaShaKeyLength", "bad.conf", wrong_inbound_keys("AES SHA", 16, 16, 16, 20),
     "bad.conf:16: error: manual-sa branch1: inbound auth-key is 16 bytes, but SHA takes 20"},
    {"ManualSaSha256KeyLength", "bad.conf", wrong_inbound_keys("AES SHA-256", 16, 20, 16, 32),
     "bad.conf:16: error: manual-sa branch1: inbound auth-key is 20 bytes, but SHA-256 takes 32"},
    {"ManualSaSha512KeyLength", "bad.conf", wrong_inbound_keys("AES SHA-512", 16, 32, 16, 64),
     "bad.conf:16: error: manual-sa branch1: inbound auth-key is 32 bytes, but SHA-512 takes 64"},
    {"ManualSaMissingAuthKey", "bad.conf", wrong_inbound_keys("AES SHA-256", 16, 0, 16, 32),
     "bad.conf:16: error: manual-sa branch1: inbound has no auth-key, but SHA-256 needs one of 32 bytes"},
    {"ManualSaAuthKeyWithGcm", "bad.conf", wrong_inbound_keys("AES-GCM-128", 20, 20, 20, 0),
     "bad.conf:16: error: manual-sa branch1: inbound auth-key given, but AES-GCM-128 takes none (GCM authenticates "
     "the packets itself)"},
    {"YamlManualSaKeyLength", "bad.yaml",
     "interfaces: {eth0: {addresses: [198.51.100.1/32]}}\nipsec:\n  manual-sas:\n    b:\n"
     "      {local-ip: 198.51.100.1, peer: 203.0.113.2, local-nets: [10.1.0.0/24], remote-nets: [10.2.0.0/24],\n"
     "       encryption: AES-GCM-256, inbound: {spi: 256, enc-key: " + key(36) + "},\n"
     "       outbound: {spi: 257, enc-key: " + key(32) + "}}\n",
     "bad.yaml:7: error: manual-sa b: outbound enc-key is 32 bytes, but AES-GCM-256 takes 36 (32-byte key and 4-byte "
     "salt) (ipsec.manual-sas.b.outbound)"},
    // ---- manual SAs: algorithms, SPIs, keys as written ----
    {"ManualSaHashAfterGcm", "bad.conf", wrong_inbound_keys("AES-GCM-128 SHA", 20, 0, 20, 0),
     "bad.conf:15: error: AES-GCM-128 takes no hash (GCM authenticates the packets itself)"},
    {"ManualSaCbcWithoutHash", "bad.conf", wrong_inbound_keys("AES-192", 24, 0, 24, 0),
     "bad.conf:15: error: missing hash after 'esp AES-192'"},
    {"YamlManualSaCbcWithoutHash", "bad.yaml", "ipsec:\n  manual-sas:\n    b: {encryption: 3DES}\n",
     "bad.yaml:3: error: 3DES needs a hash (expected one of: MD5, MD5-128, SHA, SHA-256, SHA-512) "
     "(ipsec.manual-sas.b)"},
    {"ManualSaReservedSpi", "bad.conf", base_with_aes_sha_sa(keys("255", 16, 20)),
     "bad.conf:16: error: invalid SPI '255' (expected 0x100..0xffffffff, decimal or 0x hex: 0 is invalid, 1..255 "
     "reserved)"},
    {"ManualSaZeroSpi", "bad.conf", base_with_aes_sha_sa(keys("0x0", 16, 20)),
     "bad.conf:16: error: invalid SPI '0x0' (expected 0x100..0xffffffff, decimal or 0x hex: 0 is invalid, 1..255 "
     "reserved)"},
    {"ManualSaSpiTooLarge", "bad.conf", base_with_aes_sha_sa(keys("0x100000000", 16, 20)),
     "bad.conf:16: error: invalid SPI '0x100000000' (expected 0x100..0xffffffff, decimal or 0x hex: 0 is invalid, "
     "1..255 reserved)"},
    {"ManualSaKeyOddDigits", "bad.conf", base_with_aes_sha_sa("spi 256 enc-key 0xabc auth-key " + key(20)),
     "bad.conf:16: error: invalid enc-key: odd number of hex digits (3; expected whole bytes)"},
    {"ManualSaKeyNotHex", "bad.conf", base_with_aes_sha_sa("spi 256 enc-key " + key(16) + " auth-key 0xabxy"),
     "bad.conf:16: error: invalid auth-key: character 5 is not a hex digit (expected hex, 0x prefix optional)"},
    {"ManualSaBadReplayWindow", "bad.conf", "ipsec manual-sa b replay-window 16\n",
     "bad.conf:1: error: invalid replay-window '16' (expected 0 to turn the check off, or a number 32..65536)"},
    {"ManualSaBadUdpPort", "bad.conf", "ipsec manual-sa b\n udp-encap 0 4500\n",
     "bad.conf:2: error: invalid UDP source port '0' (expected a number 1..65535)"},
    // ---- manual SAs: across the configuration ----
    {"ManualSaDuplicateInboundSpi", "bad.conf",
     base_with_manual_sa("AES SHA", keys("0x1001", 16, 20), keys("0x2001", 16, 20),
                         manual_sa("branch2", "10.9.0.0/24", "AES SHA", keys("0x1001", 16, 20),
                                   keys("0x2002", 16, 20))),
     "bad.conf:25: error: manual-sa branch2: inbound SPI 0x1001 is already used by manual-sa branch1 at "
     "bad.conf:16"},
    {"ManualSaDuplicateNetworkPair", "bad.conf",
     base_with_manual_sa("AES SHA", keys("0x1001", 16, 20), keys("0x2001", 16, 20),
                         manual_sa("branch2", "10.2.0.0/24", "AES SHA", keys("0x1002", 16, 20),
                                   keys("0x2002", 16, 20))),
     "bad.conf:19: error: manual-sa branch2: traffic 10.1.0.0/24 -> 10.2.0.0/24 is already carried by manual-sa "
     "branch1 at bad.conf:10"},
    {"YamlManualSaDuplicateName", "bad.yaml", "ipsec:\n  manual-sas:\n    b1: {esn: true}\n    b1: {}\n",
     "bad.yaml:4: error: duplicate key 'b1' (ipsec.manual-sas.b1)"},
    {"ManualSaLocalIpNotOurs", "bad.conf",
     std::string(kBase) + "ipsec manual-sa b\n local ip 198.51.100.2\n peer 203.0.113.2\n local-net 10.1.0.0/24\n"
                          " remote-net 10.2.0.0/24\n esp AES-GCM-128\n inbound " + keys("256", 20, 0) +
         "\n outbound " + keys("256", 20, 0) + "\n",
     "bad.conf:10: error: manual-sa b: local ip 198.51.100.2 is not an address of any interface"},
    // ---- GCM in policies ----
    {"GcmInIkePolicy", "bad.conf", "ipsec ike-policy 10 policy AES-GCM-256 SHA 14\n",
     "bad.conf:1: error: encryption AES-GCM-256 is for ESP only, not for an ike-policy (expected one of: 3DES, AES, "
     "AES-192, AES-256)"},
    {"YamlGcmInIkePolicy", "bad.yaml", "ipsec:\n  ike-policies:\n    10: {encryption: AES-GCM-128}\n",
     "bad.yaml:3: error: encryption AES-GCM-128 is for ESP only, not for an ike-policy (expected one of: 3DES, AES, "
     "AES-192, AES-256) (ipsec.ike-policies.10.encryption)"},
    {"HashAfterGcmInEspPolicy", "bad.conf", "ipsec esp-policy 10 policy AES-GCM-256 SHA-256\n",
     "bad.conf:1: error: AES-GCM-256 takes no hash (GCM authenticates the packets itself)"},
    // ---- peers: any, dpd, mode, identities; pki ----
    {"DpdOutOfRange", "bad.conf", "ipsec peer 192.0.2.1 dpd 4\n",
     "bad.conf:1: error: invalid dpd interval '4' (expected 0 to turn dead peer detection off, or a number 5..3600)"},
    {"YamlDpdOutOfRange", "bad.yaml", "ipsec:\n  peers:\n    192.0.2.1: {dpd: 3601}\n",
     "bad.yaml:3: error: invalid dpd interval '3601' (expected 0 to turn dead peer detection off, or a number "
     "5..3600) (ipsec.peers.192.0.2.1.dpd)"},
    {"UnknownMode", "bad.conf", "ipsec peer 192.0.2.1\n mode quick\n",
     "bad.conf:2: error: unknown mode 'quick' (expected one of: main, aggressive)"},
    {"AggressiveModeWithIkeV2", "bad.conf",
     base_with_peer(" policy ike 30 esp 10\n psk x\n mode aggressive",
                    "ipsec ike-policy 30 policy AES SHA 14 version 2"),
     "bad.conf:10: error: peer 203.0.113.2: mode aggressive is IKEv1-only, but ike-policy 30 is version 2"},
    {"SettingAfterIpsecPeerAny", "bad.conf", "ipsec peer any dpd 30\n",
     "bad.conf:1: error: 'dpd' cannot follow 'ipsec peer any': only 'remote-id ID' can (an any peer is known by its "
     "remote-id); put 'dpd' in the peer's block"},
    {"AnyPeerWithoutRemoteId", "bad.conf",
     std::string(kBase) + "ipsec peer any\n local-net 10.1.0.0/24\n remote-net 10.2.0.0/24\n policy ike 10 esp 10\n"
                          " psk x\n",
     "bad.conf:10: error: peer any: no remote-id given (an 'any' peer is told apart by the identity it presents)"},
    {"TwoAnyPeersWithOneRemoteId", "bad.conf",
     std::string(kBase) + "ipsec peer any remote-id vpn.example.com\n local-net 10.1.0.0/24\n"
                          " remote-net 10.2.0.0/24\n policy ike 10 esp 10\n psk x\n!\n"
                          "ipsec peer any\n remote-id vpn.example.com\n local-net 10.1.0.0/24\n"
                          " remote-net 10.3.0.0/24\n policy ike 10 esp 10\n psk y\n",
     "bad.conf:16: error: peer any remote-id vpn.example.com is already defined at bad.conf:10"},
    {"MalformedLocalId", "bad.conf", base_with_peer(" policy ike 10 esp 10\n psk x", " local-id gw 1"),
     "bad.conf:10: error: peer 203.0.113.2: local-id: invalid identity 'gw 1': expected an IPv4 address, a host name, "
     "user@host or a DN such as \"C=SG, O=Example, CN=gw1\""},
    {"RsaSigWithoutPki", "bad.conf",
     base_with_peer(" policy ike 30 esp 10", "ipsec ike-policy 30 authentication rsa-sig policy AES SHA 14"),
     "bad.conf:10: error: peer 203.0.113.2: ike-policy 30 uses rsa-sig authentication but ipsec pki has no "
     "local-cert, local-key, ca-cert"},
    {"UnreadableCaCert", "bad.conf", "ipsec pki\n ca-cert /nonexistent/ca.pem\n",
     "bad.conf:2: error: ipsec pki: cannot read ca-cert '/nonexistent/ca.pem': No such file or directory"},
    {"PkiUnknownKeyword", "bad.conf", "ipsec pki crl-file x.crl\n",
     "bad.conf:1: error: unknown keyword 'crl-file' after 'ipsec pki' (expected one of: ca-cert, local-cert, "
     "local-key)"},
    {"YamlPkiUnknownKey", "bad.yaml", "ipsec:\n  pki: {ca-cert: ca.pem}\n",
     "bad.yaml:2: error: unknown key 'ca-cert' (expected one of: ca-certs, local-cert, local-key) "
     "(ipsec.pki.ca-cert)"},
    {"YamlRemoteIdInsideAnAnyKey", "bad.yaml",
     "ipsec:\n  peers:\n    any remote-id vpn.example.com:\n      remote-id: other.example.com\n",
     "bad.yaml:4: error: the remote-id is given by the key 'any remote-id vpn.example.com' "
     "(ipsec.peers.any remote-id vpn.example.com.remote-id)"},
    {"YamlEmptyIdentity", "bad.yaml", "ipsec:\n  peers:\n    192.0.2.1: {local-id: \"\"}\n",
     "bad.yaml:3: error: empty identity (ipsec.peers.192.0.2.1.local-id)"},
    {"YamlBadPeerKey", "bad.yaml", "ipsec:\n  peers:\n    anywhere: {}\n",
     "bad.yaml:3: error: invalid address 'anywhere' (expected A.B.C.D) (or 'any remote-id ID' for a peer from any "
     "address) (ipsec.peers.anywhere)"},
    // ---- control characters echoed back: escaped, never raw (issue 10) ----
    {"CarriageReturnInsideAWord", "bad.conf", "interface eth0\n mtu 15\r00\n",
     "bad.conf:2: error: invalid MTU '15\\r00' (expected a number 68..9600)"},
    {"EscapeSequenceInAKeyword", "bad.conf", "interface eth0\n \x1b[2Jspeed 1000\n",
     "bad.conf:2: error: unknown keyword '\\x1b[2Jspeed' (expected one of: dpdk-device, ip, mtu, enable, no, "
     "shutdown, description)"},
    {"ControlCharacterAfterAKeyword", "bad.conf", "ipsec start\x01\n",
     "bad.conf:1: error: unknown keyword 'start\\x01' after 'ipsec' (expected one of: peer, manual-sa, ike-policy, "
     "esp-policy, pki, start, stop, stopped-traffic)"},
    {"C1ControlInAValue", "bad.conf", "interface eth0\n mtu \xc2\x9b" "1500\n",
     "bad.conf:2: error: invalid MTU '\\xc2\\x9b1500' (expected a number 68..9600)"},
    {"ControlCharacterInValidation", "bad.conf", std::string(kBase) + "firewall-snat 5 exempt outbound e\x1bth9\n",
     "bad.conf:10: error: firewall-snat 5: interface e\\x1bth9 is not defined"},
    {"YamlCarriageReturnInAKey", "bad.yaml", "interfaces:\n  \"eth\\r0\": {mtu: 1500}\n",
     "bad.yaml:2: error: invalid interface name 'eth\\r0' (expected one word) (interfaces.eth\\r0)"},
    {"YamlEscapeSequenceInAValue", "bad.yaml", "interfaces:\n  eth0: {mtu: \"\\e[31m9\"}\n",
     "bad.yaml:2: error: invalid MTU '\\x1b[31m9' (expected a number 68..9600) (interfaces.eth0.mtu)"},
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
                  "21, 31)",
                  "many.conf:11: error: local-net: 10.1.0.1/24 has host bits set (did you mean 10.1.0.0/24?)",
                  "many.conf:12: error: unknown keyword 'remote-nets' (expected one of: local, local-id, local-net, "
                  "remote-id, remote-ip, remote-net, policy, mode, dpd, psk)",
                  "many.conf:13: error: unknown keyword 'extra' after 'firewall-snat 5 exempt outbound eth0 src "
                  "10.1.0.0/24' (expected one of: tcp, udp, icmp, src, dst, xsrc, remark)",
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
                  "remote-id, remote-ip, remote-nets, ike-policy, esp-policy, mode, dpd, psk, psk-file) "
                  "(ipsec.peers.192.0.2.1.colour)",
              }));
}

TEST(Diagnostics, ValidationWaitsForACleanParse) {
    // The peer lacks nets and policies, but a syntax error comes first and alone.
    EXPECT_EQ(messages(load_text("ipsec peer 192.0.2.1\n mtu 1500\n", "a.conf").diagnostics),
              std::vector<std::string>{"a.conf:2: error: unknown keyword 'mtu' (expected one of: local, local-id, "
                                       "local-net, remote-id, remote-ip, remote-net, policy, mode, dpd, psk)"});
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

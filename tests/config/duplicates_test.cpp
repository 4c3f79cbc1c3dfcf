// Duplicate checks in the parsers and validation: each repeat is reported once, against
// the first occurrence and its file:line (never against every earlier copy), and in
// linear time, so a file holding thousands of copies is checked at once (issue 10:
// 2,000 copies of one manual-sa took 7 s and 1 GB).
#include <algorithm>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config/validate.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

using Lines = std::vector<std::string>;

// Lines 1..5.
constexpr std::string_view kInterface =
    "interface eth0\n dpdk-device net_null0\n ip address 198.51.100.1/24\n enable\n!\n";

// A valid manual SA of nine lines (inbound on its 7th) from 10.1.0.0/24 to `remote_nets`.
std::string manual_sa(std::string_view name, uint32_t inbound_spi, std::string_view remote_nets = "10.2.0.0/24") {
    const std::string key = "0x" + std::string(40, 'a');  // AES-GCM-128: 16-byte key, 4-byte salt
    return fmt::format("ipsec manual-sa {}\n local ip 198.51.100.1\n peer 203.0.113.2\n local-net 10.1.0.0/24\n"
                       " remote-net {}\n esp AES-GCM-128\n inbound spi 0x{:x} enc-key {}\n"
                       " outbound spi 0x2001 enc-key {}\n!\n",
                       name, remote_nets, inbound_spi, key, key);
}

// Only the diagnostics about repeats, for models that are wrong in other ways too.
Lines repeats(const Diagnostics& diagnostics) {
    Lines lines = messages(diagnostics);
    std::erase_if(lines, [](const std::string& line) { return line.find(" already ") == std::string::npos; });
    return lines;
}

TEST(Duplicates, ManualSaRepeatsAreReportedOnceAgainstTheFirst) {
    // a on lines 6..14 (inbound on 12), b on 15..23 (inbound 21), c on 24..32 (inbound 30).
    // c names 10.2.0.0/24 twice: one repeat all the same, and against a, not against b too.
    const std::string text = std::string(kInterface) + manual_sa("a", 0x1001) + manual_sa("b", 0x1001) +
                             manual_sa("c", 0x1001, "10.2.0.0/24,10.3.0.0/24,10.2.0.0/24");
    EXPECT_EQ(messages(load_text(text, "dup.conf").diagnostics),
              (Lines{
                  "dup.conf:21: error: manual-sa b: inbound SPI 0x1001 is already used by manual-sa a at dup.conf:12",
                  "dup.conf:15: error: manual-sa b: traffic 10.1.0.0/24 -> 10.2.0.0/24 is already carried by "
                  "manual-sa a at dup.conf:6",
                  "dup.conf:30: error: manual-sa c: inbound SPI 0x1001 is already used by manual-sa a at dup.conf:12",
                  "dup.conf:24: error: manual-sa c: traffic 10.1.0.0/24 -> 10.2.0.0/24 is already carried by "
                  "manual-sa a at dup.conf:6",
              }));
}

TEST(Duplicates, TwentyThousandCopiesOfOneManualSaGiveOneDiagnosticEach) {
    std::string text(kInterface);
    for (uint32_t i = 0; i < 20'000; ++i) text += manual_sa(fmt::format("sa{}", i), 0x1000 + i);
    const ParseResult result = load_text(text, "big.conf");
    const auto against_the_first = std::ranges::count_if(result.diagnostics, [](const Diagnostic& d) {
        return d.message.ends_with(": traffic 10.1.0.0/24 -> 10.2.0.0/24 is already carried by manual-sa sa0 at "
                                   "big.conf:6");
    });
    EXPECT_EQ(against_the_first, 19'999);
    EXPECT_EQ(result.diagnostics.size(), 19'999u);
    EXPECT_EQ(result.config.manual_sas.size(), 20'000u);
}

TEST(Duplicates, SnatRuleRepeatsAreReportedAgainstTheFirst) {
    const std::string text = std::string(kInterface) +
                             "firewall-snat 30 exempt outbound eth0\n"      // line 6
                             "firewall-snat 10 overload outbound eth0\n"    // 7
                             "firewall-snat 30 overload outbound eth0\n"    // 8
                             "firewall-snat 20 exempt outbound eth0\n"      // 9
                             "firewall-snat 30 exempt outbound eth0\n";     // 10
    const ParseResult result = load_text(text, "dup.conf");
    EXPECT_EQ(messages(result.diagnostics),
              (Lines{"dup.conf:8: error: firewall-snat rule 30 is already defined at dup.conf:6",
                     "dup.conf:10: error: firewall-snat rule 30 is already defined at dup.conf:6"}));
    // The first of each number is kept, and the chain runs in rule order.
    ASSERT_EQ(result.config.snat_rules.size(), 3u);
    EXPECT_EQ(result.config.snat_rules[0].rule, 10);
    EXPECT_EQ(result.config.snat_rules[1].rule, 20);
    EXPECT_EQ(result.config.snat_rules[2].rule, 30);
    EXPECT_EQ(result.config.snat_rules[2].action, SnatAction::Exempt);
}

TEST(Duplicates, YamlSnatRuleRepeatsAreReportedAgainstTheFirst) {
    const std::string text = "firewall:\n  snat:\n"
                             "    - {rule: 1, action: exempt, interface: eth0}\n"
                             "    - {rule: 1, action: overload, interface: eth0}\n"
                             "    - {rule: 1, action: exempt, interface: eth0}\n";
    EXPECT_EQ(messages(load_text(text, "dup.yaml").diagnostics),
              (Lines{"dup.yaml:4: error: firewall-snat rule 1 is already defined at dup.yaml:3 (firewall.snat[1])",
                     "dup.yaml:5: error: firewall-snat rule 1 is already defined at dup.yaml:3 (firewall.snat[2])"}));
}

// Models built by code (or YAML keys spelled differently) can repeat what the mbox
// parser merges: validation reports each repeat against the first too.
TEST(Duplicates, ValidationReportsRepeatedObjectsAgainstTheFirst) {
    Config config;
    for (int line = 1; line <= 3; ++line) {
        Interface& interface = config.interfaces.emplace_back();
        interface.name = "eth0";
        interface.dpdk_device = "net_null0";
        interface.where = SourceLocation{"built.conf", line, {}};
        Peer& peer = config.peers.emplace_back();
        peer.address = address("203.0.113.2");
        peer.where = SourceLocation{"built.conf", 10 + line, {}};
        Peer& any = config.peers.emplace_back();
        any.remote_id = "vpn.example.com";
        any.where = SourceLocation{"built.conf", 20 + line, {}};
    }
    EXPECT_EQ(repeats(validate(config)),
              (Lines{
                  "built.conf:2: error: interface eth0 is already defined at built.conf:1",
                  "built.conf:2: error: interface eth0: dpdk-device 'net_null0' is already used by interface eth0",
                  "built.conf:3: error: interface eth0 is already defined at built.conf:1",
                  "built.conf:3: error: interface eth0: dpdk-device 'net_null0' is already used by interface eth0",
                  "built.conf:12: error: peer 203.0.113.2 is already defined at built.conf:11",
                  "built.conf:22: error: peer any remote-id vpn.example.com is already defined at built.conf:21",
                  "built.conf:13: error: peer 203.0.113.2 is already defined at built.conf:11",
                  "built.conf:23: error: peer any remote-id vpn.example.com is already defined at built.conf:21",
              }));
}

}  // namespace
}  // namespace mbox::config::testing

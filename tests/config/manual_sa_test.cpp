// Manually keyed ESP tunnels (`ipsec manual-sa NAME`): every sub-command in block
// and single-line form and every YAML key lands in its model field; GCM in ESP
// policies; validation of keys, SPIs and selectors; emitting round-trips, with keys
// redacted on request.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config/validate.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

// `count` key bytes first, first+1, ...: distinct keys of any length.
std::vector<uint8_t> key_bytes(size_t count, uint8_t first = 0) {
    std::vector<uint8_t> bytes(count);
    for (size_t i = 0; i < count; ++i) bytes[i] = static_cast<uint8_t>(first + i);
    return bytes;
}

// The same key as the mbox language and YAML write it: "0x0001...".
std::string key_hex(size_t count, uint8_t first = 0) {
    std::string text = "0x";
    for (const uint8_t byte : key_bytes(count, first)) text += fmt::format("{:02x}", byte);
    return text;
}

const ManualSa& only_manual_sa(const Config& config) {
    EXPECT_EQ(config.manual_sas.size(), 1u);
    return config.manual_sas.at(0);
}

// The brief's example, in canonical order (so emitting it gives it back verbatim).
const std::string kBranch1 = fmt::format(R"(ipsec manual-sa branch1
 local ip 198.51.100.1
 peer 203.0.113.2
 local-net 10.1.0.0/24
 remote-net 10.2.0.0/24
 esp AES-256 SHA-256
 inbound spi 0x1001 enc-key {} auth-key {}
 outbound spi 0x2001 enc-key {} auth-key {}
 udp-encap 4500 4500
 replay-window 1024
 esn
!
)",
                                         key_hex(32, 0x10), key_hex(32, 0x30), key_hex(32, 0x50), key_hex(32, 0x70));

// ---- the mbox language ----

TEST(MboxManualSa, BlockSetsEveryField) {
    const Config config = parse_mbox_clean(kBranch1);
    const ManualSa& sa = only_manual_sa(config);
    EXPECT_EQ(sa.name, "branch1");
    EXPECT_EQ(sa.local_ip, address("198.51.100.1"));
    EXPECT_EQ(sa.peer, address("203.0.113.2"));
    EXPECT_EQ(sa.local_nets, std::vector{prefix("10.1.0.0/24")});
    EXPECT_EQ(sa.remote_nets, std::vector{prefix("10.2.0.0/24")});
    EXPECT_EQ(sa.encryption, Encryption::Aes256);
    EXPECT_EQ(sa.hash, Hash::Sha256);
    ASSERT_TRUE(sa.inbound);
    EXPECT_EQ(sa.inbound->spi, 0x1001u);
    EXPECT_EQ(sa.inbound->enc_key, key_bytes(32, 0x10));
    EXPECT_EQ(sa.inbound->auth_key, key_bytes(32, 0x30));
    EXPECT_EQ(sa.inbound->where.line, 7);
    ASSERT_TRUE(sa.outbound);
    EXPECT_EQ(sa.outbound->spi, 0x2001u);
    EXPECT_EQ(sa.outbound->enc_key, key_bytes(32, 0x50));
    EXPECT_EQ(sa.outbound->auth_key, key_bytes(32, 0x70));
    EXPECT_EQ(sa.outbound->where.line, 8);
    EXPECT_EQ(sa.udp_encap, (UdpEncap{4500, 4500}));
    EXPECT_EQ(sa.replay_window, 1024u);
    EXPECT_TRUE(sa.esn);
    EXPECT_EQ(sa.where.line, 1);
}

TEST(MboxManualSa, HeaderAloneGivesTheDefaults) {
    const Config config = parse_mbox_clean("ipsec manual-sa lab\n");
    const ManualSa& sa = only_manual_sa(config);
    EXPECT_EQ(sa.name, "lab");
    EXPECT_EQ(sa.local_ip, std::nullopt);
    EXPECT_EQ(sa.peer, std::nullopt);
    EXPECT_EQ(sa.encryption, std::nullopt);
    EXPECT_EQ(sa.hash, std::nullopt);
    EXPECT_EQ(sa.inbound, std::nullopt);
    EXPECT_EQ(sa.outbound, std::nullopt);
    EXPECT_EQ(sa.udp_encap, std::nullopt);
    EXPECT_EQ(sa.replay_window, kDefaultReplayWindow);
    EXPECT_EQ(kDefaultReplayWindow, 1024u);
    EXPECT_FALSE(sa.esn);
}

TEST(MboxManualSa, SingleLineFormsAccumulateIntoTheBlock) {
    const Config single = parse_mbox_clean(fmt::format(R"(ipsec manual-sa branch1 local ip 198.51.100.1
ipsec manual-sa branch1 peer 203.0.113.2
ipsec manual-sa branch1 local-net 10.1.0.0/24
ipsec manual-sa branch1 remote-net 10.2.0.0/24
ipsec manual-sa branch1 esp AES-256 SHA-256
ipsec manual-sa branch1 inbound spi 0x1001 enc-key {} auth-key {}
ipsec manual-sa branch1 outbound spi 0x2001 enc-key {} auth-key {}
ipsec manual-sa branch1 udp-encap 4500 4500
ipsec manual-sa branch1 replay-window 1024
ipsec manual-sa branch1 esn
)",
                                                       key_hex(32, 0x10), key_hex(32, 0x30), key_hex(32, 0x50),
                                                       key_hex(32, 0x70)));
    EXPECT_EQ(single, parse_mbox_clean(kBranch1));
    EXPECT_EQ(only_manual_sa(single).where.line, 1);
    EXPECT_EQ(only_manual_sa(single).inbound->where.line, 6);
}

TEST(MboxManualSa, GcmTakesNoHashAndNoAuthKey) {
    const Config config = parse_mbox_clean(fmt::format(
        "ipsec manual-sa gcm esp AES-GCM-128\nipsec manual-sa gcm inbound spi 4097 enc-key {}\n", key_hex(20)));
    const ManualSa& sa = only_manual_sa(config);
    EXPECT_EQ(sa.encryption, Encryption::AesGcm128);
    EXPECT_EQ(sa.hash, std::nullopt);
    EXPECT_EQ(sa.inbound->spi, 4097u);
    EXPECT_EQ(sa.inbound->enc_key, key_bytes(20));
    EXPECT_TRUE(sa.inbound->auth_key.empty());
    EXPECT_EQ(only_manual_sa(parse_mbox_clean("ipsec manual-sa g\n esp aes-gcm-256\n")).encryption,
              Encryption::AesGcm256);
}

TEST(MboxManualSa, NetsTakeListsAndRepeat) {
    const Config config = parse_mbox_clean(R"(ipsec manual-sa b
 local-net 10.1.0.0/24,10.3.0.0/24
 local-net 10.4.0.0/24
 remote-net 10.2.0.0/24
 remote-net 10.5.0.0/16,10.6.0.0/16
)");
    const ManualSa& sa = only_manual_sa(config);
    EXPECT_EQ(sa.local_nets, (std::vector{prefix("10.1.0.0/24"), prefix("10.3.0.0/24"), prefix("10.4.0.0/24")}));
    EXPECT_EQ(sa.remote_nets, (std::vector{prefix("10.2.0.0/24"), prefix("10.5.0.0/16"), prefix("10.6.0.0/16")}));
}

TEST(MboxManualSa, SpiAndKeyNotations) {
    const Config config = parse_mbox_clean(R"(ipsec manual-sa b
 esp AES MD5
 inbound spi 256 enc-key 000102030405060708090A0B0C0D0E0F auth-key 0X000102030405060708090a0b0c0d0e0f
 outbound spi 0XFFFFFFFF enc-key 0x00000000000000000000000000000000 auth-key 0xffffffffffffffffffffffffffffffff
)");
    const ManualSa& sa = only_manual_sa(config);
    EXPECT_EQ(sa.inbound->spi, 256u);
    EXPECT_EQ(sa.inbound->enc_key, key_bytes(16));
    EXPECT_EQ(sa.inbound->auth_key, key_bytes(16));
    EXPECT_EQ(sa.outbound->spi, 0xffffffffu);
    EXPECT_EQ(sa.outbound->enc_key, std::vector<uint8_t>(16, 0));
    EXPECT_EQ(sa.outbound->auth_key, std::vector<uint8_t>(16, 0xff));
}

TEST(MboxManualSa, SettingsGivenAgainReplaceTheOldOnes) {
    const Config config = parse_mbox_clean(fmt::format(R"(ipsec manual-sa b
 esp AES SHA
 inbound spi 0x1001 enc-key {} auth-key {}
 replay-window 64
!
ipsec manual-sa b
 esp AES-GCM-256
 inbound spi 0x1002 enc-key {}
 replay-window 0
)",
                                                       key_hex(16), key_hex(20), key_hex(36)));
    const ManualSa& sa = only_manual_sa(config);
    EXPECT_EQ(sa.encryption, Encryption::AesGcm256);
    EXPECT_EQ(sa.hash, std::nullopt);  // replaced with the encryption, not kept
    EXPECT_EQ(sa.inbound->spi, 0x1002u);
    EXPECT_TRUE(sa.inbound->auth_key.empty());
    EXPECT_EQ(sa.replay_window, 0u);
}

TEST(MboxManualSa, ReplayWindowBounds) {
    const auto window = [](std::string_view value) {
        return only_manual_sa(parse_mbox_clean(fmt::format("ipsec manual-sa b replay-window {}\n", value)))
            .replay_window;
    };
    EXPECT_EQ(window("0"), 0u);
    EXPECT_EQ(window("32"), 32u);
    EXPECT_EQ(window("65536"), 65536u);
}

TEST(MboxManualSa, DfBitDefaultsToCopyAndTakesSetOrClear) {
    EXPECT_EQ(only_manual_sa(parse_mbox_clean("ipsec manual-sa b\n")).df_bit, DfBit::Copy);
    EXPECT_EQ(only_manual_sa(parse_mbox_clean("ipsec manual-sa b\n df-bit set\n")).df_bit, DfBit::Set);
    EXPECT_EQ(only_manual_sa(parse_mbox_clean("ipsec manual-sa b df-bit clear\n")).df_bit, DfBit::Clear);
    EXPECT_EQ(only_manual_sa(parse_yaml_clean("ipsec: {manual-sas: {b: {df-bit: set}}}\n")).df_bit, DfBit::Set);
    EXPECT_EQ(messages(parse_mbox("ipsec manual-sa b\n df-bit maybe\n", "t.conf").diagnostics),
              std::vector<std::string>{"t.conf:2: error: invalid df-bit 'maybe' (expected one of: copy, set, clear)"});
}

TEST(MboxManualSa, SeveralSasKeepTheirOrder) {
    const Config config = parse_mbox_clean("ipsec manual-sa zeta\nipsec manual-sa alpha\nipsec manual-sa zeta esn\n");
    ASSERT_EQ(config.manual_sas.size(), 2u);
    EXPECT_EQ(config.manual_sas[0].name, "zeta");
    EXPECT_TRUE(config.manual_sas[0].esn);
    EXPECT_EQ(config.manual_sas[1].name, "alpha");
}

TEST(MboxManualSa, MistakesInTheBlock) {
    const auto errors = [](std::string_view text) { return messages(parse_mbox(text, "t.conf").diagnostics); };
    using Lines = std::vector<std::string>;
    EXPECT_EQ(errors("ipsec manual-sa\n"), Lines{"t.conf:1: error: missing manual-sa name after 'ipsec manual-sa'"});
    EXPECT_EQ(errors("ipsec manual-sa b\n lifetime 30\n"),
              Lines{"t.conf:2: error: unknown keyword 'lifetime' (expected one of: local, peer, local-net, remote-net, "
                    "esp, inbound, outbound, udp-encap, replay-window, esn, df-bit)"});
    EXPECT_EQ(errors("ipsec manual-sa b\n local ip 198.51.100.1 nated\n"),
              Lines{"t.conf:2: error: extra argument 'nated' after 'local ip 198.51.100.1'"});
    EXPECT_EQ(errors("ipsec manual-sa b\n esp AES\n"), Lines{"t.conf:2: error: missing hash after 'esp AES'"});
    EXPECT_EQ(errors("ipsec manual-sa b\n esp AES-GCM-128 SHA-256\n"),
              Lines{"t.conf:2: error: AES-GCM-128 takes no hash (GCM authenticates the packets itself)"});
    EXPECT_EQ(errors("ipsec manual-sa b\n inbound enc-key 0x00\n"),
              Lines{"t.conf:2: error: unknown keyword 'enc-key' after 'inbound' (expected one of: spi)"});
    EXPECT_EQ(errors("ipsec manual-sa b\n inbound spi 0x1001\n"),
              Lines{"t.conf:2: error: missing 'enc-key' after 'inbound spi 0x1001'"});
    EXPECT_EQ(errors("ipsec manual-sa b\n inbound spi 0x1001 enc-key\n"),
              Lines{"t.conf:2: error: missing key (hex) after 'inbound spi 0x1001 enc-key'"});
    EXPECT_EQ(errors("ipsec manual-sa b\n inbound spi 0x1001 enc-key 00 auth-key 00 extra\n"),
              Lines{"t.conf:2: error: extra argument 'extra' after 'inbound spi 0x1001 enc-key 00 auth-key 00'"});
    EXPECT_EQ(errors("ipsec manual-sa b\n udp-encap 4500\n"),
              Lines{"t.conf:2: error: missing UDP destination port after 'udp-encap 4500'"});
    EXPECT_EQ(errors("ipsec manual-sa b\n udp-encap 4500 65536\n"),
              Lines{"t.conf:2: error: invalid UDP destination port '65536' (expected a number 1..65535)"});
    EXPECT_EQ(errors("ipsec manual-sa b\n esn on\n"), Lines{"t.conf:2: error: extra argument 'on' after 'esn'"});
    EXPECT_EQ(errors("esp AES SHA\n"),
              Lines{"t.conf:1: error: 'esp' belongs inside a block: indent it under its interface, ipsec peer, "
                    "manual-sa or policy header"});
}

TEST(MboxManualSa, SpiLimits) {
    const auto spi_error = [](std::string_view spi) {
        return messages(parse_mbox(fmt::format("ipsec manual-sa b inbound spi {} enc-key 00\n", spi), "t.conf")
                            .diagnostics);
    };
    for (const char* bad : {"0", "1", "255", "0xff", "4294967296", "0x100000000", "0x", "0400", "-256", "1e3"}) {
        EXPECT_EQ(spi_error(bad),
                  std::vector<std::string>{fmt::format("t.conf:1: error: invalid SPI '{}' (expected 0x100..0xffffffff, "
                                                       "decimal or 0x hex: 0 is invalid, 1..255 reserved)",
                                                       bad)});
    }
    for (const char* good : {"256", "0x100", "4294967295", "0x00001001"}) {
        EXPECT_EQ(spi_error(good), std::vector<std::string>{}) << good;
    }
}

TEST(MboxManualSa, KeyTextMistakesNeverRepeatTheKey) {
    const auto key_error = [](std::string_view key) {
        return messages(parse_mbox(fmt::format("ipsec manual-sa b inbound spi 256 enc-key {}\n", key), "t.conf")
                            .diagnostics);
    };
    using Lines = std::vector<std::string>;
    EXPECT_EQ(key_error("0x00112"), Lines{"t.conf:1: error: invalid enc-key: odd number of hex digits (5; expected "
                                          "whole bytes)"});
    EXPECT_EQ(key_error("0x0011g2"), Lines{"t.conf:1: error: invalid enc-key: character 7 is not a hex digit "
                                           "(expected hex, 0x prefix optional)"});
    EXPECT_EQ(key_error("0x"), Lines{"t.conf:1: error: invalid enc-key: no hex digits"});
    EXPECT_EQ(key_error("********"),
              Lines{"t.conf:1: error: enc-key is redacted ('********'): write the key itself"});
}

// ---- GCM in policies ----

TEST(GcmPolicies, EspPolicyTakesGcmWithoutHash) {
    const Config config = parse_mbox_clean(R"(ipsec esp-policy 1 policy AES-GCM-128
ipsec esp-policy 2 policy AES-GCM-256 14 keylife 1800
ipsec esp-policy 3
 policy aes-gcm-128 19
!
)");
    EXPECT_EQ(config.esp_policies.at(1).encryption, Encryption::AesGcm128);
    EXPECT_EQ(config.esp_policies.at(1).hash, std::nullopt);
    EXPECT_EQ(config.esp_policies.at(1).pfs_group, std::nullopt);
    EXPECT_EQ(config.esp_policies.at(2).encryption, Encryption::AesGcm256);
    EXPECT_EQ(config.esp_policies.at(2).hash, std::nullopt);
    EXPECT_EQ(config.esp_policies.at(2).pfs_group, 14);
    EXPECT_EQ(config.esp_policies.at(2).keylife, 1800u);
    EXPECT_EQ(config.esp_policies.at(3).pfs_group, 19);

    const Config yaml = parse_yaml_clean(R"(ipsec:
  esp-policies:
    1: {encryption: AES-GCM-128}
    2: {encryption: AES-GCM-256, pfs-group: 14, keylife: 1800}
    3: {encryption: aes-gcm-128, pfs-group: 19}
)");
    EXPECT_EQ(yaml, config);
    // A CBC cipher without a hash keeps the default, as before.
    EXPECT_EQ(parse_yaml_clean("ipsec: {esp-policies: {1: {encryption: AES}}}\n").esp_policies.at(1).hash,
              Hash::Sha1);
}

TEST(GcmPolicies, HashAfterGcmIsAnError) {
    EXPECT_EQ(messages(parse_mbox("ipsec esp-policy 1 policy AES-GCM-128 SHA 14\n", "t.conf").diagnostics),
              std::vector<std::string>{
                  "t.conf:1: error: AES-GCM-128 takes no hash (GCM authenticates the packets itself)"});
    EXPECT_EQ(messages(parse_yaml("ipsec:\n  esp-policies:\n    1:\n      encryption: AES-GCM-256\n      hash: SHA\n",
                                  "t.yaml")
                           .diagnostics),
              std::vector<std::string>{"t.yaml:5: error: AES-GCM-256 takes no hash (GCM authenticates the packets "
                                       "itself) (ipsec.esp-policies.1.hash)"});
}

TEST(GcmPolicies, IkePolicyRejectsGcm) {
    EXPECT_EQ(messages(parse_mbox("ipsec ike-policy 1 policy AES-GCM-128 SHA 14\n", "t.conf").diagnostics),
              std::vector<std::string>{"t.conf:1: error: encryption AES-GCM-128 is for ESP only, not for an "
                                       "ike-policy (expected one of: 3DES, AES, AES-192, AES-256)"});
    EXPECT_EQ(messages(parse_yaml("ipsec: {ike-policies: {1: {encryption: AES-GCM-256}}}\n", "t.yaml").diagnostics),
              std::vector<std::string>{"t.yaml:1: error: encryption AES-GCM-256 is for ESP only, not for an "
                                       "ike-policy (expected one of: 3DES, AES, AES-192, AES-256) "
                                       "(ipsec.ike-policies.1.encryption)"});
    // An unknown word in an ike-policy lists only what an ike-policy takes.
    EXPECT_EQ(messages(parse_mbox("ipsec ike-policy 1 policy AES-512 SHA 14\n", "t.conf").diagnostics),
              std::vector<std::string>{
                  "t.conf:1: error: unknown encryption 'AES-512' (expected one of: 3DES, AES, AES-192, AES-256)"});
}

// ---- YAML ----

TEST(YamlManualSa, EveryKey) {
    const Config config = parse_yaml_clean(fmt::format(R"(ipsec:
  manual-sas:
    branch1:
      local-ip: 198.51.100.1
      peer: 203.0.113.2
      local-nets: [10.1.0.0/24, 10.3.0.0/24]
      remote-nets: [10.2.0.0/24]
      encryption: AES-256
      hash: SHA-256
      inbound: {{spi: 0x1001, enc-key: "{}", auth-key: {}}}
      outbound:
        spi: 8193
        enc-key: {}
        auth-key: {}
      udp-encap: {{source-port: 4500, destination-port: 4501}}
      replay-window: 64
      esn: true
    gcm: {{encryption: AES-GCM-128, inbound: {{spi: 0x3001, enc-key: {}}}}}
)",
                                                       key_hex(32, 0x10), key_hex(32, 0x30), key_hex(32, 0x50),
                                                       key_hex(32, 0x70).substr(2), key_hex(20)));
    ASSERT_EQ(config.manual_sas.size(), 2u);
    const ManualSa& sa = config.manual_sas[0];
    EXPECT_EQ(sa.name, "branch1");
    EXPECT_EQ(sa.local_ip, address("198.51.100.1"));
    EXPECT_EQ(sa.peer, address("203.0.113.2"));
    EXPECT_EQ(sa.local_nets, (std::vector{prefix("10.1.0.0/24"), prefix("10.3.0.0/24")}));
    EXPECT_EQ(sa.remote_nets, std::vector{prefix("10.2.0.0/24")});
    EXPECT_EQ(sa.encryption, Encryption::Aes256);
    EXPECT_EQ(sa.hash, Hash::Sha256);
    ASSERT_TRUE(sa.inbound && sa.outbound);
    EXPECT_EQ(sa.inbound->spi, 0x1001u);
    EXPECT_EQ(sa.inbound->enc_key, key_bytes(32, 0x10));
    EXPECT_EQ(sa.inbound->auth_key, key_bytes(32, 0x30));
    EXPECT_EQ(sa.inbound->where.line, 10);
    EXPECT_EQ(sa.inbound->where.key_path, "ipsec.manual-sas.branch1.inbound");
    EXPECT_EQ(sa.outbound->spi, 8193u);
    EXPECT_EQ(sa.outbound->enc_key, key_bytes(32, 0x50));
    EXPECT_EQ(sa.outbound->auth_key, key_bytes(32, 0x70));
    EXPECT_EQ(sa.udp_encap, (UdpEncap{4500, 4501}));
    EXPECT_EQ(sa.replay_window, 64u);
    EXPECT_TRUE(sa.esn);
    EXPECT_EQ(sa.where.line, 3);
    EXPECT_EQ(sa.where.key_path, "ipsec.manual-sas.branch1");

    const ManualSa& gcm = config.manual_sas[1];
    EXPECT_EQ(gcm.encryption, Encryption::AesGcm128);
    EXPECT_EQ(gcm.hash, std::nullopt);
    EXPECT_EQ(gcm.inbound->enc_key, key_bytes(20));
    EXPECT_EQ(gcm.replay_window, kDefaultReplayWindow);
    EXPECT_FALSE(gcm.esn);
    EXPECT_EQ(gcm.udp_encap, std::nullopt);
}

TEST(YamlManualSa, SaysTheSameAsTheMboxForm) {
    const Config from_mbox = parse_mbox_clean(kBranch1);
    const Config from_yaml = parse_yaml_clean(fmt::format(R"(ipsec:
  manual-sas:
    branch1:
      local-ip: 198.51.100.1
      peer: 203.0.113.2
      local-nets: [10.1.0.0/24]
      remote-nets: [10.2.0.0/24]
      encryption: AES-256
      hash: SHA-256
      inbound: {{spi: 0x1001, enc-key: {}, auth-key: {}}}
      outbound: {{spi: 0x2001, enc-key: {}, auth-key: {}}}
      udp-encap: {{source-port: 4500, destination-port: 4500}}
      replay-window: 1024
      esn: true
)",
                                                          key_hex(32, 0x10), key_hex(32, 0x30), key_hex(32, 0x50),
                                                          key_hex(32, 0x70)));
    EXPECT_EQ(from_yaml, from_mbox);
}

TEST(YamlManualSa, KeysMayLiveInFilesBesideTheYaml) {
    const TemporaryDirectory directory;
    // `xxd -p` style: wrapped lines, no 0x; and one with 0x and a final newline.
    const std::string enc = key_hex(32, 0x10).substr(2);
    directory.write("keys/in.enc", enc.substr(0, 30) + "\n" + enc.substr(30) + "\n");
    directory.write("keys/in.auth", key_hex(32, 0x30) + "\n");
    const auto absolute = directory.write("elsewhere/out.enc", key_hex(20));
    const std::string yaml = fmt::format(R"(ipsec:
  manual-sas:
    b:
      inbound: {{spi: 0x1001, enc-key-file: keys/in.enc, auth-key-file: keys/in.auth}}
      outbound: {{spi: 0x2001, enc-key-file: "{}"}}
)",
                                         absolute.string());
    const Config config = parse_yaml_clean(yaml, (directory.path() / "gw.yaml").string());
    const ManualSa& sa = only_manual_sa(config);
    EXPECT_EQ(sa.inbound->enc_key, key_bytes(32, 0x10));
    EXPECT_EQ(sa.inbound->auth_key, key_bytes(32, 0x30));
    EXPECT_EQ(sa.inbound->enc_key_file, "keys/in.enc");
    EXPECT_EQ(sa.inbound->auth_key_file, "keys/in.auth");
    EXPECT_EQ(sa.outbound->enc_key, key_bytes(20));
    EXPECT_EQ(sa.outbound->enc_key_file, absolute.string());
    EXPECT_EQ(sa.outbound->auth_key_file, "");
}

TEST(YamlManualSa, KeyFileProblemsAreErrors) {
    const TemporaryDirectory directory;
    directory.write("blank.key", " \n\n");
    directory.write("odd.key", "0x123\n");
    directory.write("good.key", key_hex(16));
    const std::string yaml_file = (directory.path() / "gw.yaml").string();
    const auto errors = [&](std::string_view inbound) {
        const std::string yaml = fmt::format("ipsec:\n  manual-sas:\n    b:\n      inbound: {}\n", inbound);
        return messages(parse_yaml(yaml, yaml_file).diagnostics);
    };
    const std::string at = yaml_file + ":4: error: ";
    const std::string path = " (ipsec.manual-sas.b.inbound)";
    const auto in_directory = [&](std::string_view name) { return (directory.path() / name).string(); };
    EXPECT_EQ(errors("{spi: 256, enc-key-file: missing.key}"),
              std::vector{at + "cannot read enc-key-file '" + in_directory("missing.key") + "'" + path});
    EXPECT_EQ(errors("{spi: 256, enc-key-file: blank.key}"),
              std::vector{at + "enc-key-file '" + in_directory("blank.key") + "' is empty" + path});
    EXPECT_EQ(errors("{spi: 256, enc-key: 00, auth-key-file: odd.key}"),
              std::vector{at + "invalid auth-key in auth-key-file '" + in_directory("odd.key") +
                          "': odd number of hex digits (3; expected whole bytes)" + path});
    EXPECT_EQ(errors("{spi: 256, enc-key: 00, enc-key-file: good.key}"),
              std::vector{at + "give enc-key or enc-key-file, not both" + path});
    EXPECT_EQ(errors("{spi: 256}"), std::vector{at + "missing key 'enc-key'" + path});
    EXPECT_EQ(errors("{enc-key-file: good.key}"), std::vector{at + "missing key 'spi'" + path});
}

TEST(YamlManualSa, MistakesInTheMap) {
    const auto errors = [](std::string_view sa) {
        return messages(parse_yaml(fmt::format("ipsec:\n  manual-sas:\n    b: {}\n", sa), "t.yaml").diagnostics);
    };
    using Lines = std::vector<std::string>;
    EXPECT_EQ(errors("{lifetime: 30}"),
              Lines{"t.yaml:3: error: unknown key 'lifetime' (expected one of: local-ip, peer, local-nets, "
                    "remote-nets, encryption, hash, inbound, outbound, udp-encap, replay-window, esn, df-bit) "
                    "(ipsec.manual-sas.b.lifetime)"});
    EXPECT_EQ(errors("{encryption: AES}"),
              Lines{"t.yaml:3: error: AES needs a hash (expected one of: MD5, MD5-128, SHA, SHA-256, SHA-512) "
                    "(ipsec.manual-sas.b)"});
    EXPECT_EQ(errors("{encryption: AES-GCM-128, hash: SHA}"),
              Lines{"t.yaml:3: error: AES-GCM-128 takes no hash (GCM authenticates the packets itself) "
                    "(ipsec.manual-sas.b.hash)"});
    EXPECT_EQ(errors("{inbound: {spi: 255, enc-key: 00}}"),
              Lines{"t.yaml:3: error: invalid SPI '255' (expected 0x100..0xffffffff, decimal or 0x hex: 0 is invalid, "
                    "1..255 reserved) (ipsec.manual-sas.b.inbound.spi)"});
    EXPECT_EQ(errors("{inbound: {spi: 256, enc-key: 0x0g}}"),
              Lines{"t.yaml:3: error: invalid enc-key: character 4 is not a hex digit (expected hex, 0x prefix "
                    "optional) (ipsec.manual-sas.b.inbound.enc-key)"});
    EXPECT_EQ(errors("{udp-encap: {source-port: 4500}}"),
              Lines{"t.yaml:3: error: missing key 'destination-port' (ipsec.manual-sas.b.udp-encap)"});
    EXPECT_EQ(errors("{udp-encap: {source-port: 0, destination-port: 4500}}"),
              Lines{"t.yaml:3: error: invalid UDP source port '0' (expected a number 1..65535) "
                    "(ipsec.manual-sas.b.udp-encap.source-port)"});
    EXPECT_EQ(errors("{replay-window: 31}"),
              Lines{"t.yaml:3: error: invalid replay-window '31' (expected 0 to turn the check off, or a number "
                    "32..65536) (ipsec.manual-sas.b.replay-window)"});
    EXPECT_EQ(errors("{esn: yes}"),
              Lines{"t.yaml:3: error: expected true or false, got 'yes' (ipsec.manual-sas.b.esn)"});
    EXPECT_EQ(messages(parse_yaml("ipsec:\n  manual-sas:\n    two words: {}\n", "t.yaml").diagnostics),
              Lines{"t.yaml:3: error: invalid manual-sa name 'two words' (expected one word) "
                    "(ipsec.manual-sas.two words)"});
}

// ---- validation ----

// Valid and warning-free: eth0 carries the local ip; the manual SA starts on line 6,
// its inbound line is 12.
const std::string kValid = fmt::format(R"(interface eth0
 dpdk-device net_null0
 ip address 198.51.100.1/24
 enable
!
ipsec manual-sa branch1
 local ip 198.51.100.1
 peer 203.0.113.2
 local-net 10.1.0.0/24
 remote-net 10.2.0.0/24
 esp AES-256 SHA-256
 inbound spi 0x1001 enc-key {0} auth-key {0}
 outbound spi 0x2001 enc-key {0} auth-key {0}
!
firewall-snat 10 exempt outbound eth0 src 10.1.0.0/24 dst 10.2.0.0/24
firewall-snat 20 overload outbound eth0
!
)",
                                       key_hex(32));

class ValidateManualSa : public ::testing::Test {
protected:
    Config config = parse_mbox_clean(kValid);
    ManualSa& sa() { return config.manual_sas.at(0); }
    std::vector<std::string> found() const { return messages(validate(config)); }

    // A second SA, valid on its own, that shares nothing with the first.
    ManualSa& add_second() {
        ManualSa second = sa();
        second.name = "branch2";
        second.where.line = 40;
        second.local_nets = {prefix("10.1.0.0/24")};
        second.remote_nets = {prefix("10.9.0.0/24")};
        second.inbound->spi = 0x1009;
        second.inbound->where.line = 46;
        config.manual_sas.push_back(second);
        config.snat_rules.clear();
        return config.manual_sas.back();
    }
};

using Lines = std::vector<std::string>;

TEST_F(ValidateManualSa, TheBaselineIsClean) {
    EXPECT_EQ(found(), Lines{});
    add_second();
    EXPECT_EQ(found(), Lines{});
}

TEST_F(ValidateManualSa, EveryPartMustBeGiven) {
    ManualSa empty;
    empty.name = "empty";
    empty.where = sa().where;
    config.manual_sas = {empty};
    EXPECT_EQ(found(), (Lines{"test.conf:6: error: manual-sa empty: no local ip given",
                              "test.conf:6: error: manual-sa empty: no peer given",
                              "test.conf:6: error: manual-sa empty: no local-net given",
                              "test.conf:6: error: manual-sa empty: no remote-net given",
                              "test.conf:6: error: manual-sa empty: no 'esp ENC [HASH]' given",
                              "test.conf:6: error: manual-sa empty: no 'inbound spi SPI enc-key KEY' given",
                              "test.conf:6: error: manual-sa empty: no 'outbound spi SPI enc-key KEY' given"}));
}

TEST_F(ValidateManualSa, LocalIpMustBeOneOfOurAddresses) {
    sa().local_ip = address("198.51.100.9");  // on eth0's network, but not eth0's address
    EXPECT_EQ(found(),
              Lines{"test.conf:6: error: manual-sa branch1: local ip 198.51.100.9 is not an address of any interface"});
}

TEST_F(ValidateManualSa, EncryptionKeyLengthPerAlgorithm) {
    const std::pair<Encryption, size_t> expected[] = {
        {Encryption::TripleDes, 24}, {Encryption::Aes128, 16},    {Encryption::Aes192, 24},
        {Encryption::Aes256, 32},    {Encryption::AesGcm128, 20}, {Encryption::AesGcm256, 36},
    };
    for (const auto& [encryption, length] : expected) {
        config = parse_mbox_clean(kValid);
        sa().encryption = encryption;
        if (is_aead(encryption)) sa().hash.reset();
        for (ManualSaKeys* keys : {&*sa().inbound, &*sa().outbound}) {
            keys->enc_key = key_bytes(length);
            if (is_aead(encryption)) keys->auth_key.clear();
        }
        EXPECT_EQ(found(), Lines{}) << to_string(encryption);
        sa().inbound->enc_key = key_bytes(length + 1);
        const std::string salt = is_aead(encryption) ? fmt::format(" ({}-byte key and 4-byte salt)", length - 4) : "";
        EXPECT_EQ(found(), Lines{fmt::format("test.conf:12: error: manual-sa branch1: inbound enc-key is {} bytes, but "
                                             "{} takes {}{}",
                                             length + 1, to_string(encryption), length, salt)});
    }
}

TEST_F(ValidateManualSa, AuthKeyLengthPerHash) {
    const std::pair<Hash, size_t> expected[] = {
        {Hash::Md5, 16}, {Hash::Md5_128, 16}, {Hash::Sha1, 20}, {Hash::Sha256, 32}, {Hash::Sha512, 64},
    };
    for (const auto& [hash, length] : expected) {
        sa().hash = hash;
        sa().inbound->auth_key = key_bytes(length);
        sa().outbound->auth_key = key_bytes(length);
        EXPECT_EQ(found(), Lines{}) << to_string(hash);
        sa().outbound->auth_key = key_bytes(length - 4);
        EXPECT_EQ(found(), Lines{fmt::format("test.conf:13: error: manual-sa branch1: outbound auth-key is {} bytes, "
                                             "but {} takes {}",
                                             length - 4, to_string(hash), length)});
    }
}

TEST_F(ValidateManualSa, CbcNeedsAnAuthKey) {
    sa().inbound->auth_key.clear();
    EXPECT_EQ(found(), Lines{"test.conf:12: error: manual-sa branch1: inbound has no auth-key, but SHA-256 needs one "
                             "of 32 bytes"});
}

TEST_F(ValidateManualSa, GcmTakesNoAuthKey) {
    sa().encryption = Encryption::AesGcm256;
    sa().hash.reset();
    sa().inbound->enc_key = key_bytes(36);
    sa().outbound->enc_key = key_bytes(36);
    sa().outbound->auth_key.clear();
    EXPECT_EQ(found(), Lines{"test.conf:12: error: manual-sa branch1: inbound auth-key given, but AES-GCM-256 takes "
                             "none (GCM authenticates the packets itself)"});
}

TEST_F(ValidateManualSa, AlgorithmPairsBuiltByCodeAreChecked) {
    sa().hash.reset();
    EXPECT_EQ(found(), Lines{"test.conf:6: error: manual-sa branch1: AES-256 needs a hash (expected one of: MD5, "
                             "MD5-128, SHA, SHA-256, SHA-512)"});
    EspPolicy& policy = config.esp_policies[5];
    policy.id = 5;
    policy.encryption = Encryption::AesGcm128;
    policy.hash = Hash::Sha1;
    policy.where = SourceLocation{"built.conf", 3, {}};
    config.manual_sas.clear();
    EXPECT_EQ(found(), Lines{"built.conf:3: error: esp-policy 5: AES-GCM-128 takes no hash (GCM authenticates the "
                             "packets itself)"});
}

TEST_F(ValidateManualSa, NamesAreUnique) {
    ManualSa& second = add_second();
    second.name = "branch1";
    EXPECT_EQ(found(), Lines{"test.conf:40: error: manual-sa branch1 is already defined at test.conf:6"});
}

TEST_F(ValidateManualSa, InboundSpiIsUsedOnce) {
    ManualSa& second = add_second();
    second.inbound->spi = 0x1001;
    second.outbound->spi = 0x2001;  // outbound SPIs belong to the peers: they may repeat
    EXPECT_EQ(found(),
              Lines{"test.conf:46: error: manual-sa branch2: inbound SPI 0x1001 is already used by manual-sa branch1 "
                    "at test.conf:12"});
}

TEST_F(ValidateManualSa, ANetworkPairIsCarriedOnce) {
    ManualSa& second = add_second();
    second.remote_nets = {prefix("10.9.0.0/24"), prefix("10.2.0.0/24")};
    EXPECT_EQ(found(), Lines{"test.conf:40: error: manual-sa branch2: traffic 10.1.0.0/24 -> 10.2.0.0/24 is already "
                             "carried by manual-sa branch1 at test.conf:6"});
}

TEST_F(ValidateManualSa, OverloadWithoutExemptionWarns) {
    config.snat_rules.erase(config.snat_rules.begin());
    EXPECT_EQ(found(), Lines{"test.conf:6: warning: manual-sa branch1: traffic 10.1.0.0/24 -> 10.2.0.0/24 is caught "
                             "by overload rule 20 with no exempt rule before it"});
}

TEST_F(ValidateManualSa, NetsMustHaveNoHostBits) {
    sa().remote_nets = {prefix("10.2.0.1/24")};
    config.snat_rules.clear();
    EXPECT_EQ(found(), Lines{"test.conf:6: error: manual-sa branch1 remote-net: 10.2.0.1/24 has host bits set (did "
                             "you mean 10.2.0.0/24?)"});
}

// ---- emitting ----

TEST(ManualSaRoundTrip, CanonicalBlockIsEmittedVerbatim) {
    const Config config = parse_mbox_clean(kBranch1);
    EXPECT_EQ(emit_mbox(config), kBranch1 + "ipsec stop\n");
}

TEST(ManualSaRoundTrip, EveryVariantSurvivesBothForms) {
    const std::string text = fmt::format(R"(ipsec esp-policy 1 policy AES-GCM-128 14
ipsec esp-policy 2 policy AES-GCM-256
ipsec manual-sa a esp AES-GCM-256
ipsec manual-sa a inbound spi 256 enc-key {}
ipsec manual-sa a outbound spi 0xffffffff enc-key {}
ipsec manual-sa a replay-window 0
ipsec manual-sa b esp 3DES MD5-128
ipsec manual-sa b local-net 10.1.0.0/24,10.3.0.0/24
ipsec manual-sa b remote-net 0.0.0.0/0
ipsec manual-sa b udp-encap 1 65535
ipsec manual-sa b esn
ipsec manual-sa b df-bit clear
ipsec manual-sa c df-bit SET
ipsec manual-sa d df-bit copy
)",
                                         key_hex(36, 1), key_hex(36, 2));
    const Config original = parse_mbox_clean(text);
    const std::string emitted = emit_mbox(original);
    EXPECT_EQ(parse_mbox_clean(emitted), original) << emitted;
    EXPECT_EQ(emit_mbox(parse_mbox_clean(emitted)), emitted);

    const std::string yaml = emit_yaml(original);
    const Config through_yaml = parse_yaml_clean(yaml);
    EXPECT_EQ(through_yaml, original) << yaml;
    EXPECT_EQ(emit_yaml(through_yaml), yaml);
    EXPECT_EQ(emit_mbox(through_yaml), emitted);
}

TEST(ManualSaRoundTrip, BranchExampleThroughYaml) {
    const Config original = parse_mbox_clean(kBranch1);
    const std::string yaml = emit_yaml(original);
    EXPECT_EQ(parse_yaml_clean(yaml), original) << yaml;
    EXPECT_NE(yaml.find("spi: 0x1001"), std::string::npos) << yaml;
    EXPECT_NE(yaml.find("enc-key: " + key_hex(32, 0x10)), std::string::npos) << yaml;
    EXPECT_NE(yaml.find("udp-encap: {source-port: 4500, destination-port: 4500}"), std::string::npos) << yaml;
}

TEST(ManualSaRoundTrip, RedactSecretsHidesEveryKey) {
    const Config config = parse_mbox_clean(kBranch1);
    const std::string shown = emit_mbox(config, EmitOptions{.redact_secrets = true});
    for (const uint8_t first : {0x10, 0x30, 0x50, 0x70}) {
        const std::string key = key_hex(32, first).substr(2);
        EXPECT_EQ(shown.find(key), std::string::npos) << shown;
    }
    EXPECT_NE(shown.find("\n inbound spi 0x1001 enc-key ******** auth-key ********\n"), std::string::npos) << shown;
    EXPECT_NE(shown.find("\n outbound spi 0x2001 enc-key ******** auth-key ********\n"), std::string::npos) << shown;

    const std::string yaml = emit_yaml(config, EmitOptions{.redact_secrets = true});
    for (const uint8_t first : {0x10, 0x30, 0x50, 0x70}) {
        EXPECT_EQ(yaml.find(key_hex(32, first).substr(2)), std::string::npos) << yaml;
    }
    EXPECT_NE(yaml.find("enc-key: \"********\""), std::string::npos) << yaml;
    EXPECT_NE(yaml.find("auth-key: \"********\""), std::string::npos) << yaml;

    // What `show running-config` printed cannot be loaded back as if it held keys.
    EXPECT_EQ(messages(parse_mbox(shown, "shown.conf").diagnostics).at(0),
              "shown.conf:7: error: enc-key is redacted ('********'): write the key itself");
}

TEST(ManualSaRoundTrip, KeyFilesStayFileNamesInYaml) {
    const TemporaryDirectory directory;
    directory.write("in.enc", key_hex(20, 0xa0));
    const std::string yaml_file = (directory.path() / "gw.yaml").string();
    const Config original =
        parse_yaml_clean("ipsec: {manual-sas: {g: {encryption: AES-GCM-128, inbound: {spi: 300, enc-key-file: "
                         "in.enc}}}}\n",
                         yaml_file);
    const std::string yaml = emit_yaml(original);
    EXPECT_NE(yaml.find("enc-key-file: \"in.enc\""), std::string::npos) << yaml;
    EXPECT_EQ(yaml.find(key_hex(20, 0xa0).substr(2)), std::string::npos) << yaml;
    EXPECT_EQ(parse_yaml_clean(yaml, yaml_file), original);
    // The mbox language has no key files: it writes the key itself.
    EXPECT_NE(emit_mbox(original).find("enc-key " + key_hex(20, 0xa0)), std::string::npos);
}

// ---- loading ----

TEST(ManualSaLoad, TheExampleLoadsWithItsInterface) {
    const std::string text = std::string("interface eth0\n dpdk-device net_null0\n ip address 198.51.100.1/24\n"
                                         " enable\n!\n") +
                             kBranch1;
    EXPECT_EQ(messages(load_text(text, "gw.conf").diagnostics), Lines{});
}

}  // namespace
}  // namespace mbox::config::testing

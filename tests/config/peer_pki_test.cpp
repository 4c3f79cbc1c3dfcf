// Peers from any address, dpd, IKEv1 mode, and `ipsec pki`: both languages, both
// emitters, validation (the PEM files read with OpenSSL; fixtures in data/).
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config/validate.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

const std::string kData = MBOX_CONFIG_TEST_DATA;

// ---- the mbox language ----

TEST(MboxAnyPeer, HeaderWithRemoteIdOpensAndReopensIt) {
    const Config config = parse_mbox_clean(R"(ipsec peer any remote-id vpn.example.com
 local-net 10.1.0.0/24
!
ipsec peer any remote-id user@example.com
 local-net 10.5.0.0/24
!
ipsec peer any remote-id vpn.example.com
 remote-net 10.2.0.0/24
!
)");
    ASSERT_EQ(config.peers.size(), 2u);
    const Peer& first = config.peers[0];
    EXPECT_TRUE(first.is_any());
    EXPECT_EQ(first.address, std::nullopt);
    EXPECT_EQ(first.remote_id, "vpn.example.com");
    EXPECT_EQ(first.local_nets, std::vector{prefix("10.1.0.0/24")});
    EXPECT_EQ(first.remote_nets, std::vector{prefix("10.2.0.0/24")});
    EXPECT_EQ(first.where.line, 1);
    EXPECT_EQ(first.name(), "any remote-id vpn.example.com");
    EXPECT_EQ(config.peers[1].remote_id, "user@example.com");
}

TEST(MboxAnyPeer, BareHeaderAlwaysStartsANewPeerAndTheBlockMayNameIt) {
    const Config config = parse_mbox_clean(R"(ipsec peer any
 remote-id "C=SG, O=Example, CN=gw2"
 psk a
!
ipsec peer any
 remote-id gw3.example.com
!
ipsec peer any remote-id "C=SG, O=Example, CN=gw2"
 dpd 30
)");
    ASSERT_EQ(config.peers.size(), 2u);
    EXPECT_EQ(config.peers[0].remote_id, "C=SG, O=Example, CN=gw2");
    EXPECT_EQ(config.peers[0].dpd, 30u);  // the header found it by the remote-id its block gave it
    EXPECT_EQ(config.peers[1].remote_id, "gw3.example.com");
}

TEST(MboxAnyPeer, AddressPeersAndAnyPeersAreApart) {
    const Config config =
        parse_mbox_clean("ipsec peer 192.0.2.1 remote-id vpn.example.com\nipsec peer any remote-id vpn.example.com\n");
    ASSERT_EQ(config.peers.size(), 2u);
    EXPECT_EQ(config.peers[0].address, address("192.0.2.1"));
    EXPECT_TRUE(config.peers[1].is_any());
}

TEST(MboxAnyPeer, OnlyRemoteIdMayFollowTheHeader) {
    const ParseResult result = parse_mbox("ipsec peer any psk secret\n", "a.conf");
    EXPECT_EQ(messages(result.diagnostics),
              std::vector<std::string>{"a.conf:1: error: 'psk' cannot follow 'ipsec peer any': only 'remote-id ID' "
                                       "can (an any peer is known by its remote-id); put 'psk' in the peer's block"});
    EXPECT_EQ(messages(parse_mbox("ipsec peer any remote-id\n", "a.conf").diagnostics),
              std::vector<std::string>{"a.conf:1: error: missing identity after 'ipsec peer any remote-id'"});
}

TEST(MboxPeer, DpdAndModeInBothForms) {
    const Config block = parse_mbox_clean("ipsec peer 192.0.2.1\n dpd 30\n mode aggressive\n");
    const Peer& peer = block.peers.at(0);
    EXPECT_EQ(peer.dpd, 30u);
    EXPECT_EQ(peer.mode, IkeMode::Aggressive);
    EXPECT_EQ(peer.effective_mode(), IkeMode::Aggressive);
    EXPECT_EQ(parse_mbox_clean("ipsec peer 192.0.2.1 dpd 30\nipsec peer 192.0.2.1 MODE Aggressive\n"), block);
    const Config plain = parse_mbox_clean("ipsec peer 192.0.2.1 dpd 0\n");
    EXPECT_EQ(plain.peers.at(0).dpd, 0u);
    EXPECT_EQ(plain.peers.at(0).mode, std::nullopt);
    EXPECT_EQ(plain.peers.at(0).effective_mode(), IkeMode::Main);
    EXPECT_EQ(parse_mbox_clean("ipsec peer 192.0.2.1 dpd 5\n").peers[0].dpd, 5u);
    EXPECT_EQ(parse_mbox_clean("ipsec peer 192.0.2.1 dpd 3600\n").peers[0].dpd, 3600u);
}

TEST(MboxPeer, LocalIdTakesEveryKindOfIdentity) {
    for (const std::string_view id : {"198.51.100.1", "vpn.example.com", "user@example.com", "C=SG, O=Example, CN=gw1"}) {
        const Config block = parse_mbox_clean(fmt::format("ipsec peer 192.0.2.1\n local-id {}\n", id));
        EXPECT_EQ(block.peers.at(0).local_id, id);
        EXPECT_EQ(parse_mbox_clean(fmt::format("ipsec peer 192.0.2.1 local-id \"{}\"\n", id)), block);
    }
}

TEST(MboxPki, BlockAndSingleLineFormsAgree) {
    const Config block = parse_mbox_clean(R"(ipsec pki
 ca-cert ca.pem
 ca-cert "other ca.pem"
 local-cert /etc/mbox/gw1.pem
 local-key gw1.key
!
)");
    const Pki& pki = block.pki;
    ASSERT_EQ(pki.ca_certs.size(), 2u);
    EXPECT_EQ(pki.ca_certs[0].file, "ca.pem");
    EXPECT_EQ(pki.ca_certs[1].file, "other ca.pem");
    EXPECT_EQ(pki.ca_certs[1].where.line, 3);
    EXPECT_EQ(pki.local_cert->file, "/etc/mbox/gw1.pem");
    EXPECT_EQ(pki.local_key->file, "gw1.key");
    EXPECT_EQ(pki.where.line, 1);
    EXPECT_EQ(parse_mbox_clean("ipsec pki ca-cert ca.pem\nipsec pki ca-cert \"other ca.pem\"\n"
                               "ipsec pki local-cert /etc/mbox/gw1.pem\nipsec pki local-key x.key\n"
                               "ipsec pki local-key gw1.key\n"),
              block);
}

// ---- YAML ----

TEST(YamlPeer, AnyPeersDpdModeAndPki) {
    const Config config = parse_yaml_clean(R"(ipsec:
  pki:
    ca-certs: [ca.pem, "other ca.pem"]
    local-cert: gw1.pem
    local-key: gw1.key
  peers:
    192.0.2.1: {dpd: 30, mode: aggressive, local-id: "C=SG, O=Example, CN=gw1"}
    any remote-id vpn.example.com: {local-nets: [10.1.0.0/24]}
    "any remote-id C=SG, O=Example, CN=gw2": {dpd: 0}
    any: {remote-id: user@example.com}
)");
    ASSERT_EQ(config.peers.size(), 4u);
    EXPECT_EQ(config.peers[0].dpd, 30u);
    EXPECT_EQ(config.peers[0].mode, IkeMode::Aggressive);
    EXPECT_EQ(config.peers[0].local_id, "C=SG, O=Example, CN=gw1");
    EXPECT_TRUE(config.peers[1].is_any());
    EXPECT_EQ(config.peers[1].remote_id, "vpn.example.com");
    EXPECT_EQ(config.peers[1].local_nets, std::vector{prefix("10.1.0.0/24")});
    EXPECT_EQ(config.peers[2].remote_id, "C=SG, O=Example, CN=gw2");
    EXPECT_EQ(config.peers[3].remote_id, "user@example.com");
    EXPECT_EQ(config.pki.ca_certs.size(), 2u);
    EXPECT_EQ(config.pki.ca_certs[1].file, "other ca.pem");
    EXPECT_EQ(config.pki.ca_certs[1].where.key_path, "ipsec.pki.ca-certs[1]");
    EXPECT_EQ(config.pki.local_cert->file, "gw1.pem");
    EXPECT_EQ(config.pki.local_key->where.key_path, "ipsec.pki.local-key");
}

// ---- round trips ----

constexpr std::string_view kPeersAndPki = R"(ipsec ike-policy 1 authentication rsa-sig policy AES SHA 31 version 1
ipsec esp-policy 1 policy AES-GCM-128 31
ipsec pki
 ca-cert ca.pem
 ca-cert " spaced ca.pem"
 local-cert gw1.pem
 local-key gw1.key
!
ipsec peer 192.0.2.1
 local-id C=SG, O=Example, CN=gw1
 remote-id vpn.example.com
 remote-ip any
 policy ike 1 esp 1
 mode main
 dpd 3600
!
ipsec peer any remote-id "C=SG, O=Example, CN=gw2"
 local-net 10.1.0.0/24
 mode aggressive
 dpd 5
!
ipsec peer any remote-id " quoted "
!
ipsec peer any
 psk nameless
!
ipsec peer 192.0.2.2 dpd 0
)";

TEST(RoundTripPeers, AnyPeersDpdModeAndPkiSurviveBothEmitters) {
    const Config original = parse_mbox_clean(kPeersAndPki);
    ASSERT_EQ(original.peers.size(), 5u);
    EXPECT_EQ(original.peers[2].remote_id, " quoted ");
    const std::string mbox = emit_mbox(original);
    EXPECT_NE(mbox.find("ipsec peer any remote-id C=SG, O=Example, CN=gw2\n local-net"), std::string::npos) << mbox;
    EXPECT_NE(mbox.find("ipsec peer any\n psk nameless\n"), std::string::npos) << mbox;
    EXPECT_EQ(mbox.find("dpd 0"), std::string::npos) << mbox;
    EXPECT_EQ(parse_mbox_clean(mbox), original) << mbox;
    EXPECT_EQ(emit_mbox(parse_mbox_clean(mbox)), mbox);

    const std::string yaml = emit_yaml(original);
    EXPECT_NE(yaml.find("\"any remote-id C=SG, O=Example, CN=gw2\":"), std::string::npos) << yaml;
    const Config through_yaml = parse_yaml_clean(yaml);
    EXPECT_EQ(through_yaml, original) << yaml;
    EXPECT_EQ(emit_yaml(through_yaml), yaml);
    EXPECT_EQ(emit_mbox(through_yaml), mbox);
}

// ---- validation ----

// Valid: an rsa-sig IKEv2 policy, a psk IKEv1 one, the pki (relative to the
// configuration file, which sits in data/), an address peer and an any peer.
constexpr std::string_view kValid = R"(interface eth0
 dpdk-device net_null0
 ip address 198.51.100.1/24
 enable
!
ipsec ike-policy 10 authentication psk policy AES SHA 14 version 1
ipsec ike-policy 20 authentication rsa-sig policy AES-256 SHA-256 31 version 2
ipsec esp-policy 10 policy AES SHA 14
!
ipsec pki
 ca-cert ca.pem
 local-cert gw1.pem
 local-key gw1.key
!
ipsec peer 203.0.113.2
 local-net 10.1.0.0/24
 remote-net 10.2.0.0/24
 policy ike 10 esp 10
 mode aggressive
 dpd 30
 psk Letmein99
!
ipsec peer any remote-id C=SG, O=Example, CN=gw2
 local-id C=SG, O=Example, CN=gw1
 local-net 10.1.0.0/24
 remote-net 10.9.0.0/24
 policy ike 20 esp 10
!
)";

class ValidatePeersAndPki : public ::testing::Test {
protected:
    const std::string file = kData + "/gw.conf";
    Config config = parse(kValid);

    Config parse(std::string_view text) const {
        ParseResult result = parse_mbox(text, file);
        EXPECT_EQ(messages(result.diagnostics), std::vector<std::string>{});
        return std::move(result.config);
    }
    std::vector<std::string> found() const { return messages(validate(config)); }
    std::string at(int line) const { return fmt::format("{}:{}: error: ", file, line); }
    Peer& any_peer() { return config.peers.at(1); }
};

using Lines = std::vector<std::string>;

TEST_F(ValidatePeersAndPki, TheBaselineIsClean) { EXPECT_EQ(found(), Lines{}); }

TEST_F(ValidatePeersAndPki, AnyPeerNeedsARemoteId) {
    any_peer().remote_id.clear();
    EXPECT_EQ(found(), Lines{at(23) + "peer any: no remote-id given (an 'any' peer is told apart by the identity it "
                                      "presents)"});
}

TEST_F(ValidatePeersAndPki, TwoAnyPeersCannotShareARemoteId) {
    config.peers.push_back(any_peer());
    config.peers.back().where.line = 40;
    EXPECT_EQ(found(), Lines{at(40) + "peer any remote-id C=SG, O=Example, CN=gw2 is already defined at " + file +
                             ":23"});
    config.peers.back().remote_id = "C=SG, O=Example, CN=gw3";
    EXPECT_EQ(found(), Lines{});
}

TEST_F(ValidatePeersAndPki, RemoteIpAnyOnAnAnyPeerIsAWarning) {
    any_peer().remote_ip_any = true;
    EXPECT_EQ(found(), Lines{file + ":23: warning: peer any remote-id C=SG, O=Example, CN=gw2: remote-ip any says "
                                    "nothing more for an 'any' peer"});
}

TEST_F(ValidatePeersAndPki, MalformedIdentitiesAreErrors) {
    any_peer().local_id = "my gateway";
    config.peers[0].remote_id = "C=SG, gw1";
    EXPECT_EQ(found(),
              (Lines{at(15) + "peer 203.0.113.2: remote-id: invalid identity 'C=SG, gw1': DN part 'gw1' is not "
                              "TYPE=VALUE",
                     at(23) + "peer any remote-id C=SG, O=Example, CN=gw2: local-id: invalid identity 'my gateway': "
                              "expected an IPv4 address, a host name, user@host or a DN such as \"C=SG, O=Example, "
                              "CN=gw1\""}));
    any_peer().local_id = "  ";
    config.peers[0].remote_id.clear();
    EXPECT_EQ(found(), Lines{at(23) + "peer any remote-id C=SG, O=Example, CN=gw2: local-id: empty identity"});
}

TEST_F(ValidatePeersAndPki, ModeIsIkeV1Only) {
    config.peers[0].ike_policy = 20;
    EXPECT_EQ(found(), Lines{at(15) + "peer 203.0.113.2: mode aggressive is IKEv1-only, but ike-policy 20 is version 2"});
    config.peers[0].mode = IkeMode::Main;
    EXPECT_EQ(found(), Lines{at(15) + "peer 203.0.113.2: mode main is IKEv1-only, but ike-policy 20 is version 2"});
    config.peers[0].mode.reset();
    EXPECT_EQ(found(), Lines{});
}

TEST_F(ValidatePeersAndPki, DpdOutOfRangeInAModelBuiltByCode) {
    config.peers[0].dpd = 4;
    EXPECT_EQ(found(), Lines{at(15) + "peer 203.0.113.2: dpd 4 is out of range (expected 0 or 5..3600)"});
}

TEST_F(ValidatePeersAndPki, RsaSigPeerNeedsTheWholePki) {
    config.pki.local_key.reset();
    EXPECT_EQ(found(), (Lines{at(10) + "ipsec pki: local-cert given without local-key",
                              at(23) + "peer any remote-id C=SG, O=Example, CN=gw2: ike-policy 20 uses rsa-sig "
                                       "authentication but ipsec pki has no local-key"}));
    config.pki = Pki{};
    EXPECT_EQ(found(), Lines{at(23) + "peer any remote-id C=SG, O=Example, CN=gw2: ike-policy 20 uses rsa-sig "
                                      "authentication but ipsec pki has no local-cert, local-key, ca-cert"});
    // Only rsa-sig peers need it.
    any_peer().ike_policy = 10;
    any_peer().psk = "x";
    EXPECT_EQ(found(), Lines{});
}

TEST_F(ValidatePeersAndPki, PskPeerStillNeedsItsPsk) {
    config.peers[0].psk.clear();
    EXPECT_EQ(found(), Lines{at(15) + "peer 203.0.113.2: ike-policy 10 uses psk authentication but the peer has no "
                                      "psk"});
}

struct PkiCase {
    std::string name;
    std::string ca, cert, key;  // file names as written, relative to data/
    int line;                   // 11 ca-cert, 12 local-cert, 13 local-key
    std::string message;        // {} is data/
};

void PrintTo(const PkiCase& row, std::ostream* out) { *out << row.name; }

class PkiFiles : public ValidatePeersAndPki, public ::testing::WithParamInterface<PkiCase> {};

TEST_P(PkiFiles, EachProblemIsOneErrorAtItsLine) {
    const PkiCase& row = GetParam();
    config.pki.ca_certs.at(0).file = row.ca;
    config.pki.local_cert->file = row.cert;
    config.pki.local_key->file = row.key;
    const Lines lines = found();
    EXPECT_EQ(lines, Lines{at(row.line) + fmt::format(fmt::runtime(row.message), kData)});
    for (const auto& line : lines) EXPECT_EQ(line.find("MII"), std::string::npos) << "key or certificate echoed";
}

const PkiCase kPkiCases[] = {
    {"MissingCa", "missing.pem", "gw1.pem", "gw1.key", 11,
     "ipsec pki: cannot read ca-cert '{}/missing.pem': No such file or directory"},
    {"CaIsADirectory", ".", "gw1.pem", "gw1.key", 11, "ipsec pki: cannot read ca-cert '{}/.': is a directory"},
    {"CaIsNoPem", "not-pem.txt", "gw1.pem", "gw1.key", 11, "ipsec pki: ca-cert '{}/not-pem.txt' holds no PEM certificate"},
    {"CaIsAKey", "ca.key", "gw1.pem", "gw1.key", 11, "ipsec pki: ca-cert '{}/ca.key' holds no PEM certificate"},
    {"CaIsNotACa", "gw1.pem", "gw1.pem", "gw1.key", 11, "ipsec pki: ca-cert '{}/gw1.pem' is not a CA certificate"},
    {"MissingCert", "ca.pem", "gw9.pem", "gw1.key", 12,
     "ipsec pki: cannot read local-cert '{}/gw9.pem': No such file or directory"},
    {"CertIsAKey", "ca.pem", "gw1.key", "gw1.key", 12, "ipsec pki: local-cert '{}/gw1.key' holds no PEM certificate"},
    {"KeyIsACert", "ca.pem", "gw1.pem", "gw1.pem", 13,
     "ipsec pki: local-key '{}/gw1.pem' holds no PEM private key (an encrypted key is not supported)"},
    {"KeyIsEncrypted", "ca.pem", "gw1.pem", "gw1-encrypted.key", 13,
     "ipsec pki: local-key '{}/gw1-encrypted.key' holds no PEM private key (an encrypted key is not supported)"},
    {"KeyDoesNotMatch", "ca.pem", "gw1.pem", "other.key", 13,
     "ipsec pki: local-key '{0}/other.key' does not match local-cert '{0}/gw1.pem'"},
};

INSTANTIATE_TEST_SUITE_P(Pki, PkiFiles, ::testing::ValuesIn(kPkiCases), [](const auto& info) { return info.param.name; });

TEST_F(ValidatePeersAndPki, AbsoluteNamesAreTakenAsTheyAre) {
    config.pki.local_cert->file = kData + "/gw1.pem";
    for (auto& peer : config.peers) peer.where.file = "/elsewhere/gw.conf";
    config.pki.ca_certs[0].file = kData + "/ca.pem";
    config.pki.local_key->where.file = "/elsewhere/gw.conf";
    config.pki.local_key->file = kData + "/gw1.key";
    EXPECT_EQ(found(), Lines{});
}

TEST(YamlPki, FilesAreRelativeToTheYamlFileAndErrorsCarryTheKeyPath) {
    const std::string file = kData + "/gw.yaml";
    const ParseResult result = load_text("ipsec:\n  pki: {ca-certs: [ca.pem], local-cert: gw1.pem, local-key: other.key}\n",
                                         file);
    EXPECT_EQ(messages(result.diagnostics),
              std::vector<std::string>{fmt::format("{0}/gw.yaml:2: error: ipsec pki: local-key '{0}/other.key' does "
                                                   "not match local-cert '{0}/gw1.pem' (ipsec.pki.local-key)",
                                                   kData)});
    EXPECT_EQ(messages(load_text("ipsec:\n  pki: {ca-certs: [ca.pem], local-cert: gw1.pem, local-key: gw1.key}\n",
                                 file)
                           .diagnostics),
              std::vector<std::string>{});
}

}  // namespace
}  // namespace mbox::config::testing

// IKEv1 main mode and aggressive mode (PSK) and quick mode between engines in one
// process (RFC 2409 §5.4, §5.5), over the IKEv2 tests' fake network, clock and SA
// installer: each
// test states what both sides hold afterwards (SAs whose keys match across the
// tunnel, counters, log lines that name the mismatch).
//
//   A (198.51.100.1, initiator)                B (203.0.113.2, responder)
//   MM1 SA                           -->
//                                    <--       MM2 SA
//   MM3 KE, Ni                       -->
//                                    <--       MM4 KE, Nr
//   MM5* IDii, HASH_I                -->
//                                    <--       MM6* IDir, HASH_R
//   QM1* HASH(1), SA, Ni, [KE], IDci, IDcr -->  (one per local-net x remote-net)
//                                    <--       QM2* HASH(2), SA, Nr, [KE], IDci, IDcr
//   QM3* HASH(3)                     -->
//
// and with `mode aggressive` (the Aggressive tests):
//
//   AM1 SA, KE, Ni, IDii             -->
//                                    <--       AM2 SA, KE, Nr, IDir, HASH_R
//   AM3* HASH_I                      -->
//   QM1 ... QM3 as above
#include <gtest/gtest.h>

#include <algorithm>

#include "config/mbox_language.hpp"
#include "control/ike/peer_config.hpp"
#include "control/ike1/engine.hpp"
#include "tests/control/ike_test_network.hpp"

namespace mbox::ike1 {
namespace {

using namespace std::chrono_literals;
using ike::PeerConfig;
using ike::test::BasicSide;
using ike::test::Datagram;
using ike::test::InstalledSa;
using ike::test::Network;
using ike::test::log_has;
using ike::test::log_text;
using Side = BasicSide<Engine>;

constexpr uint32_t kA = 0xc6336401;  // 198.51.100.1
constexpr uint32_t kB = 0xcb007102;  // 203.0.113.2
constexpr uint32_t kC = 0xc0000203;  // 192.0.2.3

Ipv4Prefix prefix(const char* text) { return *Ipv4Prefix::parse(text); }

// The appliance's sample: ike-policy 3DES MD5 2 keylife 3600 version 1, esp-policy
// AES SHA 2 keylife 3600.
PeerConfig peer_config(uint32_t local, uint32_t remote, const char* local_net, const char* remote_net) {
    PeerConfig p;
    p.name = Ipv4Address{remote}.to_string();
    p.address = remote;
    p.local_address = local;
    p.local_id = ike::Identity::ipv4(local);
    p.local_nets = {prefix(local_net)};
    p.remote_nets = {prefix(remote_net)};
    p.ike = ike::IkeSuite{crypto::IkeCipher::TripleDesCbc, crypto::IkeIntegrity::HmacMd5_96, crypto::IkePrf::HmacMd5, 2};
    p.esp.algorithms = {crypto::EspCipher::Aes128Cbc, crypto::EspIntegrity::HmacSha1_96};
    p.esp.pfs_group = 2;
    p.ike_lifetime = 3600s;
    p.esp_lifetime = 3600s;
    p.psk = crypto::SecretBytes(std::string_view("Letmein99"));
    return p;
}

uint64_t dropped(const Engine& engine, Drop reason) { return engine.counters().drops[static_cast<size_t>(reason)]; }

// Every outbound SA `from` holds towards `to` is an inbound SA of `to` with the same
// keys and algorithms; returns how many there are.
size_t matching_outbound(const Side& from, const Side& to) {
    size_t n = 0;
    for (const auto& [spi, out] : from.sas.outbound) {
        if (out.description.peer_address != to.address) continue;
        EXPECT_TRUE(to.sas.inbound.contains(spi)) << std::hex << spi;
        if (!to.sas.inbound.contains(spi)) continue;
        const InstalledSa& in = to.sas.inbound.at(spi);
        EXPECT_EQ(out.encryption, in.encryption);
        EXPECT_EQ(out.integrity, in.integrity);
        EXPECT_EQ(out.description.algorithms, in.description.algorithms);
        ++n;
    }
    return n;
}

ExchangeType exchange_of(const Datagram& d) { return static_cast<ExchangeType>(d.bytes[18]); }
bool encrypted(const Datagram& d) { return (d.bytes[19] & header_flags::kEncryption) != 0; }

struct Ike1Pair : ::testing::Test {
    Network net;
    EngineOptions options;
    Side* a = nullptr;
    Side* b = nullptr;
    PeerConfig a_peer = peer_config(kA, kB, "10.1.0.0/24", "10.2.0.0/24");
    PeerConfig b_peer = responder(peer_config(kB, kA, "10.2.0.0/24", "10.1.0.0/24"));

    static PeerConfig responder(PeerConfig p) {
        p.initiate = false;
        return p;
    }
    void make() {
        a = &net.add<Engine>(kA, 1, 0x1000, options);
        b = &net.add<Engine>(kB, 2, 0x2000, options);
        a->engine.configure({a_peer});
        b->engine.configure({b_peer});
        b->engine.start();
    }
    void up() {
        make();
        a->engine.start();
        net.run();
    }
    // Every outbound SA of one side is an inbound SA of the other with the same keys,
    // algorithms and mirrored selectors.
    void expect_tunnels(size_t n) {
        ASSERT_EQ(a->sas.outbound.size(), n) << log_text(a->engine) << log_text(b->engine);
        ASSERT_EQ(b->sas.outbound.size(), n) << log_text(b->engine);
        ASSERT_EQ(a->sas.inbound.size(), n);
        ASSERT_EQ(b->sas.inbound.size(), n);
        for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}})
            for (const auto& [spi, out] : from->sas.outbound) {
                ASSERT_TRUE(to->sas.inbound.contains(spi)) << std::hex << spi;
                const InstalledSa& in = to->sas.inbound.at(spi);
                EXPECT_EQ(out.encryption, in.encryption);
                EXPECT_EQ(out.integrity, in.integrity);
                EXPECT_EQ(out.description.algorithms, in.description.algorithms);
                EXPECT_EQ(out.encryption.size(), crypto::info(out.description.algorithms.cipher).key_material_len());
                EXPECT_EQ(out.integrity.size(), crypto::info(out.description.algorithms.integrity).key_len);
                EXPECT_EQ(out.description.local_nets, in.description.remote_nets);
                EXPECT_EQ(out.description.remote_nets, in.description.local_nets);
                EXPECT_EQ(out.description.peer_address, in.description.local_address);
            }
        // The two directions have different keys (KEYMAT is keyed by each SPI).
        const auto& a_out = a->sas.outbound.begin()->second;
        const auto& a_in = a->sas.inbound.begin()->second;
        EXPECT_NE(a_out.encryption, a_in.encryption);
    }
};

TEST_F(Ike1Pair, SamplePolicyTunnelComesUpWithMatchingKeysAndSelectors) {
    up();
    expect_tunnels(1);
    EXPECT_EQ(net.delivered.size(), 9u);  // main mode 6 + quick mode 3, nothing retransmitted
    const auto& out = a->sas.outbound.begin()->second.description;
    EXPECT_EQ(out.local_nets, std::vector<Ipv4Prefix>{prefix("10.1.0.0/24")});
    EXPECT_EQ(out.remote_nets, std::vector<Ipv4Prefix>{prefix("10.2.0.0/24")});
    EXPECT_EQ(out.algorithms, (crypto::EspAlgorithms{crypto::EspCipher::Aes128Cbc, crypto::EspIntegrity::HmacSha1_96}));
    EXPECT_EQ(out.peer_address, kB);
    EXPECT_EQ(out.udp_local_port, 0);
    // SPIs: each side's inbound SPI comes from its own installer.
    EXPECT_GE(a->sas.inbound.begin()->first, 0x1000u);
    EXPECT_LT(a->sas.inbound.begin()->first, 0x2000u);
    EXPECT_GE(b->sas.inbound.begin()->first, 0x2000u);
    for (Side* s : {a, b}) {
        EXPECT_EQ(s->engine.counters().phase1_established, 1u);
        EXPECT_EQ(s->engine.counters().child_sas_installed, 1u);
        const auto status = s->engine.status().front();
        EXPECT_EQ(status.state, "up");
        EXPECT_EQ(status.version_auth, "IKEv1(PSK)");
        ASSERT_EQ(status.ike_sas.size(), 1u);
        EXPECT_EQ(status.ike_sas[0].suite, "3DES_CBC/MD5/MODP-1024/PSK/3600s");
        ASSERT_EQ(status.ike_sas[0].children.size(), 1u);
        EXPECT_EQ(status.ike_sas[0].children[0].pfs, "MODP-1024");
    }
    EXPECT_EQ(b->engine.status().front().ike_sas[0].remote_identity, "198.51.100.1");
    // A (initiating) rekeys at 90 % of 3600 s; B's peer does not initiate: A replaces it.
    EXPECT_DOUBLE_EQ(a->engine.status().front().ike_sas[0].rekey_in, 3240.0);
    EXPECT_LT(b->engine.status().front().ike_sas[0].rekey_in, 0.0);
    EXPECT_EQ(a->engine.status().front().ike_sas[0].remote_identity, "203.0.113.2");
    EXPECT_TRUE(log_has(b->engine, "established as responder"));
    EXPECT_TRUE(log_has(a->engine, "phase 2"));
}

TEST_F(Ike1Pair, EveryCipherAndHashWordNegotiatesInBothPhases) {
    const crypto::IkeCipher ike_ciphers[] = {crypto::IkeCipher::TripleDesCbc, crypto::IkeCipher::Aes128Cbc,
                                             crypto::IkeCipher::Aes192Cbc, crypto::IkeCipher::Aes256Cbc};
    const std::pair<crypto::IkeIntegrity, crypto::IkePrf> hashes[] = {
        {crypto::IkeIntegrity::HmacMd5_96, crypto::IkePrf::HmacMd5},
        {crypto::IkeIntegrity::HmacSha1_96, crypto::IkePrf::HmacSha1},
        {crypto::IkeIntegrity::HmacSha256_128, crypto::IkePrf::HmacSha256},
        {crypto::IkeIntegrity::HmacSha512_256, crypto::IkePrf::HmacSha512}};
    const crypto::EspAlgorithms esps[] = {
        {crypto::EspCipher::TripleDesCbc, crypto::EspIntegrity::HmacMd5_96},
        {crypto::EspCipher::Aes128Cbc, crypto::EspIntegrity::HmacSha1_96},
        {crypto::EspCipher::Aes192Cbc, crypto::EspIntegrity::HmacSha256_128},
        {crypto::EspCipher::Aes256Cbc, crypto::EspIntegrity::HmacSha512_256},
        {crypto::EspCipher::Aes128Gcm16, crypto::EspIntegrity::None},
        {crypto::EspCipher::Aes256Gcm16, crypto::EspIntegrity::None}};
    uint64_t seed = 10;
    for (size_t i = 0; i < 6; ++i) {
        Network n;
        PeerConfig pa = a_peer, pb = b_peer;
        for (PeerConfig* p : {&pa, &pb}) {
            p->ike.cipher = ike_ciphers[i % 4];
            p->ike.integrity = hashes[i % 4].first;
            p->ike.prf = hashes[i % 4].second;
            p->ike.dh_group = i % 2 == 0 ? 14 : 19;
            p->esp.algorithms = esps[i];
            p->esp.pfs_group = i % 2 == 0 ? std::nullopt : std::optional<uint16_t>(14);
        }
        Side& sa = n.add<Engine>(kA, ++seed, 0x1000);
        Side& sb = n.add<Engine>(kB, ++seed, 0x2000);
        sa.engine.configure({pa});
        sb.engine.configure({pb});
        sb.engine.start();
        sa.engine.start();
        n.run();
        ASSERT_EQ(sa.sas.outbound.size(), 1u) << i << "\n" << log_text(sa.engine) << log_text(sb.engine);
        const auto& [spi, out] = *sa.sas.outbound.begin();
        ASSERT_TRUE(sb.sas.inbound.contains(spi));
        EXPECT_EQ(out.encryption, sb.sas.inbound.at(spi).encryption) << i;
        EXPECT_EQ(out.integrity, sb.sas.inbound.at(spi).integrity) << i;
        EXPECT_EQ(out.description.algorithms, esps[i]);
    }
}

TEST_F(Ike1Pair, WrongPskIsAnAuthenticationFailureOnBothSides) {
    b_peer.psk = crypto::SecretBytes(std::string_view("Letmein98"));
    up();
    EXPECT_TRUE(a->sas.outbound.empty());
    EXPECT_TRUE(b->sas.inbound.empty());
    EXPECT_TRUE(log_has(b->engine, "authentication failure")) << log_text(b->engine);
    EXPECT_TRUE(log_has(a->engine, "the peer reported AUTHENTICATION-FAILED")) << log_text(a->engine);
    EXPECT_EQ(b->engine.sa_count(), 0u);
    // The initiator does not believe an unprotected notification: it gives up only
    // when its retransmissions run out, and says why.
    net.advance(60s, 500ms);
    EXPECT_TRUE(log_has(a->engine, "closed: main mode not complete after 30 s (the peer reported "
                                   "AUTHENTICATION-FAILED)"))
        << log_text(a->engine);
    EXPECT_EQ(a->engine.counters().phase1_established, 0u);
}

TEST_F(Ike1Pair, ProposalMismatchNamesBothOffers) {
    b_peer.ike.dh_group = 14;
    b_peer.ike.cipher = crypto::IkeCipher::Aes256Cbc;
    up();
    EXPECT_TRUE(a->sas.outbound.empty());
    EXPECT_TRUE(log_has(b->engine, "no proposal chosen: the peer offered 3DES_CBC/MD5/MODP-1024/PSK/3600s; ours is "
                                   "AES_CBC-256/MD5/MODP-2048/PSK/3600s"))
        << log_text(b->engine);
    EXPECT_TRUE(log_has(a->engine, "NO-PROPOSAL-CHOSEN")) << log_text(a->engine);
}

TEST_F(Ike1Pair, PhaseTwoMismatchNamesBothOffers) {
    b_peer.esp.pfs_group = std::nullopt;
    up();
    EXPECT_EQ(a->engine.counters().phase1_established, 1u);
    EXPECT_TRUE(a->sas.outbound.empty());
    EXPECT_TRUE(log_has(b->engine, "no proposal chosen: the peer offered AES-128-CBC/HMAC-SHA1-96/MODP-1024/3600s; "
                                   "ours is AES-128-CBC/HMAC-SHA1-96/3600s"))
        << log_text(b->engine);
    // B says so to A under the ISAKMP SA.
    EXPECT_TRUE(log_has(a->engine, "the peer reported NO-PROPOSAL-CHOSEN for a quick mode")) << log_text(a->engine);
}

TEST_F(Ike1Pair, NetworksOutsideOurPolicyAreInvalidIdInformation) {
    b_peer.remote_nets = {prefix("10.9.0.0/24")};
    up();
    EXPECT_TRUE(b->sas.inbound.empty());
    EXPECT_TRUE(log_has(b->engine, "invalid ID information: the peer proposed 10.2.0.0/24 === 10.1.0.0/24"))
        << log_text(b->engine);
    EXPECT_TRUE(log_has(a->engine, "the peer reported INVALID-ID-INFORMATION")) << log_text(a->engine);
}

TEST_F(Ike1Pair, LostMessagesAreRetransmittedAndAnsweredAgain) {
    // Lose the responder's message 4 once, and the responder's quick mode message 2 once.
    int mm4 = 0, qm2 = 0;
    unsigned from_b = 0;
    net.filter = [&](const Datagram& d) {
        if (d.from.address != kB) return true;
        ++from_b;
        if (from_b == 2 && mm4++ == 0) return false;
        if (from_b == 5 && qm2++ == 0) return false;
        return true;
    };
    up();
    EXPECT_TRUE(a->sas.outbound.empty());
    net.advance(10s);
    expect_tunnels(1);
    EXPECT_EQ(net.dropped, 2u);
    EXPECT_GE(a->engine.counters().retransmitted, 2u);
    // The responder saw messages 3 and QM1 again and answered each with what it had sent.
    EXPECT_EQ(dropped(b->engine, Drop::Retransmission), 2u);
    EXPECT_EQ(b->engine.counters().phase1_established, 1u);
    EXPECT_EQ(b->engine.counters().child_sas_installed, 1u);
}

TEST_F(Ike1Pair, LostLastMessagesAreRecoveredByTheOtherSide) {
    // Lose main mode message 6 and quick mode message 3 once each: the initiator repeats
    // message 5; the responder repeats QM2 until QM3 arrives.
    unsigned mm6 = 0, qm3 = 0, from_a = 0, from_b = 0;
    net.filter = [&](const Datagram& d) {
        if (d.from.address == kB && ++from_b == 3 && mm6++ == 0) return false;
        if (d.from.address == kA && ++from_a == 5 && qm3++ == 0) return false;
        return true;
    };
    up();
    net.advance(10s);
    expect_tunnels(1);
    EXPECT_EQ(net.dropped, 2u);
}

TEST_F(Ike1Pair, GivesUpWhenThePeerNeverAnswers) {
    options.timing.retransmit_tries = 3;
    make();
    b->engine.stop();
    a->engine.start();
    net.advance(25s, 500ms);  // 2 + 3.6 + 6.5 + 11.7 s; the retry comes 30 s later
    EXPECT_TRUE(log_has(a->engine, "no answer after 4 transmissions in MM_SA sent")) << log_text(a->engine);
    EXPECT_EQ(a->engine.counters().retransmitted, 3u);
    EXPECT_GE(dropped(b->engine, Drop::UnknownPeer), 4u);
}

TEST_F(Ike1Pair, TwoLocalNetworksMakeTwoPhaseTwoSas) {
    a_peer.local_nets = {prefix("10.1.0.0/24"), prefix("10.3.0.0/24")};
    b_peer.remote_nets = a_peer.local_nets;
    up();
    expect_tunnels(2);
    std::vector<std::vector<Ipv4Prefix>> locals;
    for (const auto& [spi, out] : a->sas.outbound) locals.push_back(out.description.local_nets);
    std::sort(locals.begin(), locals.end());
    EXPECT_EQ(locals, (std::vector<std::vector<Ipv4Prefix>>{{prefix("10.1.0.0/24")}, {prefix("10.3.0.0/24")}}));
    EXPECT_EQ(a->engine.counters().phase1_established, 1u);  // one ISAKMP SA for both
    EXPECT_EQ(b->engine.status().front().ike_sas[0].children.size(), 2u);
}

TEST_F(Ike1Pair, MalformedAndUnknownMessagesAreCountedDrops) {
    up();
    const auto before = b->engine.counters().drops;
    b->engine.on_datagram({kB, 500}, {kA, 500}, std::vector<uint8_t>(10, 0));
    std::vector<uint8_t> v2(28, 0);
    v2[17] = 0x20;  // IKEv2
    b->engine.on_datagram({kB, 500}, {kA, 500}, v2);
    std::vector<uint8_t> unknown(28, 0);
    unknown[0] = 1;
    unknown[8] = 2;  // a CKY-R nobody has
    unknown[17] = 0x10;
    unknown[18] = 32;
    unknown[27] = 28;
    b->engine.on_datagram({kB, 500}, {kA, 500}, unknown);
    EXPECT_EQ(dropped(b->engine, Drop::Malformed), before[static_cast<size_t>(Drop::Malformed)] + 1);
    EXPECT_EQ(dropped(b->engine, Drop::UnsupportedVersion), 1u);
    EXPECT_EQ(dropped(b->engine, Drop::UnknownCookie), 1u);
    expect_tunnels(1);  // nothing of it disturbed the tunnel
}

TEST_F(Ike1Pair, BothSidesInitiatingEndWithOneWorkingOutboundSaEach) {
    b_peer.initiate = true;
    make();  // B starts, and initiates
    a->engine.start();
    net.run();
    EXPECT_EQ(a->engine.counters().phase1_established, 2u);  // one as initiator, one as responder
    EXPECT_EQ(b->engine.counters().phase1_established, 2u);
    // Two ISAKMP SAs, two quick modes; each side's one outbound SA is an inbound SA of
    // the other with the same keys.
    ASSERT_EQ(a->sas.outbound.size(), 1u) << log_text(a->engine);
    ASSERT_EQ(b->sas.outbound.size(), 1u) << log_text(b->engine);
    for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
        const auto& [spi, out] = *from->sas.outbound.begin();
        ASSERT_TRUE(to->sas.inbound.contains(spi));
        EXPECT_EQ(out.encryption, to->sas.inbound.at(spi).encryption);
    }
    EXPECT_GE(a->sas.replacements + b->sas.replacements, 1u);
}

TEST_F(Ike1Pair, ForgedQuickModeMessageIsDroppedAndTheRealOneStillWorks) {
    // The first quick mode message arrives with its last ciphertext byte flipped; the
    // responder drops it without moving any state, and the retransmission succeeds.
    bool tampered = false;
    net.filter = [&](const Datagram& d) {
        if (tampered || d.from.address != kA || d.bytes[18] != static_cast<uint8_t>(ExchangeType::Quick)) return true;
        tampered = true;
        Datagram forged = d;
        forged.bytes.back() ^= 0x01;
        net.queue.push_back(forged);
        return false;
    };
    up();
    EXPECT_TRUE(b->sas.inbound.empty());
    EXPECT_EQ(dropped(b->engine, Drop::BadHash) + dropped(b->engine, Drop::DecryptionFailed), 1u);
    net.advance(5s);
    expect_tunnels(1);
}

TEST_F(Ike1Pair, PhaseTwoIsRekeyedBeforeItExpiresAndTheOldOneDeleted) {
    a_peer.esp_lifetime = b_peer.esp_lifetime = 600s;
    up();
    expect_tunnels(1);
    const uint32_t old_out = a->sas.outbound.begin()->first;
    const uint32_t old_in = a->sas.inbound.begin()->first;
    // At 90 % of 600 s both sides start a new quick mode (each at its own soft
    // lifetime); the newest SA carries the traffic, the old inbound SAs drain while the
    // peer still sends on them.
    net.advance(541s, 1000ms);
    ASSERT_EQ(a->sas.outbound.size(), 1u) << log_text(a->engine);
    ASSERT_EQ(b->sas.outbound.size(), 1u);
    EXPECT_NE(a->sas.outbound.begin()->first, old_out);
    ASSERT_TRUE(a->sas.inbound.contains(old_in));
    for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
        const auto& [spi, out] = *from->sas.outbound.begin();
        ASSERT_TRUE(to->sas.inbound.contains(spi));
        EXPECT_EQ(out.encryption, to->sas.inbound.at(spi).encryption);
    }
    // Packets still arriving on a replaced SA keep it; once it is quiet for a drain
    // interval it is deleted on both sides, long before its hard lifetime, and with it
    // the duplicate both sides' rekeys made.
    for (int second = 0; second < 10; ++second) {
        for (auto [side, spi] : {std::pair{a, old_in}, std::pair{b, old_out}})
            if (auto it = side->sas.inbound.find(spi); it != side->sas.inbound.end()) ++it->second.usage.packets;
        net.advance(1s, 1000ms);
    }
    EXPECT_TRUE(a->sas.inbound.contains(old_in)) << "still receiving" << log_text(a->engine);
    EXPECT_TRUE(b->sas.inbound.contains(old_out));
    net.advance(12s, 1000ms);
    EXPECT_FALSE(a->sas.inbound.contains(old_in)) << log_text(a->engine);
    EXPECT_FALSE(b->sas.outbound.contains(old_in));
    EXPECT_TRUE(log_has(a->engine, "replaced and quiet: deleted"));
    expect_tunnels(1);
    EXPECT_EQ(a->engine.status().front().state, "up");
}

TEST_F(Ike1Pair, PhaseOneIsReplacedBeforeItExpiresWithoutLosingTheTunnel) {
    a_peer.ike_lifetime = b_peer.ike_lifetime = 600s;
    up();
    expect_tunnels(1);
    const uint32_t old_out = a->sas.outbound.begin()->first;
    net.advance(545s, 1000ms);
    // A started a new main mode at 540 s; its quick mode took over the traffic.
    EXPECT_EQ(a->engine.counters().phase1_established, 2u) << log_text(a->engine);
    ASSERT_EQ(a->sas.outbound.size(), 1u);
    EXPECT_NE(a->sas.outbound.begin()->first, old_out);
    for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
        const auto& [spi, out] = *from->sas.outbound.begin();
        ASSERT_TRUE(to->sas.inbound.contains(spi));
        EXPECT_EQ(out.encryption, to->sas.inbound.at(spi).encryption);
    }
    // Once its phase 2 SA is replaced and quiet, the old ISAKMP SA has nothing left to
    // carry and goes on both sides, long before its hard lifetime at 600 s.
    net.advance(20s, 1000ms);
    EXPECT_EQ(a->engine.sa_count(), 1u) << log_text(a->engine);
    EXPECT_EQ(b->engine.sa_count(), 1u) << log_text(b->engine);
    EXPECT_TRUE(log_has(a->engine, "the newer ISAKMP SA #2 carries the peer's: deleted")) << log_text(a->engine);
    net.advance(40s, 1000ms);
    EXPECT_EQ(a->engine.sa_count(), 1u) << log_text(a->engine);
    EXPECT_EQ(b->engine.sa_count(), 1u) << log_text(b->engine);
    expect_tunnels(1);
    EXPECT_EQ(a->engine.status().front().state, "up");
}

TEST_F(Ike1Pair, StopDeletesBothPhasesOnThePeer) {
    up();
    expect_tunnels(1);
    a->engine.stop();
    net.run();
    EXPECT_TRUE(a->sas.inbound.empty() && a->sas.outbound.empty());
    // B removed the phase 2 SA on its DELETE and the ISAKMP SA on the next.
    EXPECT_TRUE(b->sas.inbound.empty()) << log_text(b->engine);
    EXPECT_TRUE(b->sas.outbound.empty());
    EXPECT_TRUE(log_has(b->engine, "deleted by the peer"));
    EXPECT_EQ(b->engine.sa_count(), 0u);
    EXPECT_EQ(b->engine.status().front().state, "down");
}

TEST_F(Ike1Pair, DeadPeerDetectionKeepsALiveTunnelAndClosesADeadOne) {
    a_peer.dpd = 10s;
    up();
    expect_tunnels(1);
    const size_t before = net.delivered.size();
    net.advance(25s, 500ms);
    // A asked twice (after 10 s of silence each time) and B answered each time.
    EXPECT_EQ(net.delivered.size(), before + 4);
    EXPECT_EQ(a->engine.status().front().state, "up");
    // B vanishes: after 4 intervals without an answer A gives up and removes the SAs.
    net.filter = [](const Datagram& d) { return d.from.address != kB; };
    net.advance(60s, 500ms);
    EXPECT_TRUE(log_has(a->engine, "dead peer detected")) << log_text(a->engine);
    EXPECT_TRUE(a->sas.outbound.empty());
}

// ---- aggressive mode (RFC 2409 §5.4)

// A peer of `ipsec peer any remote-id ID`: no address, aggressive mode, found by its identity.
PeerConfig any_peer(PeerConfig p, const char* remote_id) {
    p.name = remote_id;
    p.address.reset();
    p.remote_id = ike::Identity::from_text(remote_id);
    p.aggressive = true;
    return p;
}

// The payloads of the unencrypted main mode message `n` (1-4) of the first exchange.
std::vector<Payload> main_mode_payloads(const Network& net, size_t n) {
    return std::get<Message>(parse_message(net.delivered.at(n - 1).bytes)).chain.payloads;
}

size_t nat_discovery_count(const std::vector<Payload>& payloads) {
    return std::count_if(payloads.begin(), payloads.end(),
                         [](const Payload& p) { return std::holds_alternative<NatDiscoveryPayload>(p); });
}

struct Ike1Aggressive : Ike1Pair {
    Ike1Aggressive() { a_peer.aggressive = b_peer.aggressive = true; }
    // A as a branch behind dynamic addressing: B knows it only as `any` with A's identity.
    void branch_and_hub(const char* identity) {
        a_peer.local_id = ike::Identity::from_text(identity);
        b_peer = any_peer(b_peer, "branch.example.com");
    }
    // Loses the first datagram of each kind `kind_of` names (0 to kinds - 1; -1 for the
    // rest), and expects the tunnel up within `time` all the same.
    void up_losing_once(std::function<int(const Datagram&)> kind_of, unsigned kinds, std::chrono::milliseconds time) {
        net.filter = [kind_of, lost = std::vector<bool>(kinds)](const Datagram& d) mutable {
            const int kind = kind_of(d);
            if (kind < 0 || lost[kind]) return true;
            lost[kind] = true;
            return false;
        };
        up();
        EXPECT_TRUE(a->sas.outbound.empty());
        net.advance(time);
        expect_tunnels(1);
        EXPECT_EQ(net.dropped, kinds);
    }
};

TEST_F(Ike1Aggressive, BranchBehindANatFloatsTo4500WithMessageThree) {
    constexpr uint32_t kPrivate = 0x0a000002;  // 10.0.0.2 behind a NAT that shows 198.51.100.1
    net.nat(kPrivate, kA);
    a_peer = peer_config(kPrivate, kB, "10.1.0.0/24", "10.2.0.0/24");
    a_peer.aggressive = true;
    branch_and_hub("branch.example.com");
    a = &net.add<Engine>(kPrivate, 1, 0x1000, options);
    b = &net.add<Engine>(kB, 2, 0x2000, options);
    a->engine.configure({a_peer});
    b->engine.configure({b_peer});
    b->engine.start();
    a->engine.start();
    net.run();
    ASSERT_EQ(a->sas.outbound.size(), 1u) << log_text(a->engine) << log_text(b->engine);
    ASSERT_EQ(net.delivered.size(), 6u);
    // Messages 1 and 2 on 500 with the vendor ID; NAT-D in 2; 3 and quick mode on 4500.
    for (size_t i = 0; i < net.delivered.size(); ++i) {
        const Datagram& d = net.delivered[i];
        EXPECT_EQ(d.to.port == 4500 || d.from.port == 4500, i >= 2) << "message " << i + 1;
    }
    EXPECT_TRUE(offers_natt(std::get<Message>(parse_message(net.delivered[0].bytes)).chain.payloads));
    EXPECT_EQ(nat_discovery_count(std::get<Message>(parse_message(net.delivered[1].bytes)).chain.payloads), 2u);
    const auto a_out = a->sas.outbound.begin()->second.description;
    const auto b_out = b->sas.outbound.begin()->second.description;
    EXPECT_EQ(a_out.udp_local_port, 4500);
    EXPECT_EQ(a_out.udp_peer_port, 4500);
    EXPECT_GE(b_out.udp_peer_port, 40000) << "B sends to the NAT's mapped port";
    EXPECT_EQ(b->sas.inbound.at(a_out.spi).encryption, a->sas.outbound.begin()->second.encryption);
    const auto b_status = b->engine.status().front().ike_sas.front();
    EXPECT_TRUE(b_status.natt && b_status.nat_remote);
    EXPECT_EQ(b_status.remote_identity, "branch.example.com");
    EXPECT_TRUE(a->engine.status().front().ike_sas.front().nat_local);
}

TEST_F(Ike1Aggressive, TunnelComesUpInThreeMessagesWithMatchingKeysBothWays) {
    up();
    expect_tunnels(1);
    ASSERT_EQ(net.delivered.size(), 6u);  // aggressive mode 3 + quick mode 3
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(exchange_of(net.delivered[i]), ExchangeType::Aggressive) << i;
    EXPECT_EQ(net.delivered[0].from.address, kA);
    EXPECT_FALSE(encrypted(net.delivered[0]));
    EXPECT_FALSE(encrypted(net.delivered[1]));
    EXPECT_TRUE(encrypted(net.delivered[2]));  // HASH_I, as strongSwan and libreswan send it
    EXPECT_EQ(exchange_of(net.delivered[3]), ExchangeType::Quick);
    // Both ends hold the same ISAKMP SA (cookies) and each installed what the other sends.
    const auto a_status = a->engine.status().front(), b_status = b->engine.status().front();
    ASSERT_EQ(a_status.ike_sas.size(), 1u);
    ASSERT_EQ(b_status.ike_sas.size(), 1u);
    EXPECT_EQ(a_status.ike_sas[0].spi_i, b_status.ike_sas[0].spi_i);
    EXPECT_EQ(a_status.ike_sas[0].spi_r, b_status.ike_sas[0].spi_r);
    EXPECT_TRUE(a_status.ike_sas[0].initiator);
    EXPECT_FALSE(b_status.ike_sas[0].initiator);
    for (const auto& st : {a_status, b_status}) {
        EXPECT_EQ(st.state, "up");
        EXPECT_EQ(st.version_auth, "IKEv1(PSK, aggressive)");
        EXPECT_EQ(st.ike_sas[0].state, "established");
        EXPECT_EQ(st.ike_sas[0].suite, "3DES_CBC/MD5/MODP-1024/PSK/3600s");
    }
    EXPECT_EQ(a_status.ike_sas[0].remote_identity, "203.0.113.2");
    EXPECT_EQ(b_status.ike_sas[0].remote_identity, "198.51.100.1");
    EXPECT_EQ(matching_outbound(*a, *b), 1u);
    EXPECT_EQ(matching_outbound(*b, *a), 1u);
    EXPECT_TRUE(log_has(a->engine, "established as initiator in aggressive mode with 203.0.113.2"))
        << log_text(a->engine);
    EXPECT_TRUE(log_has(b->engine, "established as responder in aggressive mode with 198.51.100.1"));
    for (Side* side : {a, b}) {
        EXPECT_EQ(side->engine.counters().phase1_established, 1u);
        EXPECT_EQ(side->engine.counters().child_sas_installed, 1u);
        EXPECT_EQ(side->engine.counters().retransmitted, 0u);
    }
    // The phase 2 SAs run on the ISAKMP SA: DELETE from A (encrypted under the IV that
    // follows message 3) reaches B and is believed.
    a->engine.stop();
    net.run();
    EXPECT_TRUE(b->sas.inbound.empty()) << log_text(b->engine);
    EXPECT_TRUE(log_has(b->engine, "deleted by the peer"));
}

TEST_F(Ike1Aggressive, AnyPeerIsFoundByItsIdentityAndGetsThatPeersKey) {
    branch_and_hub("branch.example.com");
    // Another `any` peer with another key comes first: the identity picks the second.
    PeerConfig other = any_peer(b_peer, "shop.example.com");
    other.psk = crypto::SecretBytes(std::string_view("another key"));
    make();
    b->engine.configure({other, b_peer});
    a->engine.start();
    net.run();
    expect_tunnels(1);
    const auto status = b->engine.status();
    ASSERT_EQ(status.size(), 2u);
    EXPECT_EQ(status[0].state, "down");
    EXPECT_EQ(status[1].name, "branch.example.com");
    EXPECT_EQ(status[1].state, "up");
    ASSERT_EQ(status[1].ike_sas.size(), 1u);
    EXPECT_EQ(status[1].ike_sas[0].remote_identity, "branch.example.com");
    EXPECT_EQ(status[1].ike_sas[0].remote.address, kA);
    EXPECT_EQ(b->sas.inbound.begin()->second.description.peer_address, kA);
    EXPECT_TRUE(log_has(b->engine, "aggressive mode from 198.51.100.1:500 as branch.example.com: chose"))
        << log_text(b->engine);
}

TEST_F(Ike1Aggressive, UnknownIdentityIsACountedDropWithNoAnswer) {
    branch_and_hub("stranger.example.com");
    up();
    EXPECT_EQ(dropped(b->engine, Drop::UnknownIdentity), 1u);
    EXPECT_EQ(b->engine.sa_count(), 0u);
    EXPECT_TRUE(std::none_of(net.delivered.begin(), net.delivered.end(),
                             [](const Datagram& d) { return d.from.address == kB; }));
    EXPECT_TRUE(log_has(b->engine, "aggressive mode as stranger.example.com, which no peer has")) << log_text(b->engine);
    // A's retransmissions meet the same silence, each counted.
    net.advance(10s, 500ms);
    EXPECT_GE(dropped(b->engine, Drop::UnknownIdentity), 3u);
    EXPECT_TRUE(std::none_of(net.delivered.begin(), net.delivered.end(),
                             [](const Datagram& d) { return d.from.address == kB; }));
    EXPECT_TRUE(a->sas.inbound.empty());
}

TEST_F(Ike1Aggressive, PeerByAddressMustPresentItsIdentityAndBeConfiguredForAggressiveMode) {
    b_peer.remote_id = ike::Identity::from_text("branch.example.com");
    up();
    EXPECT_EQ(dropped(b->engine, Drop::UnknownIdentity), 1u);
    EXPECT_TRUE(log_has(b->engine, "aggressive mode as 198.51.100.1, which no peer has (peer 198.51.100.1 is "
                                   "branch.example.com)"))
        << log_text(b->engine);
    EXPECT_EQ(b->engine.sa_count(), 0u);

    // Main mode peers are not answered in aggressive mode (its HASH_R would let anyone
    // attack their key offline).
    Network n;
    Side& sa = n.add<Engine>(kA, 21, 0x1000, options);
    Side& sb = n.add<Engine>(kB, 22, 0x2000, options);
    b_peer.remote_id.reset();
    b_peer.aggressive = false;
    sa.engine.configure({a_peer});
    sb.engine.configure({b_peer});
    sb.engine.start();
    sa.engine.start();
    n.run();
    EXPECT_EQ(dropped(sb.engine, Drop::UnknownPeer), 1u);
    EXPECT_TRUE(log_has(sb.engine, "aggressive mode from peer 198.51.100.1, which is configured for main mode"))
        << log_text(sb.engine);
    EXPECT_EQ(n.delivered.size(), 1u);
    EXPECT_EQ(sb.engine.sa_count(), 0u);
}

TEST_F(Ike1Aggressive, WrongPskFailsAtTheInitiatorWhichTellsTheResponder) {
    b_peer.psk = crypto::SecretBytes(std::string_view("Letmein98"));
    up();
    EXPECT_TRUE(a->sas.outbound.empty());
    EXPECT_TRUE(b->sas.inbound.empty());
    // A checks HASH_R before it sends anything keyed: it never sends message 3.
    EXPECT_TRUE(log_has(a->engine, "authentication failure: the peer's HASH_R does not verify (pre-shared keys differ)"))
        << log_text(a->engine);
    EXPECT_EQ(dropped(a->engine, Drop::BadHash), 1u);
    EXPECT_EQ(a->engine.sa_count(), 0u);
    EXPECT_TRUE(log_has(b->engine, "the peer reported AUTHENTICATION-FAILED")) << log_text(b->engine);
    EXPECT_TRUE(std::none_of(net.delivered.begin(), net.delivered.end(), [](const Datagram& d) {
        return d.from.address == kA && exchange_of(d) == ExchangeType::Aggressive && encrypted(d);
    }));
    // B's half-open SA ends when its retransmissions do, and says why.
    net.advance(40s, 500ms);
    EXPECT_TRUE(log_has(b->engine, "(the peer reported AUTHENTICATION-FAILED)")) << log_text(b->engine);
    EXPECT_EQ(a->engine.counters().phase1_established + b->engine.counters().phase1_established, 0u);
}

TEST_F(Ike1Aggressive, ProposalMismatchIsAnsweredOnlyWithTheNotification) {
    // A's KE is for MODP-1024, the only group it can offer; B wants MODP-2048.
    b_peer.ike.dh_group = 14;
    up();
    EXPECT_TRUE(log_has(b->engine, "no proposal chosen: the peer offered 3DES_CBC/MD5/MODP-1024/PSK/3600s; ours is "
                                   "3DES_CBC/MD5/MODP-2048/PSK/3600s"))
        << log_text(b->engine);
    std::vector<Datagram> from_b;
    std::copy_if(net.delivered.begin(), net.delivered.end(), std::back_inserter(from_b),
                 [](const Datagram& d) { return d.from.address == kB; });
    ASSERT_EQ(from_b.size(), 1u);
    EXPECT_EQ(exchange_of(from_b[0]), ExchangeType::Informational);
    EXPECT_FALSE(encrypted(from_b[0]));
    EXPECT_TRUE(log_has(a->engine, "the peer reported NO-PROPOSAL-CHOSEN")) << log_text(a->engine);
    EXPECT_EQ(b->engine.sa_count(), 0u);
}

TEST_F(Ike1Aggressive, LostMessageTwoIsSentAgainForTheRepeatedMessageOne) {
    up_losing_once([](const Datagram& d) { return d.from.address == kB && exchange_of(d) == ExchangeType::Aggressive ? 0 : -1; },
                   1, 10s);
    // B saw message 1 again, byte for byte, and answered with the message 2 it had.
    EXPECT_EQ(dropped(b->engine, Drop::Retransmission), 1u);
    EXPECT_EQ(b->engine.counters().phase1_established, 1u);
    EXPECT_EQ(b->engine.sa_count(), 1u);
}

TEST_F(Ike1Aggressive, LostMessagesOneAndThreeAreRecovered) {
    // A's first message 1 and first message 3 are lost: A repeats message 1 on its
    // timer; B repeats message 2 until message 3 arrives, and A answers that repeat
    // with its message 3 again. A's first quick mode message meets a B still in phase 1.
    up_losing_once(
        [](const Datagram& d) {
            if (d.from.address != kA || exchange_of(d) != ExchangeType::Aggressive) return -1;
            return encrypted(d) ? 1 : 0;
        },
        2, 20s);
    EXPECT_EQ(dropped(a->engine, Drop::Retransmission), 1u);  // message 2 again: message 3 again
    EXPECT_GE(dropped(b->engine, Drop::UnexpectedMessage), 1u) << log_text(b->engine);
    EXPECT_EQ(a->engine.counters().phase1_established, 1u);
    EXPECT_EQ(b->engine.counters().phase1_established, 1u);
    EXPECT_EQ(b->engine.sa_count(), 1u);
}

// RFC 2409 draws message 3 in the clear, and some initiators send it so. Here the
// initiator is this test, built from the RFC's formulas: B must accept the unencrypted
// HASH_I, and then run its informational exchanges on Appendix B's IV for that case,
// hash(g^xi | g^xr), since no phase 1 message was encrypted.
TEST_F(Ike1Aggressive, UnencryptedMessageThreeIsAcceptedAndThePhaseOneIvStaysTheFirst) {
    make();
    const auto prf = a_peer.ike.prf;
    const auto be32 = [](uint32_t v) {
        return std::vector<uint8_t>{static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                                    static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    };
    std::string error;
    const auto dh = crypto::DhKeyPair::generate(a_peer.ike.dh_group, error);
    ASSERT_TRUE(dh) << error;
    const SaPayload offer = phase1_sa(a_peer.ike, a_peer.ike_lifetime, phase1::kPreSharedKey);
    const IdPayload idii{IdType::Ipv4Address, 0, 0, be32(kA)};
    const std::vector<uint8_t> ni(16, 0x4e);
    Header h;
    h.cookie_i = 0x0123456789abcdef;
    h.exchange = ExchangeType::Aggressive;
    b->engine.on_datagram({kB, 500}, {kA, 500},
                          serialize_message(h, {offer, KePayload{dh->public_value()}, NoncePayload{ni}, idii}));
    ASSERT_EQ(net.queue.size(), 1u) << log_text(b->engine);
    const std::vector<uint8_t> m2_bytes = net.queue.front().bytes;
    net.queue.clear();
    auto parsed = parse_message(m2_bytes);
    ASSERT_TRUE(std::holds_alternative<Message>(parsed));
    const Message& m2 = std::get<Message>(parsed);
    const auto* ke = find_payload<KePayload>(m2.chain.payloads);
    const auto* nr = find_payload<NoncePayload>(m2.chain.payloads);
    const auto* hash_r = find_payload<HashPayload>(m2.chain.payloads);
    ASSERT_TRUE(ke && nr && hash_r);
    h.cookie_r = m2.header.cookie_r;
    const auto shared = dh->shared_secret(ke->data, error);
    ASSERT_TRUE(shared) << error;
    const auto keys = crypto::ike1::derive_phase1_keys(prf, crypto::ike1::skeyid_psk(prf, a_peer.psk, ni, nr->data),
                                                       *shared, h.cookie_i, h.cookie_r);
    size_t id_index = 0;
    while (!std::holds_alternative<IdPayload>(m2.chain.payloads[id_index])) ++id_index;
    const auto sai_b = serialize_body(offer);
    EXPECT_TRUE(crypto::ike1::hash_r(prf, keys.skeyid, dh->public_value(), ke->data, h.cookie_i, h.cookie_r, sai_b,
                                     body_of(m2_bytes, m2.chain, id_index))
                    .equals(hash_r->data));
    const auto hash_i = crypto::ike1::hash_i(prf, keys.skeyid, dh->public_value(), ke->data, h.cookie_i, h.cookie_r,
                                             sai_b, serialize_body(idii));
    b->engine.on_datagram({kB, 500}, {kA, 500},
                          serialize_message(h, {HashPayload{{hash_i.data(), hash_i.data() + hash_i.size()}}}));
    EXPECT_TRUE(log_has(b->engine, "established as responder in aggressive mode with 198.51.100.1"))
        << log_text(b->engine);
    ASSERT_EQ(b->engine.status().front().ike_sas.at(0).state, "established");

    // R-U-THERE under the IV from hash(g^xi | g^xr); B answers R-U-THERE-ACK under its own.
    const auto cipher_kind = a_peer.ike.cipher;
    const auto cipher = crypto::ike1::MessageCipher::create(
        cipher_kind, crypto::ike1::encryption_key(prf, keys.skeyid_e, crypto::key_length(cipher_kind)), error);
    ASSERT_TRUE(cipher) << error;
    const auto phase1_iv =
        crypto::ike1::phase1_iv(prf, dh->public_value(), ke->data, crypto::block_length(cipher_kind));
    NotificationPayload r_u_there;
    for (uint64_t c : {h.cookie_i, h.cookie_r})
        for (int shift = 56; shift >= 0; shift -= 8) r_u_there.spi.push_back(static_cast<uint8_t>(c >> shift));
    r_u_there.type = notify::kRUThere;
    r_u_there.data = be32(7);
    const uint32_t id = 0x11223344;
    const auto hash1 = crypto::ike1::message_hash(prf, keys.skeyid_a, id, serialize_payloads({r_u_there}));
    crypto::ike1::IvChain iv(crypto::ike1::phase2_iv(prf, phase1_iv, id, cipher->block_size()));
    Header info = h;
    info.exchange = ExchangeType::Informational;
    info.message_id = id;
    info.flags = header_flags::kEncryption;
    info.next_payload = PayloadType::Hash;
    b->engine.on_datagram(
        {kB, 500}, {kA, 500},
        serialize_encrypted(info, cipher->encrypt(iv, serialize_payloads({HashPayload{{hash1.data(), hash1.data() + hash1.size()}},
                                                                          r_u_there}))));
    ASSERT_EQ(net.queue.size(), 1u) << log_text(b->engine);
    parsed = parse_message(net.queue.front().bytes);
    ASSERT_TRUE(std::holds_alternative<Message>(parsed));
    const Message& ack = std::get<Message>(parsed);
    ASSERT_TRUE(ack.header.encrypted());
    const crypto::ike1::IvChain ack_iv(
        crypto::ike1::phase2_iv(prf, phase1_iv, ack.header.message_id, cipher->block_size()));
    const auto plain = cipher->decrypt(ack_iv, ack.encrypted);
    ASSERT_TRUE(plain);
    const auto chain = parse_payloads(ack.header.next_payload, plain->span());
    ASSERT_TRUE(std::holds_alternative<Chain>(chain));
    const auto* n = find_payload<NotificationPayload>(std::get<Chain>(chain).payloads);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->type, notify::kRUThereAck);
    EXPECT_EQ(n->data, be32(7));
    EXPECT_EQ(dropped(b->engine, Drop::BadHash) + dropped(b->engine, Drop::DecryptionFailed), 0u);
}

TEST_F(Ike1Aggressive, SoftLifetimeStartsANewAggressiveMode) {
    a_peer.ike_lifetime = b_peer.ike_lifetime = 600s;
    up();
    net.advance(545s, 1000ms);
    EXPECT_TRUE(log_has(a->engine, "soft lifetime reached: a new aggressive mode replaces this ISAKMP SA"))
        << log_text(a->engine);
    EXPECT_EQ(b->engine.counters().phase1_established, 2u) << log_text(b->engine);
    EXPECT_EQ(std::count_if(b->engine.log().begin(), b->engine.log().end(),
                            [](const ike::LogEntry& e) {
                                return e.text.find("established as responder in aggressive mode") != std::string::npos;
                            }),
              2);
    // The new phase 2 SA carries the traffic, keyed alike on both ends.
    EXPECT_EQ(matching_outbound(*a, *b), 1u);
    EXPECT_EQ(matching_outbound(*b, *a), 1u);
}

TEST_F(Ike1Aggressive, HubAnswersAMainModePeerAndAnAggressiveAnyPeerSideBySide) {
    // B: A by address in main mode, C by identity in aggressive mode.
    a_peer.aggressive = b_peer.aggressive = false;
    PeerConfig c_peer = peer_config(kC, kB, "10.3.0.0/24", "10.2.0.0/24");
    c_peer.local_id = ike::Identity::from_text("c.example.com");
    c_peer.aggressive = true;
    c_peer.psk = crypto::SecretBytes(std::string_view("C's own key"));
    PeerConfig b_for_c = any_peer(peer_config(kB, 0, "10.2.0.0/24", "10.3.0.0/24"), "c.example.com");
    b_for_c.psk = c_peer.psk;
    make();
    Side& c = net.add<Engine>(kC, 3, 0x3000, options);
    c.engine.configure({c_peer});
    b->engine.configure({b_peer, b_for_c});
    a->engine.start();
    c.engine.start();
    net.run();
    EXPECT_EQ(matching_outbound(*a, *b), 1u) << log_text(b->engine);
    EXPECT_EQ(matching_outbound(*b, *a), 1u);
    EXPECT_EQ(matching_outbound(c, *b), 1u);
    EXPECT_EQ(matching_outbound(*b, c), 1u);
    EXPECT_EQ(b->sas.outbound.size(), 2u);
    EXPECT_EQ(b->engine.counters().phase1_established, 2u);
    EXPECT_TRUE(log_has(b->engine, "established as responder with 198.51.100.1"));
    EXPECT_TRUE(log_has(b->engine, "established as responder in aggressive mode with c.example.com"));
    const auto status = b->engine.status();
    ASSERT_EQ(status.size(), 2u);
    EXPECT_EQ(status[0].version_auth, "IKEv1(PSK)");
    EXPECT_EQ(status[1].version_auth, "IKEv1(PSK, aggressive)");
    EXPECT_EQ(status[0].state, "up");
    EXPECT_EQ(status[1].state, "up");
}

// The appliance's sample configuration (DESIGN.md, the manual's example tunnel) with
// one remote network: `version 1` makes it an IKEv1 peer and only that.
constexpr std::string_view kSample = R"(interface eth0
 dpdk-device net_null0
 ip address 198.51.100.1/24
 enable
!
ipsec ike-policy 10 authentication psk policy 3DES MD5 2 keylife 3600 version 1
ipsec esp-policy 10 policy AES SHA 2 keylife 3600
!
ipsec peer 203.0.113.2
 local ip 198.51.100.1
 local-net 10.1.0.0/24,10.3.0.0/24
 remote-net 10.2.0.0/24
 policy ike 10 esp 10
 psk Letmein99
!
)";

TEST_F(Ike1Pair, SampleConfigurationIsAnIkev1PeerThatComesUp) {
    const auto parsed = config::parse_mbox(kSample, "sample.conf");
    ASSERT_TRUE(parsed.diagnostics.empty());
    std::vector<std::string> errors;
    EXPECT_TRUE(ike::ikev2_peers(parsed.config, errors).empty());  // not the IKEv2 engine's
    auto peers = ike::ikev1_peers(parsed.config, errors);
    EXPECT_TRUE(errors.empty());
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0].ike.cipher, crypto::IkeCipher::TripleDesCbc);
    EXPECT_EQ(peers[0].ike.prf, crypto::IkePrf::HmacMd5);
    EXPECT_EQ(peers[0].ike.dh_group, 2);
    EXPECT_EQ(peers[0].esp.pfs_group, std::optional<uint16_t>(2));
    EXPECT_EQ(peers[0].ike_lifetime, 3600s);
    a_peer = peers[0];
    b_peer.remote_nets = a_peer.local_nets;
    up();
    expect_tunnels(2);  // two local networks, one remote: two phase 2 SAs
}

TEST_F(Ike1Pair, ShorterResponderLifetimeIsNotifiedAndUsedByTheInitiator) {
    a_peer.esp_lifetime = 3600s;
    b_peer.esp_lifetime = 600s;  // B runs with its shorter lifetime and says so (RFC 2407 §4.6.3.1)
    up();
    expect_tunnels(1);
    EXPECT_TRUE(log_has(a->engine, "the peer's RESPONDER-LIFETIME is 600 s (we offered 3600 s)")) << log_text(a->engine);
    for (Side* s : {a, b}) {
        const auto status = s->engine.status();
        EXPECT_DOUBLE_EQ(status.front().ike_sas.front().children.front().expires_in, 600.0);
    }
    // A longer responder lifetime is not announced: the initiator's shorter one stands.
    EXPECT_FALSE(responder_lifetime(*select_phase2(phase2_sa(a_peer.esp, 600s, 1, false), a_peer.esp, 3600s, 2, false),
                                    2));
}

TEST_F(Ike1Pair, InitialContactAfterARestartReplacesTheStaleSas) {
    up();
    expect_tunnels(1);
    const uint32_t stale_in = b->sas.inbound.begin()->first;
    net.advance(10s, 1s);
    // A loses its state without a word (a crash): its DELETEs never arrive.
    net.filter = [](const Datagram&) { return false; };
    a->engine.stop();
    net.run();
    net.filter = nullptr;
    a->engine.start();
    net.run();
    // B dropped the old ISAKMP SA and its phase 2 SA on A's INITIAL-CONTACT.
    EXPECT_TRUE(log_has(b->engine, "the peer sent INITIAL-CONTACT")) << log_text(b->engine);
    EXPECT_EQ(b->engine.sa_count(), 1u);
    EXPECT_FALSE(b->sas.inbound.contains(stale_in));
    expect_tunnels(1);
    // A rekey of phase 1 is not a first contact: nothing is dropped then (see
    // PhaseOneIsReplacedBeforeItExpiresWithoutLosingTheTunnel).
}

// ---- NAT traversal (RFC 3947, RFC 3948)

TEST_F(Ike1Pair, WithoutANatBothSidesExchangeNatDiscoveryAndStayOnPort500) {
    up();
    expect_tunnels(1);
    EXPECT_TRUE(offers_natt(main_mode_payloads(net, 1)));
    EXPECT_TRUE(offers_natt(main_mode_payloads(net, 2)));
    EXPECT_EQ(nat_discovery_count(main_mode_payloads(net, 3)), 2u);
    EXPECT_EQ(nat_discovery_count(main_mode_payloads(net, 4)), 2u);
    for (const auto& d : net.delivered) EXPECT_EQ(d.to.port, 500);
    for (Side* s : {a, b}) {
        EXPECT_EQ(s->sas.outbound.begin()->second.description.udp_local_port, 0);
        const auto st = s->engine.status().front().ike_sas.front();
        EXPECT_FALSE(st.natt || st.nat_local || st.nat_remote);
    }
}

TEST_F(Ike1Pair, NatTraversalFloatsTo4500AndEncapsulatesEspBothPhases) {
    constexpr uint32_t kPrivate = 0x0a000002;  // 10.0.0.2 behind a NAT that shows 198.51.100.1
    net.nat(kPrivate, kA);
    a_peer = peer_config(kPrivate, kB, "10.1.0.0/24", "10.2.0.0/24");
    b_peer.remote_id = ike::Identity::ipv4(kPrivate);  // `remote-id`: the peer's private address
    a_peer.esp_lifetime = b_peer.esp_lifetime = 600s;
    a = &net.add<Engine>(kPrivate, 1, 0x1000, options);
    b = &net.add<Engine>(kB, 2, 0x2000, options);
    a->engine.configure({a_peer});
    b->engine.configure({b_peer});
    b->engine.start();
    a->engine.start();
    net.run();
    ASSERT_EQ(a->sas.outbound.size(), 1u) << log_text(a->engine) << log_text(b->engine);
    ASSERT_EQ(b->sas.outbound.size(), 1u) << log_text(b->engine);
    // Messages 1-4 on 500, the rest (5, 6 and quick mode) on 4500.
    ASSERT_EQ(net.delivered.size(), 9u);
    for (size_t i = 0; i < net.delivered.size(); ++i) {
        const Datagram& d = net.delivered[i];
        EXPECT_EQ(d.to.port == 4500 || d.from.port == 4500, i >= 4) << "message " << i + 1;
    }
    const auto a_out = a->sas.outbound.begin()->second.description;
    const auto b_out = b->sas.outbound.begin()->second.description;
    EXPECT_EQ(a_out.udp_local_port, 4500);
    EXPECT_EQ(a_out.udp_peer_port, 4500);
    EXPECT_EQ(b_out.udp_local_port, 4500);
    EXPECT_GE(b_out.udp_peer_port, 40000) << "B sends to the NAT's mapped port";
    EXPECT_EQ(a->sas.inbound.begin()->second.description.udp_local_port, 4500);
    EXPECT_EQ(b->sas.inbound.begin()->first, a_out.spi);
    EXPECT_EQ(b->sas.inbound.begin()->second.encryption, a->sas.outbound.begin()->second.encryption);
    const auto a_status = a->engine.status().front().ike_sas.front();
    const auto b_status = b->engine.status().front().ike_sas.front();
    EXPECT_TRUE(a_status.natt && a_status.nat_local && !a_status.nat_remote);
    EXPECT_TRUE(b_status.natt && b_status.nat_remote && !b_status.nat_local);
    EXPECT_EQ(b_status.remote.port, b_out.udp_peer_port);
    EXPECT_TRUE(log_has(a->engine, "NAT detected (in front of us)")) << log_text(a->engine);
    EXPECT_TRUE(log_has(b->engine, "NAT detected (in front of the peer)")) << log_text(b->engine);
    // The side behind the NAT keeps its mapping alive (RFC 3948 §4); the other does not.
    net.advance(45s, 1s);
    EXPECT_GE(a->io.keepalives, 2u);
    EXPECT_EQ(b->io.keepalives, 0u);
    // A phase 2 rekey stays in UDP.
    net.advance(520s, 1s);
    ASSERT_EQ(a->sas.outbound.size(), 1u) << log_text(a->engine);
    EXPECT_NE(a->sas.outbound.begin()->second.description.spi, a_out.spi);
    EXPECT_EQ(a->sas.outbound.begin()->second.description.udp_peer_port, 4500);
    EXPECT_GE(b->sas.outbound.begin()->second.description.udp_peer_port, 40000);
}

TEST_F(Ike1Pair, NatedForcesUdpEncapsulationWithoutARealNat) {
    a_peer.nated = true;  // `local ip A nated`
    up();
    expect_tunnels(1);
    for (Side* s : {a, b}) {
        const auto& out = s->sas.outbound.begin()->second.description;
        EXPECT_EQ(out.udp_local_port, 4500);
        EXPECT_EQ(out.udp_peer_port, 4500);
    }
    EXPECT_TRUE(a->engine.status().front().ike_sas.front().nat_local);
    EXPECT_TRUE(b->engine.status().front().ike_sas.front().natt);
}

TEST_F(Ike1Pair, PeerWithoutNatTraversalGetsNoNatDiscoveryAndRawEsp) {
    // A peer that does not announce RFC 3947: its vendor ID is taken out of message 1.
    make();
    a_peer.nated = true;
    a->engine.configure({a_peer});
    a->engine.start();
    ASSERT_EQ(net.queue.size(), 1u);
    auto message = std::get<Message>(parse_message(net.queue.front().bytes));
    std::erase_if(message.chain.payloads, [](const Payload& p) {
        const auto* vid = std::get_if<VendorIdPayload>(&p);
        return vid != nullptr && vid->data == natt_vendor_id();
    });
    net.queue.front().bytes = serialize_message(message.header, message.chain.payloads);
    net.run();
    // B never sent the vendor ID, so A's initiator SA was for a peer without NAT-T.
    EXPECT_FALSE(offers_natt(main_mode_payloads(net, 2)));
    EXPECT_EQ(nat_discovery_count(main_mode_payloads(net, 3)), 0u);
    EXPECT_EQ(nat_discovery_count(main_mode_payloads(net, 4)), 0u);
    expect_tunnels(1);
    EXPECT_EQ(a->sas.outbound.begin()->second.description.udp_local_port, 0);
    EXPECT_TRUE(log_has(a->engine, "`nated` cannot be honoured")) << log_text(a->engine);
}

// ---- RSA signatures (RFC 2409 §5.1): certificates from tests/control/data

TEST_F(Ike1Pair, RsaSignaturesBringTheTunnelUpWithCertificatesExchanged) {
    ike::test::use_certificate(a_peer, "gwa");
    ike::test::use_certificate(b_peer, "gwb");
    up();
    expect_tunnels(1);
    // Both ask for the other's certificate, naming the CA they trust.
    for (size_t message : {3, 4}) {
        const auto payloads = main_mode_payloads(net, message);
        const auto* cr = find_payload<CertRequestPayload>(payloads);
        ASSERT_NE(cr, nullptr) << "message " << message;
        EXPECT_EQ(cr->authority, a_peer.cas.front()->subject_der());
    }
    for (Side* s : {a, b}) {
        const auto st = s->engine.status().front();
        EXPECT_EQ(st.version_auth, "IKEv1(RSA)");
        EXPECT_EQ(st.ike_sas.front().suite, "3DES_CBC/MD5/MODP-1024/RSA/3600s");
    }
    EXPECT_EQ(a->engine.status().front().ike_sas.front().remote_identity, "203.0.113.2");
    EXPECT_EQ(b->engine.status().front().ike_sas.front().remote_identity, "198.51.100.1");
}

TEST_F(Ike1Pair, CertificateFromAnotherCaIsAnAuthenticationFailure) {
    ike::test::use_certificate(a_peer, "gwa");
    ike::test::use_certificate(b_peer, "rogue");  // gwb's name and address, issued by a CA A does not trust
    b_peer.cas = {ike::test::certificate("../../config/data/ca.pem")};
    up();
    EXPECT_TRUE(a->sas.outbound.empty());
    EXPECT_TRUE(log_has(a->engine, "authentication failure: the peer's certificate")) << log_text(a->engine);
    EXPECT_TRUE(log_has(a->engine, "is not issued by a configured ca-cert")) << log_text(a->engine);
}

TEST_F(Ike1Pair, IdentityNotInTheCertificateIsRefused) {
    ike::test::use_certificate(a_peer, "gwa");
    ike::test::use_certificate(b_peer, "gwb");
    a_peer.local_id = ike::Identity::from_text("not-in-the.certificate");
    b_peer.remote_id = a_peer.local_id;
    up();
    EXPECT_TRUE(b->sas.inbound.empty());
    EXPECT_TRUE(log_has(b->engine, "is not in its certificate")) << log_text(b->engine);
    EXPECT_TRUE(log_has(a->engine, "AUTHENTICATION-FAILED")) << log_text(a->engine);
}

TEST_F(Ike1Pair, SignatureByAnotherKeyIsRefused) {
    // B signs with a key that is not its certificate's (gwa's): the chain holds and the
    // identity is in the certificate, so only the signature check can refuse it.
    ike::test::use_certificate(a_peer, "gwa");
    ike::test::use_certificate(b_peer, "gwb");
    b_peer.private_key = ike::test::private_key("gwa.key");
    up();
    EXPECT_TRUE(a->sas.outbound.empty());
    EXPECT_TRUE(log_has(a->engine, "the peer's SIG_R does not verify")) << log_text(a->engine);
}

// The sample with `what` replaced by `with`, parsed without a diagnostic.
config::Config sample_with(std::string_view what, std::string_view with) {
    std::string text(kSample);
    text.replace(text.find(what), what.size(), with);
    auto parsed = config::parse_mbox(text, "sample.conf");
    EXPECT_TRUE(parsed.diagnostics.empty()) << parsed.diagnostics.front().message;
    return std::move(parsed.config);
}

// The one error with which ikev1_peers refuses the only peer of `config`.
std::string ikev1_refusal(const config::Config& config) {
    std::vector<std::string> errors;
    EXPECT_TRUE(ike::ikev1_peers(config, errors).empty());
    EXPECT_EQ(errors.size(), 1u);
    return errors.empty() ? std::string() : errors[0];
}

TEST(Ike1PeerConfig, Md5_128HasNoIkev1Form) {
    const std::string error = ikev1_refusal(sample_with("AES SHA 2", "AES MD5-128 2"));
    EXPECT_NE(error.find("MD5-128 has no IKEv1 form"), std::string::npos) << error;
}

TEST(Ike1PeerConfig, AnyPeerWithRemoteIdIsAnAggressiveResponder) {
    config::Config config = sample_with("ipsec peer 203.0.113.2\n", "ipsec peer any remote-id branch.example.com\n");
    std::vector<std::string> errors;
    auto peers = ike::ikev1_peers(config, errors);
    EXPECT_TRUE(errors.empty()) << errors.front();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_FALSE(peers[0].address.has_value());
    EXPECT_FALSE(peers[0].initiates());
    EXPECT_TRUE(peers[0].aggressive);
    EXPECT_EQ(peers[0].name, "branch.example.com");
    EXPECT_EQ(peers[0].remote_id, ike::Identity::from_text("branch.example.com"));

    // Without a remote-id nothing could find it; with `mode main` nothing could answer it.
    config.peers[0].remote_id.clear();
    std::string error = ikev1_refusal(config);
    EXPECT_NE(error.find("an IKEv1 `ipsec peer any` needs a remote-id"), std::string::npos) << error;
    config.peers[0].remote_id = "branch.example.com";
    config.peers[0].mode = config::IkeMode::Main;
    error = ikev1_refusal(config);
    EXPECT_NE(error.find("answered in aggressive mode only"), std::string::npos) << error;
}

TEST(Ike1PeerConfig, ModeAggressiveIsCarriedAndChangesTheSettings) {
    std::vector<std::string> errors;
    const auto aggressive = ike::ikev1_peers(sample_with(" psk Letmein99", " mode aggressive\n psk Letmein99"), errors);
    const auto main = ike::ikev1_peers(config::parse_mbox(kSample, "sample.conf").config, errors);
    EXPECT_TRUE(errors.empty());
    ASSERT_EQ(aggressive.size(), 1u);
    ASSERT_EQ(main.size(), 1u);
    EXPECT_TRUE(aggressive[0].aggressive);
    EXPECT_FALSE(main[0].aggressive);
    // A peer switched between modes is renegotiated.
    EXPECT_FALSE(aggressive[0].same_settings(main[0]));
    EXPECT_TRUE(main[0].same_settings(main[0]));
}

}  // namespace
}  // namespace mbox::ike1

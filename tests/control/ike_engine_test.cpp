// IKEv2 exchanges between two engines in one process (RFC 7296): each test states
// what both sides must hold afterwards (SAs, keys that match across the tunnel,
// counters, log lines that name the mismatch).
#include <gtest/gtest.h>

#include <algorithm>

#include "control/ike/codec/message.hpp"
#include "control/ike/proposal.hpp"
#include "crypto/ike_identity.hpp"
#include "tests/control/ike_test_network.hpp"

namespace mbox::ike::test {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kA = 0xc6336401;  // 198.51.100.1
constexpr uint32_t kB = 0xcb007102;  // 203.0.113.2

Ipv4Prefix prefix(const char* text) { return *Ipv4Prefix::parse(text); }

PeerConfig peer_config(uint32_t local, uint32_t remote, const char* local_net, const char* remote_net) {
    PeerConfig p;
    p.name = Ipv4Address{remote}.to_string();
    p.address = remote;
    p.local_address = local;
    p.local_id = Identity::ipv4(local);
    p.local_nets = {prefix(local_net)};
    p.remote_nets = {prefix(remote_net)};
    p.ike = IkeSuite{crypto::IkeCipher::Aes128Cbc, crypto::IkeIntegrity::HmacSha1_96, crypto::IkePrf::HmacSha1, 14};
    p.esp.algorithms = {crypto::EspCipher::Aes128Cbc, crypto::EspIntegrity::HmacSha1_96};
    p.ike_policy = 10;
    p.esp_policy = 20;
    p.psk = crypto::SecretBytes(std::string_view("Letmein99"));
    return p;
}

struct Pair : ::testing::Test {
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
        a = &net.add(kA, 1, 0x1000, options);
        b = &net.add(kB, 2, 0x2000, options);
        a->engine.configure({a_peer});
        b->engine.configure({b_peer});
        b->engine.start();
    }
    void up() {
        make();
        a->engine.start();
        net.run();
    }
    // Both directions of the tunnel: A's outbound is B's inbound with the same keys.
    void expect_tunnel() {
        ASSERT_EQ(a->sas.outbound.size(), 1u) << log_text(a->engine);
        ASSERT_EQ(b->sas.outbound.size(), 1u) << log_text(b->engine);
        for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
            const auto& [spi, out] = *from->sas.outbound.begin();
            ASSERT_TRUE(to->sas.inbound.contains(spi));
            const InstalledSa& in = to->sas.inbound.at(spi);
            EXPECT_EQ(out.encryption, in.encryption);
            EXPECT_EQ(out.integrity, in.integrity);
            EXPECT_EQ(out.encryption.size(), crypto::info(out.description.algorithms.cipher).key_material_len());
            EXPECT_EQ(out.description.local_nets, in.description.remote_nets);
            EXPECT_EQ(out.description.remote_nets, in.description.local_nets);
        }
    }
    const PeerStatus status(Side* s) { return s->engine.status().front(); }
};

TEST_F(Pair, PskTunnelComesUpWithMatchingKeysAndSelectors) {
    up();
    expect_tunnel();
    EXPECT_EQ(status(a).state, "up");
    EXPECT_EQ(status(b).state, "up");
    const auto& out = a->sas.outbound.begin()->second.description;
    EXPECT_EQ(out.local_nets, std::vector<Ipv4Prefix>{prefix("10.1.0.0/24")});
    EXPECT_EQ(out.remote_nets, std::vector<Ipv4Prefix>{prefix("10.2.0.0/24")});
    EXPECT_EQ(out.udp_local_port, 0);  // no NAT: raw ESP
    EXPECT_EQ(out.peer_address, kB);
    EXPECT_EQ(a->engine.counters().ike_sas_established, 1u);
    EXPECT_EQ(b->engine.counters().child_sas_installed, 1u);
    EXPECT_EQ(net.delivered.size(), 4u);  // IKE_SA_INIT and IKE_AUTH, nothing more
    EXPECT_EQ(status(b).ike_sas.front().remote_identity, "198.51.100.1");
}

TEST_F(Pair, EveryCipherHashAndGroupNegotiates) {
    const crypto::IkeCipher ciphers[] = {crypto::IkeCipher::TripleDesCbc, crypto::IkeCipher::Aes128Cbc,
                                         crypto::IkeCipher::Aes192Cbc, crypto::IkeCipher::Aes256Cbc};
    const std::pair<crypto::IkeIntegrity, crypto::IkePrf> hashes[] = {
        {crypto::IkeIntegrity::HmacMd5_96, crypto::IkePrf::HmacMd5},
        {crypto::IkeIntegrity::HmacMd5_128, crypto::IkePrf::HmacMd5},
        {crypto::IkeIntegrity::HmacSha1_96, crypto::IkePrf::HmacSha1},
        {crypto::IkeIntegrity::HmacSha256_128, crypto::IkePrf::HmacSha256},
        {crypto::IkeIntegrity::HmacSha512_256, crypto::IkePrf::HmacSha512}};
    const uint16_t groups[] = {1, 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 31};
    size_t i = 0;
    for (auto cipher : ciphers)
        for (auto [integrity, prf] : hashes) {
            Network n;
            PeerConfig pa = a_peer, pb = b_peer;
            pa.ike = pb.ike = IkeSuite{cipher, integrity, prf, groups[i++ % std::size(groups)]};
            Side& sa = n.add(kA, i, 0x1000);
            Side& sb = n.add(kB, i + 100, 0x2000);
            sa.engine.configure({pa});
            sb.engine.configure({pb});
            sb.engine.start();
            sa.engine.start();
            n.run();
            EXPECT_EQ(sa.engine.status().front().state, "up") << pa.ike.to_string() << "\n" << log_text(sa.engine);
            EXPECT_EQ(sb.engine.status().front().state, "up") << pa.ike.to_string();
        }
}

TEST_F(Pair, EspAlgorithmsAndGcm) {
    const crypto::EspAlgorithms all[] = {
        {crypto::EspCipher::TripleDesCbc, crypto::EspIntegrity::HmacMd5_96},
        {crypto::EspCipher::Aes192Cbc, crypto::EspIntegrity::HmacMd5_128},
        {crypto::EspCipher::Aes256Cbc, crypto::EspIntegrity::HmacSha256_128},
        {crypto::EspCipher::Aes128Cbc, crypto::EspIntegrity::HmacSha512_256},
        {crypto::EspCipher::Aes128Gcm16, crypto::EspIntegrity::None},
        {crypto::EspCipher::Aes256Gcm16, crypto::EspIntegrity::None}};
    uint64_t seed = 10;
    for (const auto& algorithms : all) {
        Network n;
        PeerConfig pa = a_peer, pb = b_peer;
        pa.esp.algorithms = pb.esp.algorithms = algorithms;
        Side& sa = n.add(kA, ++seed, 0x1000);
        Side& sb = n.add(kB, ++seed, 0x2000);
        sa.engine.configure({pa});
        sb.engine.configure({pb});
        sb.engine.start();
        sa.engine.start();
        n.run();
        ASSERT_EQ(sa.sas.outbound.size(), 1u) << log_text(sa.engine) << log_text(sb.engine);
        const auto& [spi, out] = *sa.sas.outbound.begin();
        EXPECT_EQ(out.description.algorithms, algorithms);
        EXPECT_EQ(out.encryption, sb.sas.inbound.at(spi).encryption);
        EXPECT_EQ(out.integrity.size(), crypto::info(algorithms.integrity).key_len);
    }
}

TEST_F(Pair, WrongPskFailsWithReasonOnBothSidesAndRetriesLater) {
    b_peer.psk = crypto::SecretBytes(std::string_view("not-the-same"));
    up();
    EXPECT_TRUE(a->sas.outbound.empty());
    EXPECT_TRUE(b->sas.inbound.empty());
    EXPECT_TRUE(b->sas.reserved.empty());
    EXPECT_TRUE(a->sas.reserved.empty()) << "the SPI reserved for the refused CHILD SA is released";
    EXPECT_TRUE(log_has(b->engine, "pre-shared key mismatch")) << log_text(b->engine);
    EXPECT_TRUE(log_has(a->engine, "AUTHENTICATION_FAILED")) << log_text(a->engine);
    EXPECT_EQ(status(a).state, "down");
    const auto sent = a->engine.counters().sent;
    net.advance(31s, 1s);
    EXPECT_GT(a->engine.counters().sent, sent) << "an initiator tries again after a failure";
}

TEST_F(Pair, IkeProposalMismatchNamesBothOffers) {
    b_peer.ike = IkeSuite{crypto::IkeCipher::Aes256Cbc, crypto::IkeIntegrity::HmacSha256_128,
                          crypto::IkePrf::HmacSha256, 19};
    up();
    EXPECT_EQ(b->engine.ike_sa_count(), 0u);
    EXPECT_TRUE(log_has(b->engine, "no proposal chosen: the peer offered AES_CBC-128/PRF_HMAC_SHA1/HMAC_SHA1_96/MODP-2048"))
        << log_text(b->engine);
    EXPECT_TRUE(log_has(b->engine, "ike-policy 10: AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/ECP-256"))
        << log_text(b->engine);
    EXPECT_TRUE(log_has(a->engine, "NO_PROPOSAL_CHOSEN")) << log_text(a->engine);
}

TEST_F(Pair, EspProposalMismatchKeepsTheTunnelDownAndSaysWhy) {
    b_peer.esp.algorithms = {crypto::EspCipher::Aes256Gcm16, crypto::EspIntegrity::None};
    up();
    EXPECT_TRUE(a->sas.outbound.empty());
    EXPECT_TRUE(b->sas.outbound.empty());
    EXPECT_TRUE(log_has(b->engine, "CHILD SA: no proposal chosen: the peer offered AES_CBC-128/HMAC_SHA1_96/NO_EXT_SEQ"))
        << log_text(b->engine);
    EXPECT_TRUE(log_has(a->engine, "refused the CHILD SA with NO_PROPOSAL_CHOSEN")) << log_text(a->engine);
}

TEST_F(Pair, TrafficSelectorMismatchIsTsUnacceptable) {
    b_peer.remote_nets = {prefix("10.9.0.0/24")};
    up();
    EXPECT_TRUE(a->sas.outbound.empty());
    EXPECT_TRUE(log_has(b->engine, "traffic selectors unacceptable: the peer proposed TSi 10.1.0.0-10.1.0.255"))
        << log_text(b->engine);
    EXPECT_TRUE(log_has(a->engine, "TS_UNACCEPTABLE")) << log_text(a->engine);
}

TEST_F(Pair, TwoLocalNetworksInOneChildSa) {
    a_peer.local_nets = {prefix("10.1.0.0/24"), prefix("10.3.0.0/24")};
    b_peer.remote_nets = {prefix("10.0.0.0/8")};
    up();
    expect_tunnel();
    const auto& out = a->sas.outbound.begin()->second.description;
    EXPECT_EQ(out.local_nets, (std::vector<Ipv4Prefix>{prefix("10.1.0.0/24"), prefix("10.3.0.0/24")}));
}

TEST_F(Pair, ResponderNarrowsToWhatItAllows) {
    a_peer.local_nets = {prefix("10.1.0.0/16")};
    b_peer.remote_nets = {prefix("10.1.2.0/24"), prefix("10.1.7.0/24")};
    up();
    expect_tunnel();
    const auto& out = a->sas.outbound.begin()->second.description;
    EXPECT_EQ(out.local_nets, (std::vector<Ipv4Prefix>{prefix("10.1.2.0/24"), prefix("10.1.7.0/24")}));
}

// Key pairs are precomputed while the engine runs: a responder that had time to fill its
// pool answers IKE_SA_INIT with a ready key pair and then tops the pool up again.
TEST_F(Pair, ResponderAnswersWithAPrecomputedKeyPair) {
    options.dh_pool_depth = 2;
    options.dh_pool_budget = std::chrono::seconds(60);  // fill completely on every tick
    make();
    net.advance(100ms);  // B runs (A not yet): B's pool fills
    EXPECT_EQ(b->engine.counters().dh.precomputed, 2u);
    EXPECT_EQ(a->engine.counters().dh.precomputed, 0u);
    a->engine.start();
    net.advance(1s);
    expect_tunnel();
    const auto& at_b = b->engine.counters().dh;
    EXPECT_EQ(at_b.taken_ready, 1u);
    EXPECT_EQ(at_b.taken_fresh, 0u);
    EXPECT_EQ(at_b.precomputed, 3u);  // refilled after the answer
    const auto& at_a = a->engine.counters().dh;
    EXPECT_EQ(at_a.taken_fresh, 1u);  // A initiated on its first tick, before any refill
    EXPECT_EQ(at_a.precomputed, 2u);
}

TEST_F(Pair, LostAuthRequestIsRetransmitted) {
    options.timing.retransmit_base = 1s;
    unsigned auth_seen = 0;
    net.filter = [&](const Datagram& d) {
        const auto h = parse_header(d.bytes);
        return !(h && h->exchange == ExchangeType::IkeAuth && !h->is_response() && ++auth_seen == 1);
    };
    make();
    a->engine.start();
    net.run();
    EXPECT_EQ(status(a).state, "connecting");
    net.advance(2500ms);
    expect_tunnel();
    EXPECT_EQ(a->engine.counters().retransmitted, 1u);
}

TEST_F(Pair, RetransmittedRequestGetsTheCachedResponse) {
    make();
    unsigned copies = 0;
    net.filter = [&](const Datagram& d) {
        const auto h = parse_header(d.bytes);
        if (h && h->exchange == ExchangeType::IkeAuth && !h->is_response() && copies++ == 0) net.queue.push_back(d);
        return true;
    };
    a->engine.start();
    net.run();
    expect_tunnel();
    EXPECT_EQ(b->engine.counters().drops[static_cast<size_t>(IkeDrop::Retransmission)], 1u);
    EXPECT_EQ(a->engine.counters().drops[static_cast<size_t>(IkeDrop::UnexpectedResponse)], 1u);
    EXPECT_EQ(b->engine.counters().child_sas_installed, 1u) << "the repeat installs nothing";
}

TEST_F(Pair, GivesUpAfterTheRetransmissionsAndLogsIt) {
    options.timing.retransmit_tries = 2;
    net.filter = [](const Datagram& d) { return d.to.address != kB; };
    a_peer.ike_lifetime = 3600s;
    make();
    a->engine.start();
    net.advance(30s, 500ms);
    EXPECT_TRUE(log_has(a->engine, "no answer after 3 transmissions")) << log_text(a->engine);
}

TEST_F(Pair, ChildRekeyIsMakeBeforeBreak) {
    a_peer.esp_lifetime = b_peer.esp_lifetime = 100s;
    up();
    expect_tunnel();
    const uint32_t first_out = a->sas.outbound.begin()->first;
    net.advance(95s, 1s);
    expect_tunnel();
    EXPECT_NE(a->sas.outbound.begin()->first, first_out);
    EXPECT_GE(a->sas.replacements + b->sas.replacements, 2u) << "outbound switched with `replaces`, never removed first";
    EXPECT_EQ(a->engine.counters().child_rekeys + b->engine.counters().child_rekeys, 2u);
    net.advance(10s, 1s);
    EXPECT_EQ(a->sas.inbound.size(), 1u) << "the old inbound SA is gone after draining";
    EXPECT_EQ(b->sas.inbound.size(), 1u);
    expect_tunnel();
}

TEST_F(Pair, ChildRekeyWithPfs) {
    a_peer.esp.pfs_group = b_peer.esp.pfs_group = 19;
    a_peer.esp_lifetime = b_peer.esp_lifetime = 100s;
    up();
    const auto before = a->sas.outbound.begin()->second.encryption;
    net.advance(100s, 1s);
    expect_tunnel();
    EXPECT_NE(a->sas.outbound.begin()->second.encryption, before);
    EXPECT_EQ(status(a).ike_sas.front().children.front().pfs, "ECP-256");
}

TEST_F(Pair, PfsGroupMismatchOnRekeyIsLoggedAndTheOldSaStays) {
    a_peer.esp.pfs_group = 19;
    b_peer.esp.pfs_group = 14;
    a_peer.esp_lifetime = b_peer.esp_lifetime = 200s;
    up();
    expect_tunnel();  // IKE_AUTH carries no KE: the groups meet only at the first rekey
    net.advance(185s, 1s);
    EXPECT_TRUE(log_has(a->engine, "INVALID_KE_PAYLOAD") || log_has(a->engine, "NO_PROPOSAL_CHOSEN"))
        << log_text(a->engine);
    expect_tunnel();
}

TEST_F(Pair, SimultaneousChildRekeyLeavesOnePair) {
    a_peer.esp_lifetime = b_peer.esp_lifetime = 100s;
    options.timing.rekey_jitter = 0;
    up();
    // Both sides' rekey timers fire in the same tick, before either sees the other's request.
    auto& q = net.queue;
    net.now += 95s;
    a->engine.tick();
    b->engine.tick();
    ASSERT_EQ(q.size(), 2u) << "both sides sent CREATE_CHILD_SA";
    net.run();
    net.advance(10s, 1s);
    expect_tunnel();
    EXPECT_EQ(a->sas.inbound.size(), 1u) << log_text(a->engine);
    EXPECT_EQ(b->sas.inbound.size(), 1u) << log_text(b->engine);
    EXPECT_TRUE(log_has(a->engine, "simultaneous rekey")) << log_text(a->engine);
}

TEST_F(Pair, IkeRekeyKeepsTheChildSas) {
    a_peer.ike_lifetime = b_peer.ike_lifetime = 200s;
    up();
    const uint32_t child = a->sas.outbound.begin()->first;
    const auto old_spi = status(a).ike_sas.front().spi_i;
    net.advance(190s, 1s);
    ASSERT_EQ(status(a).ike_sas.size(), 1u) << log_text(a->engine);
    EXPECT_NE(status(a).ike_sas.front().spi_i, old_spi);
    EXPECT_EQ(a->engine.ike_sa_count(), 1u) << "the old IKE SA was deleted";
    EXPECT_EQ(b->engine.ike_sa_count(), 1u);
    EXPECT_EQ(a->sas.outbound.begin()->first, child) << "CHILD SAs move to the new IKE SA untouched";
    EXPECT_EQ(a->engine.counters().ike_rekeys + b->engine.counters().ike_rekeys, 2u);
    expect_tunnel();
}

TEST_F(Pair, BothSidesInitiatingAtOnceConvergeOnOneTunnel) {
    b_peer.initiate = true;
    make();
    a->engine.start();  // B initiated in make(): both IKE_SA_INITs are in flight together
    net.run();
    net.advance(2s);
    EXPECT_EQ(a->engine.ike_sa_count(), 1u) << log_text(a->engine);
    EXPECT_EQ(b->engine.ike_sa_count(), 1u) << log_text(b->engine);
    expect_tunnel();
    if (HasFailure()) ADD_FAILURE() << log_text(a->engine) << "----\n" << log_text(b->engine);
    EXPECT_EQ(a->sas.inbound.size(), 1u);
    EXPECT_EQ(b->sas.inbound.size(), 1u);
}

TEST_F(Pair, DeadPeerDetectionTearsDownAndRetries) {
    a_peer.dpd = 10s;
    up();
    expect_tunnel();
    net.filter = [](const Datagram& d) { return d.to.address != kB; };  // B vanishes
    // 10 s of silence, then liveness checks for 3 x 10 s.
    net.advance(38s, 500ms);
    EXPECT_FALSE(a->sas.outbound.empty()) << "not before 3 x dpd without an answer";
    net.advance(4s, 500ms);
    EXPECT_TRUE(a->sas.outbound.empty()) << log_text(a->engine);
    EXPECT_TRUE(log_has(a->engine, "dead peer detected")) << log_text(a->engine);
    const auto sent = a->engine.counters().sent;
    net.advance(31s, 1s);
    EXPECT_GT(a->engine.counters().sent, sent) << "the initiator tries again";
}

TEST_F(Pair, LivenessAnsweredKeepsTheTunnel) {
    a_peer.dpd = 10s;
    up();
    net.advance(35s, 1s);
    expect_tunnel();
    EXPECT_GE(b->engine.counters().received, 4u);
}

TEST_F(Pair, StopDeletesEverythingOnBothSides) {
    up();
    expect_tunnel();
    a->engine.stop();
    net.run();
    EXPECT_TRUE(a->sas.inbound.empty());
    EXPECT_TRUE(b->sas.inbound.empty()) << log_text(b->engine);
    EXPECT_TRUE(b->sas.outbound.empty());
    EXPECT_TRUE(log_has(b->engine, "deleted by the peer"));
}

TEST_F(Pair, ReconfigureKeepsUnchangedPeersAndRenegotiatesChanged) {
    up();
    const uint32_t child = a->sas.outbound.begin()->first;
    a->engine.configure({a_peer});
    net.run();
    EXPECT_EQ(a->sas.outbound.begin()->first, child) << "unchanged peer keeps its SAs";
    PeerConfig changed = a_peer;
    changed.esp.algorithms = {crypto::EspCipher::Aes256Cbc, crypto::EspIntegrity::HmacSha256_128};
    b_peer.esp = changed.esp;
    b->engine.configure({b_peer});
    net.run();
    a->engine.configure({changed});
    net.run();
    net.advance(1s);
    expect_tunnel();
    EXPECT_EQ(a->sas.outbound.begin()->second.description.algorithms.cipher, crypto::EspCipher::Aes256Cbc);
}

TEST_F(Pair, ManyPeersArePacedAndAllComeUp) {
    // 100 peers of A, each a /32 network of B's side, all with `ipsec start` at once:
    // at most max_initiating negotiate together, the rest follow as those complete.
    options.max_initiating = 8;
    a = &net.add(kA, 1, 0x10000, options);
    b = &net.add(kB, 2, 0x20000, options);
    std::vector<PeerConfig> as, bs;
    for (int i = 0; i < 100; ++i) {
        const std::string n = "10.2." + std::to_string(i) + ".0/24";
        PeerConfig pa = a_peer, pb = b_peer;
        pa.name = "p" + std::to_string(i);
        pa.local_id = Identity::from_text("a" + std::to_string(i) + ".example");
        pa.remote_nets = {prefix(n.c_str())};
        pb.name = pa.name;
        pb.address.reset();
        pb.remote_id = pa.local_id;
        pb.local_nets = pa.remote_nets;
        as.push_back(pa);
        bs.push_back(pb);
    }
    unsigned most_in_flight = 0;
    net.filter = [&](const Datagram&) {
        most_in_flight = std::max<unsigned>(most_in_flight, static_cast<unsigned>(a->engine.initiating_count()));
        return true;
    };
    a->engine.configure(as);
    b->engine.configure(bs);
    b->engine.start();
    a->engine.start();
    net.run(100000);
    EXPECT_LE(most_in_flight, 8u);
    EXPECT_EQ(b->engine.counters().ike_sas_established, 100u);
    EXPECT_EQ(a->sas.inbound.size(), 100u);
    EXPECT_EQ(a->engine.counters().retransmitted, 0u);
}

TEST_F(Pair, CookieWhenHalfOpenThresholdIsPassed) {
    options.cookie_threshold = 0;
    up();
    expect_tunnel();
    EXPECT_EQ(b->engine.counters().cookies_sent, 1u);
    EXPECT_TRUE(log_has(a->engine, "asked for a COOKIE"));
}

TEST_F(Pair, HalfOpenLimitRefusesFloods) {
    options.max_half_open = 3;
    options.cookie_threshold = 100;
    make();
    // Flood B with IKE_SA_INITs from A's address (different SPIs): only 3 get state.
    for (int i = 0; i < 10; ++i) {
        a->engine.restart_peer(a_peer.name);
        a->engine.start();
        net.filter = [](const Datagram& d) { return d.to.address == kB; };
        net.run();
    }
    EXPECT_LE(b->engine.half_open_count(), 3u);
    EXPECT_GE(b->engine.counters().drops[static_cast<size_t>(IkeDrop::HalfOpenLimit)], 1u);
    net.advance(31s, 1s);
    EXPECT_EQ(b->engine.half_open_count(), 0u) << "half-open SAs expire";
}

TEST_F(Pair, ResponderAsksForItsGroupWithInvalidKe) {
    b_peer.ike.dh_group = 19;
    make();
    // An initiator offering 14 and 19 that guesses 14 for its KE.
    Proposal p = ike_proposal(a_peer.ike, {});
    Transform ecp;
    ecp.type = TransformType::DhGroup;
    ecp.id = 19;
    p.transforms.push_back(ecp);
    Header h;
    h.spi_i = 0x1122334455667788;
    h.flags = header_flags::kInitiator;
    const std::vector<Payload> payloads{SaPayload{{p}}, KePayload{14, std::vector<uint8_t>(256, 7)},
                                        NoncePayload{std::vector<uint8_t>(32, 1)}};
    b->engine.on_datagram(Endpoint{kB, 500}, Endpoint{kA, 500}, serialize_message(h, payloads));
    ASSERT_EQ(net.queue.size(), 1u);
    const auto answer = std::get<Message>(parse_message(net.queue.front().bytes));
    const auto* n = find_notify(answer.payloads, notify::kInvalidKePayload);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->data, (std::vector<uint8_t>{0, 19}));
    EXPECT_EQ(b->engine.ike_sa_count(), 0u) << "no state for a wrong guess";
}

TEST_F(Pair, NatTraversalFloatsTo4500AndEncapsulatesEsp) {
    constexpr uint32_t kPrivate = 0x0a000002;  // 10.0.0.2 behind a NAT that shows 198.51.100.1
    net.nat(kPrivate, kA);
    a = &net.add(kPrivate, 1, 0x1000);
    b = &net.add(kB, 2, 0x2000);
    a_peer.local_address = kPrivate;
    a_peer.local_id = Identity::ipv4(kPrivate);
    b_peer.remote_id = Identity::ipv4(kPrivate);  // `remote-id`: the peer's private address
    a->engine.configure({a_peer});
    b->engine.configure({b_peer});
    b->engine.start();
    a->engine.start();
    net.run();
    expect_tunnel();
    const auto& a_out = a->sas.outbound.begin()->second.description;
    const auto& b_out = b->sas.outbound.begin()->second.description;
    EXPECT_EQ(a_out.udp_local_port, 4500);
    EXPECT_EQ(a_out.udp_peer_port, 4500);
    EXPECT_EQ(b_out.udp_local_port, 4500);
    EXPECT_GE(b_out.udp_peer_port, 40000) << "B sends to the NAT's mapped port";
    EXPECT_TRUE(status(a).ike_sas.front().nat_local);
    EXPECT_TRUE(status(b).ike_sas.front().nat_remote);
    net.advance(25s, 1s);
    EXPECT_GE(a->io.keepalives, 1u) << "the side behind the NAT keeps its mapping alive";
    EXPECT_EQ(b->io.keepalives, 0u);
}

TEST_F(Pair, AnyPeerIsFoundByItsIdentity) {
    PeerConfig any = b_peer;
    any.name = "any branch";
    any.address.reset();
    any.remote_id = Identity::from_text("branch.example.com");
    b_peer = any;
    a_peer.local_id = Identity::from_text("branch.example.com");
    up();
    expect_tunnel();
    EXPECT_EQ(status(b).ike_sas.front().remote_identity, "branch.example.com");
}

TEST_F(Pair, WrongIdentityIsRefused) {
    b_peer.remote_id = Identity::from_text("someone.else");
    up();
    EXPECT_TRUE(b->sas.inbound.empty());
    EXPECT_TRUE(log_has(b->engine, "the peer identified as 198.51.100.1 but someone.else was expected"))
        << log_text(b->engine);
}

TEST_F(Pair, GarbageIsCountedAndChangesNothing) {
    up();
    const std::vector<uint8_t> junk[] = {{}, {1, 2, 3}, std::vector<uint8_t>(28, 0), std::vector<uint8_t>(200, 0xff)};
    for (const auto& j : junk) b->engine.on_datagram(Endpoint{kB, 500}, Endpoint{kA, 500}, j);
    // A valid header for the live IKE SA with a forged SK payload.
    auto h = *parse_header(net.delivered.back().bytes);
    h.flags = header_flags::kInitiator;
    h.message_id = 2;
    h.exchange = ExchangeType::Informational;
    EncryptedPayload sk;
    sk.body.assign(64, 0x55);
    b->engine.on_datagram(Endpoint{kB, 500}, Endpoint{kA, 500}, serialize_message(h, {sk}));
    const auto& drops = b->engine.counters().drops;
    EXPECT_EQ(drops[static_cast<size_t>(IkeDrop::Malformed)], 2u);           // empty, 3 bytes
    EXPECT_EQ(drops[static_cast<size_t>(IkeDrop::UnsupportedVersion)], 2u);  // versions 0 and 15
    EXPECT_EQ(drops[static_cast<size_t>(IkeDrop::IntegrityFailed)], 1u);     // the forged SK payload
    expect_tunnel();
}

// ---- rsa-sig: certificates from tests/control/data (make-fixtures.sh)

TEST_F(Pair, RsaSignaturesWithAddressIdentities) {
    use_certificate(a_peer, "gwa");
    use_certificate(b_peer, "gwb");
    up();
    expect_tunnel();
    EXPECT_EQ(status(a).ike_sas.front().remote_identity, "203.0.113.2");
    EXPECT_EQ(status(a).version_auth, "IKEv2(RSA)");
}

TEST_F(Pair, RsaSignaturesWithDistinguishedNames) {
    use_certificate(a_peer, "gwa");
    use_certificate(b_peer, "gwb");
    std::string error;
    const std::pair<std::string, std::string> gwa[] = {{"C", "SG"}, {"O", "Example"}, {"CN", "gwa"}};
    const std::pair<std::string, std::string> gwb[] = {{"C", "SG"}, {"O", "Example"}, {"CN", "gwb"}};
    a_peer.local_id = b_peer.remote_id.emplace(Identity{IdType::DerAsn1Dn, *crypto::dn_der(gwa, error)});
    b_peer.local_id = a_peer.remote_id.emplace(Identity{IdType::DerAsn1Dn, *crypto::dn_der(gwb, error)});
    up();
    expect_tunnel();
    EXPECT_EQ(status(b).ike_sas.front().remote_identity, "C=SG, O=Example, CN=gwa");
}

TEST_F(Pair, CertificateFromAnotherCaIsRefused) {
    use_certificate(a_peer, "gwa");
    use_certificate(b_peer, "rogue");  // gwb's name and address, issued by a CA A does not trust
    b_peer.cas = {certificate("../../config/data/ca.pem")};
    up();
    EXPECT_TRUE(a->sas.outbound.empty());
    EXPECT_TRUE(log_has(a->engine, "is not issued by a configured ca-cert")) << log_text(a->engine);
}

TEST_F(Pair, IdentityNotInTheCertificateIsRefused) {
    use_certificate(a_peer, "gwa");
    use_certificate(b_peer, "gwb");
    a_peer.local_id = Identity::from_text("not-in-the.certificate");
    b_peer.remote_id = a_peer.local_id;
    up();
    EXPECT_TRUE(b->sas.inbound.empty());
    EXPECT_TRUE(log_has(b->engine, "is not in its certificate")) << log_text(b->engine);
}

}  // namespace
}  // namespace mbox::ike::test

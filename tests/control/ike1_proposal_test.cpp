// IKEv1 proposals: what we offer for each configured word, what the responder picks
// among a peer's transforms, the lifetime rule, and the descriptions in the log.
#include "control/ike1/proposal.hpp"

#include <gtest/gtest.h>

namespace mbox::ike1 {
namespace {

using crypto::EspCipher;
using crypto::EspIntegrity;
using crypto::IkeCipher;
using crypto::IkePrf;
using std::chrono::seconds;

ike::IkeSuite suite(IkeCipher cipher, IkePrf prf, uint16_t group) {
    ike::IkeSuite s;
    s.cipher = cipher;
    s.prf = prf;
    s.dh_group = group;
    return s;
}

ike::EspSuite esp(EspCipher cipher, EspIntegrity integrity, std::optional<uint16_t> pfs) {
    ike::EspSuite s;
    s.algorithms = {cipher, integrity};
    s.pfs_group = pfs;
    return s;
}

uint64_t attribute(const Transform& t, uint16_t type) {
    const Attribute* a = t.find(type);
    return a == nullptr ? 0 : a->number().value_or(0);
}

TEST(Ike1Proposal, SamplePhase1PolicyIs3desMd5Group2WithSeconds) {
    // ipsec ike-policy 10 authentication psk policy 3DES MD5 2 keylife 3600 version 1
    const SaPayload sa = phase1_sa(suite(IkeCipher::TripleDesCbc, IkePrf::HmacMd5, 2), seconds(3600),
                                   phase1::kPreSharedKey);
    ASSERT_EQ(sa.proposals.size(), 1u);
    EXPECT_EQ(sa.proposals[0].protocol, ProtocolId::Isakmp);
    ASSERT_EQ(sa.proposals[0].transforms.size(), 1u);
    const Transform& t = sa.proposals[0].transforms[0];
    EXPECT_EQ(t.id, phase1::kKeyIke);
    EXPECT_EQ(attribute(t, phase1::kEncryptionAlgorithm), phase1::kTripleDesCbc);
    EXPECT_EQ(t.find(phase1::kKeyLength), nullptr);  // 3DES has a fixed key
    EXPECT_EQ(attribute(t, phase1::kHashAlgorithm), phase1::kMd5);
    EXPECT_EQ(attribute(t, phase1::kAuthenticationMethod), phase1::kPreSharedKey);
    EXPECT_EQ(attribute(t, phase1::kGroupDescription), 2u);
    EXPECT_EQ(attribute(t, phase1::kLifeType), phase1::kSeconds);
    EXPECT_EQ(attribute(t, phase1::kLifeDuration), 3600u);
    EXPECT_EQ(describe(sa), "3DES_CBC/MD5/MODP-1024/PSK/3600s");
}

TEST(Ike1Proposal, EveryPhase1WordRoundTrips) {
    for (IkeCipher c : {IkeCipher::TripleDesCbc, IkeCipher::Aes128Cbc, IkeCipher::Aes192Cbc, IkeCipher::Aes256Cbc})
        for (IkePrf h : {IkePrf::HmacMd5, IkePrf::HmacSha1, IkePrf::HmacSha256, IkePrf::HmacSha512}) {
            const auto ours = suite(c, h, 14);
            const SaPayload sa = phase1_sa(ours, seconds(28800), phase1::kPreSharedKey);
            std::string why;
            const auto offer = phase1_offer(sa.proposals[0].transforms[0], why);
            ASSERT_TRUE(offer) << why;
            EXPECT_EQ(offer->suite.cipher, c);
            EXPECT_EQ(offer->suite.prf, h);
            EXPECT_EQ(offer->lifetime, seconds(28800));
            EXPECT_TRUE(select_phase1(sa, ours, seconds(28800), phase1::kPreSharedKey));
        }
    const auto aes = phase1_sa(suite(IkeCipher::Aes256Cbc, IkePrf::HmacSha256, 14), seconds(1), 1);
    EXPECT_EQ(attribute(aes.proposals[0].transforms[0], phase1::kKeyLength), 256u);
    EXPECT_EQ(attribute(aes.proposals[0].transforms[0], phase1::kHashAlgorithm), phase1::kSha2_256);
}

TEST(Ike1Proposal, ResponderPicksTheFirstMatchingTransformInThePeersOrder) {
    // A strongSwan-like offer: several transforms in one proposal.
    SaPayload offer = phase1_sa(suite(IkeCipher::Aes256Cbc, IkePrf::HmacSha256, 14), seconds(28800), 1);
    for (auto s : {suite(IkeCipher::Aes128Cbc, IkePrf::HmacSha1, 2), suite(IkeCipher::TripleDesCbc, IkePrf::HmacMd5, 2)}) {
        Transform t = phase1_sa(s, seconds(28800), 1).proposals[0].transforms[0];
        t.number = static_cast<uint8_t>(offer.proposals[0].transforms.size() + 1);
        offer.proposals[0].transforms.push_back(t);
    }
    const auto choice = select_phase1(offer, suite(IkeCipher::TripleDesCbc, IkePrf::HmacMd5, 2), seconds(3600), 1);
    ASSERT_TRUE(choice);
    ASSERT_EQ(choice->answer.proposals[0].transforms.size(), 1u);
    // The answer is the peer's transform as offered, its number included (RFC 2408 §4.2).
    EXPECT_EQ(choice->answer.proposals[0].transforms[0], offer.proposals[0].transforms[2]);
    // The peer offered 28800 s, we are configured for 3600 s: ours, the shorter.
    EXPECT_EQ(choice->lifetime, seconds(3600));
    EXPECT_NE(choice->lifetime_note.find("ours"), std::string::npos);
    EXPECT_EQ(describe(offer), "AES_CBC-256/SHA2_256/MODP-2048/PSK/28800s, AES_CBC-128/SHA1/MODP-1024/PSK/28800s, "
                               "3DES_CBC/MD5/MODP-1024/PSK/28800s");
}

TEST(Ike1Proposal, ShorterPeerLifetimeIsAcceptedAndMissingMeansEightHours) {
    const auto ours = suite(IkeCipher::Aes128Cbc, IkePrf::HmacSha1, 14);
    auto choice = select_phase1(phase1_sa(ours, seconds(600), 1), ours, seconds(3600), 1);
    ASSERT_TRUE(choice);
    EXPECT_EQ(choice->lifetime, seconds(600));
    SaPayload none = phase1_sa(ours, seconds(600), 1);
    auto& attrs = none.proposals[0].transforms[0].attributes;
    std::erase_if(attrs, [](const Attribute& a) { return a.type == phase1::kLifeType || a.type == phase1::kLifeDuration; });
    choice = select_phase1(none, ours, seconds(86400), 1);
    ASSERT_TRUE(choice);
    EXPECT_EQ(choice->lifetime, seconds(28800));  // RFC 2407 §4.5's default
}

TEST(Ike1Proposal, MismatchChoosesNothingAndAuthMethodCounts) {
    const auto ours = suite(IkeCipher::TripleDesCbc, IkePrf::HmacMd5, 2);
    EXPECT_FALSE(select_phase1(phase1_sa(suite(IkeCipher::TripleDesCbc, IkePrf::HmacMd5, 5), seconds(1), 1), ours,
                               seconds(1), 1));
    EXPECT_FALSE(select_phase1(phase1_sa(ours, seconds(1), phase1::kRsaSignatures), ours, seconds(1), 1));
    std::string why;
    EXPECT_FALSE(accept_phase1(phase1_sa(suite(IkeCipher::Aes128Cbc, IkePrf::HmacMd5, 2), seconds(1), 1), ours,
                               seconds(1), 1, why));
    EXPECT_FALSE(why.empty());
}

TEST(Ike1Proposal, UnknownAttributesOrAlgorithmsAreNeverChosen) {
    const auto ours = suite(IkeCipher::Aes128Cbc, IkePrf::HmacSha1, 14);
    SaPayload sa = phase1_sa(ours, seconds(1), 1);
    sa.proposals[0].transforms[0].attributes.push_back(basic_attribute(phase1::kGroupType, 1));
    EXPECT_FALSE(select_phase1(sa, ours, seconds(1), 1));
    EXPECT_NE(describe(sa).find("not supported"), std::string::npos);
    sa = phase1_sa(ours, seconds(1), 1);
    sa.proposals[0].transforms[0].attributes[0] = basic_attribute(phase1::kEncryptionAlgorithm, phase1::kDesCbc);
    EXPECT_FALSE(select_phase1(sa, ours, seconds(1), 1));
}

TEST(Ike1Proposal, SampleEspPolicyIsAesShaWithPfs2) {
    // ipsec esp-policy 10 policy AES SHA 2 keylife 3600
    const SaPayload sa = phase2_sa(esp(EspCipher::Aes128Cbc, EspIntegrity::HmacSha1_96, 2), seconds(3600),
                                   0x11223344, false);
    ASSERT_EQ(sa.proposals.size(), 1u);
    EXPECT_EQ(sa.proposals[0].protocol, ProtocolId::Esp);
    EXPECT_EQ(sa.proposals[0].spi, (std::vector<uint8_t>{0x11, 0x22, 0x33, 0x44}));
    const Transform& t = sa.proposals[0].transforms[0];
    EXPECT_EQ(t.id, ipsec::kEspAes);
    EXPECT_EQ(attribute(t, ipsec::kKeyLength), 128u);
    EXPECT_EQ(attribute(t, ipsec::kAuthenticationAlgorithm), ipsec::kHmacSha);
    EXPECT_EQ(attribute(t, ipsec::kGroupDescription), 2u);
    EXPECT_EQ(attribute(t, ipsec::kEncapsulationMode), ipsec::kTunnel);
    EXPECT_EQ(attribute(t, ipsec::kSaLifeType), phase1::kSeconds);
    EXPECT_EQ(attribute(t, ipsec::kSaLifeDuration), 3600u);
    EXPECT_EQ(describe(sa), "AES-128-CBC/HMAC-SHA1-96/MODP-1024/3600s");
}

TEST(Ike1Proposal, EveryEspWordRoundTripsAndMd5_128HasNoForm) {
    const std::pair<EspCipher, EspIntegrity> words[] = {
        {EspCipher::TripleDesCbc, EspIntegrity::HmacMd5_96}, {EspCipher::Aes128Cbc, EspIntegrity::HmacSha1_96},
        {EspCipher::Aes192Cbc, EspIntegrity::HmacSha256_128}, {EspCipher::Aes256Cbc, EspIntegrity::HmacSha512_256},
        {EspCipher::Aes128Gcm16, EspIntegrity::None},          {EspCipher::Aes256Gcm16, EspIntegrity::None},
    };
    for (const auto& [c, i] : words) {
        const auto ours = esp(c, i, std::nullopt);
        const SaPayload sa = phase2_sa(ours, seconds(3600), 7, true);
        const auto choice = select_phase2(sa, ours, seconds(3600), 9, true);
        ASSERT_TRUE(choice) << describe(sa);
        EXPECT_EQ(choice->offer.algorithms, ours.algorithms);
        EXPECT_EQ(choice->offer.spi, 7u);
        EXPECT_TRUE(choice->offer.udp_encapsulated);
        // The answer carries our SPI; the initiator accepts it.
        std::string why;
        const auto accepted = accept_phase2(choice->answer, ours, seconds(3600), true, why);
        ASSERT_TRUE(accepted) << why;
        EXPECT_EQ(accepted->offer.spi, 9u);
    }
    EXPECT_FALSE(has_phase2_form({EspCipher::Aes128Cbc, EspIntegrity::HmacMd5_128}));
    EXPECT_TRUE(has_phase2_form({EspCipher::Aes128Cbc, EspIntegrity::HmacMd5_96}));
}

TEST(Ike1Proposal, DraftUdpEncapsulationIsUnderstoodAndPfsMustMatch) {
    const auto ours = esp(EspCipher::Aes128Cbc, EspIntegrity::HmacSha1_96, 2);
    SaPayload sa = phase2_sa(ours, seconds(3600), 7, false);
    for (auto& a : sa.proposals[0].transforms[0].attributes)
        if (a.type == ipsec::kEncapsulationMode) a = basic_attribute(ipsec::kEncapsulationMode, ipsec::kUdpEncapsulatedTunnelDraft);
    const auto choice = select_phase2(sa, ours, seconds(3600), 9, true);
    ASSERT_TRUE(choice);
    EXPECT_TRUE(choice->offer.udp_encapsulated);
    // Without PFS in the offer, a policy with PFS chooses nothing (and the reverse).
    EXPECT_FALSE(select_phase2(phase2_sa(esp(EspCipher::Aes128Cbc, EspIntegrity::HmacSha1_96, std::nullopt),
                                         seconds(1), 7, false),
                               ours, seconds(1), 9, false));
    // Transport mode is not ours.
    sa = phase2_sa(ours, seconds(3600), 7, false);
    for (auto& a : sa.proposals[0].transforms[0].attributes)
        if (a.type == ipsec::kEncapsulationMode) a = basic_attribute(ipsec::kEncapsulationMode, ipsec::kTransport);
    EXPECT_FALSE(select_phase2(sa, ours, seconds(3600), 9, false));
}

TEST(Ike1Proposal, EspBundledWithAhIsNotChosen) {
    const auto ours = esp(EspCipher::Aes128Cbc, EspIntegrity::HmacSha1_96, std::nullopt);
    SaPayload sa = phase2_sa(ours, seconds(3600), 7, false);
    Proposal ah = sa.proposals[0];
    ah.protocol = ProtocolId::Ah;
    sa.proposals.push_back(ah);  // same number: ESP and AH together
    EXPECT_FALSE(select_phase2(sa, ours, seconds(3600), 9, false));
}

}  // namespace
}  // namespace mbox::ike1

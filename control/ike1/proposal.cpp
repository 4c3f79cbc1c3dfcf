#include "control/ike1/proposal.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "control/codec/byte_io.hpp"
#include "crypto/ike_dh.hpp"

namespace mbox::ike1 {

namespace {

using crypto::EspCipher;
using crypto::EspIntegrity;
using crypto::IkeCipher;
using crypto::IkePrf;
using std::chrono::seconds;

// RFC 2407 §4.5: "If unspecified, the default value shall be assumed to be 28800
// seconds (8 hours)", and RFC 2409 Appendix A says the same for phase 1.
constexpr seconds kDefaultLifetime{28800};

uint16_t hash_id(IkePrf prf) {
    switch (prf) {
    case IkePrf::HmacMd5: return phase1::kMd5;
    case IkePrf::HmacSha1: return phase1::kSha;
    case IkePrf::HmacSha256: return phase1::kSha2_256;
    case IkePrf::HmacSha512: return phase1::kSha2_512;
    }
    return phase1::kSha;
}

std::optional<IkePrf> prf_of_hash(uint64_t id) {
    switch (id) {
    case phase1::kMd5: return IkePrf::HmacMd5;
    case phase1::kSha: return IkePrf::HmacSha1;
    case phase1::kSha2_256: return IkePrf::HmacSha256;
    case phase1::kSha2_512: return IkePrf::HmacSha512;
    }
    return std::nullopt;
}

// IKEv1 has no integrity transform of its own; the suite's is the hash's, so that a
// suite read from the wire compares equal to the configured one.
crypto::IkeIntegrity integrity_of(IkePrf prf) {
    switch (prf) {
    case IkePrf::HmacMd5: return crypto::IkeIntegrity::HmacMd5_96;
    case IkePrf::HmacSha1: return crypto::IkeIntegrity::HmacSha1_96;
    case IkePrf::HmacSha256: return crypto::IkeIntegrity::HmacSha256_128;
    case IkePrf::HmacSha512: return crypto::IkeIntegrity::HmacSha512_256;
    }
    return crypto::IkeIntegrity::HmacSha1_96;
}

std::string_view hash_name(IkePrf prf) {
    switch (prf) {
    case IkePrf::HmacMd5: return "MD5";
    case IkePrf::HmacSha1: return "SHA1";
    case IkePrf::HmacSha256: return "SHA2_256";
    case IkePrf::HmacSha512: return "SHA2_512";
    }
    return "?";
}

uint16_t ike_key_bits(IkeCipher cipher) {
    switch (cipher) {
    case IkeCipher::TripleDesCbc: return 0;
    case IkeCipher::Aes128Cbc: return 128;
    case IkeCipher::Aes192Cbc: return 192;
    case IkeCipher::Aes256Cbc: return 256;
    }
    return 0;
}

std::optional<IkeCipher> ike_cipher(uint64_t id, uint64_t key_bits) {
    if (id == phase1::kTripleDesCbc) return key_bits == 0 ? std::optional(IkeCipher::TripleDesCbc) : std::nullopt;
    if (id != phase1::kAesCbc) return std::nullopt;
    switch (key_bits) {
    case 0:  // strongSwan and Cisco read a missing key length as 128 bits
    case 128: return IkeCipher::Aes128Cbc;
    case 192: return IkeCipher::Aes192Cbc;
    case 256: return IkeCipher::Aes256Cbc;
    }
    return std::nullopt;
}

std::optional<uint16_t> esp_auth_id(EspIntegrity integrity) {
    switch (integrity) {
    case EspIntegrity::None: return 0;
    case EspIntegrity::HmacMd5_96: return ipsec::kHmacMd5;
    case EspIntegrity::HmacSha1_96: return ipsec::kHmacSha;
    case EspIntegrity::HmacSha256_128: return ipsec::kHmacSha2_256;
    case EspIntegrity::HmacSha512_256: return ipsec::kHmacSha2_512;
    case EspIntegrity::HmacMd5_128: break;  // IKEv2 only
    }
    return std::nullopt;
}

std::optional<EspIntegrity> esp_integrity(uint64_t id) {
    switch (id) {
    case 0: return EspIntegrity::None;
    case ipsec::kHmacMd5: return EspIntegrity::HmacMd5_96;
    case ipsec::kHmacSha: return EspIntegrity::HmacSha1_96;
    case ipsec::kHmacSha2_256: return EspIntegrity::HmacSha256_128;
    case ipsec::kHmacSha2_512: return EspIntegrity::HmacSha512_256;
    }
    return std::nullopt;
}

std::optional<EspCipher> esp_cipher(uint8_t id, uint64_t key_bits) {
    switch (id) {
    case ipsec::kEsp3des: return key_bits == 0 ? std::optional(EspCipher::TripleDesCbc) : std::nullopt;
    case ipsec::kEspAes:
        switch (key_bits) {
        case 0:
        case 128: return EspCipher::Aes128Cbc;
        case 192: return EspCipher::Aes192Cbc;
        case 256: return EspCipher::Aes256Cbc;
        }
        return std::nullopt;
    case 20:  // ESP_AES-GCM-16 (RFC 4106 §8.4)
        if (key_bits == 128) return EspCipher::Aes128Gcm16;
        if (key_bits == 256) return EspCipher::Aes256Gcm16;
        return std::nullopt;
    }
    return std::nullopt;
}

// The lifetime both sides run with: the shorter one (see the header).
seconds agree_lifetime(seconds theirs, seconds ours, std::string& note) {
    const seconds offered = theirs.count() == 0 ? kDefaultLifetime : theirs;
    if (offered <= ours) {
        note = fmt::format("lifetime {} s: the peer's ({} s ours)", offered.count(), ours.count());
        return offered;
    }
    note = fmt::format("lifetime {} s: ours, shorter than the peer's {} s", ours.count(), offered.count());
    return ours;
}

std::string life_text(seconds lifetime) {
    return lifetime.count() == 0 ? std::string() : fmt::format("/{}s", lifetime.count());
}

std::string describe_phase1(const Transform& t) {
    std::string why;
    const auto o = phase1_offer(t, why);
    if (!o) return fmt::format("transform {} ({})", t.number, why);
    return fmt::format("{}/{}/{}/{}{}", crypto::name(o->suite.cipher), hash_name(o->suite.prf),
                       crypto::ike_dh_group_name(o->suite.dh_group),
                       o->auth_method == phase1::kPreSharedKey ? "PSK" : "RSA", life_text(o->lifetime));
}

std::string describe_phase2(const Proposal& p, const Transform& t) {
    std::string why;
    const auto o = phase2_offer(p, t, why);
    if (!o) return fmt::format("transform {} ({})", t.number, why);
    std::string text(crypto::name(o->algorithms.cipher));
    if (o->algorithms.integrity != EspIntegrity::None) text += fmt::format("/{}", crypto::name(o->algorithms.integrity));
    if (o->pfs_group) text += "/" + crypto::ike_dh_group_name(*o->pfs_group);
    if (o->udp_encapsulated) text += "/UDP";
    return text + life_text(o->lifetime);
}

bool same_phase1(const Phase1Offer& o, const ike::IkeSuite& ours, uint16_t auth_method) {
    return o.suite.cipher == ours.cipher && o.suite.prf == ours.prf && o.suite.dh_group == ours.dh_group &&
           o.auth_method == auth_method;
}

bool same_phase2(const Phase2Offer& o, const ike::EspSuite& ours) {
    return o.algorithms == ours.algorithms && o.pfs_group == ours.pfs_group;
}

}  // namespace

uint16_t auth_method(const ike::PeerConfig& peer) {
    return peer.auth == ike::AuthKind::Psk ? phase1::kPreSharedKey : phase1::kRsaSignatures;
}

SaPayload phase1_sa(const ike::IkeSuite& suite, seconds lifetime, uint16_t auth_method) {
    Transform t;
    t.number = 1;
    t.id = phase1::kKeyIke;
    t.attributes.push_back(basic_attribute(phase1::kEncryptionAlgorithm,
                                           suite.cipher == IkeCipher::TripleDesCbc ? phase1::kTripleDesCbc
                                                                                   : phase1::kAesCbc));
    if (const uint16_t bits = ike_key_bits(suite.cipher)) t.attributes.push_back(basic_attribute(phase1::kKeyLength, bits));
    t.attributes.push_back(basic_attribute(phase1::kHashAlgorithm, hash_id(suite.prf)));
    t.attributes.push_back(basic_attribute(phase1::kAuthenticationMethod, auth_method));
    t.attributes.push_back(basic_attribute(phase1::kGroupDescription, suite.dh_group));
    t.attributes.push_back(basic_attribute(phase1::kLifeType, phase1::kSeconds));
    t.attributes.push_back(number_attribute(phase1::kLifeDuration, static_cast<uint32_t>(lifetime.count())));
    Proposal p;
    p.number = 1;
    p.protocol = ProtocolId::Isakmp;
    p.transforms.push_back(std::move(t));
    return SaPayload{{std::move(p)}};
}

std::optional<Phase1Offer> phase1_offer(const Transform& transform, std::string& why) {
    if (transform.id != phase1::kKeyIke) return why = fmt::format("transform ID {}", transform.id), std::nullopt;
    uint64_t encryption = 0, key_bits = 0, hash = 0, group = 0;
    Phase1Offer o;
    o.auth_method = 0;
    uint64_t life_type = 0;
    for (const Attribute& a : transform.attributes) {
        const auto v = a.number();
        if (!v) return why = fmt::format("attribute {} unreadable", a.type), std::nullopt;
        switch (a.type) {
        case phase1::kEncryptionAlgorithm: encryption = *v; break;
        case phase1::kKeyLength: key_bits = *v; break;
        case phase1::kHashAlgorithm: hash = *v; break;
        case phase1::kAuthenticationMethod: o.auth_method = static_cast<uint16_t>(*v); break;
        case phase1::kGroupDescription: group = *v; break;
        case phase1::kLifeType: life_type = *v; break;
        case phase1::kLifeDuration:
            if (life_type == phase1::kSeconds) o.lifetime = seconds(std::min<uint64_t>(*v, UINT32_MAX));
            break;  // a kilobytes lifetime is not enforced (strongSwan ignores it too)
        default: return why = fmt::format("attribute {} not supported", a.type), std::nullopt;
        }
    }
    const auto cipher = ike_cipher(encryption, key_bits);
    if (!cipher) return why = fmt::format("encryption {} key length {}", encryption, key_bits), std::nullopt;
    const auto prf = prf_of_hash(hash);
    if (!prf) return why = fmt::format("hash {}", hash), std::nullopt;
    if (group > UINT16_MAX || !crypto::is_supported_ike_dh_group(static_cast<uint16_t>(group)))
        return why = fmt::format("DH group {}", group), std::nullopt;
    o.suite.cipher = *cipher;
    o.suite.prf = *prf;
    o.suite.integrity = integrity_of(*prf);
    o.suite.dh_group = static_cast<uint16_t>(group);
    return o;
}

std::optional<Phase1Choice> select_phase1(const SaPayload& offer, const ike::IkeSuite& ours, seconds our_lifetime,
                                          uint16_t auth_method) {
    for (const Proposal& p : offer.proposals) {
        if (p.protocol != ProtocolId::Isakmp) continue;
        for (const Transform& t : p.transforms) {
            std::string why;
            const auto o = phase1_offer(t, why);
            if (!o || !same_phase1(*o, ours, auth_method)) continue;
            Phase1Choice choice;
            choice.offer = *o;
            choice.lifetime = agree_lifetime(o->lifetime, our_lifetime, choice.lifetime_note);
            Proposal chosen = p;
            chosen.transforms = {t};
            choice.answer.proposals = {std::move(chosen)};
            return choice;
        }
    }
    return std::nullopt;
}

std::optional<Phase1Choice> accept_phase1(const SaPayload& answer, const ike::IkeSuite& ours, seconds our_lifetime,
                                          uint16_t auth_method, std::string& why) {
    if (answer.proposals.size() != 1 || answer.proposals[0].transforms.size() != 1)
        return why = "the answer is not one proposal with one transform", std::nullopt;
    const auto o = phase1_offer(answer.proposals[0].transforms[0], why);
    if (!o) return std::nullopt;
    if (!same_phase1(*o, ours, auth_method)) return why = "the answer is not what we offered", std::nullopt;
    Phase1Choice choice;
    choice.offer = *o;
    choice.lifetime = agree_lifetime(o->lifetime, our_lifetime, choice.lifetime_note);
    choice.answer = answer;
    return choice;
}

// ---- phase 2

bool has_phase2_form(const crypto::EspAlgorithms& algorithms) {
    return esp_auth_id(algorithms.integrity).has_value();
}

SaPayload phase2_sa(const ike::EspSuite& suite, seconds lifetime, uint32_t spi, bool udp_encapsulated) {
    const auto& cipher = crypto::info(suite.algorithms.cipher);
    Transform t;
    t.number = 1;
    t.id = static_cast<uint8_t>(cipher.ikev2_id);  // 3, 12 and 20 are the same numbers in IKEv1
    t.attributes.push_back(basic_attribute(ipsec::kSaLifeType, phase1::kSeconds));
    t.attributes.push_back(number_attribute(ipsec::kSaLifeDuration, static_cast<uint32_t>(lifetime.count())));
    if (suite.pfs_group) t.attributes.push_back(basic_attribute(ipsec::kGroupDescription, *suite.pfs_group));
    t.attributes.push_back(basic_attribute(ipsec::kEncapsulationMode,
                                           udp_encapsulated ? ipsec::kUdpEncapsulatedTunnel : ipsec::kTunnel));
    if (const auto auth = esp_auth_id(suite.algorithms.integrity); auth && *auth != 0)
        t.attributes.push_back(basic_attribute(ipsec::kAuthenticationAlgorithm, *auth));
    if (cipher.ikev2_key_bits != 0) t.attributes.push_back(basic_attribute(ipsec::kKeyLength, cipher.ikev2_key_bits));
    Proposal p;
    p.number = 1;
    p.protocol = ProtocolId::Esp;
    p.spi = codec::be32(spi);
    p.transforms.push_back(std::move(t));
    return SaPayload{{std::move(p)}};
}

std::optional<Phase2Offer> phase2_offer(const Proposal& proposal, const Transform& transform, std::string& why) {
    if (proposal.protocol != ProtocolId::Esp) return why = "not ESP", std::nullopt;
    if (proposal.spi.size() != 4) return why = fmt::format("SPI of {} bytes", proposal.spi.size()), std::nullopt;
    Phase2Offer o;
    o.spi = codec::read_be32(proposal.spi);
    uint64_t key_bits = 0, auth = 0, life_type = 0, mode = ipsec::kTunnel;
    for (const Attribute& a : transform.attributes) {
        const auto v = a.number();
        if (!v) return why = fmt::format("attribute {} unreadable", a.type), std::nullopt;
        switch (a.type) {
        case ipsec::kSaLifeType: life_type = *v; break;
        case ipsec::kSaLifeDuration:
            if (life_type == phase1::kSeconds) o.lifetime = seconds(std::min<uint64_t>(*v, UINT32_MAX));
            break;
        case ipsec::kGroupDescription: o.pfs_group = static_cast<uint16_t>(std::min<uint64_t>(*v, UINT16_MAX)); break;
        case ipsec::kEncapsulationMode: mode = *v; break;
        case ipsec::kAuthenticationAlgorithm: auth = *v; break;
        case ipsec::kKeyLength: key_bits = *v; break;
        default: return why = fmt::format("attribute {} not supported", a.type), std::nullopt;
        }
    }
    const auto cipher = esp_cipher(transform.id, key_bits);
    if (!cipher) return why = fmt::format("ESP transform {} key length {}", transform.id, key_bits), std::nullopt;
    const auto integrity = esp_integrity(auth);
    if (!integrity) return why = fmt::format("authentication algorithm {}", auth), std::nullopt;
    o.algorithms = {*cipher, *integrity};
    if (!crypto::validate(o.algorithms).empty()) return why = std::string(crypto::validate(o.algorithms)), std::nullopt;
    if (mode == ipsec::kUdpEncapsulatedTunnel || mode == ipsec::kUdpEncapsulatedTunnelDraft)
        o.udp_encapsulated = true;
    else if (mode != ipsec::kTunnel)
        return why = fmt::format("encapsulation mode {}", mode), std::nullopt;
    if (o.pfs_group && !crypto::is_supported_ike_dh_group(*o.pfs_group))
        return why = fmt::format("PFS group {}", *o.pfs_group), std::nullopt;
    return o;
}

std::optional<Phase2Choice> select_phase2(const SaPayload& offer, const ike::EspSuite& ours, seconds our_lifetime,
                                          uint32_t our_spi, bool udp_encapsulated) {
    for (const Proposal& p : offer.proposals) {
        // Proposals sharing a number are one offer taken together (RFC 2408 §4.2): ESP
        // with AH or IPComp is more than we do.
        const bool bundle = std::count_if(offer.proposals.begin(), offer.proposals.end(),
                                          [&](const Proposal& q) { return q.number == p.number; }) > 1;
        if (bundle) continue;
        for (const Transform& t : p.transforms) {
            std::string why;
            const auto o = phase2_offer(p, t, why);
            // UDP-encapsulated tunnel mode exactly when NAT traversal is in use.
            if (!o || !same_phase2(*o, ours) || o->udp_encapsulated != udp_encapsulated) continue;
            Phase2Choice choice;
            choice.offer = *o;
            choice.lifetime = agree_lifetime(o->lifetime, our_lifetime, choice.lifetime_note);
            SaPayload ours_sa = phase2_sa(ours, choice.lifetime, our_spi, udp_encapsulated);
            Proposal chosen = p;
            chosen.spi = ours_sa.proposals[0].spi;
            chosen.transforms = {t};
            choice.answer.proposals = {std::move(chosen)};
            return choice;
        }
    }
    return std::nullopt;
}

std::optional<Phase2Choice> accept_phase2(const SaPayload& answer, const ike::EspSuite& ours, seconds our_lifetime,
                                          bool udp_encapsulated, std::string& why) {
    if (answer.proposals.size() != 1 || answer.proposals[0].transforms.size() != 1)
        return why = "the answer is not one proposal with one transform", std::nullopt;
    const auto o = phase2_offer(answer.proposals[0], answer.proposals[0].transforms[0], why);
    if (!o) return std::nullopt;
    if (!same_phase2(*o, ours) || o->udp_encapsulated != udp_encapsulated)
        return why = "the answer is not what we offered", std::nullopt;
    Phase2Choice choice;
    choice.offer = *o;
    choice.lifetime = agree_lifetime(o->lifetime, our_lifetime, choice.lifetime_note);
    choice.answer = answer;
    return choice;
}

std::optional<NotificationPayload> responder_lifetime(const Phase2Choice& choice, uint32_t our_spi) {
    const seconds offered = choice.offer.lifetime.count() == 0 ? kDefaultLifetime : choice.offer.lifetime;
    if (choice.lifetime >= offered) return std::nullopt;
    NotificationPayload n;
    n.protocol = static_cast<uint8_t>(ProtocolId::Esp);
    n.type = notify::kResponderLifetime;
    n.spi = codec::be32(our_spi);
    n.data = serialize_attributes({basic_attribute(ipsec::kSaLifeType, phase1::kSeconds),
                                   number_attribute(ipsec::kSaLifeDuration, static_cast<uint32_t>(choice.lifetime.count()))});
    return n;
}

std::optional<seconds> responder_lifetime_seconds(const NotificationPayload& n) {
    auto parsed = parse_ipsec_attributes(n.data);
    const auto* attributes = std::get_if<std::vector<Attribute>>(&parsed);
    if (attributes == nullptr) return std::nullopt;
    // Pairs of type and duration (§4.5); the seconds one counts.
    std::optional<uint64_t> type;
    for (const Attribute& a : *attributes) {
        const auto v = a.number();
        if (!v) return std::nullopt;
        if (a.type == ipsec::kSaLifeType) type = *v;
        else if (a.type == ipsec::kSaLifeDuration && type == phase1::kSeconds)
            return seconds(std::min<uint64_t>(*v, UINT32_MAX));
    }
    return std::nullopt;
}

std::string describe(const SaPayload& sa) {
    std::string out;
    for (const Proposal& p : sa.proposals)
        for (const Transform& t : p.transforms) {
            if (!out.empty()) out += ", ";
            out += p.protocol == ProtocolId::Isakmp ? describe_phase1(t) : describe_phase2(p, t);
        }
    return out.empty() ? std::string("nothing") : out;
}

}  // namespace mbox::ike1

#include "control/ike/proposal.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "crypto/ike_dh.hpp"

namespace mbox::ike {

namespace {

using crypto::EspCipher;
using crypto::EspIntegrity;

Transform transform(TransformType type, uint16_t id, uint16_t key_bits = 0) {
    Transform t;
    t.type = type;
    t.id = id;
    if (key_bits != 0) t.key_length = key_bits;
    return t;
}

Transform encryption(crypto::IkeCipher cipher) {
    return transform(TransformType::Encryption, crypto::ikev2_id(cipher), crypto::ikev2_key_bits(cipher));
}

Transform encryption(EspCipher cipher) {
    return transform(TransformType::Encryption, crypto::info(cipher).ikev2_id, crypto::info(cipher).ikev2_key_bits);
}

// Does `theirs` offer `wanted` (same type, ID and key length, and nothing we do not
// understand)?
bool offers(const Proposal& theirs, const Transform& wanted) {
    return std::any_of(theirs.transforms.begin(), theirs.transforms.end(), [&](const Transform& t) {
        return t.type == wanted.type && t.id == wanted.id && t.key_length == wanted.key_length &&
               !t.has_unknown_attributes;
    });
}

bool has_type(const Proposal& p, TransformType type) {
    return std::any_of(p.transforms.begin(), p.transforms.end(), [&](const Transform& t) { return t.type == type; });
}

// Our transforms must all be offered, and the peer must not require a transform type
// we do not use (§3.3.6: every type in a proposal must be chosen), except DH when told
// to ignore it, and "no ESN"-style optional NONE entries.
std::optional<Proposal> choose(const Proposal& theirs, const Proposal& ours, ProtocolId protocol, bool ignore_dh) {
    if (theirs.protocol != protocol) return std::nullopt;
    for (const auto& t : ours.transforms)
        if (!offers(theirs, t)) return std::nullopt;
    for (const auto& t : theirs.transforms) {
        if (t.type == TransformType::DhGroup && ignore_dh) continue;
        if (!has_type(ours, t.type)) {
            // A DH transform offering NONE (0) alongside real groups is a way to say
            // "PFS optional"; without PFS we take NONE.
            if (t.type == TransformType::DhGroup && t.id == 0) continue;
            return std::nullopt;
        }
    }
    Proposal chosen = ours;
    chosen.number = theirs.number;
    chosen.spi = theirs.spi;
    return chosen;
}

std::string_view transform_name(const Transform& t) {
    switch (t.type) {
    case TransformType::Encryption:
        switch (t.id) {
        case 3: return "3DES_CBC";
        case 12: return "AES_CBC";
        case 13: return "AES_CTR";
        case 18: return "AES_GCM_8";
        case 19: return "AES_GCM_12";
        case 20: return "AES_GCM_16";
        case 23: return "NULL_AES_GMAC";
        case 28: return "CHACHA20_POLY1305";
        }
        break;
    case TransformType::Prf:
        switch (t.id) {
        case 1: return "PRF_HMAC_MD5";
        case 2: return "PRF_HMAC_SHA1";
        case 4: return "PRF_AES128_XCBC";
        case 5: return "PRF_HMAC_SHA2_256";
        case 6: return "PRF_HMAC_SHA2_384";
        case 7: return "PRF_HMAC_SHA2_512";
        case 8: return "PRF_AES128_CMAC";
        }
        break;
    case TransformType::Integrity:
        switch (t.id) {
        case 1: return "HMAC_MD5_96";
        case 2: return "HMAC_SHA1_96";
        case 5: return "AES_XCBC_96";
        case 6: return "HMAC_MD5_128";
        case 12: return "HMAC_SHA2_256_128";
        case 13: return "HMAC_SHA2_384_192";
        case 14: return "HMAC_SHA2_512_256";
        }
        break;
    case TransformType::Esn: return t.id == 0 ? "NO_EXT_SEQ" : "EXT_SEQ";
    case TransformType::DhGroup: break;
    }
    return {};
}

std::string describe(const Transform& t) {
    if (t.type == TransformType::DhGroup) {
        if (t.id == 0) return "NO_DH";
        const std::string name = crypto::ike_dh_group_name(t.id);
        return name.empty() ? fmt::format("DH-{}", t.id) : name;
    }
    std::string out{transform_name(t)};
    if (out.empty()) out = fmt::format("{}-{}", static_cast<int>(t.type), t.id);
    if (t.key_length) out += fmt::format("-{}", *t.key_length);
    return out;
}

}  // namespace

Proposal ike_proposal(const IkeSuite& suite, std::span<const uint8_t> spi) {
    Proposal p;
    p.protocol = ProtocolId::Ike;
    p.spi.assign(spi.begin(), spi.end());
    p.transforms = {encryption(suite.cipher),
                    transform(TransformType::Prf, crypto::ikev2_id(suite.prf)),
                    transform(TransformType::Integrity, crypto::ikev2_id(suite.integrity)),
                    transform(TransformType::DhGroup, suite.dh_group)};
    return p;
}

Proposal esp_proposal(const EspSuite& suite, bool with_dh, uint32_t spi) {
    Proposal p;
    p.protocol = ProtocolId::Esp;
    p.spi = {static_cast<uint8_t>(spi >> 24), static_cast<uint8_t>(spi >> 16), static_cast<uint8_t>(spi >> 8),
             static_cast<uint8_t>(spi)};
    p.transforms.push_back(encryption(suite.algorithms.cipher));
    if (suite.algorithms.integrity != EspIntegrity::None)
        p.transforms.push_back(
            transform(TransformType::Integrity, crypto::info(suite.algorithms.integrity).ikev2_id));
    if (with_dh && suite.pfs_group) p.transforms.push_back(transform(TransformType::DhGroup, *suite.pfs_group));
    p.transforms.push_back(transform(TransformType::Esn, transform_id::kEsnNone));
    return p;
}

std::optional<Proposal> select_ike(const SaPayload& offer, const IkeSuite& ours) {
    const Proposal mine = ike_proposal(ours, {});
    for (const auto& theirs : offer.proposals)
        if (auto chosen = choose(theirs, mine, ProtocolId::Ike, false)) return chosen;
    return std::nullopt;
}

std::optional<Proposal> select_esp(const SaPayload& offer, const EspSuite& ours, bool ignore_dh) {
    const Proposal mine = esp_proposal(ours, !ignore_dh, 0);
    for (const auto& theirs : offer.proposals) {
        if (theirs.spi.size() != 4) continue;
        if (auto chosen = choose(theirs, mine, ProtocolId::Esp, ignore_dh)) return chosen;
    }
    return std::nullopt;
}

std::optional<Proposal> accept_answer(const SaPayload& answer, const Proposal& offered, std::string& why) {
    if (answer.proposals.size() != 1) {
        why = fmt::format("the answer holds {} proposals, not 1", answer.proposals.size());
        return std::nullopt;
    }
    const Proposal& chosen = answer.proposals.front();
    if (chosen.protocol != offered.protocol) {
        why = "the answer is for another protocol";
        return std::nullopt;
    }
    for (const auto& t : chosen.transforms) {
        const auto same_type = std::count_if(chosen.transforms.begin(), chosen.transforms.end(),
                                             [&](const Transform& u) { return u.type == t.type; });
        if (same_type != 1 || !offers(offered, t)) {
            why = fmt::format("the answer chose {} which was not offered (or twice)", describe(t));
            return std::nullopt;
        }
    }
    for (const auto& t : offered.transforms) {
        if (!has_type(chosen, t.type)) {
            why = fmt::format("the answer has no transform of type {}", static_cast<int>(t.type));
            return std::nullopt;
        }
    }
    return chosen;
}

std::optional<IkeSuite> ike_suite_of(const Proposal& chosen) {
    IkeSuite suite;
    bool cipher = false, integrity = false, prf = false, dh = false;
    for (const auto& t : chosen.transforms) {
        switch (t.type) {
        case TransformType::Encryption:
            for (auto c : {crypto::IkeCipher::TripleDesCbc, crypto::IkeCipher::Aes128Cbc, crypto::IkeCipher::Aes192Cbc,
                           crypto::IkeCipher::Aes256Cbc}) {
                const uint16_t bits = crypto::ikev2_key_bits(c);
                if (crypto::ikev2_id(c) == t.id && t.key_length.value_or(0) == bits) suite.cipher = c, cipher = true;
            }
            break;
        case TransformType::Integrity:
            for (auto i : {crypto::IkeIntegrity::HmacMd5_96, crypto::IkeIntegrity::HmacMd5_128,
                           crypto::IkeIntegrity::HmacSha1_96, crypto::IkeIntegrity::HmacSha256_128,
                           crypto::IkeIntegrity::HmacSha512_256})
                if (crypto::ikev2_id(i) == t.id) suite.integrity = i, integrity = true;
            break;
        case TransformType::Prf:
            for (auto p : {crypto::IkePrf::HmacMd5, crypto::IkePrf::HmacSha1, crypto::IkePrf::HmacSha256,
                           crypto::IkePrf::HmacSha512})
                if (crypto::ikev2_id(p) == t.id) suite.prf = p, prf = true;
            break;
        case TransformType::DhGroup:
            suite.dh_group = t.id;
            dh = crypto::is_supported_ike_dh_group(t.id);
            break;
        case TransformType::Esn: break;
        }
    }
    if (!cipher || !integrity || !prf || !dh) return std::nullopt;
    return suite;
}

std::string describe(const Proposal& proposal) {
    std::string out;
    for (const auto& t : proposal.transforms) {
        if (!out.empty()) out += '/';
        out += describe(t);
    }
    return out;
}

std::string describe(const SaPayload& offer) {
    std::string out;
    for (const auto& p : offer.proposals) {
        if (!out.empty()) out += ", ";
        out += describe(p);
    }
    return out.empty() ? "nothing" : out;
}

uint16_t dh_group_of(const Proposal& proposal) {
    for (const auto& t : proposal.transforms)
        if (t.type == TransformType::DhGroup) return t.id;
    return 0;
}

}  // namespace mbox::ike

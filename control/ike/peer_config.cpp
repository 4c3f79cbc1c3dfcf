#include "control/ike/peer_config.hpp"

#include <fmt/format.h>

#include "config/identity.hpp"
#include "config/pki.hpp"
#include "crypto/ike_identity.hpp"
#include "crypto/ike_dh.hpp"

namespace mbox::ike {

namespace {

using config::Encryption;
using config::Hash;

std::optional<crypto::IkeCipher> ike_cipher(Encryption e) {
    switch (e) {
    case Encryption::TripleDes: return crypto::IkeCipher::TripleDesCbc;
    case Encryption::Aes128: return crypto::IkeCipher::Aes128Cbc;
    case Encryption::Aes192: return crypto::IkeCipher::Aes192Cbc;
    case Encryption::Aes256: return crypto::IkeCipher::Aes256Cbc;
    case Encryption::AesGcm128:
    case Encryption::AesGcm256: break;  // ESP only
    }
    return std::nullopt;
}

// In IKE the hash word names both the integrity algorithm and the PRF.
crypto::IkeIntegrity ike_integrity(Hash h) {
    switch (h) {
    case Hash::Md5: return crypto::IkeIntegrity::HmacMd5_96;
    case Hash::Md5_128: return crypto::IkeIntegrity::HmacMd5_128;
    case Hash::Sha1: return crypto::IkeIntegrity::HmacSha1_96;
    case Hash::Sha256: return crypto::IkeIntegrity::HmacSha256_128;
    case Hash::Sha512: return crypto::IkeIntegrity::HmacSha512_256;
    }
    return crypto::IkeIntegrity::HmacSha1_96;
}

crypto::IkePrf ike_prf(Hash h) {
    switch (h) {
    case Hash::Md5:
    case Hash::Md5_128: return crypto::IkePrf::HmacMd5;
    case Hash::Sha1: return crypto::IkePrf::HmacSha1;
    case Hash::Sha256: return crypto::IkePrf::HmacSha256;
    case Hash::Sha512: return crypto::IkePrf::HmacSha512;
    }
    return crypto::IkePrf::HmacSha1;
}

crypto::EspCipher esp_cipher(Encryption e) {
    switch (e) {
    case Encryption::TripleDes: return crypto::EspCipher::TripleDesCbc;
    case Encryption::Aes128: return crypto::EspCipher::Aes128Cbc;
    case Encryption::Aes192: return crypto::EspCipher::Aes192Cbc;
    case Encryption::Aes256: return crypto::EspCipher::Aes256Cbc;
    case Encryption::AesGcm128: return crypto::EspCipher::Aes128Gcm16;
    case Encryption::AesGcm256: return crypto::EspCipher::Aes256Gcm16;
    }
    return crypto::EspCipher::Aes128Cbc;
}

crypto::EspIntegrity esp_integrity(Hash h) {
    switch (h) {
    case Hash::Md5: return crypto::EspIntegrity::HmacMd5_96;
    case Hash::Md5_128: return crypto::EspIntegrity::HmacMd5_128;
    case Hash::Sha1: return crypto::EspIntegrity::HmacSha1_96;
    case Hash::Sha256: return crypto::EspIntegrity::HmacSha256_128;
    case Hash::Sha512: return crypto::EspIntegrity::HmacSha512_256;
    }
    return crypto::EspIntegrity::HmacSha1_96;
}

// Our address towards the peer: `local ip`, else an interface address on the peer's
// subnet, else the first interface address.
std::optional<uint32_t> local_address_for(const config::Config& config, const config::Peer& peer) {
    if (peer.local_ip) return peer.local_ip->value;
    std::optional<uint32_t> first;
    for (const auto& iface : config.interfaces) {
        for (const auto& a : iface.addresses) {
            if (!first) first = a.address.value;
            if (peer.address && a.contains(*peer.address)) return a.address.value;
        }
    }
    return first;
}

// An identity as IKE carries it (RFC 7296 §3.5). DNs need certificates (the DER form
// comes from them): not yet.
std::optional<Identity> identity_of(const std::string& text, std::string& error) {
    const auto parsed = config::parse_identity(text);
    if (!parsed) {
        error = parsed.error();
        return std::nullopt;
    }
    Identity id;
    switch (parsed->kind) {
    case config::IdentityKind::Ipv4: return Identity::ipv4(parsed->address.value);
    case config::IdentityKind::Fqdn: id.type = IdType::Fqdn; break;
    case config::IdentityKind::Rfc822: id.type = IdType::Rfc822; break;
    case config::IdentityKind::Dn: {
        std::vector<std::pair<std::string, std::string>> attributes;
        for (const auto& a : parsed->dn) attributes.emplace_back(a.type, a.value);
        const auto der = crypto::dn_der(attributes, error);
        if (!der) return std::nullopt;
        return Identity{IdType::DerAsn1Dn, *der};
    }
    }
    id.data.assign(parsed->text.begin(), parsed->text.end());
    return id;
}

}  // namespace

std::optional<IkeSuite> ike_suite(const config::IkePolicy& policy) {
    const auto cipher = ike_cipher(policy.encryption);
    if (!cipher || !crypto::is_supported_ike_dh_group(static_cast<uint16_t>(policy.dh_group))) return std::nullopt;
    return IkeSuite{*cipher, ike_integrity(policy.hash), ike_prf(policy.hash), static_cast<uint16_t>(policy.dh_group)};
}

std::optional<EspSuite> esp_suite(const config::EspPolicy& policy) {
    EspSuite suite;
    suite.algorithms.cipher = esp_cipher(policy.encryption);
    suite.algorithms.integrity = policy.hash ? esp_integrity(*policy.hash) : crypto::EspIntegrity::None;
    if (!crypto::validate(suite.algorithms).empty()) return std::nullopt;
    if (policy.pfs_group) {
        if (!crypto::is_supported_ike_dh_group(static_cast<uint16_t>(*policy.pfs_group))) return std::nullopt;
        suite.pfs_group = static_cast<uint16_t>(*policy.pfs_group);
    }
    return suite;
}

namespace {

// `ipsec pki`, loaded once for every rsa-sig peer.
struct Credentials {
    std::shared_ptr<const crypto::Certificate> certificate;
    std::shared_ptr<const crypto::PrivateKey> key;
    std::vector<std::shared_ptr<const crypto::Certificate>> cas;
    std::string error;
};

Credentials load_pki(const config::Pki& pki) {
    Credentials c;
    if (!pki.local_cert || !pki.local_key || pki.ca_certs.empty()) {
        c.error = "rsa-sig needs `ipsec pki` with local-cert, local-key and a ca-cert";
        return c;
    }
    auto loaded = crypto::load_credentials(config::resolve_pki_file(*pki.local_cert).string(),
                                           config::resolve_pki_file(*pki.local_key).string(), c.error);
    if (!loaded) return c;
    c.certificate = std::move(loaded->certificate);
    c.key = std::move(loaded->key);
    for (const auto& file : pki.ca_certs) {
        auto ca = crypto::Certificate::load_pem_file(config::resolve_pki_file(file).string(), c.error);
        if (!ca) {
            c.certificate.reset();
            return c;
        }
        c.cas.push_back(std::move(ca));
    }
    return c;
}

// The peers whose ike-policy says `version`: one function for both engines, since
// everything but the version checks is the same.
std::vector<PeerConfig> peers_of_version(const config::Config& config, int version, std::vector<std::string>& errors) {
    std::vector<PeerConfig> out;
    std::optional<Credentials> pki;
    for (const auto& peer : config.peers) {
        // A peer of `any` address goes by its identity: `show ipsec peer ID`, `clear ipsec peer ID`.
        const std::string name = peer.address ? peer.address->to_string() : peer.remote_id;
        if (!peer.ike_policy || !peer.esp_policy) {
            errors.push_back(fmt::format("peer {}: no `policy ike N esp M`", name));
            continue;
        }
        const auto ike = config.ike_policies.find(*peer.ike_policy);
        const auto esp = config.esp_policies.find(*peer.esp_policy);
        if (ike == config.ike_policies.end() || esp == config.esp_policies.end()) {
            errors.push_back(fmt::format("peer {}: ike-policy {} or esp-policy {} is not defined", name,
                                         *peer.ike_policy, *peer.esp_policy));
            continue;
        }
        if (ike->second.version != version) continue;  // the other engine's
        const auto ike_algorithms = ike_suite(ike->second);
        const auto esp_algorithms = esp_suite(esp->second);
        const auto local = local_address_for(config, peer);
        if (!ike_algorithms || !esp_algorithms || !local) {
            errors.push_back(fmt::format("peer {}: unsupported algorithms or no local address", name));
            continue;
        }
        // IKEv1 (RFC 2407 §4.5) has no HMAC-MD5-128 for ESP.
        if (version == 1 && esp_algorithms->algorithms.integrity == crypto::EspIntegrity::HmacMd5_128) {
            errors.push_back(fmt::format("peer {}: esp-policy {}: MD5-128 has no IKEv1 form", name, esp->first));
            continue;
        }
        // Main mode with a pre-shared key finds its peer by address (the key is needed
        // before the identity arrives); an `any` peer is found by the identity that
        // aggressive mode sends in its first message, so it needs a remote-id and
        // cannot be main mode.
        if (version == 1 && !peer.address && peer.remote_id.empty()) {
            errors.push_back("peer any: an IKEv1 `ipsec peer any` needs a remote-id (aggressive mode finds it by "
                             "the identity it presents)");
            continue;
        }
        if (version == 1 && !peer.address && peer.mode == config::IkeMode::Main) {
            errors.push_back(fmt::format("peer {}: an IKEv1 `ipsec peer any` is answered in aggressive mode only "
                                         "(main mode finds a pre-shared key by the peer's address)",
                                         name));
            continue;
        }
        const bool rsa = ike->second.authentication == config::IkeAuthentication::RsaSig;
        if (version == 1 && rsa && (!peer.address || peer.mode == config::IkeMode::Aggressive)) {
            errors.push_back(fmt::format("peer {}: IKEv1 aggressive mode is psk only (rsa-sig needs main mode)", name));
            continue;
        }
        if (rsa && !pki) pki = load_pki(config.pki);
        if (rsa && !pki->certificate) {
            errors.push_back(fmt::format("peer {}: {}", name, pki->error));
            continue;
        }
        PeerConfig p;
        p.name = name;
        if (peer.address) p.address = peer.address->value;
        p.local_address = *local;
        p.nated = peer.nated;
        std::string error;
        // Without `local-id` we are our address (PSK) or our certificate's subject (rsa-sig).
        const auto local_id = !peer.local_id.empty() ? identity_of(peer.local_id, error)
                              : rsa ? std::optional(Identity{IdType::DerAsn1Dn, pki->certificate->subject_der()})
                                    : std::optional(Identity::ipv4(*local));
        const auto remote_id = peer.remote_id.empty() ? std::nullopt : identity_of(peer.remote_id, error);
        if (!local_id || (!peer.remote_id.empty() && !remote_id)) {
            errors.push_back(fmt::format("peer {}: {}", name, error));
            continue;
        }
        p.local_id = *local_id;
        p.remote_id = remote_id;
        p.dpd = std::chrono::seconds(peer.dpd);
        p.aggressive = version == 1 && (peer.effective_mode() == config::IkeMode::Aggressive || !peer.address);
        p.local_nets = peer.local_nets;
        p.remote_nets = peer.remote_nets;
        p.ike = *ike_algorithms;
        p.esp = *esp_algorithms;
        p.ike_policy = ike->first;
        p.esp_policy = esp->first;
        p.ike_lifetime = std::chrono::seconds(ike->second.keylife);
        p.esp_lifetime = std::chrono::seconds(esp->second.keylife);
        p.auth = rsa ? AuthKind::Rsa : AuthKind::Psk;
        if (rsa) {
            p.certificate = pki->certificate;
            p.private_key = pki->key;
            p.cas = pki->cas;
        } else {
            p.psk = crypto::SecretBytes(std::string_view(peer.psk));
        }
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

std::vector<PeerConfig> ikev2_peers(const config::Config& config, std::vector<std::string>& errors) {
    return peers_of_version(config, 2, errors);
}

std::vector<PeerConfig> ikev1_peers(const config::Config& config, std::vector<std::string>& errors) {
    return peers_of_version(config, 1, errors);
}

}  // namespace mbox::ike

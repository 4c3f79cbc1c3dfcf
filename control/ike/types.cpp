#include "control/ike/types.hpp"

#include <fmt/format.h>

#include "crypto/ike_dh.hpp"
#include "crypto/ike_identity.hpp"

namespace mbox::ike {

std::string Endpoint::to_string() const { return fmt::format("{}:{}", Ipv4Address{address}.to_string(), port); }

Identity Identity::ipv4(uint32_t address) {
    return {IdType::Ipv4Address,
            {static_cast<uint8_t>(address >> 24), static_cast<uint8_t>(address >> 16),
             static_cast<uint8_t>(address >> 8), static_cast<uint8_t>(address)}};
}

Identity Identity::from_text(const std::string& text) {
    if (const auto a = Ipv4Address::parse(text)) return ipv4(a->value);
    Identity id;
    id.type = text.find('@') != std::string::npos ? IdType::Rfc822 : IdType::Fqdn;
    id.data.assign(text.begin(), text.end());
    return id;
}

bool Identity::matches(const Identity& other) const {
    if (type == IdType::DerAsn1Dn && other.type == IdType::DerAsn1Dn) return crypto::dn_equal(data, other.data);
    return *this == other;
}

std::string Identity::to_string() const {
    switch (type) {
    case IdType::DerAsn1Dn: return crypto::dn_text(data);
    case IdType::Ipv4Address:
        if (data.size() == 4)
            return Ipv4Address{uint32_t{data[0]} << 24 | uint32_t{data[1]} << 16 | uint32_t{data[2]} << 8 | data[3]}
                .to_string();
        break;
    case IdType::Fqdn:
    case IdType::Rfc822: {
        std::string text;
        for (uint8_t c : data) {
            if (c >= 0x20 && c < 0x7f) text += static_cast<char>(c);
            else text += fmt::format("\\x{:02x}", c);
        }
        return text;
    }
    default: break;
    }
    return fmt::format("ID type {} ({} bytes)", static_cast<int>(type), data.size());
}

std::string IkeSuite::to_string() const {
    return fmt::format("{}/{}/{}/{}", crypto::name(cipher), crypto::name(integrity), crypto::name(prf),
                       crypto::ike_dh_group_name(dh_group));
}

std::string EspSuite::to_string() const {
    std::string out{crypto::name(algorithms.cipher)};
    if (algorithms.integrity != crypto::EspIntegrity::None) out += fmt::format("/{}", crypto::name(algorithms.integrity));
    if (pfs_group) out += fmt::format("/PFS {}", crypto::ike_dh_group_name(*pfs_group));
    return out;
}

bool PeerConfig::same_settings(const PeerConfig& o) const {
    return name == o.name && address == o.address && local_address == o.local_address && nated == o.nated &&
           local_id == o.local_id && remote_id == o.remote_id && local_nets == o.local_nets &&
           remote_nets == o.remote_nets && ike == o.ike && esp == o.esp && ike_lifetime == o.ike_lifetime &&
           esp_lifetime == o.esp_lifetime && auth == o.auth && psk.equals(o.psk) && dpd == o.dpd && aggressive == o.aggressive &&
           initiate == o.initiate &&
           same_certificates(o);
}

bool PeerConfig::same_certificates(const PeerConfig& o) const {
    const auto der = [](const std::shared_ptr<const crypto::Certificate>& c) {
        return c ? c->der() : std::vector<uint8_t>{};
    };
    if (der(certificate) != der(o.certificate) || cas.size() != o.cas.size()) return false;
    for (size_t i = 0; i < cas.size(); ++i)
        if (der(cas[i]) != der(o.cas[i])) return false;
    // The key goes with the certificate (validation checks they match).
    return true;
}

}  // namespace mbox::ike

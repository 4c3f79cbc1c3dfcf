#include "control/ike/engine_support.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "crypto/ike_dh.hpp"
#include "crypto/ike_identity.hpp"
#include "crypto/ike_signature.hpp"

namespace mbox::ike {

namespace {

constexpr size_t kLogEntries = 2000;

// RFC 4945 §3.1: the identity must be one the certificate vouches for.
bool identity_in_certificate(const Identity& id, const crypto::Certificate& cert) {
    switch (id.type) {
    case IdType::DerAsn1Dn: return crypto::dn_equal(id.data, cert.subject_der());
    case IdType::Ipv4Address: {
        const auto ips = cert.san_ip();
        return std::find(ips.begin(), ips.end(), id.data) != ips.end();
    }
    case IdType::Fqdn: {
        const std::string name(id.data.begin(), id.data.end());
        const auto names = cert.san_dns();
        return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
            return n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
                   });
        });
    }
    default: return false;
    }
}

}  // namespace

std::unique_ptr<crypto::Certificate> trusted_certificate(const PeerConfig& peer, std::span<const uint8_t> der,
                                                         const Identity& presented, std::string& why) {
    std::string error;
    auto cert = crypto::Certificate::from_der(der, error);
    if (!cert) {
        why = "the peer's certificate: " + error;
        return nullptr;
    }
    std::string chain_errors;
    const bool trusted = std::any_of(peer.cas.begin(), peer.cas.end(), [&](const auto& ca) {
        std::string reason;
        if (cert->verify_issued_by(*ca, reason)) return true;
        chain_errors += (chain_errors.empty() ? "" : "; ") + reason;
        return false;
    });
    if (!trusted) {
        why = fmt::format("the peer's certificate {} is not issued by a configured ca-cert ({})", cert->subject_text(),
                          chain_errors);
        return nullptr;
    }
    if (!identity_in_certificate(presented, *cert)) {
        why = fmt::format("the peer's identity {} is not in its certificate {}", presented.to_string(),
                          cert->subject_text());
        return nullptr;
    }
    return cert;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void EngineLog::add(std::string peer, std::string text) {
    LogEntry entry{std::chrono::system_clock::now(), std::move(peer), std::move(text)};
    if (sink_) sink_(entry);
    entries_.push_back(std::move(entry));
    if (entries_.size() > kLogEntries) entries_.pop_front();
}

Clock::duration retransmit_delay(const Timing& timing, unsigned sent) {
    return std::chrono::duration_cast<Clock::duration>(timing.retransmit_base * std::pow(timing.retransmit_factor, sent));
}

std::vector<std::optional<size_t>> kept_peers(const std::vector<PeerConfig>& old, const std::vector<PeerConfig>& next) {
    std::vector<std::optional<size_t>> kept(old.size());
    for (size_t o = 0; o < old.size(); ++o)
        for (size_t i = 0; i < next.size(); ++i)
            if (next[i].name == old[o].name && next[i].same_settings(old[o])) kept[o] = i;
    return kept;
}

std::vector<uint16_t> dh_groups(const std::vector<PeerConfig>& peers) {
    std::vector<uint16_t> groups;
    for (const PeerConfig& peer : peers) {
        groups.push_back(peer.ike.dh_group);
        if (peer.esp.pfs_group) groups.push_back(*peer.esp.pfs_group);
    }
    return groups;
}

ChildStatus child_status(const ChildSa& child, ChildSaInstaller& installer, Clock::time_point now) {
    ChildStatus c;
    c.inbound_spi = child.inbound_spi;
    c.outbound_spi = child.outbound_spi;
    c.algorithms = std::string(crypto::name(child.algorithms.cipher));
    if (child.algorithms.integrity != crypto::EspIntegrity::None)
        c.algorithms += "/" + std::string(crypto::name(child.algorithms.integrity));
    c.pfs = child.pfs_group ? crypto::ike_dh_group_name(*child.pfs_group) : "";
    c.local_ts = child.local_ts;
    c.remote_ts = child.remote_ts;
    c.udp_encapsulated = child.udp_encapsulated;
    c.state = child.state == ChildState::Installed  ? "installed"
              : child.state == ChildState::Rekeying ? "rekeying"
              : child.state == ChildState::Replaced ? "replaced"
                                                    : "deleting";
    c.age = seconds(now - child.established);
    c.rekey_in = std::max(0.0, seconds(child.rekey_at - now));
    c.expires_in = std::max(0.0, seconds(child.expire_at - now));
    if (child.inbound_spi != 0) c.in = installer.inbound_usage(child.inbound_spi);
    if (child.outbound_spi != 0 && child.outbound_active) c.out = installer.outbound_usage(child.outbound_spi);
    return c;
}

}  // namespace mbox::ike

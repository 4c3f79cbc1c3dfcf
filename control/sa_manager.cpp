#include "control/sa_manager.hpp"

#include <fmt/format.h>

namespace mbox::control {

namespace {

using config::Encryption;
using config::Hash;
using crypto::EspCipher;
using crypto::EspIntegrity;

void fill_common(dataplane::SaCommon& sa, const config::ManualSa& m, const config::ManualSaKeys& keys,
                 std::unique_ptr<crypto::EspSession> session) {
    sa.name = m.name;
    sa.spi = keys.spi;
    sa.esn = m.esn;
    sa.session = std::move(session);
    sa.local_address = m.local_ip->value;
    sa.peer_address = m.peer->value;
    if (m.udp_encap) {
        sa.udp_local_port = m.udp_encap->source_port;
        sa.udp_peer_port = m.udp_encap->destination_port;
    }
    sa.local_nets = m.local_nets;
    sa.remote_nets = m.remote_nets;
}

}  // namespace

std::optional<crypto::EspAlgorithms> esp_algorithms(Encryption encryption, std::optional<Hash> hash) {
    crypto::EspAlgorithms a;
    switch (encryption) {
    case Encryption::TripleDes: a.cipher = EspCipher::TripleDesCbc; break;
    case Encryption::Aes128: a.cipher = EspCipher::Aes128Cbc; break;
    case Encryption::Aes192: a.cipher = EspCipher::Aes192Cbc; break;
    case Encryption::Aes256: a.cipher = EspCipher::Aes256Cbc; break;
    case Encryption::AesGcm128: a.cipher = EspCipher::Aes128Gcm16; break;
    case Encryption::AesGcm256: a.cipher = EspCipher::Aes256Gcm16; break;
    }
    if (config::is_aead(encryption)) {
        if (hash) return std::nullopt;
        a.integrity = EspIntegrity::None;
        return a;
    }
    if (!hash) return std::nullopt;
    switch (*hash) {
    case Hash::Md5: a.integrity = EspIntegrity::HmacMd5_96; break;
    case Hash::Md5_128: a.integrity = EspIntegrity::HmacMd5_128; break;
    case Hash::Sha1: a.integrity = EspIntegrity::HmacSha1_96; break;
    case Hash::Sha256: a.integrity = EspIntegrity::HmacSha256_128; break;
    case Hash::Sha512: a.integrity = EspIntegrity::HmacSha512_256; break;
    }
    return a;
}

std::vector<std::string> SaManager::install_manual(const config::Config& config) {
    std::vector<std::string> errors;
    for (const auto& m : config.manual_sas) {
        // Validation guarantees these; a model built elsewhere gets a message, not a crash.
        if (!m.local_ip || !m.peer || !m.encryption || !m.inbound || !m.outbound) {
            errors.push_back(fmt::format("manual-sa {}: incomplete (validate the configuration)", m.name));
            continue;
        }
        const auto algorithms = esp_algorithms(*m.encryption, m.hash);
        if (!algorithms) {
            errors.push_back(fmt::format("manual-sa {}: unsupported algorithm combination", m.name));
            continue;
        }
        std::string error;
        auto in_session = crypto::EspSession::create(*algorithms, m.inbound->enc_key, m.inbound->auth_key, error);
        auto out_session = in_session ? crypto::EspSession::create(*algorithms, m.outbound->enc_key,
                                                                   m.outbound->auth_key, error)
                                      : nullptr;
        if (!in_session || !out_session) {
            errors.push_back(fmt::format("manual-sa {}: {}", m.name, error));
            continue;
        }
        auto in = std::make_unique<dataplane::InboundSa>(m.replay_window, m.esn);
        fill_common(*in, m, *m.inbound, std::move(in_session));
        auto out = std::make_unique<dataplane::OutboundSa>();
        fill_common(*out, m, *m.outbound, std::move(out_session));
        out->df = m.df_bit == config::DfBit::Set     ? dataplane::OutboundSa::Df::Set
                  : m.df_bit == config::DfBit::Clear ? dataplane::OutboundSa::Df::Clear
                                                     : dataplane::OutboundSa::Df::Copy;
        // Both directions or neither: the data plane refuses a duplicate inbound SPI, a
        // policy another SA already has, or a full table.
        const auto inbound = dataplane_.add_inbound_sa(std::move(in));
        if (!inbound) {
            errors.push_back(fmt::format("manual-sa {}: {}", m.name, inbound.error));
            continue;
        }
        const auto outbound = dataplane_.add_outbound_sa(std::move(out));
        if (!outbound) {
            dataplane_.remove_inbound_sa(inbound.sa);
            errors.push_back(fmt::format("manual-sa {}: {}", m.name, outbound.error));
            continue;
        }
        inbound_.push_back(inbound.sa);
        outbound_.push_back(outbound.sa);
    }
    return errors;
}

void SaManager::remove_manual() {
    for (const auto* sa : inbound_) dataplane_.remove_inbound_sa(sa);
    for (const auto* sa : outbound_) dataplane_.remove_outbound_sa(sa);
    inbound_.clear();
    outbound_.clear();
}

void SaManager::remove_all() {
    remove_manual();
    for (const auto& [spi, sa] : ike_inbound_) dataplane_.remove_inbound_sa(sa);
    for (const auto& [spi, sa] : ike_outbound_) dataplane_.remove_outbound_sa(sa);
    ike_inbound_.clear();
    ike_outbound_.clear();
}

// ---- CHILD SAs from IKE

namespace {

void fill_negotiated(dataplane::SaCommon& sa, const ike::ChildSaDescription& d,
                     std::unique_ptr<crypto::EspSession> session) {
    sa.name = d.name;
    sa.spi = d.spi;
    sa.session = std::move(session);
    sa.local_address = d.local_address;
    sa.peer_address = d.peer_address;
    sa.udp_local_port = d.udp_local_port;
    sa.udp_peer_port = d.udp_peer_port;
    sa.local_nets = d.local_nets;
    sa.remote_nets = d.remote_nets;
}

}  // namespace

std::optional<uint32_t> SaManager::allocate_spi() { return dataplane_.allocate_inbound_spi(); }

void SaManager::release_spi(uint32_t spi) { dataplane_.release_inbound_spi(spi); }

bool SaManager::install_inbound(const ike::ChildSaDescription& d, const ike::ChildSaKeys& keys, std::string& error) {
    auto session = crypto::EspSession::create(d.algorithms, keys.encryption, keys.integrity, error);
    if (!session) return false;
    // IKE SAs use the default anti-replay window and 32-bit sequence numbers (mbox
    // offers no ESN in its proposals).
    auto sa = std::make_unique<dataplane::InboundSa>(config::kDefaultReplayWindow, false);
    fill_negotiated(*sa, d, std::move(session));
    const auto installed = dataplane_.add_inbound_sa(std::move(sa));
    if (!installed) {
        error = installed.error;
        return false;
    }
    ike_inbound_[d.spi] = installed.sa;
    return true;
}

bool SaManager::install_outbound(const ike::ChildSaDescription& d, const ike::ChildSaKeys& keys,
                                 std::optional<uint32_t> replaces, std::string& error) {
    auto session = crypto::EspSession::create(d.algorithms, keys.encryption, keys.integrity, error);
    if (!session) return false;
    auto sa = std::make_unique<dataplane::OutboundSa>();
    fill_negotiated(*sa, d, std::move(session));
    dataplane::SaInstall<dataplane::OutboundSa> installed;
    if (replaces) {
        const auto old = ike_outbound_.find(*replaces);
        if (old == ike_outbound_.end()) {
            error = fmt::format("no outbound SA {:08x} to replace", *replaces);
            return false;
        }
        installed = dataplane_.replace_outbound_sa(old->second, std::move(sa));
        if (installed) ike_outbound_.erase(old);
    } else {
        installed = dataplane_.add_outbound_sa(std::move(sa));
    }
    if (!installed) {
        error = installed.error;
        return false;
    }
    ike_outbound_[d.spi] = installed.sa;
    return true;
}

void SaManager::remove_inbound(uint32_t spi) {
    if (const auto it = ike_inbound_.find(spi); it != ike_inbound_.end()) {
        dataplane_.remove_inbound_sa(it->second);
        ike_inbound_.erase(it);
    }
}

void SaManager::remove_outbound(uint32_t spi) {
    if (const auto it = ike_outbound_.find(spi); it != ike_outbound_.end()) {
        dataplane_.remove_outbound_sa(it->second);
        ike_outbound_.erase(it);
    }
}

ike::SaUsage SaManager::usage(const dataplane::SaCommon* sa) const {
    const auto u = dataplane_.usage(*sa);
    ike::SaUsage out;
    out.packets = u.packets;
    out.bytes = u.bytes;
    out.seq = u.seq;
    if (u.packets > 0) out.last_used = u.last_used;
    return out;
}

ike::SaUsage SaManager::inbound_usage(uint32_t spi) {
    const auto it = ike_inbound_.find(spi);
    return it == ike_inbound_.end() ? ike::SaUsage{} : usage(it->second);
}

ike::SaUsage SaManager::outbound_usage(uint32_t spi) {
    const auto it = ike_outbound_.find(spi);
    return it == ike_outbound_.end() ? ike::SaUsage{} : usage(it->second);
}

}  // namespace mbox::control

// IKE_AUTH (RFC 7296 §1.2, §2.15): identities, AUTH, and the first CHILD SA with its
// traffic selectors (§2.9, narrowed by the responder).
//
//   Initiator                                        Responder
//   HDR, SK {IDi, [N(INITIAL_CONTACT)], [IDr], AUTH,
//            SAi2, TSi, TSr}                      -->
//                                                 <-- HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
//   (a refused CHILD SA: <-- HDR, SK {IDr, AUTH, N(NO_PROPOSAL_CHOSEN | TS_UNACCEPTABLE)};
//    a refused identity or AUTH: <-- HDR, SK {N(AUTHENTICATION_FAILED)})
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "control/ike/engine.hpp"
#include "control/ike/notify_text.hpp"
#include "control/ike/proposal.hpp"
#include "control/ike/traffic_selectors.hpp"
#include "control/ike/wire.hpp"
#include "crypto/ike_identity.hpp"

namespace mbox::ike {

namespace {

// IDx' of §2.15: the ID payload's body (type, three reserved octets, data).
std::vector<uint8_t> id_body(const IdPayload& id) {
    std::vector<uint8_t> out{static_cast<uint8_t>(id.type), 0, 0, 0};
    out.insert(out.end(), id.data.begin(), id.data.end());
    return out;
}

std::string nets_text(const std::vector<Ipv4Prefix>& nets) {
    std::string out;
    for (const auto& n : nets) out += (out.empty() ? "" : ",") + n.to_string();
    return out.empty() ? "none" : out;
}

std::string selectors_text(const std::vector<TrafficSelector>& selectors) {
    std::string out;
    for (const auto& ts : selectors) {
        if (!out.empty()) out += ",";
        if (ts.start_address.size() == 4 && ts.end_address.size() == 4) {
            const auto a = [](const std::vector<uint8_t>& b) {
                return Ipv4Address{uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3]};
            };
            out += a(ts.start_address).to_string() + "-" + a(ts.end_address).to_string();
        } else {
            out += "(IPv6)";
        }
        if (ts.ip_protocol != 0 || ts.start_port != 0 || ts.end_port != 65535)
            out += fmt::format("[proto {} ports {}-{}]", ts.ip_protocol, ts.start_port, ts.end_port);
    }
    return out.empty() ? "none" : out;
}

Identity expected_remote_identity(const PeerConfig& p) {
    if (p.remote_id) return *p.remote_id;
    return p.address ? Identity::ipv4(*p.address) : Identity{};
}

}  // namespace

std::string describe_selectors(const std::vector<TrafficSelector>& selectors) { return selectors_text(selectors); }
std::string describe_nets(const std::vector<Ipv4Prefix>& nets) { return nets_text(nets); }

std::vector<uint8_t> IkeEngine::auth_octets(const IkeSa& sa, bool ours, const IdPayload& id) const {
    // §2.15: the signer's IKE_SA_INIT message | the other side's nonce | prf(SK_px, IDx').
    const bool signer_is_initiator = ours == sa.is_initiator();
    const auto& message = signer_is_initiator ? sa.init_request : sa.init_response;
    const auto& nonce = signer_is_initiator ? sa.nonce_r : sa.nonce_i;
    const auto& sk_p = signer_is_initiator ? sa.keys.sk_pi : sa.keys.sk_pr;
    const auto mac = crypto::prf(sa.suite.prf, sk_p, id_body(id));
    std::vector<uint8_t> out(message.begin(), message.end());
    out.insert(out.end(), nonce.data(), nonce.data() + nonce.size());
    out.insert(out.end(), mac.data(), mac.data() + mac.size());
    return out;
}

std::optional<AuthPayload> IkeEngine::make_auth(IkeSa& sa, const IdPayload& id) {
    const PeerConfig& p = peers_[sa.peer];
    const auto octets = auth_octets(sa, true, id);
    if (p.auth == AuthKind::Psk) {
        const auto mac = crypto::psk_auth(sa.suite.prf, p.psk, octets);
        return AuthPayload{AuthMethod::SharedKey, {mac.data(), mac.data() + mac.size()}};
    }
    if (!p.private_key) return std::nullopt;
    // RFC 7427 (method 14, SHA-256) when the peer said it verifies SHA-256 signatures;
    // otherwise RSA with SHA-1 (method 1), which every IKEv2 peer understands.
    const bool sha256 = std::find(sa.peer_signature_hashes.begin(), sa.peer_signature_hashes.end(),
                                  static_cast<uint16_t>(crypto::SignatureHash::Sha256)) != sa.peer_signature_hashes.end();
    const auto method = sha256 ? crypto::IkeAuthMethod::DigitalSignature : crypto::IkeAuthMethod::RsaSignature;
    std::string error;
    auto data = p.private_key->sign_auth(method, crypto::SignatureScheme::RsaPkcs1Sha256, octets, error);
    if (!data) {
        note(sa, "cannot sign AUTH: " + error);
        return std::nullopt;
    }
    return AuthPayload{sha256 ? AuthMethod::DigitalSignature : AuthMethod::RsaSignature, std::move(*data)};
}

bool IkeEngine::verify_auth(IkeSa& sa, const IdPayload& id, const AuthPayload& auth, const std::vector<Payload>& inner) {
    const PeerConfig& p = peers_[sa.peer];
    const auto octets = auth_octets(sa, false, id);
    if (p.auth == AuthKind::Psk) {
        if (auth.method != AuthMethod::SharedKey) {
            note(sa, fmt::format("the peer authenticates with method {}, but a pre-shared key is configured",
                                 static_cast<int>(auth.method)));
            return false;
        }
        return crypto::psk_auth(sa.suite.prf, p.psk, octets).equals(auth.data);
    }
    if (auth.method != AuthMethod::RsaSignature && auth.method != AuthMethod::DigitalSignature) {
        note(sa, fmt::format("the peer authenticates with method {}, but rsa-sig is configured",
                             static_cast<int>(auth.method)));
        return false;
    }
    const auto* cert_payload = find_payload<CertPayload>(inner);
    if (cert_payload == nullptr || cert_payload->encoding != kCertEncodingX509Signature) {
        note(sa, "the peer sent no X.509 certificate");
        return false;
    }
    std::string error;
    const auto cert = trusted_certificate(p, cert_payload->data, Identity{id.type, id.data}, error);
    if (!cert) {
        note(sa, error);
        return false;
    }
    const auto method = auth.method == AuthMethod::DigitalSignature ? crypto::IkeAuthMethod::DigitalSignature
                                                                    : crypto::IkeAuthMethod::RsaSignature;
    if (!crypto::verify_auth(*cert, method, auth.data, octets, error)) {
        note(sa, "the peer's signature does not verify: " + error);
        return false;
    }
    return true;
}

std::vector<Payload> IkeEngine::certificate_payloads(const PeerConfig& p, bool request) {
    std::vector<Payload> out;
    if (p.auth != AuthKind::Rsa) return out;
    if (p.certificate) out.push_back(CertPayload{kCertEncodingX509Signature, p.certificate->der()});
    if (request && !p.cas.empty()) {
        CertReqPayload req;
        for (const auto& ca : p.cas) {
            const auto id = crypto::key_id(ca->public_key_der());
            req.data.insert(req.data.end(), id.begin(), id.end());
        }
        out.push_back(std::move(req));
    }
    return out;
}

void IkeEngine::establish(IkeSa& sa, const Identity& remote_identity) {
    const PeerConfig& p = peers_[sa.peer];
    const auto now = io_.now();
    sa.state = IkeState::Established;
    sa.remote_identity = remote_identity;
    sa.established = sa.last_heard = now;
    sa.next_keepalive = now + options_.timing.nat_keepalive;
    uint8_t r = 0;
    io_.random(std::span<uint8_t>(&r, 1));
    const double jitter = options_.timing.rekey_jitter * r / 255.0;
    const auto life = std::chrono::duration_cast<Clock::duration>(p.ike_lifetime);
    sa.rekey_at = now + std::chrono::duration_cast<Clock::duration>(life * (1.0 - options_.timing.rekey_margin - jitter));
    sa.expire_at = now + life;
    ++counters_.ike_sas_established;
    note(sa, fmt::format("established with {} ({}) as {}: {}{}", sa.remote.to_string(), remote_identity.to_string(),
                         sa.is_initiator() ? "initiator" : "responder", sa.suite.to_string(),
                         sa.natt ? ", NAT-T" : ""));
    // Both sides initiated at once: two IKE SAs for one peer. Both sides keep the one with
    // the higher SPIi; the initiator of the other deletes it. Its CHILD SA never takes the
    // outbound traffic (install_child), so nothing is lost when it goes.
    for (auto& [spi, other] : sas_) {
        if (other.get() == &sa || other->peer != sa.peer || other->state != IkeState::Established || other->rekeyed ||
            other->superseded)
            continue;
        IkeSa& loser = sa.spi_i < other->spi_i ? sa : *other;
        loser.superseded = true;
        note(loser, fmt::format("duplicate of IKE SA #{} (both sides initiated): {}", (&loser == &sa ? *other : sa).serial,
                                loser.is_initiator() ? "deleting it" : "the peer deletes it"));
        if (loser.is_initiator()) loser.queued.push_back({RequestKind::DeleteIke, {}});
    }
}

bool IkeEngine::install_child(IkeSa& sa, ChildSa child, bool we_initiated, std::span<const uint8_t> nonce_i,
                              std::span<const uint8_t> nonce_r, const crypto::SecretBytes* shared,
                              std::optional<uint32_t> replaces_outbound, bool with_outbound) {
    const PeerConfig& p = peers_[sa.peer];
    const size_t enc = crypto::info(child.algorithms.cipher).key_material_len();
    const size_t integ = crypto::info(child.algorithms.integrity).key_len;
    const auto keymat = crypto::derive_child_keymat(sa.suite.prf, sa.keys.sk_d,
                                                    shared ? shared->span() : std::span<const uint8_t>{}, nonce_i,
                                                    nonce_r, 2 * (enc + integ));
    // §2.17: initiator-to-responder keys first.
    ChildSaKeys i_to_r{keymat.slice(0, enc), keymat.slice(enc, integ)};
    ChildSaKeys r_to_i{keymat.slice(enc + integ, enc), keymat.slice(2 * enc + integ, integ)};
    const ChildSaKeys& in_keys = we_initiated ? r_to_i : i_to_r;
    const ChildSaKeys& out_keys = we_initiated ? i_to_r : r_to_i;

    ChildSaDescription d;
    d.name = p.name;
    d.algorithms = child.algorithms;
    d.local_address = sa.local.address;
    d.peer_address = sa.remote.address;
    if (sa.natt) {
        d.udp_local_port = sa.local.port;
        d.udp_peer_port = sa.remote.port;
    }
    d.local_nets = child.local_ts;
    d.remote_nets = child.remote_ts;
    child.udp_encapsulated = sa.natt;

    // A new tunnel (not a rekey) while another IKE SA of this peer has one: the newer
    // takes the outbound traffic, unless its IKE SA is the duplicate that goes.
    ChildSa* previous = nullptr;
    if (!replaces_outbound && with_outbound) {
        if (sa.superseded) with_outbound = false;
        for (auto& [spi, other] : sas_) {
            if (other.get() == &sa || other->peer != sa.peer || other->state == IkeState::Dead || !with_outbound) continue;
            for (auto& c : other->children)
                if (c.outbound_active) previous = &c;
        }
        if (previous != nullptr) replaces_outbound = previous->outbound_spi;
    }

    std::string error;
    d.spi = child.inbound_spi;
    if (!installer_.install_inbound(d, in_keys, error)) {
        note(sa, fmt::format("cannot install inbound CHILD SA {:08x}: {}", child.inbound_spi, error));
        installer_.release_spi(child.inbound_spi);
        return false;
    }
    d.spi = child.outbound_spi;
    if (with_outbound && !installer_.install_outbound(d, out_keys, replaces_outbound, error)) {
        note(sa, fmt::format("cannot install outbound CHILD SA {:08x}: {}", child.outbound_spi, error));
        installer_.remove_inbound(child.inbound_spi);
        return false;
    }
    child.outbound_active = with_outbound;
    if (previous != nullptr) previous->outbound_active = false;
    const auto now = io_.now();
    uint8_t r = 0;
    io_.random(std::span<uint8_t>(&r, 1));
    const double jitter = options_.timing.rekey_jitter * r / 255.0;
    const auto life = std::chrono::duration_cast<Clock::duration>(p.esp_lifetime);
    child.established = now;
    child.rekey_at =
        now + std::chrono::duration_cast<Clock::duration>(life * (1.0 - options_.timing.rekey_margin - jitter));
    child.expire_at = now + life;
    child.state = ChildState::Installed;
    ++counters_.child_sas_installed;
    note(sa, fmt::format("CHILD SA {:08x}_i {:08x}_o installed: {} === {} ({}{})", child.inbound_spi,
                         child.outbound_spi, nets_text(child.local_ts), nets_text(child.remote_ts),
                         crypto::name(child.algorithms.cipher),
                         child.algorithms.integrity == crypto::EspIntegrity::None
                             ? std::string{}
                             : "/" + std::string(crypto::name(child.algorithms.integrity))));
    sa.children.push_back(std::move(child));
    return true;
}

// ---- initiator

void IkeEngine::send_auth(IkeSa& sa) {
    const PeerConfig& p = peers_[sa.peer];
    const auto spi = installer_.allocate_spi();
    if (!spi) return kill(sa, "no inbound SPI available", true);
    IdInitiator idi;
    idi.type = p.local_id.type;
    idi.data = p.local_id.data;
    const auto auth = make_auth(sa, idi);
    if (!auth) {
        installer_.release_spi(*spi);
        return kill(sa, "no credentials for the configured authentication", false);
    }
    std::vector<Payload> payloads{idi};
    for (auto& c : certificate_payloads(p, true)) payloads.push_back(std::move(c));
    const bool alone = std::none_of(sas_.begin(), sas_.end(), [&](const auto& entry) {
        return entry.second.get() != &sa && entry.second->peer == sa.peer && entry.second->state != IkeState::Dead;
    });
    if (!sa.initial_contact_sent && alone) {
        // §2.4: no SAs with this peer survive from before; the peer may drop its old ones.
        NotifyPayload contact;
        contact.type = notify::kInitialContact;
        payloads.push_back(contact);
        sa.initial_contact_sent = true;
    }
    if (p.remote_id) {
        IdResponder idr;
        idr.type = p.remote_id->type;
        idr.data = p.remote_id->data;
        payloads.push_back(idr);
    }
    payloads.push_back(*auth);
    payloads.push_back(SaPayload{{esp_proposal(p.esp, false, *spi)}});
    payloads.push_back(TsInitiator{{selectors_for(p.local_nets)}});
    payloads.push_back(TsResponder{{selectors_for(p.remote_nets)}});

    PendingRequest request;
    request.kind = RequestKind::Auth;
    request.message_id = sa.next_request_id;
    request.bytes = seal(sa, ExchangeType::IkeAuth, false, request.message_id, payloads);
    request.child = ChildProposalState{};
    request.child->inbound_spi = *spi;
    sa.state = IkeState::AuthSent;
    send_request(sa, std::move(request));
}

void IkeEngine::on_auth_response(IkeSa& sa, PendingRequest& request, const std::vector<Payload>& inner) {
    const PeerConfig& p = peers_[sa.peer];
    const uint32_t inbound_spi = request.child->inbound_spi;
    const auto fail = [&](std::string why) {
        installer_.release_spi(inbound_spi);
        kill(sa, why, true);
    };
    const auto* idr = find_payload<IdResponder>(inner);
    const auto* auth = find_payload<AuthPayload>(inner);
    if (idr == nullptr || auth == nullptr) {
        if (const auto* error = error_notify(inner))
            return fail(fmt::format("the peer refused IKE_AUTH with {}{}", describe_notify(error->type),
                                    error->type == notify::kAuthenticationFailed
                                        ? " (pre-shared key or identity mismatch?)"
                                        : ""));
        return fail("IKE_AUTH response without IDr or AUTH");
    }
    const Identity presented{idr->type, idr->data};
    const Identity expected = expected_remote_identity(p);
    if (!presented.matches(expected))
        return fail(fmt::format("the peer identified as {} but {} was expected (remote-id)", presented.to_string(),
                                expected.to_string()));
    if (!verify_auth(sa, *idr, *auth, inner))
        return fail(p.auth == AuthKind::Psk
                        ? "authentication failed: the peer's AUTH does not verify (pre-shared key mismatch?)"
                        : "authentication failed: the peer's certificate or signature is not accepted");
    establish(sa, presented);

    // The CHILD SA made with the IKE SA.
    if (const auto* error = error_notify(inner)) {
        installer_.release_spi(inbound_spi);
        note(sa, fmt::format("the peer refused the CHILD SA with {}: we offered esp-policy {}: {}, TSi {} TSr {}",
                             describe_notify(error->type), p.esp_policy, p.esp.to_string(), nets_text(p.local_nets),
                             nets_text(p.remote_nets)));
        return kill(sa, "no CHILD SA", true);
    }
    const auto* answer = find_payload<SaPayload>(inner);
    const auto* tsi = find_payload<TsInitiator>(inner);
    const auto* tsr = find_payload<TsResponder>(inner);
    if (answer == nullptr || tsi == nullptr || tsr == nullptr) return fail("IKE_AUTH response without SA, TSi or TSr");
    std::string why;
    const auto chosen = accept_answer(*answer, esp_proposal(p.esp, false, inbound_spi), why);
    if (!chosen || esp_spi(chosen->spi) == 0) return fail("the peer's ESP proposal is invalid: " + why);
    const auto local = inside(tsi->selectors, p.local_nets);
    const auto remote = inside(tsr->selectors, p.remote_nets);
    if (!local || !remote)
        return fail(fmt::format("the peer's traffic selectors TSi {} TSr {} are not within ours ({} === {})",
                                selectors_text(tsi->selectors), selectors_text(tsr->selectors),
                                nets_text(p.local_nets), nets_text(p.remote_nets)));
    ChildSa child;
    child.inbound_spi = inbound_spi;
    child.outbound_spi = esp_spi(chosen->spi);
    child.algorithms = p.esp.algorithms;
    child.local_ts = to_prefixes(*local);
    child.remote_ts = to_prefixes(*remote);
    if (!install_child(sa, std::move(child), true, sa.nonce_i, sa.nonce_r, nullptr, std::nullopt))
        kill(sa, "the CHILD SA could not be installed", true);
}

// ---- responder

void IkeEngine::respond_auth(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner) {
    const auto* idi = find_payload<IdInitiator>(inner);
    const auto* auth = find_payload<AuthPayload>(inner);
    const auto refuse = [&](std::string why) {
        note(sa, why);
        send_error_response(sa, ExchangeType::IkeAuth, message_id, notify::kAuthenticationFailed);
        kill(sa, "authentication failed", false);
    };
    if (idi == nullptr || auth == nullptr) {
        drop(IkeDrop::MissingPayload, sa.remote, "IKE_AUTH request without IDi or AUTH");
        send_error_response(sa, ExchangeType::IkeAuth, message_id, notify::kInvalidSyntax);
        return kill(sa, "malformed IKE_AUTH", false);
    }
    const Identity presented{idi->type, idi->data};
    // A peer by address must present its identity; an `any` peer is found by it.
    if (!peers_[sa.peer].address) {
        bool found = false;
        for (size_t i = 0; i < peers_.size() && !found; ++i) {
            if (peers_[i].address || !peers_[i].remote_id || !peers_[i].remote_id->matches(presented) ||
                !(peers_[i].ike == sa.suite))
                continue;
            sa.peer = i;
            found = true;
        }
        if (!found)
            return refuse(fmt::format("IKE_AUTH from {}: no `ipsec peer any` has remote-id {}", sa.remote.to_string(),
                                      presented.to_string()));
    }
    const PeerConfig& p = peers_[sa.peer];
    const Identity expected = expected_remote_identity(p);
    if (!presented.matches(expected))
        return refuse(fmt::format("the peer identified as {} but {} was expected (remote-id)", presented.to_string(),
                                  expected.to_string()));
    if (!verify_auth(sa, *idi, *auth, inner))
        return refuse(p.auth == AuthKind::Psk
                          ? "authentication failed: the peer's AUTH does not verify (pre-shared key mismatch?)"
                          : "authentication failed: the peer's certificate or signature is not accepted");
    if (const auto* idr = find_payload<IdResponder>(inner); idr != nullptr && !(Identity{idr->type, idr->data} == p.local_id))
        note(sa, fmt::format("the peer asked for identity {}; answering as {}", Identity{idr->type, idr->data}.to_string(),
                             p.local_id.to_string()));
    if (find_notify(inner, notify::kInitialContact) != nullptr) {
        // §2.4: the peer holds no other IKE SA with us. Ours go, with a DELETE all the same:
        // when both sides initiated at once the peer does still know them.
        for (auto& [spi, other] : sas_) {
            if (other.get() == &sa || other->peer != sa.peer || other->state != IkeState::Established) continue;
            send_delete_ike(*other);
            kill(*other, "the peer sent INITIAL_CONTACT: it has forgotten this IKE SA", false);
        }
    }
    establish(sa, presented);

    IdResponder idr;
    idr.type = p.local_id.type;
    idr.data = p.local_id.data;
    const auto our_auth = make_auth(sa, idr);
    if (!our_auth) {
        send_error_response(sa, ExchangeType::IkeAuth, message_id, notify::kAuthenticationFailed);
        return kill(sa, "no credentials to authenticate ourselves", false);
    }
    std::vector<Payload> payloads{idr};
    for (auto& c : certificate_payloads(p, false)) payloads.push_back(std::move(c));
    payloads.push_back(*our_auth);

    // The CHILD SA: proposal, then traffic selectors narrowed to the configuration.
    const auto* offer = find_payload<SaPayload>(inner);
    const auto* tsi = find_payload<TsInitiator>(inner);
    const auto* tsr = find_payload<TsResponder>(inner);
    std::optional<ChildSa> child;
    if (offer == nullptr || tsi == nullptr || tsr == nullptr) {
        payloads.push_back(NotifyPayload{0, {}, notify::kInvalidSyntax, {}});
    } else if (const auto chosen = select_esp(*offer, p.esp, true); !chosen) {
        note(sa, fmt::format("CHILD SA: no proposal chosen: the peer offered {}; esp-policy {} is {}", describe(*offer),
                             p.esp_policy, p.esp.to_string()));
        payloads.push_back(NotifyPayload{0, {}, notify::kNoProposalChosen, {}});
    } else {
        const auto remote = narrow(tsi->selectors, p.remote_nets);
        const auto local = narrow(tsr->selectors, p.local_nets);
        if (remote.empty() || local.empty()) {
            note(sa, fmt::format("CHILD SA: traffic selectors unacceptable: the peer proposed TSi {} TSr {}; "
                                 "configured remote-net {} local-net {}",
                                 selectors_text(tsi->selectors), selectors_text(tsr->selectors),
                                 nets_text(p.remote_nets), nets_text(p.local_nets)));
            payloads.push_back(NotifyPayload{0, {}, notify::kTsUnacceptable, {}});
        } else if (const auto spi = installer_.allocate_spi(); !spi) {
            payloads.push_back(NotifyPayload{0, {}, notify::kTemporaryFailure, {}});
        } else {
            Proposal answer = *chosen;
            answer.spi = spi_bytes(*spi);
            payloads.push_back(SaPayload{{answer}});
            payloads.push_back(TsInitiator{{selectors_for(remote)}});
            payloads.push_back(TsResponder{{selectors_for(local)}});
            child.emplace();
            child->inbound_spi = *spi;
            child->outbound_spi = esp_spi(chosen->spi);
            child->algorithms = p.esp.algorithms;
            child->local_ts = to_prefixes(local);
            child->remote_ts = to_prefixes(remote);
        }
    }
    // Inbound before the answer leaves: the peer may send ESP the moment it has it.
    if (child && !install_child(sa, std::move(*child), false, sa.nonce_i, sa.nonce_r, nullptr, std::nullopt)) {
        payloads.resize(2);
        payloads.push_back(NotifyPayload{0, {}, notify::kTemporaryFailure, {}});
    }
    send_response(sa, seal(sa, ExchangeType::IkeAuth, true, message_id, payloads), message_id);
}

}  // namespace mbox::ike

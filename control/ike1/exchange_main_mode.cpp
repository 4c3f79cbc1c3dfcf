// Main mode with pre-shared keys (RFC 2409 §5.4) or RSA signatures (§5.1), both roles:
//
//   Initiator                          Responder
//   1  HDR, SA                    -->
//                                 <--  2  HDR, SA
//   3  HDR, KE, Ni [, CR]         -->
//                                 <--  4  HDR, KE, Nr [, CR]
//   5  HDR*, IDii, HASH_I         -->      (signatures: IDii, CERT, SIG_I)
//                                 <--  6  HDR*, IDir, HASH_R    (IDir, CERT, SIG_R)
//
// HDR* is encrypted under the key from SKEYID_e with the IVs of Appendix B. With
// pre-shared keys the responder must know the key before it sees an identity, so main
// mode peers are found by address; with signatures too, as the policy is the peer's. We
// always send our certificate and ask for the peer's (CR naming our CAs), as strongSwan
// sends its own only when asked.
#include <algorithm>

#include <fmt/format.h>

#include "control/ike/engine_support.hpp"
#include "control/ike1/engine.hpp"
#include "crypto/ike_signature.hpp"

namespace mbox::ike1 {

// ---- message 1 (initiator) and 2 (responder)

void Engine::initiate_main(size_t peer_index) {
    const ike::PeerConfig& peer = peers_[peer_index];
    if (sas_.size() >= options_.max_sas) return note(peer_index, "not initiated: ISAKMP SA limit reached");
    Phase1Sa& sa = new_sa(true, peer_index, Endpoint{peer.local_address, ike::kIkePort},
                          Endpoint{*peer.address, ike::kIkePort});
    const SaPayload offer = phase1_sa(peer.ike, peer.ike_lifetime, auth_method(peer));
    sa.sai_b = serialize_body(offer);
    Header h;
    h.cookie_i = sa.cookie_i;
    h.exchange = ExchangeType::IdentityProtection;
    note(sa, fmt::format("initiating main mode to {}: {}", sa.remote.to_string(), describe(offer)));
    send_flight(sa, sa.flight,
                serialize_message(h, {offer, VendorIdPayload{dpd_vendor_id()}, VendorIdPayload{natt_vendor_id()}}), {},
                true);
}

void Engine::respond_main_1(const Message& message, const Endpoint& local, const Endpoint& remote) {
    const auto peer_index = peer_for_address(remote.address);
    if (!peer_index) return drop(Drop::UnknownPeer, remote, "main mode from an address with no IKEv1 peer");
    if (sas_.size() >= options_.max_sas) return drop(Drop::UnknownPeer, remote, "ISAKMP SA limit reached");
    const auto& payloads = message.chain.payloads;
    const auto* offer = find_payload<SaPayload>(payloads);
    if (offer == nullptr) return drop(Drop::MissingPayload, remote, "main mode message 1 without SA");
    Phase1Sa& sa = new_sa(false, *peer_index, local, remote);
    sa.cookie_i = message.header.cookie_i;
    for (size_t i = 0; i < payloads.size(); ++i)
        if (std::holds_alternative<SaPayload>(payloads[i])) {
            const auto b = body_of(std::span<const uint8_t>(message_bytes_), message.chain, i);
            sa.sai_b.assign(b.begin(), b.end());
            break;
        }
    if (!choose_phase1(sa, *offer)) return;
    note(sa, fmt::format("main mode from {}: chose {}; {}", remote.to_string(), describe(sa.choice->answer),
                         sa.choice->lifetime_note));
    Header h;
    h.cookie_i = sa.cookie_i;
    h.cookie_r = sa.cookie_r;
    h.exchange = ExchangeType::IdentityProtection;
    sa.peer_dpd = offers_dpd(payloads);
    sa.peer_natt = offers_natt(payloads);
    std::vector<Payload> answer{sa.choice->answer, VendorIdPayload{dpd_vendor_id()}};
    if (sa.peer_natt) answer.push_back(VendorIdPayload{natt_vendor_id()});
    send_flight(sa, sa.flight, serialize_message(h, answer), message_bytes_, true);
}

void Engine::on_main_mode(Phase1Sa& sa, const Message& message) {
    switch (sa.state) {
    case Phase1State::Sent1: return on_main_2(sa, message);
    case Phase1State::Sent2:
    case Phase1State::Sent3: return on_key_exchange(sa, message);
    case Phase1State::Sent4: return on_main_5(sa, message);
    case Phase1State::Sent5: return on_main_6(sa, message);
    case Phase1State::AggrSent1:
    case Phase1State::AggrSent2:
    case Phase1State::Established:
    case Phase1State::Dead: break;
    }
    drop(Drop::UnexpectedMessage, sa.remote, fmt::format("main mode message in state {}", to_string(sa.state)));
}

// ---- message 2 (initiator) and 3 (initiator sends; responder answers with 4)

void Engine::on_main_2(Phase1Sa& sa, const Message& message) {
    if (message.header.encrypted() || message.header.cookie_r == 0)
        return drop(Drop::UnexpectedMessage, sa.remote, "main mode message 2 encrypted or without CKY-R");
    const auto* answer = find_payload<SaPayload>(message.chain.payloads);
    if (answer == nullptr) return drop(Drop::MissingPayload, sa.remote, "main mode message 2 without SA");
    if (!check_phase1_answer(sa, *answer)) return;
    sa.cookie_r = message.header.cookie_r;
    sa.peer_dpd = offers_dpd(message.chain.payloads);
    sa.peer_natt = offers_natt(message.chain.payloads);
    std::string error;
    sa.dh = dh_pool_.take(sa.choice->offer.suite.dh_group, error);
    if (!sa.dh) return kill(sa, fmt::format("no DH key pair: {}", error), true);
    sa.g_xi = sa.dh->public_value();
    sa.nonce_i = random_bytes(kNonceLength);
    Header h;
    h.cookie_i = sa.cookie_i;
    h.cookie_r = sa.cookie_r;
    h.exchange = ExchangeType::IdentityProtection;
    sa.state = Phase1State::Sent3;
    std::vector<Payload> payloads{KePayload{sa.g_xi}, NoncePayload{sa.nonce_i}};
    add_certificate_requests(sa, payloads);
    add_nat_discovery(sa, payloads);
    send_flight(sa, sa.flight, serialize_message(h, payloads), message_bytes_, true);
}

void Engine::on_key_exchange(Phase1Sa& sa, const Message& message) {
    if (message.header.encrypted())
        return drop(Drop::UnexpectedMessage, sa.remote, "main mode key exchange encrypted");
    const auto* ke = find_payload<KePayload>(message.chain.payloads);
    const auto* nonce = find_payload<NoncePayload>(message.chain.payloads);
    if (ke == nullptr || nonce == nullptr) return drop(Drop::MissingPayload, sa.remote, "main mode without KE or nonce");
    if (!exchange_keys(sa, *ke, *nonce)) return;
    // The responder answers from the port it was reached on; the initiator moves to
    // 4500 here if a NAT is in the way.
    check_nat(sa, message.chain.payloads);
    Header h;
    h.cookie_i = sa.cookie_i;
    h.cookie_r = sa.cookie_r;
    h.exchange = ExchangeType::IdentityProtection;
    if (!sa.initiator) {
        sa.state = Phase1State::Sent4;
        std::vector<Payload> payloads{KePayload{sa.g_xr}, NoncePayload{sa.nonce_r}};
        add_certificate_requests(sa, payloads);
        add_nat_discovery(sa, payloads);
        return send_flight(sa, sa.flight, serialize_message(h, payloads), message_bytes_, true);
    }
    // Message 5: our identity and HASH_I (or SIG_I), the first encrypted message.
    auto ours = our_authentication(sa);
    if (!ours) return;
    sa.state = Phase1State::Sent5;
    send_flight(sa, sa.flight, seal(sa, ExchangeType::IdentityProtection, 0, sa.iv, *ours), message_bytes_, true);
}

void Engine::add_certificate_requests(const Phase1Sa& sa, std::vector<Payload>& payloads) const {
    const ike::PeerConfig& peer = peers_[sa.peer];
    if (peer.auth != ike::AuthKind::Rsa) return;
    for (const auto& ca : peer.cas) payloads.push_back(CertRequestPayload{kCertEncodingX509Signature, ca->subject_der()});
}

std::optional<std::vector<Payload>> Engine::our_authentication(Phase1Sa& sa) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    const IdPayload id = our_id(sa);
    const auto hash = auth_hash(sa, sa.initiator, serialize_body(id));
    std::vector<Payload> payloads{id};
    if (peer.auth == ike::AuthKind::Psk) {
        payloads.push_back(HashPayload{std::vector<uint8_t>(hash.data(), hash.data() + hash.size())});
    } else {
        std::string error;
        auto signature = peer.private_key->sign_ikev1(hash.span(), error);
        if (!signature) {
            kill(sa, fmt::format("cannot sign SIG_{}: {}", sa.initiator ? 'I' : 'R', error), false);
            return std::nullopt;
        }
        payloads.push_back(CertPayload{kCertEncodingX509Signature, peer.certificate->der()});
        payloads.push_back(SignaturePayload{std::move(*signature)});
    }
    // RFC 2407 §4.6.3.3: with no other ISAKMP SA up to this peer (we started, or lost
    // our state), tell it to forget what it still holds from an earlier life of ours.
    const bool first_contact = std::none_of(sas_.begin(), sas_.end(), [&](const auto& entry) {
        return entry.second.get() != &sa && entry.second->peer == sa.peer &&
               entry.second->state == Phase1State::Established;
    });
    if (sa.initiator && first_contact) {
        NotificationPayload n;
        n.protocol = static_cast<uint8_t>(ProtocolId::Isakmp);
        n.type = notify::kInitialContact;
        n.spi = sa.cookies();
        payloads.push_back(std::move(n));
    }
    return payloads;
}

void Engine::initial_contact(Phase1Sa& sa) {
    // Only SAs up before this exchange began: when both sides initiate at once, each
    // sends INITIAL-CONTACT, and neither exchange is stale.
    for (auto& [cookie, other] : sas_) {
        if (other.get() == &sa || other->peer != sa.peer || other->state != Phase1State::Established ||
            other->established >= sa.created)
            continue;
        note(*other, fmt::format("the peer sent INITIAL-CONTACT in ISAKMP SA #{}: it restarted and forgot this one",
                                 sa.serial));
        kill(*other, "replaced after the peer's INITIAL-CONTACT", false);
    }
}

bool Engine::choose_phase1(Phase1Sa& sa, const SaPayload& offer) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    sa.choice = select_phase1(offer, peer.ike, peer.ike_lifetime, auth_method(peer));
    if (sa.choice) return true;
    note(sa, fmt::format("no proposal chosen: the peer offered {}; ours is {}", describe(offer),
                         describe(phase1_sa(peer.ike, peer.ike_lifetime, auth_method(peer)))));
    send_error(sa, notify::kNoProposalChosen);
    kill(sa, "no proposal chosen", false);
    return false;
}

bool Engine::check_phase1_answer(Phase1Sa& sa, const SaPayload& answer) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    std::string why;
    sa.choice = accept_phase1(answer, peer.ike, peer.ike_lifetime, auth_method(peer), why);
    if (sa.choice) return true;
    note(sa, fmt::format("no proposal chosen: the peer answered {} ({}); we offered {}", describe(answer), why,
                         describe(phase1_sa(peer.ike, peer.ike_lifetime, auth_method(peer)))));
    kill(sa, "unacceptable answer", true);
    return false;
}

bool Engine::exchange_keys(Phase1Sa& sa, const KePayload& ke, const NoncePayload& nonce) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    std::string error;
    if (!sa.initiator) {
        sa.dh = dh_pool_.take(sa.choice->offer.suite.dh_group, error);
        if (!sa.dh) {
            kill(sa, fmt::format("no DH key pair: {}", error), false);
            return false;
        }
        sa.g_xi = ke.data;
        sa.g_xr = sa.dh->public_value();
        sa.nonce_i = nonce.data;
        sa.nonce_r = random_bytes(kNonceLength);
    } else {
        sa.g_xr = ke.data;
        sa.nonce_r = nonce.data;
    }
    auto shared = sa.dh->shared_secret(ke.data, error);
    if (!shared) {
        note(sa, fmt::format("the peer's KE is unusable: {}", error));
        send_error(sa, notify::kInvalidKeyInformation);
        kill(sa, "invalid key information", sa.initiator);
        return false;
    }
    sa.shared = std::move(*shared);
    sa.dh.reset();
    const auto prf = sa.prf();
    const auto cipher = sa.choice->offer.suite.cipher;
    auto skeyid = peer.auth == ike::AuthKind::Psk
                      ? crypto::ike1::skeyid_psk(prf, peer.psk, sa.nonce_i, sa.nonce_r)
                      : crypto::ike1::skeyid_signature(prf, sa.nonce_i, sa.nonce_r, sa.shared);
    sa.keys = crypto::ike1::derive_phase1_keys(prf, std::move(skeyid), sa.shared, sa.cookie_i, sa.cookie_r);
    const auto key = crypto::ike1::encryption_key(prf, sa.keys.skeyid_e, crypto::key_length(cipher));
    sa.cipher = crypto::ike1::MessageCipher::create(cipher, key, error);
    if (!sa.cipher) {
        kill(sa, fmt::format("cannot set up the message cipher: {}", error), sa.initiator);
        return false;
    }
    sa.iv = crypto::ike1::IvChain(crypto::ike1::phase1_iv(prf, sa.g_xi, sa.g_xr, crypto::block_length(cipher)));
    return true;
}

IdPayload Engine::our_id(const Phase1Sa& sa) const {
    const ike::Identity& id = peers_[sa.peer].local_id;
    // The IKEv2 ID types we configure (IPv4 address, FQDN, RFC 822, DN, key ID) have
    // the same numbers in the IPsec DOI (RFC 2407 §4.6.2.1).
    return IdPayload{static_cast<IdType>(id.type), 0, 0, id.data};
}

crypto::SecretBytes Engine::auth_hash(const Phase1Sa& sa, bool of_initiator, std::span<const uint8_t> id_body) const {
    const auto skeyid = sa.keys.skeyid.span();
    return of_initiator
               ? crypto::ike1::hash_i(sa.prf(), skeyid, sa.g_xi, sa.g_xr, sa.cookie_i, sa.cookie_r, sa.sai_b, id_body)
               : crypto::ike1::hash_r(sa.prf(), skeyid, sa.g_xi, sa.g_xr, sa.cookie_i, sa.cookie_r, sa.sai_b, id_body);
}

// ---- messages 5 and 6

bool Engine::authenticate(Phase1Sa& sa, const std::vector<Payload>& payloads, const Chain& chain,
                          std::span<const uint8_t> plain) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    const bool psk = peer.auth == ike::AuthKind::Psk;
    const auto* id = find_payload<IdPayload>(payloads);
    const auto* hash = find_payload<HashPayload>(payloads);
    const auto* signature = find_payload<SignaturePayload>(payloads);
    if (id == nullptr || (psk ? hash == nullptr : signature == nullptr)) {
        drop(Drop::MissingPayload, sa.remote, psk ? "phase 1 authentication without ID or HASH"
                                                  : "phase 1 authentication without ID or SIG");
        return false;
    }
    size_t id_index = 0;
    while (!std::holds_alternative<IdPayload>(chain.payloads[id_index])) ++id_index;
    const auto id_body = body_of(plain, chain, id_index);
    const bool ok = psk ? authenticate(sa, *id, id_body, *hash) : authenticate_signature(sa, payloads, *id, id_body, *signature);
    if (!ok) return false;
    if (find_notification(payloads, notify::kInitialContact) != nullptr) initial_contact(sa);
    return true;
}

bool Engine::authenticate(Phase1Sa& sa, const IdPayload& id, std::span<const uint8_t> id_body,
                          const HashPayload& hash) {
    const auto expected = auth_hash(sa, !sa.initiator, id_body);
    if (!expected.equals(hash.data)) {
        ++counters_.drops[static_cast<size_t>(Drop::BadHash)];
        return refuse(sa, notify::kAuthenticationFailed, "authentication failure",
                      fmt::format("authentication failure: the peer's HASH_{} does not verify (pre-shared keys differ)",
                                  sa.initiator ? 'R' : 'I'));
    }
    return accept_identity(sa, id);
}

bool Engine::authenticate_signature(Phase1Sa& sa, const std::vector<Payload>& payloads, const IdPayload& id,
                                    std::span<const uint8_t> id_body, const SignaturePayload& signature) {
    // RFC 2409 §5.1: SIG_I / SIG_R sign HASH_I / HASH_R; the certificate must chain to a
    // configured CA and vouch for the identity (RFC 4945 §3.1).
    const ike::PeerConfig& peer = peers_[sa.peer];
    const auto* cert = find_payload<CertPayload>(payloads);
    if (cert == nullptr || cert->encoding != kCertEncodingX509Signature)
        return refuse(sa, notify::kAuthenticationFailed, "authentication failure",
                      "authentication failure: the peer sent no X.509 certificate");
    std::string why;
    const auto trusted =
        ike::trusted_certificate(peer, cert->data, ike::Identity{static_cast<ike::IdType>(id.type), id.data}, why);
    if (!trusted) return refuse(sa, notify::kAuthenticationFailed, "authentication failure", "authentication failure: " + why);
    const auto expected = auth_hash(sa, !sa.initiator, id_body);
    if (!crypto::verify_ikev1(*trusted, expected.span(), signature.data, why)) {
        ++counters_.drops[static_cast<size_t>(Drop::BadHash)];
        return refuse(sa, notify::kAuthenticationFailed, "authentication failure",
                      fmt::format("authentication failure: the peer's SIG_{} does not verify ({}, certificate {})",
                                  sa.initiator ? 'R' : 'I', why, trusted->subject_text()));
    }
    return accept_identity(sa, id);
}

bool Engine::accept_identity(Phase1Sa& sa, const IdPayload& id) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    const ike::Identity presented{static_cast<ike::IdType>(id.type), id.data};
    const ike::Identity wanted = peer.remote_id ? *peer.remote_id : ike::Identity::ipv4(sa.remote.address);
    if (!presented.matches(wanted))
        return refuse(sa, notify::kInvalidIdInformation, "invalid ID information",
                      fmt::format("invalid ID information: the peer is {}, we expect {}", presented.to_string(),
                                  wanted.to_string()));
    sa.remote_identity = presented;
    follow_peer(sa);
    return true;
}

bool Engine::refuse(Phase1Sa& sa, uint16_t notification, std::string_view reason, std::string log_line) {
    note(sa, std::move(log_line));
    // A main mode initiator has nobody to tell who is waiting; in aggressive mode the
    // responder cannot find out by itself.
    if (!sa.initiator || sa.aggressive) send_error(sa, notification);
    kill(sa, reason, sa.initiator);
    return false;
}

void Engine::on_main_5(Phase1Sa& sa, const Message& message) {
    crypto::SecretBytes plain;
    auto chain = open(message, sa, sa.iv, plain, sa.remote);
    if (!chain) {
        note(sa, peers_[sa.peer].auth == ike::AuthKind::Psk
                     ? "authentication failure: message 5 does not decrypt (pre-shared keys differ)"
                     : "authentication failure: message 5 does not decrypt");
        send_error(sa, notify::kAuthenticationFailed);
        return kill(sa, "authentication failure", false);
    }
    if (!authenticate(sa, chain->payloads, *chain, plain)) return;
    sa.iv.advance(message.encrypted);
    auto ours = our_authentication(sa);
    if (!ours) return;
    send_flight(sa, sa.flight, seal(sa, ExchangeType::IdentityProtection, 0, sa.iv, *ours), message_bytes_, false);
    establish(sa);
}

void Engine::on_main_6(Phase1Sa& sa, const Message& message) {
    crypto::SecretBytes plain;
    auto chain = open(message, sa, sa.iv, plain, sa.remote);
    if (!chain) return;  // counted; a forged message 6 must not end the exchange
    if (!authenticate(sa, chain->payloads, *chain, plain)) return;
    sa.iv.advance(message.encrypted);
    sa.flight = Flight{};
    establish(sa);
    start_quick_modes(sa);
}

void Engine::establish(Phase1Sa& sa) {
    sa.state = Phase1State::Established;
    sa.established = sa.last_heard = io_.now();
    ++counters_.phase1_established;
    note(sa, fmt::format("established as {}{} with {} ({}{})", sa.initiator ? "initiator" : "responder",
                         sa.aggressive ? " in aggressive mode" : "", sa.remote_identity.to_string(),
                         describe(sa.choice->answer), sa.natt ? ", NAT-T" : ""));
    const auto life = std::chrono::duration_cast<Clock::duration>(sa.choice->lifetime);
    sa.expire_at = sa.established + life;
    sa.rekey_at = sa.established + std::chrono::duration_cast<Clock::duration>(life * (1.0 - options_.timing.rekey_margin));
}

// ---- notifications

void Engine::on_notification(Phase1Sa* sa, const Message& message, const Endpoint& remote) {
    if (message.header.encrypted()) {
        // DELETE and DPD (protected by HASH) are the next slice's.
        return drop(Drop::UnexpectedMessage, remote, "encrypted informational exchange (not handled yet)");
    }
    const auto* n = find_payload<NotificationPayload>(message.chain.payloads);
    if (n == nullptr) return drop(Drop::MissingPayload, remote, "informational exchange without a notification");
    if (sa == nullptr || sa->state == Phase1State::Established)
        return drop(Drop::UnknownCookie, remote, fmt::format("unprotected notification {}", n->type));
    // Unprotected, so anyone could have sent it: it is logged and remembered for the
    // give-up line, but the exchange runs on until its retransmissions end.
    const std::string_view known = notify_name(n->type);
    sa->failure = fmt::format("the peer reported {}", known.empty() ? fmt::format("{}", n->type) : std::string(known));
    const char* meaning = n->type == notify::kAuthenticationFailed || n->type == notify::kInvalidHashInformation
                              ? ": authentication failure (pre-shared keys differ?)"
                          : n->type == notify::kNoProposalChosen ? ": no proposal chosen"
                                                                 : "";
    note(*sa, fmt::format("{} (unauthenticated notification){}", sa->failure, meaning));
}

}  // namespace mbox::ike1

// Aggressive mode with pre-shared keys (RFC 2409 §5.4), both roles:
//
//   Initiator                              Responder
//   1  HDR, SA, KE, Ni, IDii          -->
//                                     <--  2  HDR, SA, KE, Nr, IDir, HASH_R [, NAT-D, NAT-D]
//   3  HDR*, HASH_I [, NAT-D, NAT-D]  -->
//
// NAT traversal (RFC 3947 §3.2, §4): both announce it with the vendor ID in messages 1
// and 2, the responder sends NAT-D in message 2 (the cookies are known by then), and an
// initiator that sees a NAT sends message 3 from port 4500 to port 4500 with NAT-D of
// those ports.
//
// Three messages instead of six, with the identities in the clear: the responder finds
// the pre-shared key by the identity in message 1, which is what lets `ipsec peer any
// remote-id ID` answer a peer behind NAT whose address nobody knows beforehand. The
// price is that HASH_R in message 2 lets whoever sent message 1 test guesses of the key
// offline, so only the peers configured for it are answered: those with `mode
// aggressive`, and `any` peers (ike::PeerConfig::aggressive).
//
// Message 3: RFC 2409 draws it unencrypted, but RFC 2408 §5 has everything after the
// key exchange encrypted, and strongSwan (its AGGRESSIVE message rules) and libreswan
// (aggr_inR1_outI2) both send it encrypted; so do we, and we accept either. The phase 1
// IV (Appendix B) starts at hash(g^xi | g^xr) as in main mode and moves on to message
// 3's last ciphertext block when message 3 is encrypted; the quick mode and
// informational IVs are hashed from where it ends. Only one DH group can be offered,
// since the KE travels with the offer: the configured suite, as in main mode.
#include <fmt/format.h>

#include "control/ike1/engine.hpp"

namespace mbox::ike1 {

namespace {

Header aggressive_header(const Phase1Sa& sa) {
    Header h;
    h.cookie_i = sa.cookie_i;
    h.cookie_r = sa.cookie_r;
    h.exchange = ExchangeType::Aggressive;
    return h;
}

HashPayload hash_payload(const crypto::SecretBytes& hash) {
    return HashPayload{std::vector<uint8_t>(hash.data(), hash.data() + hash.size())};
}

// The body of the chain's first payload of type T as received (SAi_b, IDii_b).
template <typename T>
std::vector<uint8_t> received_body(std::span<const uint8_t> bytes, const Chain& chain) {
    for (size_t i = 0; i < chain.payloads.size(); ++i)
        if (std::holds_alternative<T>(chain.payloads[i])) {
            const auto body = body_of(bytes, chain, i);
            return {body.begin(), body.end()};
        }
    return {};
}

ike::Identity identity_of(const IdPayload& id) { return {static_cast<ike::IdType>(id.type), id.data}; }

}  // namespace

// ---- message 1

void Engine::initiate_aggressive(size_t peer_index) {
    const ike::PeerConfig& peer = peers_[peer_index];
    if (sas_.size() >= options_.max_sas) return note(peer_index, "not initiated: ISAKMP SA limit reached");
    Phase1Sa& sa = new_sa(true, peer_index, Endpoint{peer.local_address, ike::kIkePort},
                          Endpoint{*peer.address, ike::kIkePort});
    sa.aggressive = true;
    sa.state = Phase1State::AggrSent1;
    std::string error;
    sa.dh = dh_pool_.take(peer.ike.dh_group, error);
    if (!sa.dh) return kill(sa, fmt::format("no DH key pair: {}", error), true);
    const SaPayload offer = phase1_sa(peer.ike, peer.ike_lifetime, auth_method(peer));
    sa.sai_b = serialize_body(offer);
    sa.g_xi = sa.dh->public_value();
    sa.nonce_i = random_bytes(kNonceLength);
    note(sa, fmt::format("initiating aggressive mode to {} as {}: {}", sa.remote.to_string(),
                         peer.local_id.to_string(), describe(offer)));
    send_flight(sa, sa.flight,
                serialize_message(aggressive_header(sa),
                                  {offer, KePayload{sa.g_xi}, NoncePayload{sa.nonce_i}, our_id(sa),
                                   VendorIdPayload{dpd_vendor_id()}, VendorIdPayload{natt_vendor_id()}}),
                {}, true);
}

std::optional<size_t> Engine::aggressive_peer(const IdPayload& id, const Endpoint& remote) {
    const ike::Identity presented = identity_of(id);
    std::string expected;
    if (const auto by_address = peer_for_address(remote.address)) {
        const ike::PeerConfig& peer = peers_[*by_address];
        if (!peer.aggressive) {
            drop(Drop::UnknownPeer, remote,
                 fmt::format("aggressive mode from peer {}, which is configured for main mode", peer.name));
            return std::nullopt;
        }
        const ike::Identity wanted = peer.remote_id ? *peer.remote_id : ike::Identity::ipv4(remote.address);
        if (presented.matches(wanted)) return by_address;
        expected = fmt::format(" (peer {} is {})", peer.name, wanted.to_string());
    }
    // A peer behind NAT: its address is the NAT's, so only its identity tells.
    for (size_t i = 0; i < peers_.size(); ++i)
        if (!peers_[i].address && peers_[i].remote_id && presented.matches(*peers_[i].remote_id)) return i;
    drop(Drop::UnknownIdentity, remote,
         fmt::format("aggressive mode as {}, which no peer has{}", presented.to_string(), expected));
    return std::nullopt;
}

void Engine::respond_aggressive_1(const Message& message, const Endpoint& local, const Endpoint& remote) {
    const auto& payloads = message.chain.payloads;
    const auto* offer = find_payload<SaPayload>(payloads);
    const auto* ke = find_payload<KePayload>(payloads);
    const auto* nonce = find_payload<NoncePayload>(payloads);
    const auto* id = find_payload<IdPayload>(payloads);
    if (offer == nullptr || ke == nullptr || nonce == nullptr || id == nullptr)
        return drop(Drop::MissingPayload, remote, "aggressive mode message 1 without SA, KE, nonce or ID");
    // Nothing is answered, and no key material computed, for an identity we have no
    // key for.
    const auto peer_index = aggressive_peer(*id, remote);
    if (!peer_index) return;
    if (sas_.size() >= options_.max_sas) return drop(Drop::UnknownPeer, remote, "ISAKMP SA limit reached");
    Phase1Sa& sa = new_sa(false, *peer_index, local, remote);
    sa.aggressive = true;
    sa.state = Phase1State::AggrSent2;
    sa.cookie_i = message.header.cookie_i;
    sa.sai_b = received_body<SaPayload>(message_bytes_, message.chain);
    sa.peer_id = *id;
    sa.peer_id_b = received_body<IdPayload>(message_bytes_, message.chain);
    if (!choose_phase1(sa, *offer) || !exchange_keys(sa, *ke, *nonce)) return;
    sa.peer_dpd = offers_dpd(payloads);
    sa.peer_natt = offers_natt(payloads);
    note(sa, fmt::format("aggressive mode from {} as {}: chose {}; {}", remote.to_string(),
                         identity_of(*id).to_string(), describe(sa.choice->answer), sa.choice->lifetime_note));
    const IdPayload our = our_id(sa);
    std::vector<Payload> answer{sa.choice->answer, KePayload{sa.g_xr}, NoncePayload{sa.nonce_r}, our,
                                hash_payload(auth_hash(sa, false, serialize_body(our))),
                                VendorIdPayload{dpd_vendor_id()}};
    if (sa.peer_natt) answer.push_back(VendorIdPayload{natt_vendor_id()});
    add_nat_discovery(sa, answer);
    send_flight(sa, sa.flight, serialize_message(aggressive_header(sa), answer), message_bytes_, true);
}

void Engine::on_aggressive_mode(Phase1Sa& sa, const Message& message) {
    if (sa.state == Phase1State::AggrSent1) return on_aggressive_2(sa, message);
    if (sa.state == Phase1State::AggrSent2) return on_aggressive_3(sa, message);
    drop(Drop::UnexpectedMessage, sa.remote, fmt::format("aggressive mode message in state {}", to_string(sa.state)));
}

// ---- message 2 (initiator), answered with 3

void Engine::on_aggressive_2(Phase1Sa& sa, const Message& message) {
    if (message.header.encrypted() || message.header.cookie_r == 0)
        return drop(Drop::UnexpectedMessage, sa.remote, "aggressive mode message 2 encrypted or without CKY-R");
    const auto& payloads = message.chain.payloads;
    const auto* answer = find_payload<SaPayload>(payloads);
    const auto* ke = find_payload<KePayload>(payloads);
    const auto* nonce = find_payload<NoncePayload>(payloads);
    if (answer == nullptr || ke == nullptr || nonce == nullptr)
        return drop(Drop::MissingPayload, sa.remote, "aggressive mode message 2 without SA, KE or nonce");
    if (!check_phase1_answer(sa, *answer)) return;
    sa.cookie_r = message.header.cookie_r;
    sa.peer_dpd = offers_dpd(payloads);
    sa.peer_natt = offers_natt(payloads);
    if (!exchange_keys(sa, *ke, *nonce)) return;
    if (!authenticate(sa, payloads, message.chain, message_bytes_)) return;
    check_nat(sa, payloads);  // moves us to port 4500 if a NAT is in the way
    std::vector<Payload> third{hash_payload(auth_hash(sa, true, serialize_body(our_id(sa))))};
    add_nat_discovery(sa, third);
    auto bytes = seal(sa, ExchangeType::Aggressive, 0, sa.iv, third);
    send_flight(sa, sa.flight, std::move(bytes), message_bytes_, false);
    establish(sa);
    start_quick_modes(sa);
}

// ---- message 3 (responder)

void Engine::on_aggressive_3(Phase1Sa& sa, const Message& message) {
    crypto::SecretBytes plain;
    std::optional<Chain> chain;
    if (message.header.encrypted()) {
        chain = open(message, sa, sa.iv, plain, sa.remote);
        if (!chain) return;  // counted; a forged message 3 must not end the exchange
    } else {
        chain = message.chain;
    }
    const auto* hash = find_payload<HashPayload>(chain->payloads);
    if (hash == nullptr) return drop(Drop::MissingPayload, sa.remote, "aggressive mode message 3 without HASH");
    if (!authenticate(sa, sa.peer_id, sa.peer_id_b, *hash)) return;
    check_nat(sa, chain->payloads);
    if (message.header.encrypted()) sa.iv.advance(message.encrypted);
    sa.flight = Flight{};
    establish(sa);
}

}  // namespace mbox::ike1

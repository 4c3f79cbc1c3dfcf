// IKE_SA_INIT (RFC 7296 §1.2, §2.6, §2.23): proposals, KE and nonces, NAT detection,
// COOKIE under load, INVALID_KE_PAYLOAD, and the IKE SA's keys (§2.14).
//
//   Initiator                         Responder
//   HDR, SAi1, KEi, Ni, N(NAT_D)* -->
//                                 <-- HDR, SAr1, KEr, Nr, N(NAT_D)*
//   (or <-- N(COOKIE) / N(INVALID_KE_PAYLOAD) / N(NO_PROPOSAL_CHOSEN), and a retry)
#include <algorithm>

#include <fmt/format.h>

#include "control/ike/engine.hpp"
#include "control/ike/notify_text.hpp"
#include "control/ike/proposal.hpp"
#include "control/ike/wire.hpp"
#include "crypto/ike_hash.hpp"
#include "crypto/ike_identity.hpp"

namespace mbox::ike {

namespace {

constexpr unsigned kMaxCookieRounds = 3;

// SHA-1(SPIi | SPIr | IP | port), §2.23.
std::vector<uint8_t> nat_hash(uint64_t spi_i, uint64_t spi_r, const Endpoint& e) {
    const auto i = spi_bytes(spi_i), r = spi_bytes(spi_r);
    const uint8_t addr_port[6] = {static_cast<uint8_t>(e.address >> 24), static_cast<uint8_t>(e.address >> 16),
                                  static_cast<uint8_t>(e.address >> 8),  static_cast<uint8_t>(e.address),
                                  static_cast<uint8_t>(e.port >> 8),     static_cast<uint8_t>(e.port)};
    const std::span<const uint8_t> pieces[] = {i, r, addr_port};
    const auto digest = crypto::sha1(pieces);
    return {digest.begin(), digest.end()};
}

std::string notify_name(uint16_t type) {
    switch (type) {
    case notify::kNoProposalChosen: return "NO_PROPOSAL_CHOSEN";
    case notify::kInvalidKePayload: return "INVALID_KE_PAYLOAD";
    case notify::kAuthenticationFailed: return "AUTHENTICATION_FAILED";
    case notify::kInvalidSyntax: return "INVALID_SYNTAX";
    case notify::kTsUnacceptable: return "TS_UNACCEPTABLE";
    case notify::kSinglePairRequired: return "SINGLE_PAIR_REQUIRED";
    case notify::kNoAdditionalSas: return "NO_ADDITIONAL_SAS";
    case notify::kInternalAddressFailure: return "INTERNAL_ADDRESS_FAILURE";
    case notify::kFailedCpRequired: return "FAILED_CP_REQUIRED";
    case notify::kTemporaryFailure: return "TEMPORARY_FAILURE";
    case notify::kChildSaNotFound: return "CHILD_SA_NOT_FOUND";
    case notify::kUnsupportedCriticalPayload: return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case notify::kInvalidMajorVersion: return "INVALID_MAJOR_VERSION";
    }
    return fmt::format("notify {}", type);
}

const NotifyPayload* first_error(const std::vector<Payload>& payloads) {
    for (const auto& p : payloads)
        if (const auto* n = std::get_if<NotifyPayload>(&p); n != nullptr && n->is_error()) return n;
    return nullptr;
}

// RFC 7427 §4: the hashes we verify signatures with, announced in IKE_SA_INIT.
NotifyPayload signature_hashes() {
    static constexpr crypto::SignatureHash kHashes[] = {crypto::SignatureHash::Sha256, crypto::SignatureHash::Sha384,
                                                        crypto::SignatureHash::Sha512};
    return notify_of(notify::kSignatureHashAlgorithms, crypto::encode_signature_hash_algorithms(kHashes));
}

std::vector<uint16_t> peer_hashes(const std::vector<Payload>& payloads) {
    const auto* n = find_notify(payloads, notify::kSignatureHashAlgorithms);
    if (n == nullptr) return {};
    return crypto::parse_signature_hash_algorithms(n->data).value_or(std::vector<uint16_t>{});
}

}  // namespace

std::string describe_notify(uint16_t type) { return notify_name(type); }
const NotifyPayload* error_notify(const std::vector<Payload>& payloads) { return first_error(payloads); }

std::vector<Payload> IkeEngine::nat_detection(uint64_t spi_i, uint64_t spi_r, const Endpoint& source,
                                              const Endpoint& destination) {
    return {notify_of(notify::kNatDetectionSourceIp, nat_hash(spi_i, spi_r, source)),
            notify_of(notify::kNatDetectionDestinationIp, nat_hash(spi_i, spi_r, destination))};
}

void IkeEngine::check_nat(IkeSa& sa, const std::vector<Payload>& payloads, uint64_t spi_r, const Endpoint& local,
                          const Endpoint& remote) {
    bool any_source = false, source_ok = false, any_destination = false, destination_ok = false;
    const auto remote_hash = nat_hash(sa.spi_i, spi_r, remote), local_hash = nat_hash(sa.spi_i, spi_r, local);
    for (const auto& p : payloads) {
        const auto* n = std::get_if<NotifyPayload>(&p);
        if (n == nullptr) continue;
        if (n->type == notify::kNatDetectionSourceIp) {
            any_source = true;
            source_ok |= n->data == remote_hash;
        } else if (n->type == notify::kNatDetectionDestinationIp) {
            any_destination = true;
            destination_ok |= n->data == local_hash;
        }
    }
    // No NAT-D at all: the peer does not do NAT traversal; assume no NAT.
    sa.nat_remote = any_source && !source_ok;
    sa.nat_local = (any_destination && !destination_ok) || (sa.peer < peers_.size() && peers_[sa.peer].nated);
    if (sa.nat_local || sa.nat_remote)
        note(sa, fmt::format("NAT detected ({}{}{}): using UDP encapsulation on port {}",
                             sa.nat_local ? "in front of us" : "", sa.nat_local && sa.nat_remote ? ", " : "",
                             sa.nat_remote ? "in front of the peer" : "", kNattPort));
}

std::vector<uint8_t> IkeEngine::cookie_for(uint64_t spi_i, std::span<const uint8_t> nonce, const Endpoint& remote) {
    // §2.6: Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>); a keyed prf
    // plays the hash with the secret as its key.
    std::vector<uint8_t> data(nonce.begin(), nonce.end());
    const auto s = spi_bytes(spi_i);
    const uint8_t ip[4] = {static_cast<uint8_t>(remote.address >> 24), static_cast<uint8_t>(remote.address >> 16),
                           static_cast<uint8_t>(remote.address >> 8), static_cast<uint8_t>(remote.address)};
    data.insert(data.end(), ip, ip + 4);
    data.insert(data.end(), s.begin(), s.end());
    const auto mac = crypto::prf(crypto::IkePrf::HmacSha256, cookie_secret_, data);
    std::vector<uint8_t> cookie{1};  // secret version
    cookie.insert(cookie.end(), mac.data(), mac.data() + mac.size());
    return cookie;
}

bool IkeEngine::derive_ike_keys(IkeSa& sa, const crypto::SecretBytes& shared) {
    std::string error;
    const bool ok = set_ike_keys(sa, shared, nullptr, error);
    sa.dh.reset();
    if (!ok) {
        kill(sa, "cannot set up the IKE SA's keys: " + error, true);
        return false;
    }
    return true;
}

// ---- initiator

void IkeEngine::initiate(size_t peer) {
    const PeerConfig& p = peers_[peer];
    if (!p.address) return;
    IkeSa& sa = new_sa(Role::Initiator, peer, Endpoint{p.local_address, kIkePort}, Endpoint{*p.address, kIkePort});
    sa.suite = p.ike;
    sa.dh_group = p.ike.dh_group;
    note(sa, fmt::format("initiating to {} with ike-policy {} ({})", sa.remote.to_string(), p.ike_policy,
                         p.ike.to_string()));
    send_sa_init(sa);
}

void IkeEngine::send_sa_init(IkeSa& sa) {
    const PeerConfig& p = peers_[sa.peer];
    // A retry after COOKIE repeats the same KE and nonce (the cookie covers Ni, §2.6);
    // after INVALID_KE_PAYLOAD only the KE changes.
    std::string error;
    if (!sa.dh || sa.dh->group() != sa.dh_group) sa.dh = dh_pool_.take(sa.dh_group, error);
    if (!sa.dh) return kill(sa, "DH: " + error, true);
    if (sa.nonce_i.empty()) sa.nonce_i = crypto::SecretBytes(std::span<const uint8_t>(random_bytes(kNonceLength)));

    std::vector<Payload> payloads;
    if (!sa.cookie.empty()) payloads.push_back(notify_of(notify::kCookie, sa.cookie));
    IkeSuite offered = p.ike;
    offered.dh_group = sa.dh_group;
    payloads.push_back(SaPayload{{ike_proposal(offered, {})}});
    payloads.push_back(KePayload{sa.dh_group, sa.dh->public_value()});
    payloads.push_back(NoncePayload{{sa.nonce_i.data(), sa.nonce_i.data() + sa.nonce_i.size()}});
    for (auto& n : nat_detection(sa.spi_i, 0, sa.local, sa.remote)) payloads.push_back(std::move(n));
    payloads.push_back(signature_hashes());

    Header h;
    h.spi_i = sa.spi_i;
    h.exchange = ExchangeType::IkeSaInit;
    h.flags = header_flags::kInitiator;
    h.message_id = 0;
    sa.next_request_id = 0;
    sa.pending.reset();
    sa.init_request = serialize_message(h, payloads);
    PendingRequest request;
    request.kind = RequestKind::SaInit;
    request.message_id = 0;
    request.bytes = sa.init_request;
    send_request(sa, std::move(request));
    sa.state = IkeState::InitSent;
}

void IkeEngine::on_sa_init_response(IkeSa& sa, const Message& response, std::span<const uint8_t> datagram) {
    const PeerConfig& p = peers_[sa.peer];
    const auto& payloads = response.payloads;
    if (const auto* cookie = find_notify(payloads, notify::kCookie)) {
        if (cookie->data.empty() || cookie->data.size() > 64 || ++sa.cookie_rounds > kMaxCookieRounds)
            return kill(sa, "the responder keeps asking for a COOKIE", true);
        note(sa, "the responder asked for a COOKIE (it is under load): sending IKE_SA_INIT again with it");
        sa.cookie = cookie->data;
        return send_sa_init(sa);
    }
    if (const auto* invalid_ke = find_notify(payloads, notify::kInvalidKePayload)) {
        const uint16_t group = invalid_ke->data.size() == 2 ? static_cast<uint16_t>(invalid_ke->data[0] << 8 |
                                                                                    invalid_ke->data[1])
                                                            : 0;
        // §1.2: retry with the group asked for, if it is one we offered.
        if (group != 0 && group != sa.dh_group && group == p.ike.dh_group && ++sa.cookie_rounds <= kMaxCookieRounds) {
            note(sa, fmt::format("the responder wants DH group {}: sending IKE_SA_INIT again", group));
            sa.dh_group = group;
            return send_sa_init(sa);
        }
        return kill(sa,
                    fmt::format("the responder wants DH group {} ({}), but ike-policy {} offers only {}", group,
                                crypto::ike_dh_group_name(group), p.ike_policy,
                                crypto::ike_dh_group_name(p.ike.dh_group)),
                    true);
    }
    if (const auto* error = first_error(payloads))
        return kill(sa,
                    fmt::format("the responder refused IKE_SA_INIT with {}; we offered ike-policy {}: {}",
                                notify_name(error->type), p.ike_policy, p.ike.to_string()),
                    true);

    const auto* answer = find_payload<SaPayload>(payloads);
    const auto* ke = find_payload<KePayload>(payloads);
    const auto* nonce = find_payload<NoncePayload>(payloads);
    if (answer == nullptr || ke == nullptr || nonce == nullptr || response.header.spi_r == 0) {
        drop(IkeDrop::MissingPayload, sa.remote, "IKE_SA_INIT response without SA, KE or Nonce");
        return kill(sa, "malformed IKE_SA_INIT response", true);
    }
    IkeSuite offered = p.ike;
    offered.dh_group = sa.dh_group;
    std::string why;
    const auto chosen = accept_answer(*answer, ike_proposal(offered, {}), why);
    if (!chosen) return kill(sa, "the responder's IKE proposal is invalid: " + why, true);
    if (ke->group != sa.dh_group)
        return kill(sa, fmt::format("the responder's KE is for group {}, not {}", ke->group, sa.dh_group), true);
    std::string error;
    const auto shared = sa.dh->shared_secret(ke->data, error);
    if (!shared) return kill(sa, "the responder's KE: " + error, true);
    sa.spi_r = response.header.spi_r;
    sa.nonce_r = crypto::SecretBytes(std::span<const uint8_t>(nonce->data));
    sa.init_response.assign(datagram.begin(), datagram.end());
    sa.peer_signature_hashes = peer_hashes(payloads);
    sa.pending.reset();
    check_nat(sa, payloads, sa.spi_r, sa.local, sa.remote);
    if (!derive_ike_keys(sa, *shared)) return;
    if (sa.nat_local || sa.nat_remote) {
        // §2.23: float to port 4500 for everything after IKE_SA_INIT.
        sa.natt = true;
        sa.local.port = kNattPort;
        sa.remote.port = kNattPort;
    }
    send_auth(sa);
}

// ---- responder

void IkeEngine::respond_sa_init(const Message& request, std::span<const uint8_t> datagram, const Endpoint& local,
                                const Endpoint& remote) {
    const Header& h = request.header;
    // A retransmitted IKE_SA_INIT: the same answer again (§2.1), no new state.
    for (auto& [spi, sa] : sas_) {
        if (sa->is_initiator() || sa->spi_i != h.spi_i || !(sa->remote == remote) || sa->state == IkeState::Dead)
            continue;
        if (sa->state == IkeState::InitDone && std::equal(datagram.begin(), datagram.end(), sa->init_request.begin(),
                                                          sa->init_request.end())) {
            ++counters_.drops[static_cast<size_t>(IkeDrop::Retransmission)];
            transmit(local, remote, sa->last_response);
            return;
        }
        return drop(IkeDrop::UnexpectedExchange, remote, "a second IKE_SA_INIT for an IKE SA in progress");
    }

    // Who may this be? A peer by address, else the `any` peers (told apart in IKE_AUTH).
    std::vector<size_t> candidates;
    if (const auto peer = peer_for_address(remote.address)) {
        candidates.push_back(*peer);
    } else {
        for (size_t i = 0; i < peers_.size(); ++i)
            if (!peers_[i].address) candidates.push_back(i);
    }
    if (candidates.empty())
        return drop(IkeDrop::UnknownPeer, remote, "IKE_SA_INIT from an address no `ipsec peer` names");

    const size_t half_open = half_open_count();
    if (half_open >= options_.max_half_open || sas_.size() >= options_.max_ike_sas)
        return drop(IkeDrop::HalfOpenLimit, remote, fmt::format("{} half-open IKE SAs", half_open));

    const auto* offer = find_payload<SaPayload>(request.payloads);
    const auto* ke = find_payload<KePayload>(request.payloads);
    const auto* nonce = find_payload<NoncePayload>(request.payloads);
    if (offer == nullptr || ke == nullptr || nonce == nullptr)
        return drop(IkeDrop::MissingPayload, remote, "IKE_SA_INIT without SA, KE or Nonce");

    Header answer_header;
    answer_header.spi_i = h.spi_i;
    answer_header.exchange = ExchangeType::IkeSaInit;
    answer_header.flags = header_flags::kResponse;
    const auto refuse = [&](NotifyPayload n) {
        transmit(local, remote, serialize_message(answer_header, {Payload{std::move(n)}}));
    };

    if (half_open >= options_.cookie_threshold) {
        // §2.6: under load, state is kept only for initiators that can show they receive
        // at their address: the first payload must be our COOKIE.
        const auto expected = cookie_for(h.spi_i, nonce->data, remote);
        const auto* first = std::get_if<NotifyPayload>(&request.payloads.front());
        if (first == nullptr || first->type != notify::kCookie || first->data != expected) {
            if (first != nullptr && first->type == notify::kCookie)
                ++counters_.drops[static_cast<size_t>(IkeDrop::CookieMismatch)];
            ++counters_.cookies_sent;
            return refuse(notify_of(notify::kCookie, expected));
        }
    }

    std::optional<Proposal> chosen;
    size_t peer = candidates.front();
    for (size_t candidate : candidates) {
        if ((chosen = select_ike(*offer, peers_[candidate].ike))) {
            peer = candidate;
            break;
        }
    }
    if (!chosen) {
        std::string configured;
        for (size_t c : candidates)
            configured += fmt::format("{}ike-policy {}: {}", configured.empty() ? "" : "; ", peers_[c].ike_policy,
                                      peers_[c].ike.to_string());
        note(candidates.front(), fmt::format("IKE_SA_INIT from {}: no proposal chosen: the peer offered {}; configured {}",
                                             remote.to_string(), describe(*offer), configured));
        return refuse(notify_of(notify::kNoProposalChosen));
    }
    const uint16_t group = dh_group_of(*chosen);
    if (ke->group != group) {
        note(peer, fmt::format("IKE_SA_INIT from {}: KE for DH group {} but the chosen proposal has {}: asking "
                               "for {} (INVALID_KE_PAYLOAD)",
                               remote.to_string(), ke->group, group, group));
        return refuse(notify_of(notify::kInvalidKePayload,
                                {static_cast<uint8_t>(group >> 8), static_cast<uint8_t>(group)}));
    }
    std::string error;
    auto dh = dh_pool_.take(group, error);
    const auto shared = dh ? dh->shared_secret(ke->data, error) : std::nullopt;
    if (!shared) {
        note(peer, fmt::format("IKE_SA_INIT from {}: {}", remote.to_string(), error));
        return refuse(notify_of(notify::kInvalidSyntax));
    }

    IkeSa& sa = new_sa(Role::Responder, peer, local, remote);
    sa.spi_i = h.spi_i;
    sa.suite = *ike_suite_of(*chosen);
    sa.dh_group = group;
    sa.nonce_i = crypto::SecretBytes(std::span<const uint8_t>(nonce->data));
    sa.nonce_r = crypto::SecretBytes(std::span<const uint8_t>(random_bytes(kNonceLength)));
    sa.init_request.assign(datagram.begin(), datagram.end());
    answer_header.spi_r = sa.spi_r;
    check_nat(sa, request.payloads, 0, local, remote);

    std::vector<Payload> payloads{SaPayload{{*chosen}}, KePayload{group, dh->public_value()},
                                  NoncePayload{{sa.nonce_r.data(), sa.nonce_r.data() + sa.nonce_r.size()}}};
    for (auto& n : nat_detection(sa.spi_i, sa.spi_r, local, remote)) payloads.push_back(std::move(n));
    payloads.push_back(signature_hashes());
    sa.peer_signature_hashes = peer_hashes(request.payloads);
    // §3.7: the responder asks for the initiator's certificate here (an `any` peer is
    // not known yet: the first candidate's CAs stand for all).
    if (peers_[peer].auth == AuthKind::Rsa && !peers_[peer].cas.empty()) {
        CertReqPayload req;
        for (const auto& ca : peers_[peer].cas) {
            const auto id = crypto::key_id(ca->public_key_der());
            req.data.insert(req.data.end(), id.begin(), id.end());
        }
        payloads.push_back(std::move(req));
    }
    sa.init_response = serialize_message(answer_header, payloads);
    if (!derive_ike_keys(sa, *shared)) return;
    sa.state = IkeState::InitDone;
    send_response(sa, sa.init_response, 0);
    note(sa, fmt::format("IKE_SA_INIT from {} answered with {}", remote.to_string(), sa.suite.to_string()));
}

}  // namespace mbox::ike

// CREATE_CHILD_SA (RFC 7296 §1.3): rekeying a CHILD SA (with PFS when the esp-policy
// names a group) and rekeying the IKE SA (§2.18), make-before-break, with the
// simultaneous-rekey rule of §2.8.1.
//
//   Initiator                                             Responder
//   HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}    -->
//                                                     <-- HDR, SK {SA, Nr, [KEr], TSi, TSr}
//   HDR, SK {SA, Ni, KEi}  (IKE SA rekey)             -->
//                                                     <-- HDR, SK {SA, Nr, KEr}
//
// After a CHILD SA rekey the new inbound SA is installed first, then the new outbound
// one replaces the old outbound in one step (no packet finds no policy), and the old
// inbound SA is kept until its traffic stops. The rekey's initiator deletes the old SA.
#include <algorithm>

#include <fmt/format.h>

#include "control/ike/engine.hpp"
#include "control/ike/notify_text.hpp"
#include "control/ike/proposal.hpp"
#include "control/ike/traffic_selectors.hpp"
#include "control/ike/wire.hpp"

namespace mbox::ike {

namespace {

constexpr auto kRekeyRetry = std::chrono::seconds(10);

std::vector<uint8_t> lowest(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    const bool a_lower = std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
    const auto& low = a_lower ? a : b;
    return {low.begin(), low.end()};
}


}  // namespace

ChildSa* IkeEngine::child_by_inbound(IkeSa& sa, uint32_t spi) {
    for (auto& c : sa.children)
        if (c.inbound_spi == spi) return &c;
    return nullptr;
}

ChildSa* IkeEngine::child_by_outbound(IkeSa& sa, uint32_t spi) {
    for (auto& c : sa.children)
        if (c.outbound_spi == spi) return &c;
    return nullptr;
}

void IkeEngine::start_drain(ChildSa& child) {
    const auto now = io_.now();
    child.state = ChildState::Replaced;
    child.replaced_at = now;
    child.drain_until = now + options_.timing.drain;
    child.drain_packets = installer_.inbound_usage(child.inbound_spi).packets;
}

void IkeEngine::replace_child(IkeSa&, ChildSa& old, uint32_t successor_inbound) {
    // The successor's outbound SA took over old's policies (installed with `replaces`).
    old.outbound_active = false;
    if (old.successor_inbound == 0) old.successor_inbound = successor_inbound;
    start_drain(old);
}

void IkeEngine::install_rekeyed_child(IkeSa& sa, uint32_t old_inbound, ChildSa child, bool we_initiated,
                                      std::span<const uint8_t> nonce_i, std::span<const uint8_t> nonce_r,
                                      const crypto::SecretBytes* shared) {
    child.lowest_nonce = lowest(nonce_i, nonce_r);
    const uint32_t new_inbound = child.inbound_spi;
    ChildSa* old = child_by_inbound(sa, old_inbound);
    ChildSa* rival = old != nullptr && old->successor_inbound != 0 ? child_by_inbound(sa, old->successor_inbound)
                                                                    : nullptr;
    if (old == nullptr) {
        // The old SA went away meanwhile (deleted by the peer): a plain new one.
        install_child(sa, std::move(child), we_initiated, nonce_i, nonce_r, shared, std::nullopt);
        return;
    }
    if (rival == nullptr) {
        // The ordinary case: this SA replaces the old one.
        const uint32_t old_outbound = old->outbound_spi;
        const bool had_outbound = old->outbound_active;
        if (!install_child(sa, std::move(child), we_initiated, nonce_i, nonce_r, shared,
                           had_outbound ? std::optional<uint32_t>(old_outbound) : std::nullopt, had_outbound))
            return;
        old = child_by_inbound(sa, old_inbound);  // install_child may have grown the vector
        replace_child(sa, *old, new_inbound);
        ++counters_.child_rekeys;
        return;
    }
    // §2.8.1: both sides rekeyed the same SA. Of the two new SAs, the one whose exchange
    // used the lowest of the four nonces is redundant, and the side that created it
    // (the initiator of that exchange) deletes it.
    const bool this_loses = std::lexicographical_compare(child.lowest_nonce.begin(), child.lowest_nonce.end(),
                                                         rival->lowest_nonce.begin(), rival->lowest_nonce.end());
    note(sa, fmt::format("simultaneous rekey of CHILD SA {:08x}: keeping {:08x}, the other is redundant", old_inbound,
                         this_loses ? rival->inbound_spi : new_inbound));
    if (this_loses) {
        // Keep it inbound only, for what the peer may already have sent; the rival carries the traffic.
        if (!install_child(sa, std::move(child), we_initiated, nonce_i, nonce_r, shared, std::nullopt, false)) return;
        ChildSa* made = child_by_inbound(sa, new_inbound);
        start_drain(*made);
        if (we_initiated) sa.queued.push_back({RequestKind::DeleteChild, {new_inbound}});
        return;
    }
    const uint32_t rival_inbound = rival->inbound_spi, rival_outbound = rival->outbound_spi;
    const bool rival_active = rival->outbound_active;
    if (!install_child(sa, std::move(child), we_initiated, nonce_i, nonce_r, shared,
                       rival_active ? std::optional<uint32_t>(rival_outbound) : std::nullopt, rival_active))
        return;
    rival = child_by_inbound(sa, rival_inbound);
    rival->outbound_active = false;
    start_drain(*rival);
    // The rival's creator deletes it; when that is us, say so now.
    if (!we_initiated) sa.queued.push_back({RequestKind::DeleteChild, {rival_inbound}});
    ++counters_.child_rekeys;
}

// ---- CHILD SA rekey, initiator

void IkeEngine::start_child_rekey(IkeSa& sa, uint32_t inbound_spi) {
    if (sa.pending) {
        sa.queued.push_back({RequestKind::RekeyChild, {inbound_spi}});
        return;
    }
    ChildSa* old = child_by_inbound(sa, inbound_spi);
    if (old == nullptr || old->state == ChildState::Replaced || old->state == ChildState::Deleting ||
        old->successor_inbound != 0)
        return;
    const PeerConfig& p = peers_[sa.peer];
    const auto spi = installer_.allocate_spi();
    if (!spi) {
        old->state = ChildState::Installed;
        old->rekey_at = io_.now() + kRekeyRetry;
        return;
    }
    old->state = ChildState::Rekeying;
    ChildProposalState state;
    state.inbound_spi = *spi;
    state.rekeyed_inbound_spi = inbound_spi;
    state.nonce = crypto::SecretBytes(std::span<const uint8_t>(random_bytes(kNonceLength)));
    std::string error;
    if (p.esp.pfs_group && !(state.dh = dh_pool_.take(*p.esp.pfs_group, error))) {
        installer_.release_spi(*spi);
        return kill(sa, "PFS: " + error, true);
    }
    NotifyPayload rekey = notify_of(notify::kRekeySa);
    rekey.protocol = static_cast<uint8_t>(ProtocolId::Esp);
    rekey.spi = spi_bytes(inbound_spi);  // §1.3.3: the SPI we expect in inbound packets
    std::vector<Payload> payloads{rekey, SaPayload{{esp_proposal(p.esp, true, *spi)}}, NoncePayload{bytes_of(state.nonce)}};
    if (state.dh) payloads.push_back(KePayload{*p.esp.pfs_group, state.dh->public_value()});
    payloads.push_back(TsInitiator{{selectors_for(old->local_ts)}});
    payloads.push_back(TsResponder{{selectors_for(old->remote_ts)}});

    PendingRequest request;
    request.kind = RequestKind::RekeyChild;
    request.message_id = sa.next_request_id;
    request.bytes = seal(sa, ExchangeType::CreateChildSa, false, request.message_id, payloads);
    request.child = std::move(state);
    note(sa, fmt::format("rekeying CHILD SA {:08x}", inbound_spi));
    send_request(sa, std::move(request));
}

// ---- IKE SA rekey, initiator

void IkeEngine::start_ike_rekey(IkeSa& sa) {
    if (sa.pending) {
        sa.queued.push_back({RequestKind::RekeyIke, {}});
        return;
    }
    const PeerConfig& p = peers_[sa.peer];
    IkeRekeyState state;
    state.new_spi = new_spi();
    state.nonce = crypto::SecretBytes(std::span<const uint8_t>(random_bytes(kNonceLength)));
    std::string error;
    if (!(state.dh = dh_pool_.take(p.ike.dh_group, error))) return kill(sa, "DH: " + error, true);
    std::vector<Payload> payloads{SaPayload{{ike_proposal(p.ike, spi_bytes(state.new_spi))}},
                                  NoncePayload{bytes_of(state.nonce)},
                                  KePayload{p.ike.dh_group, state.dh->public_value()}};
    PendingRequest request;
    request.kind = RequestKind::RekeyIke;
    request.message_id = sa.next_request_id;
    request.bytes = seal(sa, ExchangeType::CreateChildSa, false, request.message_id, payloads);
    request.ike_rekey = std::move(state);
    note(sa, "rekeying the IKE SA");
    send_request(sa, std::move(request));
}

IkeSa& IkeEngine::adopt_rekeyed(IkeSa& old_sa, std::unique_ptr<IkeSa> next) {
    const auto now = io_.now();
    const PeerConfig& p = peers_[old_sa.peer];
    next->serial = next_serial_++;
    next->peer = old_sa.peer;
    next->local = old_sa.local;
    next->remote = old_sa.remote;
    next->natt = old_sa.natt;
    next->nat_local = old_sa.nat_local;
    next->nat_remote = old_sa.nat_remote;
    next->remote_identity = old_sa.remote_identity;
    next->initial_contact_sent = true;
    next->children = std::move(old_sa.children);
    old_sa.children.clear();
    next->state = IkeState::Established;
    next->created = next->established = next->last_heard = now;
    next->next_keepalive = now + options_.timing.nat_keepalive;
    uint8_t r = 0;
    io_.random(std::span<uint8_t>(&r, 1));
    const auto life = std::chrono::duration_cast<Clock::duration>(p.ike_lifetime);
    next->rekey_at = now + std::chrono::duration_cast<Clock::duration>(
                               life * (1.0 - options_.timing.rekey_margin - options_.timing.rekey_jitter * r / 255.0));
    next->expire_at = now + life;
    // The old IKE SA lives on only to carry the DELETE (§2.18): no rekey, no DPD.
    old_sa.rekeyed = true;
    old_sa.rekey_at = Clock::time_point{};
    old_sa.expire_at = now + options_.timing.half_open_timeout;
    ++counters_.ike_rekeys;
    IkeSa& ref = *next;
    sas_.emplace(next->our_spi(), std::move(next));
    note(ref, fmt::format("rekeyed IKE SA #{}: {}", old_sa.serial, ref.suite.to_string()));
    return ref;
}

// ---- responder

void IkeEngine::respond_ike_rekey(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner,
                                  const SaPayload& offer) {
    const PeerConfig& p = peers_[sa.peer];
    const auto refuse = [&](uint16_t type, std::vector<uint8_t> data = {}) {
        send_response(sa, seal(sa, ExchangeType::CreateChildSa, true, message_id, {notify_of(type, std::move(data))}),
                      message_id);
    };
    if (sa.pending && sa.pending->kind == RequestKind::RekeyIke) {
        // Both sides rekey the IKE SA at once: refuse, and both retry later (with jitter).
        note(sa, "the peer rekeys the IKE SA while we do: TEMPORARY_FAILURE");
        return refuse(notify::kTemporaryFailure);
    }
    const auto chosen = select_ike(offer, p.ike);
    const auto* ke = find_payload<KePayload>(inner);
    const auto* nonce = find_payload<NoncePayload>(inner);
    if (!chosen || ike_spi(chosen->spi) == 0) {
        note(sa, fmt::format("IKE SA rekey: no proposal chosen: the peer offered {}; ike-policy {} is {}",
                             describe(offer), p.ike_policy, p.ike.to_string()));
        return refuse(notify::kNoProposalChosen);
    }
    if (ke == nullptr || nonce == nullptr) return refuse(notify::kInvalidSyntax);
    if (ke->group != p.ike.dh_group)
        return refuse(notify::kInvalidKePayload,
                      {static_cast<uint8_t>(p.ike.dh_group >> 8), static_cast<uint8_t>(p.ike.dh_group)});
    std::string error;
    auto dh = dh_pool_.take(p.ike.dh_group, error);
    const auto shared = dh ? dh->shared_secret(ke->data, error) : std::nullopt;
    if (!shared) {
        note(sa, "IKE SA rekey: " + error);
        return refuse(notify::kInvalidSyntax);
    }
    auto next = std::make_unique<IkeSa>();
    next->role = Role::Responder;  // §2.18: the rekey's initiator is the new SA's initiator
    next->spi_i = ike_spi(chosen->spi);
    next->spi_r = new_spi();
    next->suite = *ike_suite_of(*chosen);
    next->nonce_i = crypto::SecretBytes(std::span<const uint8_t>(nonce->data));
    next->nonce_r = crypto::SecretBytes(std::span<const uint8_t>(random_bytes(kNonceLength)));
    if (!set_ike_keys(*next, *shared, &sa, error)) return refuse(notify::kNoProposalChosen);
    Proposal answer = *chosen;
    answer.spi = spi_bytes(next->spi_r);
    const std::vector<Payload> payloads{SaPayload{{answer}}, NoncePayload{bytes_of(next->nonce_r)},
                                        KePayload{p.ike.dh_group, dh->public_value()}};
    send_response(sa, seal(sa, ExchangeType::CreateChildSa, true, message_id, payloads), message_id);
    adopt_rekeyed(sa, std::move(next));
}

void IkeEngine::respond_create_child(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner) {
    const auto refuse = [&](uint16_t type, std::vector<uint8_t> data = {}) {
        send_response(sa, seal(sa, ExchangeType::CreateChildSa, true, message_id, {notify_of(type, std::move(data))}),
                      message_id);
    };
    const auto* offer = find_payload<SaPayload>(inner);
    if (offer == nullptr || offer->proposals.empty()) return refuse(notify::kInvalidSyntax);
    if (offer->proposals.front().protocol == ProtocolId::Ike) return respond_ike_rekey(sa, message_id, inner, *offer);
    if (sa.state != IkeState::Established) return refuse(notify::kTemporaryFailure);

    const PeerConfig& p = peers_[sa.peer];
    const auto* rekey = find_notify(inner, notify::kRekeySa);
    if (rekey == nullptr) {
        // One CHILD SA per peer, covering all its networks (the appliance's model).
        note(sa, "the peer asked for an additional CHILD SA: NO_ADDITIONAL_SAS");
        return refuse(notify::kNoAdditionalSas);
    }
    ChildSa* old = child_by_outbound(sa, esp_spi(rekey->spi));
    if (old == nullptr) return refuse(notify::kChildSaNotFound);
    if (old->state == ChildState::Deleting) return refuse(notify::kTemporaryFailure);
    const uint32_t old_inbound = old->inbound_spi;
    const auto* nonce = find_payload<NoncePayload>(inner);
    const auto* tsi = find_payload<TsInitiator>(inner);
    const auto* tsr = find_payload<TsResponder>(inner);
    if (nonce == nullptr || tsi == nullptr || tsr == nullptr) return refuse(notify::kInvalidSyntax);
    const auto chosen = select_esp(*offer, p.esp, false);
    if (!chosen) {
        note(sa, fmt::format("CHILD SA rekey: no proposal chosen: the peer offered {}; esp-policy {} is {}",
                             describe(*offer), p.esp_policy, p.esp.to_string()));
        return refuse(notify::kNoProposalChosen);
    }
    std::optional<crypto::SecretBytes> shared;
    std::unique_ptr<crypto::DhKeyPair> dh;
    if (p.esp.pfs_group) {
        const auto* ke = find_payload<KePayload>(inner);
        const uint16_t group = *p.esp.pfs_group;
        if (ke == nullptr || ke->group != group)
            return refuse(notify::kInvalidKePayload, {static_cast<uint8_t>(group >> 8), static_cast<uint8_t>(group)});
        std::string error;
        dh = dh_pool_.take(group, error);
        if (dh) shared = dh->shared_secret(ke->data, error);
        if (!shared) {
            note(sa, "CHILD SA rekey: " + error);
            return refuse(notify::kInvalidSyntax);
        }
    }
    const auto remote = narrow(tsi->selectors, p.remote_nets);
    const auto local = narrow(tsr->selectors, p.local_nets);
    if (remote.empty() || local.empty()) return refuse(notify::kTsUnacceptable);
    const auto spi = installer_.allocate_spi();
    if (!spi) return refuse(notify::kTemporaryFailure);

    const crypto::SecretBytes our_nonce(std::span<const uint8_t>(random_bytes(kNonceLength)));
    Proposal answer = *chosen;
    answer.spi = spi_bytes(*spi);
    std::vector<Payload> payloads{SaPayload{{answer}}, NoncePayload{bytes_of(our_nonce)}};
    if (dh) payloads.push_back(KePayload{*p.esp.pfs_group, dh->public_value()});
    payloads.push_back(TsInitiator{{selectors_for(remote)}});
    payloads.push_back(TsResponder{{selectors_for(local)}});

    ChildSa child;
    child.inbound_spi = *spi;
    child.outbound_spi = esp_spi(chosen->spi);
    child.algorithms = p.esp.algorithms;
    child.pfs_group = p.esp.pfs_group;
    child.local_ts = to_prefixes(local);
    child.remote_ts = to_prefixes(remote);
    // Inbound (and outbound) installed before the answer leaves: make-before-break.
    install_rekeyed_child(sa, old_inbound, std::move(child), false, nonce->data, our_nonce,
                          shared ? &*shared : nullptr);
    send_response(sa, seal(sa, ExchangeType::CreateChildSa, true, message_id, payloads), message_id);
}

// ---- responses to our CREATE_CHILD_SA

void IkeEngine::on_create_child_response(IkeSa& sa, PendingRequest& request, const std::vector<Payload>& inner) {
    const PeerConfig& p = peers_[sa.peer];
    const auto now = io_.now();
    if (request.kind == RequestKind::RekeyIke) {
        IkeRekeyState& state = *request.ike_rekey;
        const auto* answer = find_payload<SaPayload>(inner);
        const auto* nonce = find_payload<NoncePayload>(inner);
        const auto* ke = find_payload<KePayload>(inner);
        if (const auto* error = error_notify(inner); error != nullptr || !answer || !nonce || !ke) {
            note(sa, fmt::format("IKE SA rekey refused ({}): trying again later",
                                 error ? describe_notify(error->type) : "incomplete answer"));
            sa.rekey_at = now + kRekeyRetry;
            return;
        }
        std::string why;
        const auto chosen = accept_answer(*answer, ike_proposal(p.ike, spi_bytes(state.new_spi)), why);
        const auto suite = chosen ? ike_suite_of(*chosen) : std::nullopt;
        std::string error;
        const auto shared = ke->group == p.ike.dh_group ? state.dh->shared_secret(ke->data, error) : std::nullopt;
        if (!suite || ike_spi(chosen->spi) == 0 || !shared)
            return kill(sa, "invalid IKE SA rekey answer: " + (why.empty() ? error : why), true);
        auto next = std::make_unique<IkeSa>();
        next->role = Role::Initiator;
        next->spi_i = state.new_spi;
        next->spi_r = ike_spi(chosen->spi);
        next->suite = *suite;
        next->nonce_i = std::move(state.nonce);
        next->nonce_r = crypto::SecretBytes(std::span<const uint8_t>(nonce->data));
        if (!set_ike_keys(*next, *shared, &sa, error)) return kill(sa, "IKE SA rekey keys: " + error, true);
        adopt_rekeyed(sa, std::move(next));
        // §2.18: the initiator of the rekey deletes the old IKE SA.
        sa.queued.push_front({RequestKind::DeleteIke, {}});
        return;
    }

    ChildProposalState& state = *request.child;
    ChildSa* old = child_by_inbound(sa, state.rekeyed_inbound_spi);
    const auto retry_later = [&](const std::string& why) {
        installer_.release_spi(state.inbound_spi);
        note(sa, fmt::format("CHILD SA rekey of {:08x} failed ({}): trying again later", state.rekeyed_inbound_spi, why));
        if (old != nullptr && old->state == ChildState::Rekeying) {
            old->state = ChildState::Installed;
            old->rekey_at = now + kRekeyRetry;
        }
    };
    if (const auto* error = error_notify(inner)) {
        if (error->type == notify::kChildSaNotFound) {
            installer_.release_spi(state.inbound_spi);
            return kill(sa, "the peer no longer knows our CHILD SA", true);
        }
        return retry_later(describe_notify(error->type));
    }
    const auto* answer = find_payload<SaPayload>(inner);
    const auto* nonce = find_payload<NoncePayload>(inner);
    const auto* tsi = find_payload<TsInitiator>(inner);
    const auto* tsr = find_payload<TsResponder>(inner);
    if (!answer || !nonce || !tsi || !tsr) return retry_later("incomplete answer");
    std::string why;
    const auto chosen = accept_answer(*answer, esp_proposal(p.esp, true, state.inbound_spi), why);
    if (!chosen || esp_spi(chosen->spi) == 0) return retry_later("invalid proposal: " + why);
    std::optional<crypto::SecretBytes> shared;
    if (state.dh) {
        const auto* ke = find_payload<KePayload>(inner);
        std::string error;
        if (ke == nullptr || ke->group != state.dh->group() ||
            !(shared = state.dh->shared_secret(ke->data, error)))
            return retry_later("bad KE " + error);
    }
    const auto local = old ? inside(tsi->selectors, old->local_ts) : std::nullopt;
    const auto remote = old ? inside(tsr->selectors, old->remote_ts) : std::nullopt;
    if (!local || !remote) return retry_later("traffic selectors outside the old SA's");
    ChildSa child;
    child.inbound_spi = state.inbound_spi;
    child.outbound_spi = esp_spi(chosen->spi);
    child.algorithms = p.esp.algorithms;
    child.pfs_group = p.esp.pfs_group;
    child.local_ts = to_prefixes(*local);
    child.remote_ts = to_prefixes(*remote);
    const uint32_t old_inbound = state.rekeyed_inbound_spi;
    install_rekeyed_child(sa, old_inbound, std::move(child), true, state.nonce, nonce->data,
                          shared ? &*shared : nullptr);
    // The rekey's initiator deletes the old SA (§1.3.3), unless the peer already did.
    if (child_by_inbound(sa, old_inbound) != nullptr) sa.queued.push_front({RequestKind::DeleteChild, {old_inbound}});
}

}  // namespace mbox::ike

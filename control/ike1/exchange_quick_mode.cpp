// Quick mode (RFC 2409 §5.5), both roles, one exchange per local-net x remote-net
// pair as strongSwan makes them for IKEv1:
//
//   Initiator                                   Responder
//   1  HDR*, HASH(1), SA, Ni [, KE], IDci, IDcr -->
//                                          <--  2  HDR*, HASH(2), SA, Nr [, KE], IDci, IDcr
//   3  HDR*, HASH(3)                        -->
//
// Each exchange has its own IV chain from the last phase 1 block and its message ID
// (Appendix B). The initiator installs after message 2, the responder after message 3
// (HASH(3) proves the initiator is live and has the keys); both install the inbound
// SA before the outbound one, through the same ChildSaInstaller as IKEv2.
#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "control/ike/traffic_selectors.hpp"
#include "control/codec/byte_io.hpp"
#include "control/ike1/engine.hpp"

namespace mbox::ike1 {

namespace {

using codec::be32;
using codec::read_be32;

// ID_IPV4_ADDR_SUBNET, all protocols and ports (RFC 2407 §4.6.2.1).
IdPayload id_of(const Ipv4Prefix& net) {
    IdPayload id{IdType::Ipv4Subnet, 0, 0, be32(net.network().address.value)};
    const auto mask = be32(net.mask());
    id.data.insert(id.data.end(), mask.begin(), mask.end());
    return id;
}

// The network an IDci/IDcr names: a subnet with a contiguous mask or one address, for
// all protocols and ports (mbox's policies have no ports).
std::optional<Ipv4Prefix> net_of(const IdPayload& id) {
    if (id.protocol != 0 || id.port != 0) return std::nullopt;
    if (id.type == IdType::Ipv4Address && id.data.size() == 4) return Ipv4Prefix{Ipv4Address{read_be32(id.data)}, 32};
    if (id.type != IdType::Ipv4Subnet || id.data.size() != 8) return std::nullopt;
    const uint32_t mask = read_be32(std::span(id.data).subspan(4));
    const auto length = static_cast<uint8_t>(std::popcount(mask));
    const Ipv4Prefix net{Ipv4Address{read_be32(id.data)}, length};
    if (net.mask() != mask || net.network() != net) return std::nullopt;
    return net;
}

bool covered(const Ipv4Prefix& net, const std::vector<Ipv4Prefix>& allowed) {
    return std::any_of(allowed.begin(), allowed.end(), [&](const Ipv4Prefix& a) {
        return net.length >= a.length && (net.address.value & a.mask()) == a.network().address.value;
    });
}

std::vector<uint8_t> bytes_of(const crypto::SecretBytes& s) { return {s.data(), s.data() + s.size()}; }

// The IDci and IDcr of a quick mode message (the first two ID payloads, §5.5).
std::vector<const IdPayload*> ids_of(const std::vector<Payload>& payloads) {
    std::vector<const IdPayload*> ids;
    for (const auto& p : payloads)
        if (const auto* id = std::get_if<IdPayload>(&p)) ids.push_back(id);
    return ids;
}

// Tells the peer why its quick mode went unanswered (RFC 2408 §3.14.1), protected
// by the ISAKMP SA, so that its log can say so too.
NotificationPayload error_notification(uint16_t type) {
    NotificationPayload n;
    n.protocol = static_cast<uint8_t>(ProtocolId::Esp);
    n.type = type;
    return n;
}

}  // namespace

void Engine::start_quick_modes(Phase1Sa& sa) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    for (const auto& local : peer.local_nets)
        for (const auto& remote : peer.remote_nets) start_quick(sa, local, remote);
}

void Engine::start_quick(Phase1Sa& sa, const Ipv4Prefix& local_net, const Ipv4Prefix& remote_net) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    uint32_t id = 0;
    while (id == 0 || sa.quick.contains(id)) io_.random(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&id), sizeof id));
    const auto spi = installer_.allocate_spi();
    if (!spi) return note(sa, "quick mode not started: no inbound SPI available");
    QuickMode& qm = sa.quick[id];
    qm.message_id = id;
    qm.initiator = true;
    qm.local_net = local_net;
    qm.remote_net = remote_net;
    qm.inbound_spi = *spi;
    qm.created = io_.now();
    qm.nonce_i = random_bytes(kNonceLength);
    std::vector<Payload> rest{phase2_sa(peer.esp, peer.esp_lifetime, *spi, sa.natt), NoncePayload{qm.nonce_i}};
    if (peer.esp.pfs_group) {
        std::string error;
        qm.dh = dh_pool_.take(*peer.esp.pfs_group, error);
        if (!qm.dh) {
            note(sa, fmt::format("quick mode not started: {}", error));
            installer_.release_spi(*spi);
            sa.quick.erase(id);
            return;
        }
        rest.push_back(KePayload{qm.dh->public_value()});
    }
    rest.push_back(id_of(local_net));
    rest.push_back(id_of(remote_net));
    const auto hash = crypto::ike1::message_hash(sa.prf(), sa.keys.skeyid_a, id, serialize_payloads(rest));
    rest.insert(rest.begin(), HashPayload{bytes_of(hash)});
    const size_t block = sa.cipher->block_size();
    qm.iv = crypto::ike1::IvChain(crypto::ike1::phase2_iv(sa.prf(), sa.iv.iv(), id, block));
    note(sa, fmt::format("quick mode {:08x} for {} === {}: offering {}", id, local_net.to_string(),
                         remote_net.to_string(), describe(std::get<SaPayload>(rest[1]))));
    send_flight(sa, qm.flight, seal(sa, ExchangeType::Quick, id, qm.iv, rest), {}, true);
}

void Engine::on_quick_mode(Phase1Sa& sa, const Message& message) {
    const uint32_t id = message.header.message_id;
    if (id == 0) return drop(Drop::UnexpectedMessage, sa.remote, "quick mode with message ID 0");
    auto it = sa.quick.find(id);
    if (it == sa.quick.end()) return respond_quick_1(sa, message);
    QuickMode& qm = it->second;
    if (qm.initiator && qm.step == 1 && !qm.done) return on_quick_2(sa, qm, message);
    if (!qm.initiator && qm.step == 2 && !qm.done) return on_quick_3(sa, qm, message);
    drop(Drop::UnexpectedMessage, sa.remote, fmt::format("quick mode {:08x} message out of turn", id));
}

void Engine::respond_quick_1(Phase1Sa& sa, const Message& message) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    const uint32_t id = message.header.message_id;
    crypto::ike1::IvChain iv;
    crypto::SecretBytes plain;
    const auto chain = open_first(sa, message, iv, plain, "quick mode message 1");
    if (!chain) return;
    const auto& payloads = chain->payloads;
    const auto* offer = find_payload<SaPayload>(payloads);
    const auto* nonce = find_payload<NoncePayload>(payloads);
    if (offer == nullptr || nonce == nullptr)
        return drop(Drop::MissingPayload, sa.remote, "quick mode message 1 without SA or nonce");

    // IDci is the initiator's network (our remote), IDcr ours.
    const auto ids = ids_of(payloads);
    const auto remote_net = ids.size() == 2 ? net_of(*ids[0]) : std::nullopt;
    const auto local_net = ids.size() == 2 ? net_of(*ids[1]) : std::nullopt;
    if (!remote_net || !local_net || !covered(*remote_net, peer.remote_nets) || !covered(*local_net, peer.local_nets)) {
        note(sa, fmt::format("quick mode {:08x}: invalid ID information: the peer proposed {} === {}; ours are {} === {}",
                             id, local_net ? local_net->to_string() : "?", remote_net ? remote_net->to_string() : "?",
                             ike::describe_nets(peer.local_nets), ike::describe_nets(peer.remote_nets)));
        return send_informational(sa, error_notification(notify::kInvalidIdInformation));
    }
    const auto spi = installer_.allocate_spi();
    if (!spi) return note(sa, fmt::format("quick mode {:08x}: no inbound SPI available", id));
    auto choice = select_phase2(*offer, peer.esp, peer.esp_lifetime, *spi, sa.natt);
    if (!choice) {
        installer_.release_spi(*spi);
        note(sa, fmt::format("quick mode {:08x}: no proposal chosen: the peer offered {}; ours is {}", id,
                             describe(*offer), describe(phase2_sa(peer.esp, peer.esp_lifetime, 0, sa.natt))));
        return send_informational(sa, error_notification(notify::kNoProposalChosen));
    }
    QuickMode qm;
    qm.message_id = id;
    qm.local_net = *local_net;
    qm.remote_net = *remote_net;
    qm.inbound_spi = *spi;
    qm.created = io_.now();
    qm.nonce_i = nonce->data;
    qm.nonce_r = random_bytes(kNonceLength);
    std::vector<Payload> rest{choice->answer, NoncePayload{qm.nonce_r}};
    if (choice->offer.pfs_group) {
        const auto* ke = find_payload<KePayload>(payloads);
        std::string error;
        qm.dh = ke ? dh_pool_.take(*choice->offer.pfs_group, error) : nullptr;
        auto shared = qm.dh ? qm.dh->shared_secret(ke->data, error) : std::nullopt;
        if (!shared) {
            installer_.release_spi(*spi);
            return note(sa, fmt::format("quick mode {:08x}: PFS {} without a usable KE ({})", id,
                                        crypto::ike_dh_group_name(*choice->offer.pfs_group), error));
        }
        qm.shared = std::move(*shared);
        rest.push_back(KePayload{qm.dh->public_value()});
        qm.dh.reset();
    }
    rest.push_back(*ids[0]);
    rest.push_back(*ids[1]);
    if (auto n = responder_lifetime(*choice, *spi)) rest.push_back(std::move(*n));
    const auto hash2 = crypto::ike1::quick_hash_2(sa.prf(), sa.keys.skeyid_a, id, qm.nonce_i, serialize_payloads(rest));
    rest.insert(rest.begin(), HashPayload{bytes_of(hash2)});
    note(sa, fmt::format("quick mode {:08x} for {} === {}: chose {}; {}", id, local_net->to_string(),
                         remote_net->to_string(), describe(choice->answer), choice->lifetime_note));
    qm.choice = std::move(choice);
    iv.advance(message.encrypted);
    qm.iv = std::move(iv);
    qm.step = 2;
    QuickMode& stored = sa.quick[id] = std::move(qm);
    send_flight(sa, stored.flight, seal(sa, ExchangeType::Quick, id, stored.iv, rest), message_bytes_, true);
}

void Engine::on_quick_2(Phase1Sa& sa, QuickMode& qm, const Message& message) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    crypto::SecretBytes plain;
    const auto chain = open(message, sa, qm.iv, plain, sa.remote);
    if (!chain) return;
    const auto& payloads = chain->payloads;
    const auto* hash = payloads.empty() ? nullptr : std::get_if<HashPayload>(&payloads.front());
    const auto* answer = find_payload<SaPayload>(payloads);
    const auto* nonce = find_payload<NoncePayload>(payloads);
    if (hash == nullptr || answer == nullptr || nonce == nullptr)
        return drop(Drop::MissingPayload, sa.remote, "quick mode message 2 without HASH, SA or nonce");
    const auto expected =
        crypto::ike1::quick_hash_2(sa.prf(), sa.keys.skeyid_a, qm.message_id, qm.nonce_i, bytes_after(plain, *chain, 0));
    if (!expected.equals(hash->data)) return drop(Drop::BadHash, sa.remote, "quick mode HASH(2) does not verify");
    follow_peer(sa);
    qm.iv.advance(message.encrypted);
    qm.done = true;  // whatever follows, this exchange is over
    std::string why;
    auto choice = accept_phase2(*answer, peer.esp, peer.esp_lifetime, sa.natt, why);
    if (!choice) {
        installer_.release_spi(qm.inbound_spi);
        return note(sa, fmt::format("quick mode {:08x}: no proposal chosen: the peer answered {} ({}); we offered {}",
                                    qm.message_id, describe(*answer), why,
                                    describe(phase2_sa(peer.esp, peer.esp_lifetime, qm.inbound_spi, sa.natt))));
    }
    const auto ids = ids_of(payloads);
    if (!ids.empty() && (ids.size() != 2 || net_of(*ids[0]) != qm.local_net || net_of(*ids[1]) != qm.remote_net)) {
        installer_.release_spi(qm.inbound_spi);
        return note(sa, fmt::format("quick mode {:08x}: invalid ID information: the answer's IDs are not the {} === {} "
                                    "we proposed",
                                    qm.message_id, qm.local_net.to_string(), qm.remote_net.to_string()));
    }
    if (qm.dh) {
        const auto* ke = find_payload<KePayload>(payloads);
        std::string error = "no KE";
        auto shared = ke ? qm.dh->shared_secret(ke->data, error) : std::nullopt;
        if (!shared) {
            installer_.release_spi(qm.inbound_spi);
            return note(sa, fmt::format("quick mode {:08x}: PFS without a usable KE ({})", qm.message_id, error));
        }
        qm.shared = std::move(*shared);
        qm.dh.reset();
    }
    for (const auto& p : payloads) {
        const auto* n = std::get_if<NotificationPayload>(&p);
        if (n == nullptr || n->type != notify::kResponderLifetime) continue;
        if (const auto life = responder_lifetime_seconds(*n); life && *life < choice->lifetime) {
            note(sa, fmt::format("quick mode {:08x}: the peer's RESPONDER-LIFETIME is {} s (we offered {} s)",
                                 qm.message_id, life->count(), choice->lifetime.count()));
            choice->lifetime = *life;
        }
    }
    qm.nonce_r = nonce->data;
    qm.choice = std::move(choice);
    const auto hash3 = crypto::ike1::quick_hash_3(sa.prf(), sa.keys.skeyid_a, qm.message_id, qm.nonce_i, qm.nonce_r);
    qm.step = 3;
    send_flight(sa, qm.flight, seal(sa, ExchangeType::Quick, qm.message_id, qm.iv, {HashPayload{bytes_of(hash3)}}),
                message_bytes_, false);
    install(sa, qm);
}

void Engine::on_quick_3(Phase1Sa& sa, QuickMode& qm, const Message& message) {
    crypto::SecretBytes plain;
    const auto chain = open(message, sa, qm.iv, plain, sa.remote);
    if (!chain) return;
    const auto* hash = chain->payloads.empty() ? nullptr : std::get_if<HashPayload>(&chain->payloads.front());
    if (hash == nullptr) return drop(Drop::MissingPayload, sa.remote, "quick mode message 3 without HASH");
    const auto expected = crypto::ike1::quick_hash_3(sa.prf(), sa.keys.skeyid_a, qm.message_id, qm.nonce_i, qm.nonce_r);
    if (!expected.equals(hash->data)) return drop(Drop::BadHash, sa.remote, "quick mode HASH(3) does not verify");
    follow_peer(sa);
    qm.iv.advance(message.encrypted);
    qm.step = 3;
    qm.done = true;
    qm.flight.awaiting = false;
    install(sa, qm);
}

bool Engine::install(Phase1Sa& sa, QuickMode& qm) {
    const ike::PeerConfig& peer = peers_[sa.peer];
    const Phase2Choice& choice = *qm.choice;
    const auto algorithms = choice.offer.algorithms;
    const size_t enc = crypto::info(algorithms.cipher).key_material_len();
    const size_t integ = crypto::info(algorithms.integrity).key_len;
    const uint32_t outbound_spi = choice.offer.spi;
    // §5.5: each direction's KEYMAT from the SPI its receiver chose.
    const auto keys_for = [&](uint32_t spi) {
        const auto keymat = crypto::ike1::keymat(sa.prf(), sa.keys.skeyid_d, qm.shared,
                                                 static_cast<uint8_t>(ProtocolId::Esp), spi, qm.nonce_i, qm.nonce_r,
                                                 enc + integ);
        return ike::ChildSaKeys{keymat.slice(0, enc), keymat.slice(enc, integ)};
    };
    ike::ChildSa child;
    child.inbound_spi = qm.inbound_spi;
    child.outbound_spi = outbound_spi;
    child.algorithms = algorithms;
    child.pfs_group = choice.offer.pfs_group;
    child.local_ts = {qm.local_net};
    child.remote_ts = {qm.remote_net};
    ike::ChildSaDescription d;
    d.name = peer.name;
    d.algorithms = algorithms;
    d.local_address = sa.local.address;
    d.peer_address = sa.remote.address;
    d.local_nets = child.local_ts;
    d.remote_nets = child.remote_ts;
    if (sa.natt) {
        d.udp_local_port = sa.local.port;
        d.udp_peer_port = sa.remote.port;
    }
    child.udp_encapsulated = sa.natt;
    std::string error;
    d.spi = child.inbound_spi;
    if (!installer_.install_inbound(d, keys_for(child.inbound_spi), error)) {
        installer_.release_spi(child.inbound_spi);
        note(sa, fmt::format("cannot install inbound SA {:08x}: {}", child.inbound_spi, error));
        return false;
    }
    // The same networks already have an outbound SA (both sides initiated at once, or
    // the peer negotiated them again): the newer takes the traffic, atomically, and
    // the older keeps its inbound SA for what is still in flight.
    ike::ChildSa* previous = nullptr;
    for (auto& [cookie, other] : sas_)
        for (auto& c : other->children)
            if (other->peer == sa.peer && other->state != Phase1State::Dead && c.outbound_active &&
                c.local_ts == child.local_ts && c.remote_ts == child.remote_ts)
                previous = &c;
    child.lowest_nonce = std::min(qm.nonce_i, qm.nonce_r);
    // Both sides made a phase 2 for these networks at once (a rekey at the same moment,
    // or both initiating): `previous` was installed while this exchange ran. Each side
    // installs both in its own order, so "the newest wins" would leave each sending on
    // a different one; instead both keep the one whose lower nonce is the higher
    // (RFC 7296 §2.8.1's rule, which IKEv1 lacks), and the other drains on both sides.
    const auto now = io_.now();
    const bool rival = previous != nullptr && previous->established >= qm.created;
    const bool keep_previous = rival && previous->lowest_nonce > child.lowest_nonce;
    if (!keep_previous) {
        d.spi = outbound_spi;
        if (!installer_.install_outbound(d, keys_for(outbound_spi),
                                         previous ? std::optional(previous->outbound_spi) : std::nullopt, error)) {
            installer_.remove_inbound(child.inbound_spi);
            note(sa, fmt::format("cannot install outbound SA {:08x}: {}", outbound_spi, error));
            return false;
        }
    }
    qm.inbound_spi = 0;  // the child owns it now
    ike::ChildSa* replaced = keep_previous ? &child : previous;
    if (replaced != nullptr) {
        if (rival)
            note(sa, fmt::format("phase 2 {:08x}_i {:08x}_o and {:08x}_i {:08x}_o were made at once: {:08x}_i stays",
                                 previous->inbound_spi, previous->outbound_spi, child.inbound_spi, child.outbound_spi,
                                 keep_previous ? previous->inbound_spi : child.inbound_spi));
        replaced->outbound_active = false;
        replaced->state = ike::ChildState::Replaced;  // its inbound SA drains (phase2_lifetimes)
        replaced->replaced_at = now;
        replaced->drain_until = now + options_.timing.drain;
        replaced->drain_packets = installer_.inbound_usage(replaced->inbound_spi).packets;
    }
    child.outbound_active = !keep_previous;
    child.established = now;
    const auto life = std::chrono::duration_cast<Clock::duration>(choice.lifetime);
    child.expire_at = child.established + life;
    child.rekey_at = child.established +
                     std::chrono::duration_cast<Clock::duration>(life * (1.0 - options_.timing.rekey_margin));
    ++counters_.child_sas_installed;
    note(sa, fmt::format("phase 2 {:08x}_i {:08x}_o installed: {} === {} ({})", child.inbound_spi, child.outbound_spi,
                         qm.local_net.to_string(), qm.remote_net.to_string(), describe(choice.answer)));
    sa.children.push_back(std::move(child));
    return true;
}

}  // namespace mbox::ike1

// Informational exchanges under an established ISAKMP SA (RFC 2409 §5.7): one
// message, encrypted with its own IV from the last phase 1 block and its message ID,
// HASH(1) = prf(SKEYID_a, M-ID | N/D) first. Sent once, never retransmitted:
//
//   DELETE of a phase 2 SA (our inbound SPI) or of the ISAKMP SA (the cookie pair),
//   dead-peer detection (RFC 3706 §5): R-U-THERE with a sequence number, answered by
//   R-U-THERE-ACK with the same one. Both sides advertise DPD with its vendor ID in
//   phase 1 (§3): peers send R-U-THERE only to those that do.
#include <algorithm>

#include <fmt/format.h>

#include "control/codec/byte_io.hpp"
#include "control/ike1/engine.hpp"

namespace mbox::ike1 {

namespace {

using codec::be32;
using codec::read_be32;

}  // namespace

std::string_view notify_name(uint16_t type) {
    switch (type) {
    case notify::kNoProposalChosen: return "NO-PROPOSAL-CHOSEN";
    case notify::kInvalidIdInformation: return "INVALID-ID-INFORMATION";
    case notify::kAuthenticationFailed: return "AUTHENTICATION-FAILED";
    case notify::kInvalidHashInformation: return "INVALID-HASH-INFORMATION";
    case notify::kPayloadMalformed: return "PAYLOAD-MALFORMED";
    case notify::kInvalidKeyInformation: return "INVALID-KEY-INFORMATION";
    }
    return "";
}

// RFC 3706 §3: the DPD vendor ID, version 1.0.
const std::vector<uint8_t>& dpd_vendor_id() {
    static const std::vector<uint8_t> id{0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
                                         0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00};
    return id;
}

bool offers_dpd(const std::vector<Payload>& payloads) { return has_vendor_id(payloads, dpd_vendor_id()); }

void Engine::send_informational(Phase1Sa& sa, Payload payload) {
    uint32_t id = 0;
    while (id == 0) io_.random(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&id), sizeof id));
    const auto hash = crypto::ike1::message_hash(sa.prf(), sa.keys.skeyid_a, id, serialize_payloads({payload}));
    crypto::ike1::IvChain iv(crypto::ike1::phase2_iv(sa.prf(), sa.iv.iv(), id, sa.cipher->block_size()));
    transmit(sa.local, sa.remote,
             seal(sa, ExchangeType::Informational, id, iv,
                  {HashPayload{std::vector<uint8_t>(hash.data(), hash.data() + hash.size())}, std::move(payload)}));
}

void Engine::send_deletes(Phase1Sa& sa) {
    if (sa.state != Phase1State::Established) return;
    for (const auto& child : sa.children)
        if (child.inbound_spi != 0) send_informational(sa, DeletePayload{ProtocolId::Esp, {be32(child.inbound_spi)}});
    send_informational(sa, DeletePayload{ProtocolId::Isakmp, {sa.cookies()}});
}

void Engine::send_dpd(Phase1Sa& sa, uint16_t type, uint32_t sequence) {
    NotificationPayload n;
    n.protocol = static_cast<uint8_t>(ProtocolId::Isakmp);
    n.spi = sa.cookies();
    n.type = type;
    n.data = be32(sequence);
    send_informational(sa, std::move(n));
}

void Engine::on_informational(Phase1Sa& sa, const Message& message) {
    crypto::ike1::IvChain iv;
    crypto::SecretBytes plain;
    const auto chain = open_first(sa, message, iv, plain, "informational exchange");
    if (!chain) return;
    const auto& payloads = chain->payloads;
    sa.last_heard = io_.now();
    for (const auto& payload : payloads) {
        if (const auto* d = std::get_if<DeletePayload>(&payload)) {
            if (d->protocol == ProtocolId::Isakmp) {
                const bool kept = adopt_children(sa);
                return kill(sa, "deleted by the peer", !kept);
            }
            if (d->protocol != ProtocolId::Esp) continue;
            for (const auto& spi : d->spis)
                if (spi.size() == 4) delete_child(sa, read_be32(spi));
        } else if (const auto* n = std::get_if<NotificationPayload>(&payload)) {
            // RFC 2408 §3.14.1: types below 8192 are errors.
            if (n->type < 8192) {
                const auto known = notify_name(n->type);
                note(sa, fmt::format("the peer reported {}{}", known.empty() ? fmt::format("{}", n->type) : std::string(known),
                                     n->protocol == static_cast<uint8_t>(ProtocolId::Esp) ? " for a quick mode" : ""));
                continue;
            }
            if (n->data.size() != 4) continue;
            const uint32_t sequence = read_be32(n->data);
            if (n->type == notify::kRUThere) {
                send_dpd(sa, notify::kRUThereAck, sequence);
            } else if (n->type == notify::kRUThereAck && sa.dpd_outstanding && sequence == sa.dpd_sequence) {
                sa.dpd_outstanding = false;
            }
        }
    }
}

void Engine::delete_child(const Phase1Sa& by, uint32_t outbound_spi) {
    // Any ISAKMP SA of the peer may carry the DELETE: phase 2 SAs are not bound to the
    // one that negotiated them (RFC 2409 §5.5), and a peer that rekeyed phase 1 uses its
    // newest.
    for (auto& [cookie, sa] : sas_) {
        if (sa->peer != by.peer || sa->state == Phase1State::Dead) continue;
        auto it = std::find_if(sa->children.begin(), sa->children.end(),
                               [&](const ike::ChildSa& c) { return c.outbound_spi == outbound_spi; });
        if (it == sa->children.end()) continue;
        note(*sa, fmt::format("phase 2 {:08x}_i {:08x}_o deleted by the peer", it->inbound_spi, it->outbound_spi));
        // Our traffic went out on it although another SA for the same networks exists
        // (a rival both sides made at once that the peer kept on its side): the networks
        // need a phase 2 again, at once. A lone SA the peer deletes stays deleted.
        const bool duplicate = std::any_of(sas_.begin(), sas_.end(), [&](const auto& entry) {
            return entry.second->peer == by.peer &&
                   std::any_of(entry.second->children.begin(), entry.second->children.end(), [&](const ike::ChildSa& c) {
                       return &c != &*it && c.local_ts == it->local_ts && c.remote_ts == it->remote_ts;
                   });
        });
        const bool carried_traffic =
            duplicate && it->outbound_active && !it->local_ts.empty() && !it->remote_ts.empty();
        const Ipv4Prefix local = carried_traffic ? it->local_ts.front() : Ipv4Prefix{};
        const Ipv4Prefix remote = carried_traffic ? it->remote_ts.front() : Ipv4Prefix{};
        if (it->outbound_active) installer_.remove_outbound(it->outbound_spi);
        installer_.remove_inbound(it->inbound_spi);
        sa->children.erase(it);
        if (carried_traffic && sa->state == Phase1State::Established) {
            note(*sa, fmt::format("{} === {} had its outbound SA there: negotiating it again", local.to_string(),
                                  remote.to_string()));
            start_quick(*sa, local, remote);
        }
        return;
    }
}

bool Engine::adopt_children(Phase1Sa& sa) {
    Phase1Sa* heir = nullptr;
    for (auto& [cookie, other] : sas_)
        if (other.get() != &sa && other->peer == sa.peer && other->state == Phase1State::Established &&
            (heir == nullptr || other->established > heir->established))
            heir = other.get();
    if (heir == nullptr) return false;
    // A replaced phase 2 SA (its successor carries the traffic) has drained by now and
    // goes with this ISAKMP SA.
    size_t moved = 0;
    std::erase_if(sa.children, [&](ike::ChildSa& child) {
        if (child.state == ike::ChildState::Replaced) return false;
        heir->children.push_back(std::move(child));
        ++moved;
        return true;
    });
    if (moved != 0) note(sa, fmt::format("its {} phase 2 SA(s) stay, now under ISAKMP SA #{}", moved, heir->serial));
    return moved != 0;
}

void Engine::phase2_lifetimes(Phase1Sa& sa, Clock::time_point now) {
    // Make-before-break: at the soft lifetime (either side's, whichever comes first) a
    // new quick mode for the same networks; its SA takes the outbound traffic when it is
    // installed, and the old one's inbound SA drains until its hard lifetime, when it is
    // deleted on both sides.
    std::vector<std::pair<Ipv4Prefix, Ipv4Prefix>> rekey;
    for (auto& child : sa.children) {
        if (child.state == ike::ChildState::Replaced && now >= child.drain_until && now < child.expire_at) {
            // A replaced SA goes once nothing has arrived on it for a drain interval: the
            // peer sends on its successor (or on the rival both sides made at once). One
            // the peer still sends on stays until it is quiet or expires.
            const uint64_t packets = installer_.inbound_usage(child.inbound_spi).packets;
            if (packets != child.drain_packets) {
                child.drain_packets = packets;
                child.drain_until = now + options_.timing.drain;
                continue;
            }
            note(sa, fmt::format("phase 2 {:08x}_i {:08x}_o replaced and quiet: deleted", child.inbound_spi,
                                 child.outbound_spi));
            send_informational(sa, DeletePayload{ProtocolId::Esp, {be32(child.inbound_spi)}});
            installer_.remove_inbound(child.inbound_spi);
            child.inbound_spi = 0;
            continue;
        }
        if (now >= child.expire_at) {
            note(sa, fmt::format("phase 2 {:08x}_i {:08x}_o reached its hard lifetime", child.inbound_spi,
                                 child.outbound_spi));
            send_informational(sa, DeletePayload{ProtocolId::Esp, {be32(child.inbound_spi)}});
            // No successor (its rekey failed): negotiate the networks afresh.
            if (child.outbound_active && !child.local_ts.empty() && !child.remote_ts.empty())
                rekey.emplace_back(child.local_ts.front(), child.remote_ts.front());
            if (child.outbound_active) installer_.remove_outbound(child.outbound_spi);
            installer_.remove_inbound(child.inbound_spi);
            child.inbound_spi = 0;
        } else if (child.state == ike::ChildState::Installed && now >= child.rekey_at && !child.local_ts.empty() &&
                   !child.remote_ts.empty()) {
            child.state = ike::ChildState::Rekeying;
            rekey.emplace_back(child.local_ts.front(), child.remote_ts.front());
        }
    }
    std::erase_if(sa.children, [](const ike::ChildSa& c) { return c.inbound_spi == 0; });
    for (const auto& [local, remote] : rekey) start_quick(sa, local, remote);
}

void Engine::dead_peer_detection(Phase1Sa& sa, Clock::time_point now) {
    const auto dpd = peers_[sa.peer].dpd;
    if (dpd.count() == 0 || !sa.peer_dpd) return;
    // ESP from the peer counts as hearing from it.
    uint64_t inbound = 0;
    for (const auto& child : sa.children) inbound += installer_.inbound_usage(child.inbound_spi).packets;
    if (inbound != sa.seen_inbound_packets) {
        sa.seen_inbound_packets = inbound;
        sa.last_heard = now;
        sa.dpd_outstanding = false;
    }
    if (now - sa.last_heard >= 4 * dpd)
        return kill(sa, fmt::format("no answer to R-U-THERE for {} s (dead peer detected)",
                                    std::chrono::duration_cast<std::chrono::seconds>(now - sa.last_heard).count()),
                    true);
    // One R-U-THERE per interval of silence, each with the next sequence number.
    if (now - sa.last_heard >= dpd && (!sa.dpd_outstanding || now - sa.dpd_sent >= dpd)) {
        sa.dpd_outstanding = true;
        sa.dpd_sent = now;
        send_dpd(sa, notify::kRUThere, ++sa.dpd_sequence);
    }
}

}  // namespace mbox::ike1

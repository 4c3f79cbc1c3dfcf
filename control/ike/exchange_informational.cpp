// INFORMATIONAL (RFC 7296 §1.4): DELETE of CHILD SAs and of the IKE SA, liveness checks
// (an empty request, §2.4), and error notifications in answer to a request.
//
//   Initiator                         Responder
//   HDR, SK {[N,] [D,] ...}       -->
//                                 <-- HDR, SK {[N,] [D,] ...}
#include <fmt/format.h>

#include "control/ike/engine.hpp"

namespace mbox::ike {

void IkeEngine::send_error_response(IkeSa& sa, ExchangeType exchange, uint32_t message_id, uint16_t notify_type) {
    NotifyPayload n;
    n.type = notify_type;
    send_response(sa, seal(sa, exchange, true, message_id, {n}), message_id);
}

void IkeEngine::send_delete_children(IkeSa& sa, std::vector<uint32_t> inbound_spis) {
    std::erase_if(inbound_spis, [&](uint32_t spi) { return child_by_inbound(sa, spi) == nullptr; });
    if (inbound_spis.empty()) return;
    if (sa.pending) {
        sa.queued.push_back({RequestKind::DeleteChild, std::move(inbound_spis)});
        return;
    }
    for (uint32_t spi : inbound_spis) {
        ChildSa* child = child_by_inbound(sa, spi);
        if (child->state != ChildState::Replaced) child->state = ChildState::Deleting;
    }
    DeletePayload d;
    d.protocol = ProtocolId::Esp;
    d.spis = inbound_spis;  // §3.11: the SPIs the sender expects in inbound packets
    PendingRequest request;
    request.kind = RequestKind::DeleteChild;
    request.message_id = sa.next_request_id;
    request.bytes = seal(sa, ExchangeType::Informational, false, request.message_id, {d});
    request.delete_spis = std::move(inbound_spis);
    send_request(sa, std::move(request));
}

void IkeEngine::send_delete_ike(IkeSa& sa, bool wait) {
    DeletePayload d;
    d.protocol = ProtocolId::Ike;
    if (!wait) {
        // Once, unanswered: the IKE SA goes now whatever the peer says.
        transmit(sa.local, sa.remote, seal(sa, ExchangeType::Informational, false, sa.next_request_id++, {d}));
        sa.state = IkeState::Deleting;
        return;
    }
    if (sa.pending) {
        sa.queued.push_front({RequestKind::DeleteIke, {}});
        return;
    }
    PendingRequest request;
    request.kind = RequestKind::DeleteIke;
    request.message_id = sa.next_request_id;
    request.bytes = seal(sa, ExchangeType::Informational, false, request.message_id, {d});
    sa.state = IkeState::Deleting;
    send_request(sa, std::move(request));
}

void IkeEngine::send_liveness(IkeSa& sa) {
    if (sa.pending) return;
    PendingRequest request;
    request.kind = RequestKind::Liveness;
    request.message_id = sa.next_request_id;
    request.bytes = seal(sa, ExchangeType::Informational, false, request.message_id, {});
    send_request(sa, std::move(request));
}

void IkeEngine::respond_informational(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner) {
    std::vector<uint32_t> ours;
    bool delete_ike = false;
    for (const auto& p : inner) {
        const auto* d = std::get_if<DeletePayload>(&p);
        if (d == nullptr) continue;
        if (d->protocol == ProtocolId::Ike) {
            delete_ike = true;
            continue;
        }
        if (d->protocol != ProtocolId::Esp) continue;
        // The peer names its inbound SPIs (our outbound); we answer with our inbound ones
        // (§1.4.1) and remove both directions.
        for (uint32_t spi : d->spis) {
            ChildSa* child = child_by_outbound(sa, spi);
            if (child == nullptr) continue;
            ours.push_back(child->inbound_spi);
            note(sa, fmt::format("the peer deleted CHILD SA {:08x}_i {:08x}_o", child->inbound_spi, child->outbound_spi));
            remove_child(*child);
        }
    }
    std::erase_if(sa.children, [](const ChildSa& c) { return c.inbound_spi == 0; });
    if (delete_ike) {
        send_response(sa, seal(sa, ExchangeType::Informational, true, message_id, {}), message_id);
        // An IKE SA whose children moved to its rekeyed successor just goes; otherwise the
        // tunnel is down and an initiating peer tries again later.
        return kill(sa, sa.rekeyed ? "replaced by its rekeyed successor" : "deleted by the peer", !sa.rekeyed);
    }
    std::vector<Payload> payloads;
    if (!ours.empty()) {
        DeletePayload answer;
        answer.protocol = ProtocolId::Esp;
        answer.spis = std::move(ours);
        payloads.push_back(std::move(answer));
    }
    send_response(sa, seal(sa, ExchangeType::Informational, true, message_id, payloads), message_id);
}

void IkeEngine::on_informational_response(IkeSa& sa, PendingRequest& request, const std::vector<Payload>&) {
    switch (request.kind) {
    case RequestKind::DeleteIke: kill(sa, "deleted", false); break;
    case RequestKind::DeleteChild:
        for (uint32_t spi : request.delete_spis) {
            ChildSa* child = child_by_inbound(sa, spi);
            if (child == nullptr) continue;
            // The peer has stopped sending on it; what is still in flight may drain.
            if (child->outbound_active) {
                installer_.remove_outbound(child->outbound_spi);
                child->outbound_active = false;
            }
            if (child->state != ChildState::Replaced) start_drain(*child);
        }
        break;
    case RequestKind::Liveness: break;
    default: break;
    }
}

}  // namespace mbox::ike

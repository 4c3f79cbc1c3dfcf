#include "dataplane/handoff.hpp"

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>

#include "dataplane/nat.hpp"
#include "dataplane/worker.hpp"

namespace mbox::dataplane {

Next hand_off(WorkerContext& ctx, Burst& burst, uint16_t i, unsigned owner, Handoff::Kind kind) {
    Handoff h{};
    h.packet = burst.packets[i];
    h.kind = kind;
    h.in_port = burst.in_port[i];
    if (kind == Handoff::Kind::NatOut) {
        h.route.next_hop = burst.next_hop[i];
        h.route.out_port = burst.out_port[i];
    } else if (kind == Handoff::Kind::NatIn) {
        // Out of a tunnel: the SA came from a hand-off itself (decapsulated by its
        // owner), so it travels by SPI, not by pointer (see messages.hpp).
        const auto* tunnel = static_cast<const InboundSa*>(burst.sa[i]);
        h.from_tunnel = tunnel != nullptr;
        h.tunnel_spi = tunnel != nullptr ? tunnel->spi : 0;
    } else {
        h.sa = burst.sa[i];
    }
    if (owner >= ctx.handoff_rings.size() ||
        rte_ring_mp_enqueue_elem(ctx.handoff_rings[owner], &h, sizeof h) != 0) {
        ctx.drop(Drop::handoff_ring_full);
        return Next::Drop;
    }
    ++ctx.counters->handed_off;
    return Next::Consumed;
}

namespace {

Next resume_at(const Handoff& h) {
    switch (h.kind) {
    case Handoff::Kind::Encap: return Next::EspOut;
    case Handoff::Kind::Decap: return Next::EspIn;
    case Handoff::Kind::NatOut: return Next::Transmit;
    case Handoff::Kind::NatIn: return Next::Forward;
    }
    return Next::Drop;
}

}  // namespace

unsigned drain_handoffs(WorkerContext& ctx, unsigned limit) {
    if (ctx.handoff == nullptr) return 0;
    Handoff items[kBurstSize];
    const unsigned n = rte_ring_sc_dequeue_burst_elem(ctx.handoff, items, sizeof(Handoff),
                                                      std::min<unsigned>(limit, kBurstSize), nullptr);
    if (n == 0) return 0;
    Burst burst;
    burst.count = static_cast<uint16_t>(n);
    for (unsigned i = 0; i < n; ++i) {
        const Handoff& h = items[i];
        burst.packets[i] = h.packet;
        burst.in_port[i] = h.in_port;
        burst.encapsulated[i] = false;
        burst.next[i] = resume_at(h);
        const bool routed = h.kind == Handoff::Kind::NatOut;
        burst.sa[i] = routed ? nullptr : h.sa;
        burst.out_port[i] = routed ? h.route.out_port : 0;
        burst.next_hop[i] = routed ? h.route.next_hop : 0;
        if (h.kind == Handoff::Kind::NatIn) {
            burst.sa[i] = h.from_tunnel ? ctx.sas->inbound(h.tunnel_spi) : nullptr;
            if (h.from_tunnel && burst.sa[i] == nullptr) {
                // Its SA was deleted meanwhile: without it no ICMP error could be
                // routed back into the tunnel. Rare; dropped rather than guessed.
                ctx.drop(Drop::handoff_sa_gone);
                burst.next[i] = Next::Drop;
            }
        }
    }
    // A NAT hand-off resumes before routing (NatIn) or after it (NatOut); the stages
    // in between leave packets of other kinds alone.
    nat_inbound(ctx, burst);
    run_stages(ctx, burst);
    return n;
}

unsigned handoff_barrier(WorkerContext& ctx) {
    if (ctx.handoff == nullptr) return 0;
    // Everything enqueued before this moment; what other workers add meanwhile may
    // be run too, which does no harm. Only this worker dequeues, so the count holds.
    const unsigned queued = rte_ring_count(ctx.handoff);
    unsigned done = 0;
    while (done < queued) {
        const unsigned n = drain_handoffs(ctx, queued - done);
        if (n == 0) break;
        done += n;
    }
    return done;
}

}  // namespace mbox::dataplane

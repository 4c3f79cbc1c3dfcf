#include "dataplane/handoff.hpp"

#include <rte_ring.h>
#include <rte_ring_elem.h>

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

unsigned drain_handoffs(WorkerContext& ctx) {
    if (ctx.handoff == nullptr) return 0;
    Handoff items[kBurstSize];
    const unsigned n = rte_ring_sc_dequeue_burst_elem(ctx.handoff, items, sizeof(Handoff), kBurstSize, nullptr);
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
    }
    // A NAT hand-off resumes before routing (NatIn) or after it (NatOut); the stages
    // in between leave packets of other kinds alone.
    nat_inbound(ctx, burst);
    run_stages(ctx, burst);
    return n;
}

}  // namespace mbox::dataplane

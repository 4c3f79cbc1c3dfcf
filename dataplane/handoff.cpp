// Hand-off between workers: an SA has one owner (its sequence number and replay
// window have one writer); a packet for it that arrives on another worker is queued on
// the owner's hand-off ring and processed there.
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dataplane/esp.hpp"
#include "dataplane/messages.hpp"
#include "dataplane/worker.hpp"

namespace mbox::dataplane {

Next hand_off(WorkerContext& ctx, Burst& burst, uint16_t i, unsigned owner, bool encap) {
    Handoff h{burst.packets[i], burst.sa[i], encap ? Handoff::Kind::Encap : Handoff::Kind::Decap, burst.in_port[i]};
    if (owner >= ctx.handoff_rings.size() ||
        rte_ring_mp_enqueue_elem(ctx.handoff_rings[owner], &h, sizeof h) != 0) {
        ctx.drop(Drop::handoff_ring_full);
        return Next::Drop;
    }
    ++ctx.counters->handed_off;
    return Next::Consumed;
}

unsigned drain_handoffs(WorkerContext& ctx) {
    if (ctx.handoff == nullptr) return 0;
    Handoff items[kBurstSize];
    const unsigned n = rte_ring_sc_dequeue_burst_elem(ctx.handoff, items, sizeof(Handoff), kBurstSize, nullptr);
    if (n == 0) return 0;
    Burst burst;
    burst.count = static_cast<uint16_t>(n);
    for (unsigned i = 0; i < n; ++i) {
        burst.packets[i] = items[i].packet;
        burst.sa[i] = items[i].sa;
        burst.in_port[i] = items[i].in_port;
        burst.encapsulated[i] = false;
        burst.next[i] = items[i].kind == Handoff::Kind::Encap ? Next::EspOut : Next::EspIn;
    }
    run_stages(ctx, burst);
    return n;
}

}  // namespace mbox::dataplane

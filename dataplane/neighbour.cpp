#include "dataplane/neighbour.hpp"

#include <cstring>

#include "dataplane/packet.hpp"
#include "dataplane/punt.hpp"
#include "dataplane/tx.hpp"

namespace mbox::dataplane {

namespace {

void send_to(WorkerContext& ctx, rte_mbuf* m, const Neighbour& n) {
    rte_ether_hdr* eth = eth_header(m);
    std::memcpy(eth->dst_addr.addr_bytes, n.mac, RTE_ETHER_ADDR_LEN);
    std::memcpy(eth->src_addr.addr_bytes, ctx.state->ports[n.port].mac, RTE_ETHER_ADDR_LEN);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    tx_enqueue(ctx, n.port, m);
}

Next hold_for_resolution(WorkerContext& ctx, rte_mbuf* m, uint16_t port, uint32_t next_hop) {
    PendingQueue& q = ctx.pending;
    if (q.count == PendingQueue::kCapacity) return ctx.drop(Drop::neighbour_queue_full), Next::Drop;
    // One request per next hop while packets wait for it; the control thread retries ARP itself.
    if (!q.waiting_for(next_hop) && !punt_resolve(ctx, port, next_hop))
        return ctx.drop(Drop::punt_ring_full), Next::Drop;
    q.slots[q.count++] = PendingPacket{m, rte_rdtsc(), next_hop, port};
    return Next::Consumed;
}

// Removes slots for which `take` returns true, keeping the rest in order.
template <typename Take>
void drain_pending(PendingQueue& q, Take take) {
    uint16_t kept = 0;
    for (uint16_t i = 0; i < q.count; ++i) {
        if (!take(q.slots[i])) q.slots[kept++] = q.slots[i];
    }
    q.count = kept;
}

}  // namespace

Next send_or_hold(WorkerContext& ctx, rte_mbuf* m, uint16_t port, uint32_t next_hop) {
    const Neighbour* n = ctx.neighbours->find(next_hop);
    if (n == nullptr || n->port != port) return hold_for_resolution(ctx, m, port, next_hop);
    send_to(ctx, m, *n);
    return Next::Consumed;
}

void resolve_neighbours(WorkerContext& ctx, Burst& burst) {
    for (uint16_t i = 0; i < burst.count; ++i) {
        if (burst.next[i] == Next::Transmit)
            burst.next[i] = send_or_hold(ctx, burst.packets[i], burst.out_port[i], burst.next_hop[i]);
    }
}

void neighbour_resolved(WorkerContext& ctx, uint32_t ip, const Neighbour& n) {
    ctx.neighbours->update(ip, n);
    drain_pending(ctx.pending, [&](const PendingPacket& p) {
        if (p.next_hop != ip || p.port != n.port) return false;
        send_to(ctx, p.packet, n);
        return true;
    });
}

void neighbour_removed(WorkerContext& ctx, uint32_t ip) { ctx.neighbours->remove(ip); }

void expire_pending(WorkerContext& ctx, uint64_t now_tsc) {
    const uint64_t timeout = ctx.tsc_hz / 1000 * kPendingTimeoutMs;
    drain_pending(ctx.pending, [&](const PendingPacket& p) {
        if (now_tsc - p.enqueued_tsc < timeout) return false;
        rte_pktmbuf_free(p.packet);
        ctx.drop(Drop::neighbour_unresolved);
        return true;
    });
}

}  // namespace mbox::dataplane

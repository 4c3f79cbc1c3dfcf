#include "dataplane/punt.hpp"

#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dataplane/messages.hpp"

namespace mbox::dataplane {

namespace {

bool enqueue(WorkerContext& ctx, Punt p) {
    if (rte_ring_sp_enqueue_elem(ctx.punts, &p, sizeof(Punt)) != 0) return false;
    if (ctx.wakeup != nullptr) ctx.wakeup->notify();
    return true;
}

}  // namespace

namespace {

// A frame for the control thread; when the ring is full it is freed and counted as `full`.
bool punt_frame(WorkerContext& ctx, Punt::Kind kind, uint16_t in_port, rte_mbuf* m, Drop full) {
    m->port = in_port;
    Punt p{};
    p.kind = kind;
    p.port = in_port;
    p.packet = m;
    if (enqueue(ctx, p)) return true;
    rte_pktmbuf_free(m);
    ctx.drop(full);
    return false;
}

}  // namespace

void punt_packet(WorkerContext& ctx, uint16_t in_port, rte_mbuf* m) {
    if (punt_frame(ctx, Punt::Kind::Packet, in_port, m, Drop::punt_ring_full)) ++ctx.counters->punted;
}

void punt_ike(WorkerContext& ctx, uint16_t in_port, rte_mbuf* m) {
    if (punt_frame(ctx, Punt::Kind::Ike, in_port, m, Drop::ike_punt_full)) ++ctx.counters->ike_punted;
}

bool punt_resolve(WorkerContext& ctx, uint16_t port, uint32_t next_hop) {
    Punt p{};
    p.kind = Punt::Kind::Resolve;
    p.port = port;
    p.ip = next_hop;
    return enqueue(ctx, p);
}

void punt_control(WorkerContext& ctx, const Punt& p) {
    while (!enqueue(ctx, p)) rte_pause();
}

void punt_retired(WorkerContext& ctx, const ForwardingState* state) {
    Punt p{};
    p.kind = Punt::Kind::Retired;
    p.state = state;
    punt_control(ctx, p);
}

}  // namespace mbox::dataplane

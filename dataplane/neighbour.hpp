// Stage: next-hop resolution. A packet whose next hop is known gets its Ethernet
// header and goes to transmit; otherwise it waits (bounded) while the control thread
// runs ARP, and is sent the moment the answer arrives or dropped when it does not.
#pragma once

#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

inline constexpr uint64_t kPendingTimeoutMs = 1000;

// Handles every packet marked Transmit; marks it Consumed (sent or queued) or Drop.
void resolve_neighbours(WorkerContext& ctx, Burst& burst);

// One packet (Ethernet slot in front) towards `next_hop` on `port`: sent, or queued for
// ARP (Consumed), or Drop (counted; the caller frees it). For packets a stage makes
// beyond its burst slot, such as the second and later fragments.
Next send_or_hold(WorkerContext& ctx, rte_mbuf* m, uint16_t port, uint32_t next_hop);

// The control thread resolved `ip`: remember it and send the packets waiting for it.
void neighbour_resolved(WorkerContext& ctx, uint32_t ip, const Neighbour& n);
void neighbour_removed(WorkerContext& ctx, uint32_t ip);

// Drops (and counts) packets that waited longer than kPendingTimeoutMs.
void expire_pending(WorkerContext& ctx, uint64_t now_tsc);

}  // namespace mbox::dataplane

// Handing work to the control thread over this worker's punt ring. A full ring drops
// and counts: the fast path never waits for the control thread.
#pragma once

#include "dataplane/messages.hpp"
#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// Takes ownership of m (freed and counted when the ring is full).
void punt_packet(WorkerContext& ctx, uint16_t in_port, rte_mbuf* m);
// An IKE datagram (headers checked) for the control thread's IKE engine. Takes ownership
// of m (freed and counted as ike_punt_full when the ring is full).
void punt_ike(WorkerContext& ctx, uint16_t in_port, rte_mbuf* m);
// Asks the control thread to resolve next_hop on port. Returns false when the ring is full.
bool punt_resolve(WorkerContext& ctx, uint16_t port, uint32_t next_hop);
// Returns a snapshot this worker no longer reads. Retries until it fits: the control
// thread drains this ring continuously and the snapshot must not leak.
void punt_retired(WorkerContext& ctx, const ForwardingState* state);
// Any message that must reach the control thread (retired objects): retries until it fits.
void punt_control(WorkerContext& ctx, const Punt& p);

}  // namespace mbox::dataplane

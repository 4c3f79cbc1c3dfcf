// Hand-off between workers: state with one writer (an SA's sequence number and replay
// window, a NAT mapping) has one owner worker; a packet for it that arrives on another
// worker is queued on the owner's hand-off ring and runs through the pipeline there.
#pragma once

#include "dataplane/messages.hpp"
#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// Hands packet i to worker `owner`, to resume at the stage `kind` names. Returns
// Consumed, or Drop (counted as handoff_ring_full).
Next hand_off(WorkerContext& ctx, Burst& burst, uint16_t i, unsigned owner, Handoff::Kind kind);

// Runs up to `limit` (at most one burst) of the packets other workers handed to this
// one through the pipeline. Returns how many.
unsigned drain_handoffs(WorkerContext& ctx, unsigned limit = kBurstSize);

// Runs every hand-off queued on this worker's ring when called (the HandoffBarrier
// command: after it, no hand-off enqueued before the barrier still names a retired SA).
unsigned handoff_barrier(WorkerContext& ctx);

}  // namespace mbox::dataplane

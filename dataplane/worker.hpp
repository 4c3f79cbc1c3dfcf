// The worker's poll-mode loop: receive a burst, run it through the stages, apply the
// control thread's commands, transmit, and back off when idle so that a 2-core test
// machine stays responsive.
#pragma once

#include "dataplane/messages.hpp"
#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// Runs one received burst through classify -> route -> local -> neighbour -> tx buffer.
// The caller flushes with tx_flush. Exposed for stage tests and benchmarks.
void process_burst(WorkerContext& ctx, uint16_t in_port, rte_mbuf** packets, uint16_t count);

// Everything after classify: routing, local delivery, ESP decap, routing of what came
// out of tunnels, outbound policy, ESP encap, neighbours, then transmit/punt/free.
void run_stages(WorkerContext& ctx, Burst& burst);

// Applies every command waiting on the ring. Returns how many there were.
unsigned apply_commands(WorkerContext& ctx);
void apply_command(WorkerContext& ctx, const Command& c);

// The lcore entry point: loops until *ctx.stop, then hands back its snapshot.
int run_worker(WorkerContext& ctx);

}  // namespace mbox::dataplane

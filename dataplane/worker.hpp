// The worker's poll-mode loop: receive a burst, run it through the stages, apply the
// control thread's commands, transmit, and back off when idle so that a 2-core test
// machine stays responsive.
#pragma once

#include "dataplane/idle_backoff.hpp"
#include "dataplane/messages.hpp"
#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// A worker with nothing to receive polls on for 256 rounds, then sleeps 1 µs doubling to
// 200 µs; after 100 rounds there (20 ms and more without a packet) it doubles on to 1 ms.
// Light traffic thus meets at most 200 µs of delay, as before; a quiet worker wakes about
// a thousand times a second instead of three thousand (on a VM each wake-up costs tens of
// microseconds), and the first packet after the quiet waits at most 1 ms. Any packet or
// command brings back busy polling; under load the worker never sleeps.
inline constexpr BackoffPolicy kWorkerIdleBackoff{.patient_rounds = 256,
                                                  .short_wait = std::chrono::microseconds(0),
                                                  .first_sleep = std::chrono::microseconds(1),
                                                  .light_cap = std::chrono::microseconds(200),
                                                  .light_rounds = 100,
                                                  .cap = std::chrono::microseconds(1000)};

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

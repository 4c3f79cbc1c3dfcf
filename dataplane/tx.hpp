// Stage: transmit. Packets collect in a per-port buffer and leave in bursts on this
// worker's TX queue; what the NIC does not take is dropped and counted.
#pragma once

#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

void tx_enqueue(WorkerContext& ctx, uint16_t port, rte_mbuf* m);
void tx_flush(WorkerContext& ctx);

}  // namespace mbox::dataplane

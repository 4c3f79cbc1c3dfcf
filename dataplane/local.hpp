// Stage: packets addressed to the gateway itself. ICMP echo is answered here, on the
// worker; anything else the gateway does not serve is dropped and counted.
#pragma once

#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// For each packet marked Local: Transmit (an echo reply routed back) or Drop (counted).
void deliver_local(WorkerContext& ctx, Burst& burst);

}  // namespace mbox::dataplane

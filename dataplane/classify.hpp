// Stage 1: check the Ethernet and IPv4 headers against the bytes received and sort
// each packet: ARP to the control thread, IPv4 to routing, everything else dropped.
#pragma once

#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// Sets burst.next[i] to Punt, Forward or Drop (counted) for every packet.
void classify(WorkerContext& ctx, uint16_t in_port, Burst& burst);

}  // namespace mbox::dataplane

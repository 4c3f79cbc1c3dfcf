// Stage: packets addressed to the gateway itself. ICMP echo is answered here, on the
// worker; IKE (UDP 500, UDP 4500 with the non-ESP marker) goes to the control thread
// (punt_ike); ESP and ESP-in-UDP go on to decapsulation; anything else the gateway does
// not serve is dropped and counted.
#pragma once

#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// For each packet marked Local: Transmit (an echo reply routed back), EspIn, Consumed
// (IKE punted, a fragment held) or Drop (counted).
void deliver_local(WorkerContext& ctx, Burst& burst);

}  // namespace mbox::dataplane

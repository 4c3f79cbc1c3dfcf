// Stage: IPv4 forwarding decision. Longest-prefix match on the destination, then the
// router's duties for a transit packet (TTL, MTU) with the ICMP errors they call for.
#pragma once

#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// For each packet marked Forward: Local (one of our addresses), Transmit (out_port and
// next_hop set, TTL decremented) or Drop (counted; an ICMP error may replace it, in
// which case the packet is re-marked Transmit towards the original sender).
void route(WorkerContext& ctx, Burst& burst);

// Routes a packet the gateway itself originated (echo reply, ICMP error): no TTL
// decrement and no ICMP error about it. Sets Transmit or Drop (counted).
Next route_originated(WorkerContext& ctx, Burst& burst, uint16_t i);

}  // namespace mbox::dataplane

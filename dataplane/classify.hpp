// Stage 1: check the Ethernet and IPv4 headers against the bytes received and sort
// each packet: ARP to the control thread, IPv4 to routing, everything else dropped.
#pragma once

#include <optional>

#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// Checks the IPv4 header that follows the Ethernet header slot against the bytes in
// the (first) segment and trims Ethernet padding. Returns the reason to drop, if any
// (not counted: the caller counts). Also used on packets that come out of a tunnel.
std::optional<Drop> ipv4_check(rte_mbuf* m);

// Sets burst.next[i] to Punt, Forward or Drop (counted) for every packet.
void classify(WorkerContext& ctx, uint16_t in_port, Burst& burst);

}  // namespace mbox::dataplane

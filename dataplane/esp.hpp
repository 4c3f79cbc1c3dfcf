// The ESP stages (RFC 4303 tunnel mode; RFC 3948 UDP encapsulation). Each runs over a
// burst in three phases, as in VPP and DPDK's lib/ipsec: prepare every packet (SA,
// replay pre-check, headers), one batched ipsec-mb submission, then finish every packet
// (trailer checks, window update, next stage).
#pragma once

#include "dataplane/handoff.hpp"
#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

inline constexpr uint16_t kIkePort = 500;
inline constexpr uint16_t kIkeNattPort = 4500;

// Packets marked EspIn (ESP or ESP-in-UDP to one of our addresses; sa may already be
// set when another worker handed the packet over) become Forward (the inner packet,
// Ethernet header slot in front) or Drop (counted), or Consumed (handed to the owner).
void esp_decap(WorkerContext& ctx, Burst& burst);

// Transmit packets (not ones we encapsulated) whose inner source and destination
// match an outbound policy become EspOut with their SA; those that match no SA but lie
// between a configured tunnel's networks (the snapshot's TunnelPolicy) are dropped.
void esp_match_outbound(WorkerContext& ctx, Burst& burst);

// Packets marked EspOut become the outer ESP packet, marked Transmit towards the peer
// (out_port/next_hop set, encapsulated), or Drop (counted), or Consumed (handed to the
// owner, or fragmented and its fragments sent). An outer packet over the egress MTU is
// fragmented when the inner packet's DF is clear; with DF set an ICMP
// fragmentation-needed replaces the packet (Transmit back to the sender).
void esp_encap(WorkerContext& ctx, Burst& burst);


}  // namespace mbox::dataplane

// What crosses between the control thread and the workers. Both directions use DPDK
// rings of fixed-size elements (rte_ring_create_elem), one ring per worker each way,
// single producer and single consumer: the only channel between the two sides.
#pragma once

#include <cstdint>

struct rte_mbuf;

namespace mbox::dataplane {

struct ForwardingState;
struct InboundSa;
struct OutboundSa;
struct NatDump;

// control thread -> worker
struct Command {
    enum class Kind : uint8_t {
        SetForwardingState,  // state: the new immutable snapshot; the old one comes back as Retired
        NeighbourUpdate,     // ip/mac/port: a resolved next hop; flushes packets waiting for it
        NeighbourDelete,     // ip: forget the next hop
        Transmit,            // packet/port: send a frame the control thread built (ARP)
        Originate,           // packet: an IPv4 datagram the control thread built (IKE): route, resolve, send
        InboundSaAdd,        // inbound: start accepting its SPI
        InboundSaDelete,     // inbound: forget it; comes back as RetiredInboundSa
        OutboundSaAdd,       // outbound: add its policies (local-net x remote-net)
        OutboundSaDelete,    // outbound: remove its policies; comes back as RetiredOutboundSa
        OutboundSaReplace,   // outbound: switch the policies of outbound->replaced to it in one step;
                             // the replaced SA comes back as RetiredOutboundSa
        HandoffBarrier,      // token: run every hand-off queued so far, then answer BarrierPassed
        NatDump,             // nat_dump: copy the live NAT sessions into it, then set its `done`
        NatClear,            // forget every NAT session
    };
    Kind kind;
    uint8_t mac[6];
    uint16_t port;
    uint32_t ip;  // host byte order
    union {
        const ForwardingState* state;
        rte_mbuf* packet;
        InboundSa* inbound;
        OutboundSa* outbound;
        NatDump* nat_dump;
        const void* token;
    };
};
static_assert(sizeof(Command) == 24);

// worker -> control thread
struct Punt {
    enum class Kind : uint8_t {
        Packet,        // packet: a frame for the control plane (ARP); packet->port is the ingress port
        Ike,           // packet: UDP 500, or UDP 4500 with the non-ESP marker, to one of our addresses,
                       // headers checked (IPv4 and UDP lengths agree); possibly several segments
        Resolve,       // ip/port: a packet is waiting for this next hop's MAC
        Retired,             // state: a snapshot this worker no longer uses
        RetiredInboundSa,    // inbound: an SA this worker no longer references
        RetiredOutboundSa,   // outbound: likewise
        BarrierPassed,       // token: this worker ran every hand-off queued before the barrier
    };
    Kind kind;
    uint16_t port;
    uint32_t ip;
    union {
        const ForwardingState* state;
        rte_mbuf* packet;
        const InboundSa* inbound;
        const OutboundSa* outbound;
        const void* token;
    };
};
static_assert(sizeof(Punt) == 16);

// worker -> worker: a packet for an SA or a NAT mapping another worker owns (one ring
// per owner, multi-producer: every other worker may hand off to it).
//
// SA pointers in hand-offs: only Encap and Decap carry one, and only one the producer
// found in its own SaTable (never one it received in a hand-off). That is what makes
// SA retirement safe (Dataplane::retire): once every worker has deleted an SA from its
// table, no new hand-off can name it, and a HandoffBarrier runs the ones already queued.
struct Handoff {
    enum class Kind : uint8_t {
        Encap,   // sa: the OutboundSa to encapsulate with
        Decap,   // sa: the InboundSa, or null when not looked up yet
        NatOut,  // routed (out_port, next_hop): source NAT on the owner
        NatIn,   // as classified: destination NAT on the owner, then routing; tunnel_spi:
                 // the inbound SA it came out of (from_tunnel), looked up again by the owner
    };
    rte_mbuf* packet;
    union {
        void* sa;
        struct {
            uint32_t next_hop;
            uint16_t out_port;
        } route;
        uint32_t tunnel_spi;
    };
    Kind kind;
    bool from_tunnel;
    uint16_t in_port;
};
static_assert(sizeof(Handoff) == 24);

}  // namespace mbox::dataplane

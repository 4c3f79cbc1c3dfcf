// Datagrams the gateway itself originates: the control thread's IKE messages and NAT-T
// keepalives. The control thread builds the whole IPv4/UDP datagram in a packet buffer
// (build_udp_datagram) and hands it to a worker (Command::Kind::Originate), which
// routes it and sends it through the neighbour stage (held while ARP resolves).
//
// Such a datagram never meets source NAT (it comes from our own address) nor the
// outbound IPsec policy: IKE to a peer whose address lies in a remote network must
// leave in the clear. Over the egress MTU it is fragmented (DF is clear).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/worker_context.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace mbox::dataplane {

struct UdpDatagram {
    uint32_t source = 0, destination = 0;  // host order
    uint16_t source_port = 0, destination_port = 0;
    std::span<const uint8_t> payload;
    bool non_esp_marker = false;  // four zero bytes before the payload (IKE on UDP 4500, RFC 3948 §2.2)
};

// The largest payload build_udp_datagram fits in one buffer of `pool`.
size_t max_udp_payload(const rte_mempool* pool, bool non_esp_marker);

// [Ethernet slot][IPv4: TTL 64, DF clear, `ip_id`, checksum][UDP, checksum][marker][payload]
// in one buffer from `pool`; nullptr when no buffer is free or the payload is too large.
rte_mbuf* build_udp_datagram(rte_mempool* pool, const UdpDatagram& d, uint16_t ip_id);

// Worker side of Command::Kind::Originate: routes `m` (built as above) and sends it or
// holds it for ARP; counted `originated`, or dropped and counted by reason.
void originate(WorkerContext& ctx, rte_mbuf* m);

}  // namespace mbox::dataplane

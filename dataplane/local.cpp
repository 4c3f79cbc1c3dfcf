#include "dataplane/local.hpp"

#include <rte_cycles.h>
#include <rte_udp.h>

#include "dataplane/esp.hpp"
#include "dataplane/fragment.hpp"
#include "dataplane/icmp.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/route.hpp"

namespace mbox::dataplane {

namespace {

// UDP 4500 (RFC 3948 §2.2): a single 0xff byte is a NAT keepalive; four zero bytes (the
// non-ESP marker) start an IKE message; anything else is ESP.
Next udp_to_us(WorkerContext& ctx, rte_mbuf* m) {
    const rte_ipv4_hdr* ip = ipv4_header(m);
    const uint16_t header = ipv4_header_length(ip);
    if (ipv4_total_length(ip) < header + sizeof(rte_udp_hdr)) return ctx.drop(Drop::local_unsupported), Next::Drop;
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(reinterpret_cast<const uint8_t*>(ip) + header);
    if (rte_be_to_cpu_16(udp->dst_port) != kIkeNattPort) return ctx.drop(Drop::local_unsupported), Next::Drop;
    const uint32_t payload = ipv4_total_length(ip) - header - sizeof(rte_udp_hdr);
    const auto* data = reinterpret_cast<const uint8_t*>(udp + 1);
    if (payload == 1 && data[0] == 0xff) return ctx.drop(Drop::nat_keepalive), Next::Drop;
    if (payload >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 0)
        return ctx.drop(Drop::local_unsupported), Next::Drop;  // IKE: not served yet
    return Next::EspIn;
}

// A fragment to us. ESP, and UDP because ESP-in-UDP is UDP until the port is seen, is
// reassembled before decapsulation (RFC 4303 §3.3.5); anything else we would have to
// reassemble only to drop it. Returns the whole packet, or nullptr with `next` set.
rte_mbuf* reassemble(WorkerContext& ctx, rte_mbuf* m, Next& next) {
    const uint8_t protocol = ipv4_header(m)->next_proto_id;
    if (ctx.reassembly == nullptr || (protocol != IPPROTO_ESP && protocol != IPPROTO_UDP)) {
        ctx.drop(Drop::local_fragment);
        next = Next::Drop;
        return nullptr;
    }
    next = Next::Consumed;  // held until the datagram is whole, or dropped and counted
    return ctx.reassembly->add(*ctx.counters, m, rte_rdtsc());
}

Next deliver_one(WorkerContext& ctx, Burst& burst, uint16_t i) {
    rte_mbuf* m = burst.packets[i];
    if (rte_ipv4_frag_pkt_is_fragmented(ipv4_header(m))) {
        Next next;
        m = reassemble(ctx, m, next);
        if (m == nullptr) return next;
        burst.packets[i] = m;
    }
    const rte_ipv4_hdr* ip = ipv4_header(m);
    if (ip->next_proto_id == IPPROTO_ESP) return Next::EspIn;
    if (ip->next_proto_id == IPPROTO_UDP) return udp_to_us(ctx, m);
    if (ip->next_proto_id != IPPROTO_ICMP) return ctx.drop(Drop::local_unsupported), Next::Drop;

    const uint16_t header = ipv4_header_length(ip);
    if (ipv4_total_length(ip) < header + 1u) return ctx.drop(Drop::icmp_truncated), Next::Drop;
    const uint8_t type = *(reinterpret_cast<const uint8_t*>(ip) + header);
    if (type != RTE_IP_ICMP_ECHO_REQUEST) return ctx.drop(Drop::local_unsupported), Next::Drop;

    const Next next = icmp_echo_reply(ctx, m);
    return next == Next::Forward ? route_originated(ctx, burst, i) : next;
}

}  // namespace

void deliver_local(WorkerContext& ctx, Burst& burst) {
    for (uint16_t i = 0; i < burst.count; ++i) {
        if (burst.next[i] == Next::Local) burst.next[i] = deliver_one(ctx, burst, i);
    }
}

}  // namespace mbox::dataplane

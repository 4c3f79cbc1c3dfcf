#include "dataplane/local.hpp"

#include <rte_cycles.h>
#include <rte_udp.h>

#include <algorithm>

#include "dataplane/esp.hpp"
#include "dataplane/fragment.hpp"
#include "dataplane/icmp.hpp"
#include "dataplane/punt.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/route.hpp"

namespace mbox::dataplane {

namespace {

// RFC 7296 §3.1: the fixed IKE header, the shortest message there is.
constexpr uint32_t kIkeHeaderLength = 28;
constexpr uint32_t kNonEspMarkerLength = 4;

// UDP to one of our addresses. Port 500 is IKE; on 4500 (RFC 3948 §2.2) a single 0xff
// byte is a NAT keepalive, four zero bytes (the non-ESP marker) start an IKE message,
// anything else is ESP. IKE goes to the control thread whole (a reassembled datagram
// may be several segments: read through rte_pktmbuf_read, never past the first).
Next udp_to_us(WorkerContext& ctx, Burst& burst, uint16_t i) {
    rte_mbuf* m = burst.packets[i];
    const rte_ipv4_hdr* ip = ipv4_header(m);
    const uint16_t header = ipv4_header_length(ip);
    const uint32_t length = ipv4_total_length(ip) - header;  // classify checked total >= header
    if (length < sizeof(rte_udp_hdr)) return ctx.drop(Drop::udp_bad_length), Next::Drop;
    struct {
        rte_udp_hdr udp;
        uint8_t data[kNonEspMarkerLength];
    } copy;
    const auto* head = static_cast<const uint8_t*>(rte_pktmbuf_read(
        m, sizeof(rte_ether_hdr) + header, std::min<uint32_t>(length, sizeof copy), &copy));
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(head);
    const uint16_t port = rte_be_to_cpu_16(udp->dst_port);
    if (port != kIkePort && port != kIkeNattPort) return ctx.drop(Drop::local_unsupported), Next::Drop;
    if (rte_be_to_cpu_16(udp->dgram_len) != length) return ctx.drop(Drop::udp_bad_length), Next::Drop;
    const uint32_t payload = length - sizeof(rte_udp_hdr);
    const uint8_t* data = head + sizeof(rte_udp_hdr);

    uint32_t ike_length = payload;
    if (port == kIkeNattPort) {
        if (payload == 1 && data[0] == 0xff) return ctx.drop(Drop::nat_keepalive), Next::Drop;
        const bool marker = payload >= kNonEspMarkerLength && data[0] == 0 && data[1] == 0 && data[2] == 0 &&
                            data[3] == 0;
        if (!marker) return Next::EspIn;
        ike_length = payload - kNonEspMarkerLength;
    }
    // IKE out of a tunnel: the engine's answers never go back through one (send_udp
    // bypasses the outbound policy), so it is not served.
    if (burst.sa[i] != nullptr) return ctx.drop(Drop::local_unsupported), Next::Drop;
    if (ike_length < kIkeHeaderLength) return ctx.drop(Drop::ike_truncated), Next::Drop;
    punt_ike(ctx, burst.in_port[i], m);
    return Next::Consumed;
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
    if (ip->next_proto_id == IPPROTO_ESP || ip->next_proto_id == IPPROTO_UDP) {
        const Next next = ip->next_proto_id == IPPROTO_ESP ? Next::EspIn : udp_to_us(ctx, burst, i);
        // A reassembled datagram may span several buffers: IKE goes to the control
        // thread as it is; ESP decapsulation works on contiguous bytes.
        if (next == Next::EspIn && m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0)
            return ctx.drop(Drop::reassembly_too_large), Next::Drop;
        return next;
    }
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

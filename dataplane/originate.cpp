#include "dataplane/originate.hpp"

#include <rte_mbuf.h>
#include <rte_udp.h>

#include <algorithm>
#include <cstring>

#include "dataplane/fragment.hpp"
#include "dataplane/neighbour.hpp"
#include "dataplane/packet.hpp"

namespace mbox::dataplane {

namespace {

constexpr uint8_t kTtl = 64;
constexpr size_t kMarkerLength = 4;
constexpr size_t kHeaders = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr);

Next drop(WorkerContext& ctx, Drop reason) {
    ctx.drop(reason);
    return Next::Drop;
}

Next route_and_send(WorkerContext& ctx, rte_mbuf* m) {
    if (ctx.state == nullptr) return drop(ctx, Drop::originate_no_route);
    const uint32_t destination = ipv4_dst(ipv4_header(m));
    const NextHop* hop = ctx.state->routes->lookup(destination);
    if (hop == nullptr || (hop->kind != NextHop::Kind::Connected && hop->kind != NextHop::Kind::Gateway))
        return drop(ctx, Drop::originate_no_route);
    const PortState& out = ctx.state->ports[hop->port];
    if (!out.enabled) return drop(ctx, Drop::interface_disabled);
    const uint32_t next_hop = hop->kind == NextHop::Kind::Gateway ? hop->gateway : destination;
    if (ipv4_total_length(ipv4_header(m)) <= out.mtu) {
        const Next next = send_or_hold(ctx, m, hop->port, next_hop);
        if (next != Next::Drop) ++ctx.counters->originated;
        return next;
    }
    rte_mbuf* fragments[kMaxFragments];
    const uint16_t count = ipv4_fragment(m, out.mtu, ctx.pool, fragments);
    if (count == 0) return drop(ctx, Drop::originate_fragment_failed);
    ++ctx.counters->originated;
    ++ctx.counters->fragmented;
    ctx.counters->fragments_created += count;
    for (uint16_t k = 0; k < count; ++k)
        if (send_or_hold(ctx, fragments[k], hop->port, next_hop) == Next::Drop)
            rte_pktmbuf_free(fragments[k]);  // counted by the neighbour stage
    return Next::Consumed;
}

}  // namespace

size_t max_udp_payload(const rte_mempool* pool, bool non_esp_marker) {
    const size_t room = rte_pktmbuf_data_room_size(const_cast<rte_mempool*>(pool)) - RTE_PKTMBUF_HEADROOM;
    const size_t used = kHeaders + (non_esp_marker ? kMarkerLength : 0);
    return std::min<size_t>(room > used ? room - used : 0, UINT16_MAX - sizeof(rte_ipv4_hdr) - sizeof(rte_udp_hdr));
}

rte_mbuf* build_udp_datagram(rte_mempool* pool, const UdpDatagram& d, uint16_t ip_id) {
    if (d.payload.size() > max_udp_payload(pool, d.non_esp_marker)) return nullptr;
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) return nullptr;
    const size_t data = (d.non_esp_marker ? kMarkerLength : 0) + d.payload.size();
    auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
    if (rte_pktmbuf_append(m, static_cast<uint16_t>(kHeaders + data)) == nullptr) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    std::memset(frame, 0, sizeof(rte_ether_hdr));  // written by the neighbour stage
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(frame + sizeof(rte_ether_hdr));
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    auto* body = reinterpret_cast<uint8_t*>(udp + 1);
    if (d.non_esp_marker) std::memset(body, 0, kMarkerLength);
    if (!d.payload.empty()) std::memcpy(body + (d.non_esp_marker ? kMarkerLength : 0), d.payload.data(), d.payload.size());

    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr) + data));
    ip->packet_id = rte_cpu_to_be_16(ip_id);
    ip->fragment_offset = 0;  // DF clear: a path with a smaller MTU may fragment it
    ip->time_to_live = kTtl;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = rte_cpu_to_be_32(d.source);
    ip->dst_addr = rte_cpu_to_be_32(d.destination);
    ipv4_set_checksum(ip);
    udp->src_port = rte_cpu_to_be_16(d.source_port);
    udp->dst_port = rte_cpu_to_be_16(d.destination_port);
    udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_udp_hdr) + data));
    udp->dgram_cksum = 0;
    udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);  // never 0: 0xffff stands for a zero sum (RFC 768)
    return m;
}

void originate(WorkerContext& ctx, rte_mbuf* m) {
    if (route_and_send(ctx, m) == Next::Drop) rte_pktmbuf_free(m);
}

}  // namespace mbox::dataplane

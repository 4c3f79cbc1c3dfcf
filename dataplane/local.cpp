#include "dataplane/local.hpp"

#include "dataplane/icmp.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/route.hpp"

namespace mbox::dataplane {

namespace {

Next deliver_one(WorkerContext& ctx, Burst& burst, uint16_t i) {
    rte_mbuf* m = burst.packets[i];
    const rte_ipv4_hdr* ip = ipv4_header(m);
    if ((rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) != 0)
        return ctx.drop(Drop::local_fragment), Next::Drop;
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

#include "dataplane/classify.hpp"

#include <cstring>

#include "dataplane/packet.hpp"

namespace mbox::dataplane {

namespace {

constexpr uint16_t kArpPacketLength = 28;  // Ethernet/IPv4 ARP (RFC 826)

bool is_broadcast(const rte_ether_addr& a) { return rte_is_broadcast_ether_addr(&a); }

Next check_ipv4(WorkerContext& ctx, rte_mbuf* m) {
    if (const auto reason = ipv4_check(m)) return ctx.drop(*reason), Next::Drop;
    return Next::Forward;
}

Next classify_one(WorkerContext& ctx, const PortState& port, rte_mbuf* m) {
    if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr)) return ctx.drop(Drop::eth_truncated), Next::Drop;
    const rte_ether_hdr* eth = eth_header(m);
    const bool broadcast = is_broadcast(eth->dst_addr);
    if (!broadcast && std::memcmp(eth->dst_addr.addr_bytes, port.mac, RTE_ETHER_ADDR_LEN) != 0)
        return ctx.drop(Drop::eth_not_for_us), Next::Drop;

    switch (rte_be_to_cpu_16(eth->ether_type)) {
    case RTE_ETHER_TYPE_ARP:
        if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + kArpPacketLength)
            return ctx.drop(Drop::arp_truncated), Next::Drop;
        return Next::Punt;
    case RTE_ETHER_TYPE_IPV4:
        // IPv4 in a broadcast frame is never routed (RFC 1812 4.2.2.11, 5.3.4).
        if (broadcast) return ctx.drop(Drop::ipv4_bad_destination), Next::Drop;
        return check_ipv4(ctx, m);
    default:
        return ctx.drop(Drop::eth_unsupported_type), Next::Drop;
    }
}

}  // namespace

void classify(WorkerContext& ctx, uint16_t in_port, Burst& burst) {
    const PortState& port = ctx.state->ports[in_port];
    // The headers of the whole burst start loading together: one packet ahead left
    // ipv4_check waiting on nearly every header it read.
    for (uint16_t i = 0; i < burst.count; ++i) rte_prefetch0(rte_pktmbuf_mtod(burst.packets[i], void*));
    for (uint16_t i = 0; i < burst.count; ++i) {
        if (!port.enabled) {
            ctx.drop(Drop::interface_disabled);
            burst.next[i] = Next::Drop;
            continue;
        }
        burst.next[i] = classify_one(ctx, port, burst.packets[i]);
    }
}

}  // namespace mbox::dataplane

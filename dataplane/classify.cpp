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

std::optional<Drop> ipv4_check(rte_mbuf* m) {
    const uint32_t frame = rte_pktmbuf_data_len(m);
    if (frame < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) return Drop::ipv4_truncated;
    rte_ipv4_hdr* ip = ipv4_header(m);
    if ((ip->version_ihl >> 4) != 4) return Drop::ipv4_bad_version;
    const uint16_t header = ipv4_header_length(ip);
    const uint16_t total = ipv4_total_length(ip);
    if (header < sizeof(rte_ipv4_hdr) || header > total) return Drop::ipv4_bad_header_length;
    if (sizeof(rte_ether_hdr) + total > frame) return Drop::ipv4_truncated;
    if (!ipv4_checksum_ok(ip, header)) return Drop::ipv4_bad_checksum;
    if (is_martian_source(ipv4_src(ip))) return Drop::ipv4_bad_source;
    if (is_martian_destination(ipv4_dst(ip))) return Drop::ipv4_bad_destination;
    // Ethernet pads short frames: keep only what the IP header says is the packet.
    const uint32_t excess = frame - sizeof(rte_ether_hdr) - total;
    if (excess > 0) rte_pktmbuf_trim(m, static_cast<uint16_t>(excess));
    return std::nullopt;
}

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

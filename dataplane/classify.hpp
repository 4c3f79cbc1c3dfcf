// Stage 1: check the Ethernet and IPv4 headers against the bytes received and sort
// each packet: ARP to the control thread, IPv4 to routing, everything else dropped.
#pragma once

#include <optional>

#include "dataplane/packet.hpp"
#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// Checks the IPv4 header that follows the Ethernet header slot against the bytes in
// the (first) segment and trims Ethernet padding. Returns the reason to drop, if any
// (not counted: the caller counts). Also used on packets that come out of a tunnel.
// Always inlined: called out of line, the std::optional came back through the stack
// as two narrow stores read by one wide load, a store-forwarding stall that took half
// of this function's samples in the profile.
__rte_always_inline std::optional<Drop> ipv4_check(rte_mbuf* m) {
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

// Sets burst.next[i] to Punt, Forward or Drop (counted) for every packet.
void classify(WorkerContext& ctx, uint16_t in_port, Burst& burst);

}  // namespace mbox::dataplane

// Small header helpers shared by the pipeline stages. Everything on the wire is in
// network byte order; these helpers say so in their names where it matters.
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>

namespace mbox::dataplane {

inline rte_ether_hdr* eth_header(rte_mbuf* m) { return rte_pktmbuf_mtod(m, rte_ether_hdr*); }

inline rte_ipv4_hdr* ipv4_header(rte_mbuf* m) {
    return rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
}

inline uint32_t ipv4_src(const rte_ipv4_hdr* ip) { return rte_be_to_cpu_32(ip->src_addr); }
inline uint32_t ipv4_dst(const rte_ipv4_hdr* ip) { return rte_be_to_cpu_32(ip->dst_addr); }
inline uint16_t ipv4_header_length(const rte_ipv4_hdr* ip) { return (ip->version_ihl & 0x0f) * 4; }
inline uint16_t ipv4_total_length(const rte_ipv4_hdr* ip) { return rte_be_to_cpu_16(ip->total_length); }

// Decrements TTL and patches the checksum incrementally with RFC 1624 eqn. 3,
// HC' = ~(~HC + ~m + m'), which never turns a valid +0 into -0 (0xffff).
inline void ipv4_decrement_ttl(rte_ipv4_hdr* ip) {
    const uint16_t old_word = static_cast<uint16_t>(ip->time_to_live << 8 | ip->next_proto_id);
    --ip->time_to_live;
    const uint16_t new_word = static_cast<uint16_t>(ip->time_to_live << 8 | ip->next_proto_id);
    uint32_t sum = static_cast<uint16_t>(~rte_be_to_cpu_16(ip->hdr_checksum));
    sum += static_cast<uint16_t>(~old_word);
    sum += new_word;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    ip->hdr_checksum = rte_cpu_to_be_16(static_cast<uint16_t>(~sum));
}

// Whether an IPv4 header of `length` bytes sums to 0xffff (RFC 1071). The 20-byte header
// of nearly every packet is summed as five 32-bit words instead of DPDK's loop over
// 16-bit ones: the data path checks every header it receives.
inline bool ipv4_checksum_ok(const rte_ipv4_hdr* ip, uint16_t length) {
    if (length != sizeof(rte_ipv4_hdr)) return rte_raw_cksum(ip, length) == 0xffff;
    uint32_t words[5];
    __builtin_memcpy(words, ip, sizeof words);
    uint64_t sum = uint64_t{words[0]} + words[1] + words[2] + words[3] + words[4];
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

inline void ipv4_set_checksum(rte_ipv4_hdr* ip) {
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
}

// Internet checksum of an arbitrary buffer, ready to store (already complemented).
inline uint16_t internet_checksum(const void* data, size_t len) {
    const uint16_t sum = rte_raw_cksum(data, len);
    return sum == 0xffff ? sum : static_cast<uint16_t>(~sum);
}

inline bool is_martian_source(uint32_t a) {
    const uint8_t first = a >> 24;
    return a == 0 || a == 0xffffffff || first == 127 || (first >= 224);
}

inline bool is_martian_destination(uint32_t a) {
    const uint8_t first = a >> 24;
    return a == 0 || first == 127 || first >= 224;
}

}  // namespace mbox::dataplane

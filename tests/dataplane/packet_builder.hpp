// Frames written byte by byte for the packet-level tests, and readers for what comes
// out. Deliberately independent of DPDK and of the code under test: checksums here are
// computed from RFC 1071 directly, so a wrong checksum in the data plane cannot be
// hidden by the same helper verifying it.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace mbox::testing {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

inline constexpr size_t kEthHeader = 14;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint16_t kDontFragment = 0x4000;
inline constexpr Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

inline uint16_t get16(std::span<const uint8_t> b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
inline uint32_t get32(std::span<const uint8_t> b, size_t at) {
    return uint32_t{get16(b, at)} << 16 | get16(b, at + 2);
}
inline void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}
inline void put32(Bytes& b, size_t at, uint32_t v) {
    put16(b, at, static_cast<uint16_t>(v >> 16));
    put16(b, at + 2, static_cast<uint16_t>(v));
}

// RFC 1071 one's-complement sum, folded to 16 bits (not complemented).
inline uint16_t ones_sum(std::span<const uint8_t> data) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < data.size(); i += 2) sum += get16(data, i);
    if (data.size() % 2 != 0) sum += uint32_t{data.back()} << 8;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}
// The checksum to store: the complement of the sum computed with the field at zero.
inline uint16_t checksum_of(std::span<const uint8_t> data) { return static_cast<uint16_t>(~ones_sum(data)); }
// A region carrying its checksum verifies when it sums to 0xffff.
inline bool checksum_ok(std::span<const uint8_t> data) { return ones_sum(data) == 0xffff; }

struct Ipv4Header {
    uint8_t version_ihl = 0x45;
    uint8_t tos = 0;
    uint16_t id = 0x1234;
    uint16_t flags_fragment = 0;
    uint8_t ttl = 64;
    uint8_t protocol = kProtoUdp;
    uint32_t src = 0;
    uint32_t dst = 0;
    Bytes options;                        // appended after the fixed 20 bytes
    std::optional<uint16_t> total_length;  // default: header + payload
};

// An IPv4 packet with a correct header checksum (over the header as its IHL says).
inline Bytes ipv4(const Ipv4Header& h, std::span<const uint8_t> payload) {
    // Sized once and filled in place (GCC 12 warns falsely about vector::insert here).
    const size_t header = 20 + h.options.size();
    Bytes b(header + payload.size(), 0);
    b[0] = h.version_ihl;
    b[1] = h.tos;
    put16(b, 2, h.total_length.value_or(static_cast<uint16_t>(header + payload.size())));
    put16(b, 4, h.id);
    put16(b, 6, h.flags_fragment);
    b[8] = h.ttl;
    b[9] = h.protocol;
    put32(b, 12, h.src);
    put32(b, 16, h.dst);
    std::copy(h.options.begin(), h.options.end(), b.begin() + 20);
    const size_t ihl = std::min<size_t>(header, (h.version_ihl & 0x0f) * 4u);
    put16(b, 10, checksum_of(std::span(b).first(ihl)));
    std::copy(payload.begin(), payload.end(), b.begin() + static_cast<ptrdiff_t>(header));
    return b;
}

inline Bytes udp(uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> data) {
    Bytes b(8 + data.size(), 0);
    put16(b, 0, src_port);
    put16(b, 2, dst_port);
    put16(b, 4, static_cast<uint16_t>(8 + data.size()));
    // Checksum 0: none (RFC 768), which keeps the forwarded bytes easy to compare.
    std::copy(data.begin(), data.end(), b.begin() + 8);
    return b;
}

// ICMP message with id/seq (echo) or the "unused" word (errors) and a correct checksum.
inline Bytes icmp(uint8_t type, uint8_t code, uint16_t id, uint16_t seq, std::span<const uint8_t> data) {
    Bytes b(8 + data.size(), 0);
    b[0] = type;
    b[1] = code;
    put16(b, 4, id);
    put16(b, 6, seq);
    std::copy(data.begin(), data.end(), b.begin() + 8);
    put16(b, 2, checksum_of(b));
    return b;
}

// An Ethernet II frame; pad_to pads with zeros (60: the Ethernet minimum without FCS).
inline Bytes ethernet(const Mac& dst, const Mac& src, uint16_t type, std::span<const uint8_t> payload,
                      size_t pad_to = 0) {
    Bytes b(std::max(kEthHeader + payload.size(), pad_to), 0);
    std::copy(dst.begin(), dst.end(), b.begin());
    std::copy(src.begin(), src.end(), b.begin() + 6);
    put16(b, 12, type);
    std::copy(payload.begin(), payload.end(), b.begin() + kEthHeader);
    return b;
}

// Ethernet/IPv4 ARP (RFC 826), padded to 60 bytes.
inline Bytes arp(uint16_t op, const Mac& eth_dst, const Mac& sender_mac, uint32_t sender_ip, const Mac& target_mac,
                 uint32_t target_ip) {
    Bytes a(28, 0);
    put16(a, 0, 1);
    put16(a, 2, kEtherTypeIpv4);
    a[4] = 6;
    a[5] = 4;
    put16(a, 6, op);
    std::copy(sender_mac.begin(), sender_mac.end(), a.begin() + 8);
    put32(a, 14, sender_ip);
    std::copy(target_mac.begin(), target_mac.end(), a.begin() + 18);
    put32(a, 24, target_ip);
    return ethernet(eth_dst, sender_mac, kEtherTypeArp, a, 60);
}

// ---- reading a received frame ----

inline Mac eth_dst(std::span<const uint8_t> f) { return {f[0], f[1], f[2], f[3], f[4], f[5]}; }
inline Mac eth_src(std::span<const uint8_t> f) { return {f[6], f[7], f[8], f[9], f[10], f[11]}; }
inline uint16_t eth_type(std::span<const uint8_t> f) { return get16(f, 12); }

// The IPv4 packet inside a frame (from the IP header to the frame's end).
inline std::span<const uint8_t> ip_of(std::span<const uint8_t> f) { return f.subspan(kEthHeader); }
inline size_t ip_header_length(std::span<const uint8_t> ip) { return (ip[0] & 0x0fu) * 4u; }
inline std::span<const uint8_t> ip_header(std::span<const uint8_t> ip) { return ip.first(ip_header_length(ip)); }
inline std::span<const uint8_t> l4_of(std::span<const uint8_t> ip) {
    return ip.subspan(ip_header_length(ip), get16(ip, 2) - ip_header_length(ip));
}

}  // namespace mbox::testing

// Reading and rewriting the flow fields of an IPv4 packet for NAT: addresses, TCP/UDP
// ports, ICMP echo identifiers, and the packet embedded in an ICMP error. All rewrites
// fix the IPv4 header checksum and the L4 checksum incrementally (RFC 1624); a UDP
// checksum of zero (none) stays zero. Bytes are network order in memory; every value
// in these structs is host order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mbox::nat {

enum class FlowKind : uint8_t {
    Ports,        // TCP or UDP with its ports
    IcmpEcho,     // ICMP echo request/reply: the identifier is the "port" both ways
    IcmpError,    // ICMP destination unreachable (3), time exceeded (11), parameter problem (12)
    AddressOnly,  // any other protocol (or another ICMP type): addresses only
    Fragment,     // a fragment (MF set or offset > 0) of TCP/UDP/ICMP: no ports to read
    Malformed,    // headers shorter than they say, or than the bytes given
};

struct Flow {
    FlowKind kind = FlowKind::Malformed;
    uint8_t protocol = 0;          // the IP protocol of this packet
    uint32_t source = 0;
    uint32_t destination = 0;
    uint16_t source_port = 0;      // Ports: TCP/UDP source port; IcmpEcho: identifier; else 0
    uint16_t destination_port = 0; // Ports: destination port; IcmpEcho: identifier; else 0
    uint8_t tcp_flags = 0;         // TCP only
    bool echo_reply = false;       // IcmpEcho: type 0 (reply) rather than 8 (request)
    // IcmpError: the embedded (offending) packet as it was sent. Its kind is Ports or
    // IcmpEcho (else the error is AddressOnly: nothing to translate inside).
    FlowKind embedded_kind = FlowKind::Malformed;
    uint8_t embedded_protocol = 0;
    uint32_t embedded_source = 0;
    uint32_t embedded_destination = 0;
    uint16_t embedded_source_port = 0;
    uint16_t embedded_destination_port = 0;
};

// `ip` points at the IPv4 header; `length` is how many bytes are readable from there
// (the packet may be shorter than the buffer, never longer). Checks the IHL and
// total length against `length`, and needs the first 8 bytes of the L4 header
// (for an ICMP error: the embedded IPv4 header and the first 8 bytes after it).
Flow read_flow(const uint8_t* ip, size_t length);

// Source NAT on the way out: the packet's source address and (Ports, IcmpEcho) source
// port / identifier become `address`/`port`. AddressOnly: the address only.
void rewrite_source(uint8_t* ip, size_t length, const Flow& flow, uint32_t address, uint16_t port);

// The reverse on the way in: destination address and port / identifier.
void rewrite_destination(uint8_t* ip, size_t length, const Flow& flow, uint32_t address, uint16_t port);

// An ICMP error arriving from outside about a packet we translated on the way out:
// the embedded packet's source (address and port/identifier) and the outer
// destination become the internal endpoint `address`/`port`; the embedded IPv4
// checksum, the embedded UDP checksum (if the 8 bytes include a nonzero one) and the
// ICMP checksum are fixed.
void rewrite_icmp_error_inbound(uint8_t* ip, size_t length, const Flow& flow, uint32_t address, uint16_t port);

// An ICMP error an inside host sends about a packet that reached it translated: the
// embedded packet's destination and the outer source become the external endpoint.
void rewrite_icmp_error_outbound(uint8_t* ip, size_t length, const Flow& flow, uint32_t address, uint16_t port);

}  // namespace mbox::nat

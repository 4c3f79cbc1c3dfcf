#include "nat/packet.hpp"

namespace mbox::nat {
namespace {

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;

// IPv4 header (RFC 791 §3.1).
constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kTotalLength = 2;
constexpr size_t kFragment = 6;
constexpr size_t kProtocol = 9;
constexpr size_t kHeaderChecksum = 10;
constexpr uint16_t kMoreFragments = 0x2000;
constexpr uint16_t kOffsetMask = 0x1fff;

// TCP (RFC 9293 §3.1), UDP (RFC 768), ICMP (RFC 792).
constexpr size_t kTcpMinHeader = 20;
constexpr size_t kTcpChecksum = 16;
constexpr size_t kTcpChecksumEnd = kTcpChecksum + 2;
constexpr size_t kTcpDataOffset = 12;
constexpr size_t kTcpFlags = 13;
constexpr size_t kUdpChecksum = 6;
constexpr size_t kIcmpChecksum = 2;
constexpr size_t kIcmpIdentifier = 4;
// The UDP header, the ICMP header, and what an ICMP error quotes of the offending
// datagram beyond its IP header (RFC 792: "the first 64 bits").
constexpr size_t kL4Min = 8;

constexpr uint8_t kEchoReply = 0;
constexpr uint8_t kEchoRequest = 8;
constexpr uint8_t kUnreachable = 3;
constexpr uint8_t kTimeExceeded = 11;
constexpr uint8_t kParameterProblem = 12;

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t load32(const uint8_t* p) { return uint32_t{load16(p)} << 16 | load16(p + 2); }
void store16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

// ---- reading ----

// The IPv4 header length at `ip` if the header is sound within `length` bytes:
// version 4, IHL >= 5, all of it present. 0 otherwise.
size_t header_length(const uint8_t* ip, size_t length) {
    if (length < kIpv4MinHeader || ip[0] >> 4 != 4) return 0;
    const size_t ihl = (ip[0] & 0x0fu) * 4u;
    return ihl >= kIpv4MinHeader && ihl <= length ? ihl : 0;
}

bool is_echo(uint8_t type) { return type == kEchoRequest || type == kEchoReply; }
bool is_error(uint8_t type) { return type == kUnreachable || type == kTimeExceeded || type == kParameterProblem; }

// Ports, and the TCP flags; a TCP header must be whole, as its data offset says.
FlowKind read_ports(Flow& flow, const uint8_t* l4, size_t size) {
    if (flow.protocol == kProtoTcp) {
        if (size < kTcpMinHeader) return FlowKind::Malformed;
        const size_t data_offset = (l4[kTcpDataOffset] >> 4) * 4u;
        if (data_offset < kTcpMinHeader || data_offset > size) return FlowKind::Malformed;
        flow.tcp_flags = l4[kTcpFlags];
    } else if (size < kL4Min) {
        return FlowKind::Malformed;
    }
    flow.source_port = load16(l4);
    flow.destination_port = load16(l4 + 2);
    return FlowKind::Ports;
}

// The datagram an ICMP error quotes (RFC 792; RFC 5508): its IPv4 header and 8
// bytes after it. Only a first fragment quotes an L4 header; an error about an error
// (which RFC 1122 §3.2.2 forbids sending) or about another protocol has nothing to
// translate inside.
FlowKind read_embedded(Flow& flow, const uint8_t* inner, size_t size) {
    const size_t ihl = header_length(inner, size);
    if (ihl == 0 || size - ihl < kL4Min) return FlowKind::Malformed;
    flow.embedded_protocol = inner[kProtocol];
    flow.embedded_source = load32(inner + 12);
    flow.embedded_destination = load32(inner + 16);
    flow.embedded_kind = FlowKind::AddressOnly;
    const uint8_t* l4 = inner + ihl;
    if ((load16(inner + kFragment) & kOffsetMask) != 0) return FlowKind::AddressOnly;
    if (flow.embedded_protocol == kProtoTcp || flow.embedded_protocol == kProtoUdp) {
        flow.embedded_kind = FlowKind::Ports;
        flow.embedded_source_port = load16(l4);
        flow.embedded_destination_port = load16(l4 + 2);
    } else if (flow.embedded_protocol == kProtoIcmp && is_echo(l4[0])) {
        flow.embedded_kind = FlowKind::IcmpEcho;
        flow.embedded_source_port = flow.embedded_destination_port = load16(l4 + kIcmpIdentifier);
    } else {
        return FlowKind::AddressOnly;
    }
    return FlowKind::IcmpError;
}

FlowKind read_icmp(Flow& flow, const uint8_t* l4, size_t size) {
    if (size < kL4Min) return FlowKind::Malformed;
    const uint8_t type = l4[0];
    if (is_echo(type)) {
        flow.echo_reply = type == kEchoReply;
        flow.source_port = flow.destination_port = load16(l4 + kIcmpIdentifier);
        return FlowKind::IcmpEcho;
    }
    if (is_error(type)) return read_embedded(flow, l4 + kL4Min, size - kL4Min);
    return FlowKind::AddressOnly;
}

FlowKind read_l4(Flow& flow, const uint8_t* l4, size_t size, bool fragment) {
    if (flow.protocol != kProtoTcp && flow.protocol != kProtoUdp && flow.protocol != kProtoIcmp)
        return FlowKind::AddressOnly;  // addresses only: a fragment translates like the rest
    if (fragment) return FlowKind::Fragment;
    return flow.protocol == kProtoIcmp ? read_icmp(flow, l4, size) : read_ports(flow, l4, size);
}

// ---- rewriting ----

// The change that rewriting 16-bit words makes to a one's-complement sum, applied to a
// checksum by RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), with one (~m + m') per word.
// Eqn. 3, not RFC 1141's HC + m - m', which can give 0xffff where the checksum
// computed from scratch is 0x0000 (RFC 1624 §3).
class SumDelta {
public:
    void word(uint16_t before, uint16_t after) { sum_ += static_cast<uint16_t>(~before) + uint32_t{after}; }
    void words(uint32_t before, uint32_t after) {
        word(static_cast<uint16_t>(before >> 16), static_cast<uint16_t>(after >> 16));
        word(static_cast<uint16_t>(before), static_cast<uint16_t>(after));
    }
    void add(const SumDelta& other) { sum_ += other.sum_; }
    uint16_t apply(uint16_t checksum) const {
        uint64_t sum = static_cast<uint16_t>(~checksum) + sum_;
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        return static_cast<uint16_t>(~sum);
    }

private:
    uint64_t sum_ = 0;  // at most a dozen words: no overflow before apply() folds it
};

// Writes a field and records the change in `delta`.
void put16(uint8_t* at, uint16_t value, SumDelta& delta) {
    delta.word(load16(at), value);
    store16(at, value);
}
void put32(uint8_t* at, uint32_t value, SumDelta& delta) {
    delta.words(load32(at), value);
    store16(at, static_cast<uint16_t>(value >> 16));
    store16(at + 2, static_cast<uint16_t>(value));
}

// Fixes the checksum at `at` for `change`; returns the checksum's own change, which
// a checksum around it (the ICMP checksum over a quoted datagram) must take in too.
SumDelta fix_checksum(uint8_t* at, const SumDelta& change) {
    SumDelta own;
    put16(at, change.apply(load16(at)), own);
    return own;
}

// UDP: zero means "no checksum" and stays zero; a computed zero is sent as 0xffff
// (RFC 768).
SumDelta fix_udp_checksum(uint8_t* at, const SumDelta& change) {
    SumDelta own;
    if (load16(at) == 0) return own;
    const uint16_t sum = change.apply(load16(at));
    put16(at, sum == 0 ? 0xffff : sum, own);
    return own;
}

// Which end of a packet a rewrite changes: where its address and port are.
enum class End : uint8_t { Source, Destination };
size_t address_at(End end) { return end == End::Source ? 12 : 16; }
size_t port_at(End end) { return end == End::Source ? 0 : 2; }

// The L4 header's offset if `need` bytes of it lie within the packet, else 0. read_flow
// checked this already; checking again keeps a flow read from other bytes harmless.
size_t l4_offset(const uint8_t* ip, size_t length, size_t need) {
    const size_t ihl = header_length(ip, length);
    if (ihl == 0) return 0;
    const size_t total = load16(ip + kTotalLength);
    return total <= length && ihl + need <= total ? ihl : 0;
}

// One end's address, port or identifier, and the checksums that cover them.
void rewrite(uint8_t* ip, size_t length, const Flow& flow, End end, uint32_t address, uint16_t port) {
    const size_t need = flow.protocol == kProtoTcp && flow.kind == FlowKind::Ports ? kTcpMinHeader : kL4Min;
    const size_t ihl = l4_offset(ip, length, flow.kind == FlowKind::AddressOnly ? 0 : need);
    if (ihl == 0) return;
    SumDelta address_change;
    put32(ip + address_at(end), address, address_change);
    fix_checksum(ip + kHeaderChecksum, address_change);
    uint8_t* l4 = ip + ihl;
    if (flow.kind == FlowKind::Ports) {
        SumDelta l4_change = address_change;  // the TCP and UDP pseudo-headers hold the addresses
        put16(l4 + port_at(end), port, l4_change);
        if (flow.protocol == kProtoTcp)
            fix_checksum(l4 + kTcpChecksum, l4_change);
        else
            fix_udp_checksum(l4 + kUdpChecksum, l4_change);
    } else if (flow.kind == FlowKind::IcmpEcho) {
        SumDelta identifier_change;  // ICMP has no pseudo-header
        put16(l4 + kIcmpIdentifier, port, identifier_change);
        fix_checksum(l4 + kIcmpChecksum, identifier_change);
    }
}

// The port or identifier of a quoted datagram, with its L4 checksum when quoted (UDP
// and echo always are, in 8 bytes; TCP's only when the error quotes 18 bytes or more,
// as RFC 1812 §4.3.2.3 routers do). Returns the change to the ICMP checksum.
SumDelta rewrite_embedded_l4(uint8_t* l4, size_t quoted, const Flow& flow, End end, uint16_t port,
                             const SumDelta& address_change) {
    SumDelta icmp_change;
    SumDelta l4_change;
    if (flow.embedded_kind == FlowKind::IcmpEcho) {
        put16(l4 + kIcmpIdentifier, port, l4_change);
        icmp_change.add(l4_change);
        icmp_change.add(fix_checksum(l4 + kIcmpChecksum, l4_change));
        return icmp_change;
    }
    put16(l4 + port_at(end), port, l4_change);
    icmp_change.add(l4_change);
    l4_change.add(address_change);  // the quoted datagram's pseudo-header
    if (flow.embedded_protocol == kProtoUdp)
        icmp_change.add(fix_udp_checksum(l4 + kUdpChecksum, l4_change));
    else if (quoted >= kTcpChecksumEnd)
        icmp_change.add(fix_checksum(l4 + kTcpChecksum, l4_change));
    return icmp_change;
}

// An ICMP error (RFC 5508, RFC 3022 §4.3): the quoted datagram's `inner` end and
// the outer packet's other end become address/port. The ICMP checksum covers the
// quoted bytes, including the checksums fixed inside them.
void rewrite_error(uint8_t* ip, size_t length, const Flow& flow, End inner, uint32_t address, uint16_t port) {
    if (flow.kind != FlowKind::IcmpError) return;
    const size_t ihl = l4_offset(ip, length, kL4Min + kIpv4MinHeader + kL4Min);
    if (ihl == 0) return;
    uint8_t* icmp = ip + ihl;
    uint8_t* quoted = icmp + kL4Min;
    const size_t quoted_size = load16(ip + kTotalLength) - ihl - kL4Min;
    const size_t quoted_ihl = header_length(quoted, quoted_size);
    if (quoted_ihl == 0 || quoted_size - quoted_ihl < kL4Min) return;

    SumDelta address_change;
    put32(quoted + address_at(inner), address, address_change);
    SumDelta icmp_change = address_change;
    icmp_change.add(fix_checksum(quoted + kHeaderChecksum, address_change));
    icmp_change.add(rewrite_embedded_l4(quoted + quoted_ihl, quoted_size - quoted_ihl, flow, inner, port,
                                        address_change));
    fix_checksum(icmp + kIcmpChecksum, icmp_change);

    const End outer = inner == End::Source ? End::Destination : End::Source;
    SumDelta outer_change;
    put32(ip + address_at(outer), address, outer_change);
    fix_checksum(ip + kHeaderChecksum, outer_change);
}

bool rewritable(FlowKind kind) {
    return kind == FlowKind::Ports || kind == FlowKind::IcmpEcho || kind == FlowKind::AddressOnly;
}

}  // namespace

Flow read_flow(const uint8_t* ip, size_t length) {
    Flow flow;
    const size_t ihl = header_length(ip, length);
    if (ihl == 0) return flow;
    // The packet ends where its total length says: the rest is link padding.
    const size_t total = load16(ip + kTotalLength);
    if (total < ihl || total > length) return flow;
    flow.protocol = ip[kProtocol];
    flow.source = load32(ip + 12);
    flow.destination = load32(ip + 16);
    const uint16_t fragment = load16(ip + kFragment);
    const bool is_fragment = (fragment & (kMoreFragments | kOffsetMask)) != 0;
    flow.kind = read_l4(flow, ip + ihl, total - ihl, is_fragment);
    return flow;
}

void rewrite_source(uint8_t* ip, size_t length, const Flow& flow, uint32_t address, uint16_t port) {
    if (rewritable(flow.kind)) rewrite(ip, length, flow, End::Source, address, port);
}

void rewrite_destination(uint8_t* ip, size_t length, const Flow& flow, uint32_t address, uint16_t port) {
    if (rewritable(flow.kind)) rewrite(ip, length, flow, End::Destination, address, port);
}

void rewrite_icmp_error_inbound(uint8_t* ip, size_t length, const Flow& flow, uint32_t address, uint16_t port) {
    rewrite_error(ip, length, flow, End::Source, address, port);
}

void rewrite_icmp_error_outbound(uint8_t* ip, size_t length, const Flow& flow, uint32_t address, uint16_t port) {
    rewrite_error(ip, length, flow, End::Destination, address, port);
}

}  // namespace mbox::nat

// Reading and rewriting IPv4 flows for NAT. Every rewrite is checked two ways: the
// rewritten packet equals the same packet built from scratch with the new addresses
// and ports, and each checksum in it (IPv4 header, TCP/UDP with pseudo-header, ICMP,
// and those of a datagram quoted in an ICMP error) equals one recomputed from scratch
// (RFC 1071) — so an incremental update (RFC 1624) that is off by a carry shows.
#include "nat/packet.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "tests/dataplane/packet_builder.hpp"

namespace mbox::nat {
namespace {

using namespace mbox::testing;

constexpr uint8_t kTcp = 6;
constexpr uint8_t kGre = 47;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kAck = 0x10;
constexpr uint16_t kMoreFragments = 0x2000;

constexpr uint32_t addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

// The internal host, its mapping, the remote it talks to, and a router on the way.
constexpr uint32_t kInternal = addr(10, 1, 0, 10);
constexpr uint16_t kInternalPort = 40000;
constexpr uint32_t kExternal = addr(198, 51, 100, 1);
constexpr uint16_t kExternalPort = 61000;
constexpr uint32_t kRemote = addr(203, 0, 113, 9);
constexpr uint16_t kRemotePort = 53;
constexpr uint32_t kRouter = addr(192, 0, 2, 1);

// ---- building packets (checksums from scratch) ----

Bytes data(size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(0x5a + i * 13);
    return b;
}

Ipv4Header header(uint8_t protocol, uint32_t src, uint32_t dst) {
    Ipv4Header h;
    h.protocol = protocol;
    h.src = src;
    h.dst = dst;
    return h;
}

Bytes without_field(std::span<const uint8_t> region, size_t at) {
    Bytes copy(region.begin(), region.end());
    copy[at] = copy[at + 1] = 0;
    return copy;
}

// RFC 9293 §3.1, RFC 768: over the pseudo-header and the whole segment, the checksum
// field as zero; UDP sends a computed zero as 0xffff.
uint16_t transport_checksum(std::span<const uint8_t> ip) {
    const std::span<const uint8_t> l4 = l4_of(ip);
    const bool tcp = ip[9] == kTcp;
    Bytes sum(12 + l4.size(), 0);
    put32(sum, 0, get32(ip, 12));
    put32(sum, 4, get32(ip, 16));
    sum[9] = ip[9];
    put16(sum, 10, static_cast<uint16_t>(l4.size()));
    std::copy(l4.begin(), l4.end(), sum.begin() + 12);
    const uint16_t c = checksum_of(without_field(sum, 12 + (tcp ? 16 : 6)));
    return !tcp && c == 0 ? 0xffff : c;
}

void seal_transport(Bytes& ip) { put16(ip, ip_header_length(ip) + (ip[9] == kTcp ? 16 : 6), transport_checksum(ip)); }

Bytes udp_packet(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, bool checksum, size_t size = 11) {
    Bytes p = ipv4(header(kProtoUdp, src, dst), udp(sport, dport, data(size)));
    if (checksum) seal_transport(p);
    return p;
}

Bytes tcp_packet(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags, size_t size = 7) {
    Bytes segment(20 + size, 0);
    put16(segment, 0, sport);
    put16(segment, 2, dport);
    put32(segment, 4, 0x01020304);
    put32(segment, 8, flags & kAck ? 0x0a0b0c0d : 0);
    segment[12] = 5 << 4;
    segment[13] = flags;
    put16(segment, 14, 65535);
    const Bytes payload = data(size);
    std::copy(payload.begin(), payload.end(), segment.begin() + 20);
    Bytes p = ipv4(header(kTcp, src, dst), segment);
    seal_transport(p);
    return p;
}

Bytes echo_packet(uint32_t src, uint32_t dst, bool reply, uint16_t identifier) {
    return ipv4(header(kProtoIcmp, src, dst), icmp(reply ? 0 : 8, 0, identifier, 7, data(24)));
}

// An ICMP error about `offending`, quoting `quoted` bytes of it (its header and at
// least 8 more, RFC 792; routers quote more, RFC 1812 §4.3.2.3).
Bytes icmp_error(uint32_t src, uint32_t dst, uint8_t type, std::span<const uint8_t> offending, size_t quoted) {
    const uint8_t code = type == 3 ? 3 : 0;  // port unreachable; TTL exceeded in transit
    return ipv4(header(kProtoIcmp, src, dst), icmp(type, code, 0, 0, offending.first(quoted)));
}

size_t header_plus_8(std::span<const uint8_t> ip) { return ip_header_length(ip) + 8; }

// ---- checking checksums from scratch ----

::testing::AssertionResult checksums_ok(std::span<const uint8_t> ip, const std::string& where = "packet") {
    const std::span<const uint8_t> head = ip_header(ip);
    if (get16(ip, 10) != checksum_of(without_field(head, 10)))
        return ::testing::AssertionFailure() << where << ": IPv4 header checksum";
    const std::span<const uint8_t> l4 = ip.subspan(head.size(), std::min<size_t>(get16(ip, 2), ip.size()) - head.size());
    const bool whole = get16(ip, 2) <= ip.size();  // a quoted datagram may be cut short
    if (ip[9] == kTcp && whole && get16(l4, 16) != transport_checksum(ip))
        return ::testing::AssertionFailure() << where << ": TCP checksum";
    if (ip[9] == kProtoUdp && whole && get16(l4, 6) != 0 && get16(l4, 6) != transport_checksum(ip))
        return ::testing::AssertionFailure() << where << ": UDP checksum";
    if (ip[9] == kProtoIcmp && whole) {
        if (get16(l4, 2) != checksum_of(without_field(l4, 2)))
            return ::testing::AssertionFailure() << where << ": ICMP checksum";
        if (l4[0] == 3 || l4[0] == 11 || l4[0] == 12) return checksums_ok(l4.subspan(8), where + " quoted");
    }
    return ::testing::AssertionSuccess();
}

// ---- reading ----

// A copy in a buffer of exactly `n` bytes, so AddressSanitizer sees any read past it.
struct Exact {
    explicit Exact(std::span<const uint8_t> bytes, size_t n) : buffer(new uint8_t[std::max<size_t>(n, 1)]), size(n) {
        std::memcpy(buffer.get(), bytes.data(), n);
    }
    std::unique_ptr<uint8_t[]> buffer;
    size_t size;
};

Flow read(const Bytes& p) { return read_flow(p.data(), p.size()); }

TEST(ReadFlow, TcpGivesPortsAndFlags) {
    const Flow f = read(tcp_packet(kInternal, kInternalPort, kRemote, 443, kSyn));
    EXPECT_EQ(f.kind, FlowKind::Ports);
    EXPECT_EQ(f.protocol, kTcp);
    EXPECT_EQ(f.source, kInternal);
    EXPECT_EQ(f.destination, kRemote);
    EXPECT_EQ(f.source_port, kInternalPort);
    EXPECT_EQ(f.destination_port, 443);
    EXPECT_EQ(f.tcp_flags, kSyn);
}

TEST(ReadFlow, UdpGivesPorts) {
    const Flow f = read(udp_packet(kInternal, kInternalPort, kRemote, kRemotePort, true));
    EXPECT_EQ(f.kind, FlowKind::Ports);
    EXPECT_EQ(f.protocol, kProtoUdp);
    EXPECT_EQ(f.source_port, kInternalPort);
    EXPECT_EQ(f.destination_port, kRemotePort);
    EXPECT_EQ(f.tcp_flags, 0);
}

TEST(ReadFlow, PortsFollowTheHeaderLengthPastOptions) {
    Ipv4Header h = header(kProtoUdp, kInternal, kRemote);
    h.version_ihl = 0x46;
    h.options = {1, 1, 1, 0};  // NOP NOP NOP EOL
    const Flow f = read(ipv4(h, udp(1111, 2222, data(3))));
    EXPECT_EQ(f.kind, FlowKind::Ports);
    EXPECT_EQ(f.source_port, 1111);
    EXPECT_EQ(f.destination_port, 2222);
}

TEST(ReadFlow, LinkPaddingAfterTheTotalLengthIsIgnored) {
    Bytes p = udp_packet(kInternal, kInternalPort, kRemote, kRemotePort, true, 0);
    p.resize(60, 0xee);  // an Ethernet minimum frame's worth
    EXPECT_EQ(read(p).kind, FlowKind::Ports);
}

TEST(ReadFlow, EchoIdentifierIsBothPorts) {
    const Flow request = read(echo_packet(kInternal, kRemote, false, 0x4242));
    EXPECT_EQ(request.kind, FlowKind::IcmpEcho);
    EXPECT_EQ(request.source_port, 0x4242);
    EXPECT_EQ(request.destination_port, 0x4242);
    EXPECT_FALSE(request.echo_reply);
    const Flow reply = read(echo_packet(kRemote, kExternal, true, 0x4343));
    EXPECT_EQ(reply.kind, FlowKind::IcmpEcho);
    EXPECT_EQ(reply.destination_port, 0x4343);
    EXPECT_TRUE(reply.echo_reply);
}

TEST(ReadFlow, OtherProtocolsAndIcmpTypesAreAddressOnly) {
    EXPECT_EQ(read(ipv4(header(kGre, kInternal, kRemote), data(24))).kind, FlowKind::AddressOnly);
    const Bytes timestamp = ipv4(header(kProtoIcmp, kInternal, kRemote), icmp(13, 0, 1, 1, data(12)));
    EXPECT_EQ(read(timestamp).kind, FlowKind::AddressOnly);
    const Flow f = read(timestamp);
    EXPECT_EQ(f.source, kInternal);
    EXPECT_EQ(f.destination, kRemote);
}

TEST(ReadFlow, FragmentsOfTcpUdpIcmpHaveNoPortsButAddressOnlyStaysAddressOnly) {
    for (const uint16_t fragment : {kMoreFragments, uint16_t{0x0010}, uint16_t{kMoreFragments | 0x0010}}) {
        Ipv4Header h = header(kProtoUdp, kInternal, kRemote);
        h.flags_fragment = fragment;
        for (const uint8_t protocol : {kProtoUdp, kTcp, kProtoIcmp}) {
            h.protocol = protocol;
            EXPECT_EQ(read(ipv4(h, data(32))).kind, FlowKind::Fragment) << int(protocol) << " " << fragment;
        }
        h.protocol = kGre;
        EXPECT_EQ(read(ipv4(h, data(32))).kind, FlowKind::AddressOnly) << fragment;
    }
    Ipv4Header dont_fragment = header(kProtoUdp, kInternal, kRemote);
    dont_fragment.flags_fragment = kDontFragment;
    EXPECT_EQ(read(ipv4(dont_fragment, udp(1, 2, data(4)))).kind, FlowKind::Ports);
}

TEST(ReadFlow, IcmpErrorQuotingUdpGivesTheQuotedEndpoints) {
    const Bytes sent = udp_packet(kExternal, kExternalPort, kRemote, kRemotePort, true);
    const Flow f = read(icmp_error(kRouter, kExternal, 11, sent, sent.size()));
    EXPECT_EQ(f.kind, FlowKind::IcmpError);
    EXPECT_EQ(f.source, kRouter);
    EXPECT_EQ(f.embedded_kind, FlowKind::Ports);
    EXPECT_EQ(f.embedded_protocol, kProtoUdp);
    EXPECT_EQ(f.embedded_source, kExternal);
    EXPECT_EQ(f.embedded_destination, kRemote);
    EXPECT_EQ(f.embedded_source_port, kExternalPort);
    EXPECT_EQ(f.embedded_destination_port, kRemotePort);
}

TEST(ReadFlow, IcmpErrorQuotingTcpNeedsOnlyEightBytesOfIt) {
    const Bytes sent = tcp_packet(kExternal, kExternalPort, kRemote, 443, kSyn);
    const Flow f = read(icmp_error(kRemote, kExternal, 3, sent, header_plus_8(sent)));
    EXPECT_EQ(f.kind, FlowKind::IcmpError);
    EXPECT_EQ(f.embedded_kind, FlowKind::Ports);
    EXPECT_EQ(f.embedded_protocol, kTcp);
    EXPECT_EQ(f.embedded_source_port, kExternalPort);
    EXPECT_EQ(f.embedded_destination_port, 443);
}

TEST(ReadFlow, IcmpErrorQuotingAnEchoGivesItsIdentifier) {
    const Bytes sent = echo_packet(kExternal, kRemote, false, 0x7777);
    const Flow f = read(icmp_error(kRouter, kExternal, 11, sent, header_plus_8(sent)));
    EXPECT_EQ(f.kind, FlowKind::IcmpError);
    EXPECT_EQ(f.embedded_kind, FlowKind::IcmpEcho);
    EXPECT_EQ(f.embedded_source_port, 0x7777);
    EXPECT_EQ(f.embedded_destination_port, 0x7777);
}

TEST(ReadFlow, IcmpErrorWithNothingToTranslateInsideIsAddressOnly) {
    const Bytes gre = ipv4(header(kGre, kExternal, kRemote), data(16));
    EXPECT_EQ(read(icmp_error(kRouter, kExternal, 3, gre, gre.size())).kind, FlowKind::AddressOnly);

    const Bytes udp_sent = udp_packet(kExternal, kExternalPort, kRemote, kRemotePort, true);
    const Bytes error = icmp_error(kRemote, kExternal, 3, udp_sent, udp_sent.size());
    EXPECT_EQ(read(icmp_error(kRouter, kRemote, 11, error, header_plus_8(error))).kind, FlowKind::AddressOnly);

    const Bytes timestamp = ipv4(header(kProtoIcmp, kExternal, kRemote), icmp(13, 0, 1, 1, data(12)));
    EXPECT_EQ(read(icmp_error(kRouter, kExternal, 3, timestamp, timestamp.size())).kind, FlowKind::AddressOnly);

    Ipv4Header later = header(kProtoUdp, kExternal, kRemote);
    later.flags_fragment = 0x0020;  // not the first fragment: its 8 bytes are data, not ports
    const Bytes fragment = ipv4(later, data(16));
    EXPECT_EQ(read(icmp_error(kRouter, kExternal, 11, fragment, fragment.size())).kind, FlowKind::AddressOnly);
}

TEST(ReadFlow, BadHeadersAreMalformed) {
    const Bytes good = udp_packet(kInternal, kInternalPort, kRemote, kRemotePort, true);
    auto with = [&](size_t at, uint8_t value) {
        Bytes p = good;
        p[at] = value;
        return read(p).kind;
    };
    EXPECT_EQ(with(0, 0x65), FlowKind::Malformed);  // version 6
    EXPECT_EQ(with(0, 0x44), FlowKind::Malformed);  // IHL 4
    EXPECT_EQ(with(0, 0x4f), FlowKind::Malformed);  // IHL 60 > total length
    Bytes shorter_total = good;
    put16(shorter_total, 2, 19);  // total length < IHL
    EXPECT_EQ(read(shorter_total).kind, FlowKind::Malformed);
    Bytes longer_total = good;
    put16(longer_total, 2, static_cast<uint16_t>(good.size() + 1));  // more than the bytes given
    EXPECT_EQ(read(longer_total).kind, FlowKind::Malformed);
}

TEST(ReadFlow, TcpHeaderShorterThanItsDataOffsetSaysIsMalformed) {
    Bytes p = tcp_packet(kInternal, kInternalPort, kRemote, 443, kSyn, 0);
    p[20 + 12] = 4 << 4;
    EXPECT_EQ(read(p).kind, FlowKind::Malformed);
    p[20 + 12] = 6 << 4;  // 24 bytes, 20 present
    EXPECT_EQ(read(p).kind, FlowKind::Malformed);
}

TEST(ReadFlow, IcmpErrorQuotingABadHeaderIsMalformed) {
    const Bytes sent = udp_packet(kExternal, kExternalPort, kRemote, kRemotePort, true);
    for (const uint8_t version_ihl : {uint8_t{0x65}, uint8_t{0x44}, uint8_t{0x48}}) {
        Bytes quoted = sent;
        quoted[0] = version_ihl;  // IPv6; IHL 4; IHL 32 leaving no 8 bytes after it
        EXPECT_EQ(read(icmp_error(kRouter, kExternal, 11, quoted, quoted.size())).kind, FlowKind::Malformed)
            << int(version_ihl);
    }
}

// Every valid packet kind, cut at every length: never a read past the end; Malformed
// while the headers it needs are not all there, whether the total length still claims
// the whole packet or was cut down with it. A rewrite handed the uncut packet's flow
// stays within the cut buffer too.
struct Sample {
    const char* name;
    Bytes packet;
    size_t minimum;  // the bytes read_flow needs
};

std::vector<Sample> samples() {
    const Bytes udp_sent = udp_packet(kExternal, kExternalPort, kRemote, kRemotePort, true);
    const Bytes tcp_sent = tcp_packet(kExternal, kExternalPort, kRemote, 443, kSyn);
    const Bytes echo_sent = echo_packet(kExternal, kRemote, false, 9);
    return {
        {"tcp", tcp_packet(kInternal, kInternalPort, kRemote, 443, kSyn), 40},
        {"udp", udp_packet(kInternal, kInternalPort, kRemote, kRemotePort, true), 28},
        {"echo", echo_packet(kInternal, kRemote, false, 9), 28},
        {"gre", ipv4(header(kGre, kInternal, kRemote), data(8)), 20},
        {"error/udp", icmp_error(kRouter, kExternal, 3, udp_sent, udp_sent.size()), 56},
        {"error/tcp", icmp_error(kRouter, kExternal, 3, tcp_sent, tcp_sent.size()), 56},
        {"error/echo", icmp_error(kRouter, kExternal, 11, echo_sent, echo_sent.size()), 56},
    };
}

void rewrite_all(uint8_t* p, size_t n, const Flow& f) {
    rewrite_source(p, n, f, kExternal, kExternalPort);
    rewrite_destination(p, n, f, kInternal, kInternalPort);
    rewrite_icmp_error_inbound(p, n, f, kInternal, kInternalPort);
    rewrite_icmp_error_outbound(p, n, f, kExternal, kExternalPort);
}

TEST(ReadFlow, EveryTruncationIsMalformedAndStaysInBounds) {
    for (const Sample& s : samples()) {
        const Flow whole = read(s.packet);
        ASSERT_NE(whole.kind, FlowKind::Malformed) << s.name;
        for (size_t n = 0; n < s.packet.size(); ++n) {
            Exact cut(s.packet, n);
            EXPECT_EQ(read_flow(cut.buffer.get(), n).kind, FlowKind::Malformed) << s.name << " cut to " << n;
            rewrite_all(cut.buffer.get(), n, whole);

            if (n < 4) continue;
            Exact shortened(s.packet, n);
            shortened.buffer[2] = static_cast<uint8_t>(n >> 8);
            shortened.buffer[3] = static_cast<uint8_t>(n);
            const FlowKind expected = n < s.minimum ? FlowKind::Malformed : whole.kind;
            EXPECT_EQ(read_flow(shortened.buffer.get(), n).kind, expected) << s.name << " total length " << n;
            rewrite_all(shortened.buffer.get(), n, whole);
        }
    }
}

// ---- rewriting ----

// The NAT side of a packet: read it, rewrite one end, expect the from-scratch twin.
void expect_rewrite(Bytes packet, const Bytes& expected, bool source, uint32_t address, uint16_t port) {
    const Flow f = read(packet);
    ASSERT_NE(f.kind, FlowKind::Malformed);
    if (source)
        rewrite_source(packet.data(), packet.size(), f, address, port);
    else
        rewrite_destination(packet.data(), packet.size(), f, address, port);
    EXPECT_TRUE(checksums_ok(packet));
    EXPECT_EQ(packet, expected);
}

TEST(Rewrite, TcpBothDirections) {
    expect_rewrite(tcp_packet(kInternal, kInternalPort, kRemote, 443, kSyn),
                   tcp_packet(kExternal, kExternalPort, kRemote, 443, kSyn), true, kExternal, kExternalPort);
    expect_rewrite(tcp_packet(kRemote, 443, kExternal, kExternalPort, kSyn | kAck),
                   tcp_packet(kRemote, 443, kInternal, kInternalPort, kSyn | kAck), false, kInternal, kInternalPort);
}

TEST(Rewrite, UdpWithChecksumBothDirections) {
    expect_rewrite(udp_packet(kInternal, kInternalPort, kRemote, kRemotePort, true),
                   udp_packet(kExternal, kExternalPort, kRemote, kRemotePort, true), true, kExternal, kExternalPort);
    expect_rewrite(udp_packet(kRemote, kRemotePort, kExternal, kExternalPort, true),
                   udp_packet(kRemote, kRemotePort, kInternal, kInternalPort, true), false, kInternal, kInternalPort);
}

TEST(Rewrite, UdpWithoutChecksumKeepsNone) {
    expect_rewrite(udp_packet(kInternal, kInternalPort, kRemote, kRemotePort, false),
                   udp_packet(kExternal, kExternalPort, kRemote, kRemotePort, false), true, kExternal, kExternalPort);
    expect_rewrite(udp_packet(kRemote, kRemotePort, kExternal, kExternalPort, false),
                   udp_packet(kRemote, kRemotePort, kInternal, kInternalPort, false), false, kInternal, kInternalPort);
}

// RFC 768: a checksum that computes to zero is sent as all ones, since zero means none.
TEST(Rewrite, UdpChecksumThatComesToZeroIsSentAsAllOnes) {
    // The source port that makes the translated datagram's checksum compute to zero.
    uint16_t port = 1;
    while (port != 0 && get16(udp_packet(kExternal, port, kRemote, kRemotePort, true), 26) != 0xffff) ++port;
    ASSERT_NE(port, 0) << "no source port makes the checksum zero";
    expect_rewrite(udp_packet(kInternal, kInternalPort, kRemote, kRemotePort, true),
                   udp_packet(kExternal, port, kRemote, kRemotePort, true), true, kExternal, port);
}

TEST(Rewrite, EchoIdentifierBothDirections) {
    expect_rewrite(echo_packet(kInternal, kRemote, false, kInternalPort),
                   echo_packet(kExternal, kRemote, false, kExternalPort), true, kExternal, kExternalPort);
    expect_rewrite(echo_packet(kRemote, kExternal, true, kExternalPort),
                   echo_packet(kRemote, kInternal, true, kInternalPort), false, kInternal, kInternalPort);
}

TEST(Rewrite, AddressOnlyChangesTheAddressAndHeaderChecksumOnly) {
    expect_rewrite(ipv4(header(kGre, kInternal, kRemote), data(24)), ipv4(header(kGre, kExternal, kRemote), data(24)),
                   true, kExternal, kExternalPort);
    expect_rewrite(ipv4(header(kGre, kRemote, kExternal), data(24)), ipv4(header(kGre, kRemote, kInternal), data(24)),
                   false, kInternal, kInternalPort);
}

TEST(Rewrite, HeaderWithOptionsAndLinkPadding) {
    Ipv4Header h = header(kProtoUdp, kInternal, kRemote);
    h.version_ihl = 0x46;
    h.options = {1, 1, 1, 0};
    Bytes before = ipv4(h, udp(kInternalPort, kRemotePort, data(5)));
    seal_transport(before);
    h.src = kExternal;
    Bytes after = ipv4(h, udp(kExternalPort, kRemotePort, data(5)));
    seal_transport(after);
    before.resize(before.size() + 9, 0xee);
    after.resize(after.size() + 9, 0xee);  // padding is not the packet's: untouched
    expect_rewrite(before, after, true, kExternal, kExternalPort);
}

TEST(Rewrite, FragmentsAndMalformedPacketsAreLeftAlone) {
    Ipv4Header h = header(kProtoUdp, kInternal, kRemote);
    h.flags_fragment = kMoreFragments;
    const Bytes fragment = ipv4(h, udp(kInternalPort, kRemotePort, data(8)));
    Bytes p = fragment;
    const Flow f = read(p);
    ASSERT_EQ(f.kind, FlowKind::Fragment);
    rewrite_all(p.data(), p.size(), f);
    EXPECT_EQ(p, fragment);

    Bytes bad = udp_packet(kInternal, kInternalPort, kRemote, kRemotePort, true);
    bad[0] = 0x44;
    const Bytes original = bad;
    rewrite_all(bad.data(), bad.size(), read(bad));
    EXPECT_EQ(bad, original);
}

// RFC 5508: an error about a packet NAT translated on the way out reaches the
// internal host quoting the packet as that host sent it.
void expect_inbound_error(const Bytes& original, const Bytes& translated, size_t quoted, uint8_t type) {
    Bytes error = icmp_error(kRouter, kExternal, type, translated, quoted);
    const Flow f = read(error);
    ASSERT_EQ(f.kind, FlowKind::IcmpError);
    rewrite_icmp_error_inbound(error.data(), error.size(), f, kInternal, kInternalPort);
    EXPECT_TRUE(checksums_ok(error));
    EXPECT_EQ(error, icmp_error(kRouter, kInternal, type, original, quoted));
}

// Inside out: an internal host's error about a packet that reached it translated
// leaves quoting the packet as the remote sent it.
void expect_outbound_error(const Bytes& original, const Bytes& translated, size_t quoted) {
    Bytes error = icmp_error(kInternal, kRemote, 3, translated, quoted);
    const Flow f = read(error);
    ASSERT_EQ(f.kind, FlowKind::IcmpError);
    rewrite_icmp_error_outbound(error.data(), error.size(), f, kExternal, kExternalPort);
    EXPECT_TRUE(checksums_ok(error));
    EXPECT_EQ(error, icmp_error(kExternal, kRemote, 3, original, quoted));
}

TEST(RewriteIcmpError, QuotingUdpBothDirections) {
    for (const bool checksum : {true, false}) {
        const Bytes out = udp_packet(kInternal, kInternalPort, kRemote, kRemotePort, checksum);
        const Bytes out_nat = udp_packet(kExternal, kExternalPort, kRemote, kRemotePort, checksum);
        expect_inbound_error(out, out_nat, out.size(), 3);
        expect_inbound_error(out, out_nat, header_plus_8(out), 11);

        const Bytes in = udp_packet(kRemote, kRemotePort, kExternal, kExternalPort, checksum);
        const Bytes in_nat = udp_packet(kRemote, kRemotePort, kInternal, kInternalPort, checksum);
        expect_outbound_error(in, in_nat, in.size());
    }
}

// The TCP checksum is past the 8 bytes RFC 792 promises: fixed when quoted, left when not.
TEST(RewriteIcmpError, QuotingTcpWholeOrEightBytes) {
    const Bytes out = tcp_packet(kInternal, kInternalPort, kRemote, 443, kSyn);
    const Bytes out_nat = tcp_packet(kExternal, kExternalPort, kRemote, 443, kSyn);
    expect_inbound_error(out, out_nat, out.size(), 3);
    expect_inbound_error(out, out_nat, 20 + 18, 3);  // up to the checksum's end
    expect_inbound_error(out, out_nat, header_plus_8(out), 11);

    const Bytes in = tcp_packet(kRemote, 443, kExternal, kExternalPort, kSyn);
    const Bytes in_nat = tcp_packet(kRemote, 443, kInternal, kInternalPort, kSyn);
    expect_outbound_error(in, in_nat, in.size());
    expect_outbound_error(in, in_nat, header_plus_8(in));
}

TEST(RewriteIcmpError, QuotingAnEchoBothDirections) {
    const Bytes out = echo_packet(kInternal, kRemote, false, kInternalPort);
    const Bytes out_nat = echo_packet(kExternal, kRemote, false, kExternalPort);
    expect_inbound_error(out, out_nat, out.size(), 11);
    expect_inbound_error(out, out_nat, header_plus_8(out), 3);

    const Bytes in = echo_packet(kRemote, kExternal, false, kExternalPort);
    const Bytes in_nat = echo_packet(kRemote, kInternal, false, kInternalPort);
    expect_outbound_error(in, in_nat, in.size());
}

TEST(RewriteIcmpError, OtherFlowKindsAreLeftAlone) {
    const Bytes echo = echo_packet(kInternal, kRemote, false, 5);
    Bytes p = echo;
    const Flow f = read(p);
    rewrite_icmp_error_inbound(p.data(), p.size(), f, kExternal, kExternalPort);
    rewrite_icmp_error_outbound(p.data(), p.size(), f, kExternal, kExternalPort);
    EXPECT_EQ(p, echo);
}

// ~HC + ~m + m' can carry twice: from 0.0.0.0 to 255.255.255.255 in a header whose
// other words sum to 3, 3 + 4 x 0xffff = 0x3ffff folds to 0x10002, then to 0x0003.
TEST(Rewrite, CarriesThatFoldTwice) {
    Ipv4Header h = header(kGre, 0, kRemote);
    auto others_sum = [&] {
        const Bytes p = ipv4(h, data(4));
        return ones_sum(without_field(std::span(p).first(20), 10));
    };
    for (int id = 0; id <= 0xffff && others_sum() != 3; ++id) h.id = static_cast<uint16_t>(id);
    ASSERT_EQ(others_sum(), 3);
    Ipv4Header after = h;
    after.src = 0xffffffff;
    expect_rewrite(ipv4(h, data(4)), ipv4(after, data(4)), true, 0xffffffff, 0);
}

// Random addresses and ports, so every carry and the -0/+0 corner of the one's-
// complement arithmetic is met somewhere: each rewrite still equals the from-scratch
// packet.
TEST(Rewrite, RandomEndpointsMatchFromScratch) {
    std::mt19937 rng(1624);
    auto r32 = [&] { return static_cast<uint32_t>(rng()); };
    auto r16 = [&] { return static_cast<uint16_t>(rng()); };
    for (int i = 0; i < 2000; ++i) {
        const uint32_t a = r32(), b = r32(), x = r32();
        const uint16_t pa = r16(), pb = r16(), px = r16();
        const uint8_t flags = static_cast<uint8_t>(rng());
        expect_rewrite(tcp_packet(a, pa, b, pb, flags, i % 9), tcp_packet(x, px, b, pb, flags, i % 9), true, x, px);
        expect_rewrite(udp_packet(b, pb, a, pa, true, i % 9), udp_packet(b, pb, x, px, true, i % 9), false, x, px);
        expect_rewrite(echo_packet(a, b, i % 2 == 0, pa), echo_packet(x, b, i % 2 == 0, px), true, x, px);

        const Bytes sent = udp_packet(a, pa, b, pb, true, i % 9);
        const Bytes sent_nat = udp_packet(x, px, b, pb, true, i % 9);
        Bytes error = icmp_error(b, x, 3, sent_nat, sent_nat.size());
        rewrite_icmp_error_inbound(error.data(), error.size(), read(error), a, pa);
        ASSERT_EQ(error, icmp_error(b, a, 3, sent, sent.size())) << i;

        const Bytes echo = echo_packet(b, x, false, px);
        const Bytes echo_nat = echo_packet(b, a, false, pa);
        Bytes reply = icmp_error(a, b, 3, echo_nat, echo_nat.size());
        rewrite_icmp_error_outbound(reply.data(), reply.size(), read(reply), x, px);
        ASSERT_EQ(reply, icmp_error(x, b, 3, echo, echo.size())) << i;
        if (::testing::Test::HasFailure()) break;
    }
}

}  // namespace
}  // namespace mbox::nat

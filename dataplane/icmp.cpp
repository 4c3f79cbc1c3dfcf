#include "dataplane/icmp.hpp"

#include <rte_cycles.h>

#include <algorithm>
#include <cstring>

#include "dataplane/packet.hpp"

namespace mbox::dataplane {

namespace {

constexpr uint8_t kDefaultTtl = 64;
constexpr uint64_t kIcmpErrorsPerSecond = 1000;
constexpr uint64_t kIcmpErrorBurst = 100;
constexpr size_t kQuotedPayload = 8;  // RFC 792: the header plus 64 bits of data

bool take_token(WorkerContext& ctx) {
    IcmpRateLimit& b = ctx.icmp_limit;
    const uint64_t now = rte_rdtsc();
    const uint64_t per_token = ctx.tsc_hz / kIcmpErrorsPerSecond;
    if (per_token > 0 && now > b.last_refill_tsc) {
        const uint64_t fresh = (now - b.last_refill_tsc) / per_token;
        if (fresh > 0) {
            b.tokens = std::min(kIcmpErrorBurst, b.tokens + fresh);
            b.last_refill_tsc += fresh * per_token;
        }
    }
    if (b.tokens == 0) return false;
    --b.tokens;
    return true;
}

bool is_icmp_error_type(uint8_t type) {
    // Errors are 3, 4, 5, 11, 12; queries (echo, timestamp...) may be answered with errors.
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

bool error_allowed(const rte_ipv4_hdr* ip, uint16_t header, uint32_t available) {
    if (is_martian_source(ipv4_src(ip))) return false;
    if ((rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) != 0) return false;
    if (ip->next_proto_id == IPPROTO_ICMP) {
        if (available < header + 1u) return false;
        const uint8_t type = *(reinterpret_cast<const uint8_t*>(ip) + header);
        if (is_icmp_error_type(type)) return false;
    }
    return true;
}

}  // namespace

Next icmp_echo_reply(WorkerContext& ctx, rte_mbuf* m) {
    rte_ipv4_hdr* ip = ipv4_header(m);
    const uint16_t header = ipv4_header_length(ip);
    const uint16_t total = ipv4_total_length(ip);
    if (total < header + sizeof(rte_icmp_hdr)) return ctx.drop(Drop::icmp_truncated), Next::Drop;
    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(reinterpret_cast<uint8_t*>(ip) + header);
    if (rte_raw_cksum(icmp, total - header) != 0xffff) return ctx.drop(Drop::icmp_bad_checksum), Next::Drop;

    const rte_be32_t requester = ip->src_addr;
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = requester;
    ip->time_to_live = kDefaultTtl;
    ipv4_set_checksum(ip);
    // Type 8 -> 0 lowers the first checksummed word by 0x0800 (RFC 1624 update).
    icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
    uint32_t sum = static_cast<uint16_t>(~rte_be_to_cpu_16(icmp->icmp_cksum)) + 0xf7ffu;
    sum = (sum & 0xffff) + (sum >> 16);
    icmp->icmp_cksum = rte_cpu_to_be_16(static_cast<uint16_t>(~sum));
    ++ctx.counters->icmp_generated;
    return Next::Forward;
}

bool make_icmp_error(WorkerContext& ctx, rte_mbuf* m, IcmpError error, uint32_t source) {
    if (source == 0 || m->nb_segs != 1) return false;
    rte_ipv4_hdr* ip = ipv4_header(m);
    const uint16_t header = ipv4_header_length(ip);
    const uint32_t available = rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr);
    if (!error_allowed(ip, header, available) || !take_token(ctx)) return false;

    // Quote the offending header and the first 8 bytes of its payload (RFC 792).
    uint8_t quoted[60 + kQuotedPayload];
    const size_t quoted_len = std::min<size_t>(available, std::min<size_t>(ipv4_total_length(ip), header + kQuotedPayload));
    std::memcpy(quoted, ip, quoted_len);
    const uint32_t sender = ipv4_src(ip);

    const uint16_t icmp_len = static_cast<uint16_t>(sizeof(rte_icmp_hdr) + quoted_len);
    const uint16_t ip_len = static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + icmp_len);
    const uint32_t frame_len = sizeof(rte_ether_hdr) + ip_len;
    if (frame_len > rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m)) return false;
    m->data_len = static_cast<uint16_t>(frame_len);
    m->pkt_len = frame_len;

    std::memset(ip, 0, sizeof(rte_ipv4_hdr));
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0xc0;  // Internetwork Control, as routers send errors
    ip->total_length = rte_cpu_to_be_16(ip_len);
    ip->time_to_live = kDefaultTtl;
    ip->next_proto_id = IPPROTO_ICMP;
    ip->src_addr = rte_cpu_to_be_32(source);
    ip->dst_addr = rte_cpu_to_be_32(sender);
    ipv4_set_checksum(ip);

    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
    icmp->icmp_type = error.type;
    icmp->icmp_code = error.code;
    icmp->icmp_cksum = 0;
    icmp->icmp_ident = 0;  // "unused" in errors ...
    icmp->icmp_seq_nb = rte_cpu_to_be_16(error.next_hop_mtu);  // ... except the MTU field of type 3 code 4
    std::memcpy(icmp + 1, quoted, quoted_len);
    icmp->icmp_cksum = internet_checksum(icmp, icmp_len);
    ++ctx.counters->icmp_generated;
    return true;
}

}  // namespace mbox::dataplane

#include <rte_cycles.h>
#include <rte_udp.h>

#include <cstring>

#include "crypto/esp_engine.hpp"
#include "dataplane/esp.hpp"
#include "dataplane/fragment.hpp"
#include "dataplane/icmp.hpp"
#include "dataplane/neighbour.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/route.hpp"

namespace mbox::dataplane {

namespace {

constexpr size_t kEspHeader = 8;
constexpr uint8_t kNextHeaderIpv4 = 4;
constexpr uint8_t kOuterTtl = 64;

struct EncapWork {
    crypto::EspCryptoOp ops[kBurstSize];
    uint16_t index[kBurstSize];
    uint8_t aad[kBurstSize][12];
    unsigned count = 0;
};

Next drop(WorkerContext& ctx, OutboundSa* sa, Drop reason) {
    ctx.drop(reason);
    ++sa->counters.drops[static_cast<size_t>(reason)];
    return Next::Drop;
}

void put32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// The outer IPv4 header, its checksum summed from the values in registers rather than
// read back from the bytes just written (RFC 1071). DSCP and ECN are copied from the
// inner header (RFC 4301 §5.1.2.1; RFC 6040 normal mode).
void write_outer_header(rte_ipv4_hdr* outer, uint8_t tos, uint16_t total_length, uint16_t id, uint16_t df,
                        uint8_t protocol, uint32_t source, uint32_t destination) {
    const uint16_t version_tos = static_cast<uint16_t>(RTE_IPV4_VHL_DEF << 8 | tos);
    const uint16_t ttl_protocol = static_cast<uint16_t>(kOuterTtl << 8 | protocol);
    uint32_t sum = uint32_t{version_tos} + total_length + id + df + ttl_protocol + (source >> 16) + (source & 0xffff) +
                   (destination >> 16) + (destination & 0xffff);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    outer->version_ihl = RTE_IPV4_VHL_DEF;
    outer->type_of_service = tos;
    outer->total_length = rte_cpu_to_be_16(total_length);
    outer->packet_id = rte_cpu_to_be_16(id);
    outer->fragment_offset = rte_cpu_to_be_16(df);  // clear whenever we fragment (see prepare)
    outer->time_to_live = kOuterTtl;
    outer->next_proto_id = protocol;
    outer->hdr_checksum = rte_cpu_to_be_16(static_cast<uint16_t>(~sum));
    outer->src_addr = rte_cpu_to_be_32(source);
    outer->dst_addr = rte_cpu_to_be_32(destination);
}

// The inner packet has DF set and does not fit once encapsulated: the sender learns the
// tunnel's MTU (RFC 4301 §8.1, RFC 1191). Without DF the outer packet is fragmented
// instead (fragment_and_send).
Next too_big(WorkerContext& ctx, Burst& burst, uint16_t i, OutboundSa* sa, uint16_t inner_mtu) {
    drop(ctx, sa, Drop::esp_mtu_exceeded);
    const uint32_t source = ctx.state->ports[burst.in_port[i]].primary_address;
    if (!make_icmp_error(ctx, burst.packets[i], fragmentation_needed(inner_mtu), source)) return Next::Drop;
    burst.encapsulated[i] = true;  // the error goes back to the sender as it is
    return route_originated(ctx, burst, i);
}

// Builds everything but the ciphertext and ICV: trailer, ESP header, IV, outer IPv4
// (and UDP), Ethernet room; fills the crypto op.
Next prepare(WorkerContext& ctx, Burst& burst, uint16_t i, EncapWork& w) {
    rte_mbuf* m = burst.packets[i];
    auto* sa = static_cast<OutboundSa*>(burst.sa[i]);
    if (sa->owner != ctx.index) return hand_off(ctx, burst, i, sa->owner, Handoff::Kind::Encap);
    const crypto::EspSession& s = *sa->session;

    const rte_ipv4_hdr* inner = ipv4_header(m);
    const uint16_t inner_length = ipv4_total_length(inner);
    const uint8_t inner_tos = inner->type_of_service;
    const uint16_t inner_df = rte_be_to_cpu_16(inner->fragment_offset) & RTE_IPV4_HDR_DF_FLAG;

    // Where the outer packet goes.
    if (sa->route_serial != ctx.state->serial) {
        sa->route = ctx.state->routes->lookup(sa->peer_address);
        sa->route_serial = ctx.state->serial;
    }
    const NextHop* hop = sa->route;
    if (hop == nullptr || (hop->kind != NextHop::Kind::Connected && hop->kind != NextHop::Kind::Gateway))
        return drop(ctx, sa, Drop::esp_no_route_to_peer);

    const bool udp = sa->udp_peer_port != 0;
    const uint32_t align = std::max<uint32_t>(s.block_size(), 4);  // RFC 4303 §2.4
    const uint32_t padded = (inner_length + 2u + align - 1) / align * align;
    const auto pad_length = static_cast<uint8_t>(padded - inner_length - 2);
    const uint32_t head = sizeof(rte_ipv4_hdr) + (udp ? sizeof(rte_udp_hdr) : 0) + kEspHeader + s.iv_len();
    const uint32_t outer_length = head + padded + s.icv_len();
    const uint16_t mtu = ctx.state->ports[hop->port].mtu;
    // The outer DF: the SA's `df-bit` setting, or the inner packet's.
    const uint16_t outer_df = sa->df == OutboundSa::Df::Set     ? RTE_IPV4_HDR_DF_FLAG
                              : sa->df == OutboundSa::Df::Clear ? 0
                                                                : inner_df;
    if (outer_length > mtu && inner_df == 0 && outer_df != 0) {
        // The sender allows fragmentation but the SA forbids it on the outer packet (and
        // inner fragmentation before encapsulation is not implemented): count and drop.
        return drop(ctx, sa, Drop::esp_mtu_exceeded);
    }
    if (outer_length > mtu && inner_df != 0) {
        // The largest inner packet whose padded payload still fits: padding depends on
        // the inner length modulo the block, so derive it from the room, not this packet.
        const uint32_t room = mtu > head + s.icv_len() ? mtu - head - s.icv_len() : 0;
        const uint32_t largest = room / align * align;
        return too_big(ctx, burst, i, sa, static_cast<uint16_t>(largest >= 2 + 68 ? largest - 2 : 68));
    }

    if (sa->seq == (sa->esn ? UINT64_MAX : UINT32_MAX)) return drop(ctx, sa, Drop::esp_sequence_exhausted);
    const uint64_t seq = ++sa->seq;

    // Trailer: padding 1, 2, 3, ... (RFC 4303 §2.4), pad length, next header, ICV room.
    if (m->nb_segs != 1 || rte_pktmbuf_tailroom(m) < padded - inner_length + s.icv_len() ||
        rte_pktmbuf_headroom(m) < head)
        return drop(ctx, sa, Drop::esp_no_headroom);
    uint8_t* trailer = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(padded - inner_length + s.icv_len())));
    for (uint8_t p = 0; p < pad_length; ++p) trailer[p] = static_cast<uint8_t>(p + 1);
    trailer[pad_length] = pad_length;
    trailer[pad_length + 1] = kNextHeaderIpv4;

    // Headers: [Ethernet][IPv4][UDP][SPI seq][IV][inner ...]. The old Ethernet slot is
    // overwritten by the ESP header and IV.
    uint8_t* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, static_cast<uint16_t>(head)));
    auto* outer = reinterpret_cast<rte_ipv4_hdr*>(frame + sizeof(rte_ether_hdr));
    uint8_t* esp = reinterpret_cast<uint8_t*>(outer + 1) + (udp ? sizeof(rte_udp_hdr) : 0);
    uint8_t* iv = esp + kEspHeader;
    uint8_t* payload = iv + s.iv_len();
    put32(esp, sa->spi);
    put32(esp + 4, static_cast<uint32_t>(seq));
    if (s.aead()) {
        crypto::gcm_iv_from_sequence(seq, std::span<uint8_t, 8>(iv, 8));  // unique per key (RFC 4106 §3.1)
    } else if (!ctx.esp->ivs().fill(iv, s.iv_len())) {
        return drop(ctx, sa, Drop::esp_crypto_error);
    }

    write_outer_header(outer, inner_tos, static_cast<uint16_t>(outer_length), sa->ip_id++, outer_df,
                       udp ? IPPROTO_UDP : IPPROTO_ESP, sa->local_address, sa->peer_address);
    if (udp) {  // RFC 3948 §2.1: checksum zero
        auto* u = reinterpret_cast<rte_udp_hdr*>(outer + 1);
        u->src_port = rte_cpu_to_be_16(sa->udp_local_port);
        u->dst_port = rte_cpu_to_be_16(sa->udp_peer_port);
        u->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(outer_length - sizeof(rte_ipv4_hdr)));
        u->dgram_cksum = 0;
    }

    const unsigned k = w.count++;
    w.index[k] = i;
    // Every field written once (no `op = {}` first: re-reading a just-zeroed op stalled
    // on store forwarding in the profile).
    crypto::EspCryptoOp& op = w.ops[k];
    op.session = &s;
    op.iv = iv;
    op.cipher_start = payload;
    op.cipher_len = padded;
    op.icv = payload + padded;
    op.status = crypto::CryptoStatus::Error;
    if (s.aead()) {
        op.aad = w.aad[k];
        op.aad_len = crypto::make_gcm_aad(w.aad[k], sa->spi, seq, sa->esn);
        op.auth_start = nullptr;
        op.auth_len = 0;
    } else {
        op.aad = nullptr;
        op.aad_len = 0;
        op.auth_start = esp;
        op.auth_len = kEspHeader + s.iv_len() + padded;
        if (sa->esn) {  // seq_hi sits where the ICV will be written (RFC 4303 §3.3.2.1)
            crypto::store_seq_hi(op.icv, seq);
            op.auth_len += 4;
        }
    }
    burst.out_port[i] = hop->port;
    burst.next_hop[i] = hop->kind == NextHop::Kind::Gateway ? hop->gateway : sa->peer_address;
    burst.encapsulated[i] = true;
    ++sa->counters.packets;
    sa->counters.bytes += inner_length;
    return Next::EspOut;  // waiting for the crypto
}

// The outer packet exceeds the egress MTU and the inner one allowed fragmentation:
// split it after encapsulation (RFC 4303 §3.3.5) and send every fragment, in order,
// straight to the neighbour stage; the burst slot is done with.
Next fragment_and_send(WorkerContext& ctx, Burst& burst, uint16_t i, OutboundSa* sa, uint16_t mtu) {
    rte_mbuf* fragments[kMaxFragments];
    const uint16_t count = ipv4_fragment(burst.packets[i], mtu, ctx.pool, fragments);
    if (count == 0) {
        --sa->counters.packets;
        return drop(ctx, sa, Drop::esp_fragment_failed);
    }
    ++ctx.counters->fragmented;
    ctx.counters->fragments_created += count;
    for (uint16_t k = 0; k < count; ++k)
        if (send_or_hold(ctx, fragments[k], burst.out_port[i], burst.next_hop[i]) == Next::Drop)
            rte_pktmbuf_free(fragments[k]);  // counted by the neighbour stage
    return Next::Consumed;
}

// After the crypto: send, fragment, or drop.
Next finish(WorkerContext& ctx, Burst& burst, uint16_t i, const crypto::EspCryptoOp& op) {
    auto* sa = static_cast<OutboundSa*>(burst.sa[i]);
    if (op.status != crypto::CryptoStatus::Ok) {
        --sa->counters.packets;
        return drop(ctx, sa, Drop::esp_crypto_error);
    }
    const uint16_t mtu = ctx.state->ports[burst.out_port[i]].mtu;
    if (ipv4_total_length(ipv4_header(burst.packets[i])) > mtu) return fragment_and_send(ctx, burst, i, sa, mtu);
    return Next::Transmit;
}

}  // namespace

void esp_match_outbound(WorkerContext& ctx, Burst& burst) {
    const bool any_sa = ctx.sas != nullptr && ctx.sas->policy_count() > 0;
    const TunnelPolicy& tunnels = ctx.state->tunnels;
    if (!any_sa && tunnels.networks.empty()) return;
    for (uint16_t i = 0; i < burst.count; ++i) {
        if (burst.next[i] != Next::Transmit || burst.encapsulated[i]) continue;
        const rte_ipv4_hdr* ip = ipv4_header(burst.packets[i]);
        const uint32_t src = ipv4_src(ip), dst = ipv4_dst(ip);
        if (OutboundSa* sa = any_sa ? ctx.sas->outbound(src, dst) : nullptr) {
            burst.sa[i] = sa;
            burst.next[i] = Next::EspOut;
        } else if (tunnels.networks.covers(src, dst)) {
            // A tunnel's traffic with no SA to carry it: never in the clear.
            ctx.drop(tunnels.drop);
            burst.next[i] = Next::Drop;
        }
    }
}

void esp_encap(WorkerContext& ctx, Burst& burst) {
    EncapWork w;
    // The outer headers go in front of the received frame, in a line nothing has
    // touched yet: start loading it for every packet before writing any.
    for (uint16_t i = 0; i < burst.count; ++i)
        if (burst.next[i] == Next::EspOut)
            rte_prefetch0(rte_pktmbuf_mtod_offset(burst.packets[i], const uint8_t*, -RTE_CACHE_LINE_SIZE));
    for (uint16_t i = 0; i < burst.count; ++i)
        if (burst.next[i] == Next::EspOut) burst.next[i] = prepare(ctx, burst, i, w);
    if (w.count == 0) return;
    ctx.esp->encrypt({w.ops, w.count});
    const uint64_t now = rte_rdtsc();  // once per burst: the SAs' last-used time for the control thread
    for (unsigned k = 0; k < w.count; ++k) {
        const uint16_t i = w.index[k];
        static_cast<OutboundSa*>(burst.sa[i])->last_used_tsc = now;
        burst.next[i] = finish(ctx, burst, i, w.ops[k]);
    }
}

}  // namespace mbox::dataplane

#include <rte_cycles.h>
#include <rte_udp.h>

#include <cstring>

#include "crypto/esp_engine.hpp"
#include "dataplane/classify.hpp"
#include "dataplane/esp.hpp"
#include "dataplane/packet.hpp"

namespace mbox::dataplane {

namespace {

constexpr size_t kEspHeader = 8;   // SPI + sequence number
constexpr uint8_t kNextHeaderIpv4 = 4;
constexpr uint8_t kNextHeaderNone = 59;  // RFC 4303 §2.6 dummy packet

struct EspView {
    uint8_t* esp;      // SPI
    uint32_t length;   // ESP header .. end of ICV
};

uint32_t read_be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

EspView locate(rte_mbuf* m) {
    rte_ipv4_hdr* ip = ipv4_header(m);
    const uint16_t header = ipv4_header_length(ip);
    uint8_t* l4 = reinterpret_cast<uint8_t*>(ip) + header;
    uint32_t length = ipv4_total_length(ip) - header;
    if (ip->next_proto_id == IPPROTO_UDP) {  // RFC 3948: ESP after the UDP header
        l4 += sizeof(rte_udp_hdr);
        length -= sizeof(rte_udp_hdr);
    }
    return {l4, length};
}

// Per-burst state between the prepare and finish phases.
struct DecapWork {
    crypto::EspCryptoOp ops[kBurstSize];
    uint16_t index[kBurstSize];  // burst slot of ops[k]
    uint64_t seq[kBurstSize];
    uint8_t aad[kBurstSize][12];
    uint8_t received_icv[kBurstSize][crypto::kEspMaxIcvLen];
    unsigned count = 0;
};

Next drop(WorkerContext& ctx, InboundSa* sa, Drop reason) {
    ctx.drop(reason);
    if (sa != nullptr) ++sa->counters.drops[static_cast<size_t>(reason)];
    return Next::Drop;
}

// Looks the SA up, pre-checks replay and length, and fills the crypto op.
Next prepare(WorkerContext& ctx, Burst& burst, uint16_t i, DecapWork& w) {
    rte_mbuf* m = burst.packets[i];
    const EspView v = locate(m);
    if (v.length < kEspHeader) return drop(ctx, nullptr, Drop::esp_truncated);
    auto* sa = static_cast<InboundSa*>(burst.sa[i]);
    if (sa == nullptr) {
        sa = ctx.sas->inbound(read_be32(v.esp));
        if (sa == nullptr) return drop(ctx, nullptr, Drop::esp_unknown_spi);
        burst.sa[i] = sa;
        if (sa->owner != ctx.index) return hand_off(ctx, burst, i, sa->owner, Handoff::Kind::Decap);
    }
    const crypto::EspSession& s = *sa->session;
    const uint32_t overhead = kEspHeader + s.iv_len() + s.icv_len();
    if (v.length < overhead + 2) return drop(ctx, sa, Drop::esp_truncated);
    const uint32_t cipher_len = v.length - overhead;
    if (cipher_len % s.block_size() != 0) return drop(ctx, sa, Drop::esp_bad_length);

    uint64_t seq = 0;
    switch (sa->replay.check(read_be32(v.esp + 4), seq)) {
    case ReplayWindow::Verdict::Ok: break;
    case ReplayWindow::Verdict::Replayed: return drop(ctx, sa, Drop::esp_replayed);
    case ReplayWindow::Verdict::TooOld: return drop(ctx, sa, Drop::esp_too_old);
    case ReplayWindow::Verdict::Zero: return drop(ctx, sa, Drop::esp_sequence_zero);
    }

    const unsigned k = w.count++;
    crypto::EspCryptoOp& op = w.ops[k];
    w.index[k] = i;
    w.seq[k] = seq;
    // Every field written once, as in esp_encap: `op = {}` first made the compiler
    // read back the zeroed bytes, a store-forwarding stall that was 18% of this stage
    // in the profile.
    op.session = &s;
    op.iv = v.esp + kEspHeader;
    op.cipher_start = v.esp + kEspHeader + s.iv_len();
    op.cipher_len = cipher_len;
    op.icv = op.cipher_start + cipher_len;
    op.status = crypto::CryptoStatus::Error;
    if (s.aead()) {
        op.aad = w.aad[k];
        op.aad_len = crypto::make_gcm_aad(w.aad[k], sa->spi, seq, sa->esn);
        op.auth_start = nullptr;
        op.auth_len = 0;
    } else {
        op.aad = nullptr;
        op.aad_len = 0;
        op.auth_start = v.esp;
        op.auth_len = kEspHeader + s.iv_len() + cipher_len;
        if (sa->esn) {
            // RFC 4303 §3.3.2.1: seq_hi follows the trailer in the ICV computation. Keep
            // the received ICV aside and put seq_hi where it was.
            std::memcpy(w.received_icv[k], op.icv, s.icv_len());
            crypto::store_seq_hi(op.icv, seq);
            op.icv = w.received_icv[k];
            op.auth_len += 4;
        }
    }
    return Next::EspIn;  // still in progress
}

// After the ICV verified: window, trailer, inner header, selectors.
Next finish(WorkerContext& ctx, Burst& burst, uint16_t i, const crypto::EspCryptoOp& op, uint64_t seq) {
    auto* sa = static_cast<InboundSa*>(burst.sa[i]);
    if (op.status == crypto::CryptoStatus::AuthFailed) return drop(ctx, sa, Drop::esp_auth_failed);
    if (op.status != crypto::CryptoStatus::Ok) return drop(ctx, sa, Drop::esp_crypto_error);
    // A second packet with the same number in this burst passed the pre-check too.
    uint64_t again = 0;
    if (sa->replay.check(static_cast<uint32_t>(seq), again) != ReplayWindow::Verdict::Ok || again != seq)
        return drop(ctx, sa, Drop::esp_replayed);
    sa->replay.accept(seq);

    const uint8_t next_header = op.cipher_start[op.cipher_len - 1];
    const uint8_t pad_length = op.cipher_start[op.cipher_len - 2];
    if (pad_length + 2u > op.cipher_len) return drop(ctx, sa, Drop::esp_bad_padding);
    const uint8_t* pad = op.cipher_start + op.cipher_len - 2 - pad_length;
    for (uint8_t p = 0; p < pad_length; ++p)
        if (pad[p] != p + 1) return drop(ctx, sa, Drop::esp_bad_padding);  // RFC 4303 §2.4 default padding
    if (next_header == kNextHeaderNone) return drop(ctx, sa, Drop::esp_dummy_packet);
    if (next_header != kNextHeaderIpv4) return drop(ctx, sa, Drop::esp_bad_next_header);

    // Keep an Ethernet header's room in front of the inner packet and cut the rest.
    rte_mbuf* m = burst.packets[i];
    const uint32_t inner_length = op.cipher_len - 2 - pad_length;
    const auto front = static_cast<uint16_t>(op.cipher_start - rte_pktmbuf_mtod(m, uint8_t*) - sizeof(rte_ether_hdr));
    rte_pktmbuf_adj(m, front);
    rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - sizeof(rte_ether_hdr) - inner_length));
    if (const auto reason = ipv4_check(m)) return drop(ctx, sa, *reason);
    const rte_ipv4_hdr* inner = ipv4_header(m);
    if (!sa->selectors_match(ipv4_src(inner), ipv4_dst(inner))) return drop(ctx, sa, Drop::esp_selector_mismatch);
    ++sa->counters.packets;
    sa->counters.bytes += inner_length;
    return Next::Forward;
}

}  // namespace

void esp_decap(WorkerContext& ctx, Burst& burst) {
    DecapWork w;
    for (uint16_t i = 0; i < burst.count; ++i)
        if (burst.next[i] == Next::EspIn) burst.next[i] = prepare(ctx, burst, i, w);
    if (w.count == 0) return;
    ctx.esp->decrypt({w.ops, w.count});
    const uint64_t now = rte_rdtsc();  // once per burst: the SAs' last-used time for the control thread
    for (unsigned k = 0; k < w.count; ++k) {
        const uint16_t i = w.index[k];
        burst.next[i] = finish(ctx, burst, i, w.ops[k], w.seq[k]);
        if (burst.next[i] != Next::Drop) static_cast<InboundSa*>(burst.sa[i])->last_used_tsc = now;
    }
}

}  // namespace mbox::dataplane

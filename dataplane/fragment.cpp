// rte_ip_frag_table_del_expired_entries is still marked experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1

#include "dataplane/fragment.hpp"

#include <rte_errno.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "dataplane/packet.hpp"

namespace mbox::dataplane {

namespace {

void set_fragment_header(rte_ipv4_hdr* ip, uint16_t header, uint16_t payload, uint16_t offset_units, bool more) {
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(header + payload));
    ip->fragment_offset = rte_cpu_to_be_16(static_cast<uint16_t>(offset_units | (more ? RTE_IPV4_HDR_MF_FLAG : 0)));
    ipv4_set_checksum(ip);
}

}  // namespace

uint16_t ipv4_fragment(rte_mbuf* m, uint16_t mtu, rte_mempool* pool, std::span<rte_mbuf*> out) {
    rte_ipv4_hdr* ip = ipv4_header(m);
    const uint16_t header = ipv4_header_length(ip);
    const uint16_t total = ipv4_total_length(ip);
    if (m->nb_segs != 1 || rte_pktmbuf_data_len(m) != sizeof(rte_ether_hdr) + total || mtu < header + 8u) return 0;
    const auto chunk = static_cast<uint16_t>((mtu - header) & ~7u);
    const uint16_t payload = total - header;
    const auto count = static_cast<uint16_t>((payload + chunk - 1) / chunk);
    if (count == 0 || count > out.size()) return 0;
    out[0] = m;
    if (count == 1) return 1;

    const uint16_t flags = rte_be_to_cpu_16(ip->fragment_offset);
    const uint16_t base = flags & RTE_IPV4_HDR_OFFSET_MASK;  // in 8-byte units: m may itself be a fragment
    const bool more_after = (flags & RTE_IPV4_HDR_MF_FLAG) != 0;
    if (rte_pktmbuf_alloc_bulk(pool, out.data() + 1, count - 1u) != 0) return 0;

    // Fragments 2..n: Ethernet slot, a copy of the header (ours carry no options), data.
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint8_t* data = reinterpret_cast<const uint8_t*>(ip) + header;
    for (uint16_t k = 1; k < count; ++k) {
        const uint32_t at = uint32_t{k} * chunk;
        const auto length = static_cast<uint16_t>(std::min<uint32_t>(chunk, payload - at));
        auto* f = reinterpret_cast<uint8_t*>(
            rte_pktmbuf_append(out[k], static_cast<uint16_t>(sizeof(rte_ether_hdr) + header + length)));
        if (f == nullptr) {  // an MTU beyond the buffer size: nothing sent, nothing changed
            for (uint16_t j = 1; j < count; ++j) rte_pktmbuf_free(out[j]);
            return 0;
        }
        std::memcpy(f, frame, sizeof(rte_ether_hdr) + header);
        std::memcpy(f + sizeof(rte_ether_hdr) + header, data + at, length);
        set_fragment_header(reinterpret_cast<rte_ipv4_hdr*>(f + sizeof(rte_ether_hdr)), header, length,
                            static_cast<uint16_t>(base + at / 8), k + 1 < count || more_after);
        out[k]->port = m->port;
    }
    // Fragment 1 is the original, cut short.
    rte_pktmbuf_trim(m, static_cast<uint16_t>(payload - chunk));
    set_fragment_header(ip, header, chunk, base, true);
    return count;
}

std::unique_ptr<Reassembler> Reassembler::create(uint64_t tsc_hz, int socket, std::string& error) {
    const uint64_t max_cycles = tsc_hz / 1000 * kTimeoutMs;
    rte_ip_frag_tbl* table = rte_ip_frag_table_create(kBuckets, kBucketEntries, kMaxDatagrams, max_cycles, socket);
    if (table == nullptr) {
        error = fmt::format("cannot create the IPv4 reassembly table: {}", rte_strerror(rte_errno));
        return nullptr;
    }
    return std::unique_ptr<Reassembler>(new Reassembler(table));
}

Reassembler::~Reassembler() {
    rte_ip_frag_free_death_row(&death_row_, 0);
    rte_ip_frag_table_destroy(table_);  // frees the fragments it holds
}

void Reassembler::free_death_row(WorkerCounters& c, Drop reason) {
    if (death_row_.cnt == 0) return;
    c.drops[static_cast<size_t>(reason)] += death_row_.cnt;
    rte_ip_frag_free_death_row(&death_row_, 0);
}

rte_mbuf* Reassembler::add(WorkerCounters& c, rte_mbuf* m, uint64_t now_tsc) {
    rte_ipv4_hdr* ip = ipv4_header(m);
    m->l2_len = sizeof(rte_ether_hdr);
    m->l3_len = ipv4_header_length(ip);
    // Whatever the library discards in this call (this fragment or older ones: overlaps,
    // too many fragments, a full table, a stale entry reused) lands on the death row.
    rte_mbuf* whole = rte_ipv4_frag_reassemble_packet(table_, &death_row_, m, now_tsc, ip);
    free_death_row(c, Drop::reassembly_failed);
    if (whole == nullptr) return nullptr;
    ++c.reassembled;
    rte_ipv4_hdr* header = ipv4_header(whole);
    if (rte_pktmbuf_pkt_len(whole) != sizeof(rte_ether_hdr) + ipv4_total_length(header)) {
        c.drop(Drop::reassembly_failed);
        rte_pktmbuf_free(whole);
        return nullptr;
    }
    ipv4_set_checksum(header);  // the library leaves it zero
    return whole;
}

void Reassembler::expire(WorkerCounters& c, uint64_t now_tsc) {
    rte_ip_frag_table_del_expired_entries(table_, &death_row_, now_tsc);
    free_death_row(c, Drop::reassembly_timeout);
}

}  // namespace mbox::dataplane

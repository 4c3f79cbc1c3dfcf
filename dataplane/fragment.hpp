// IPv4 fragmentation and reassembly around the ESP tunnel. RFC 4303 §3.3.5: an
// implementation fragments after encapsulation, so the outer ESP packet is what gets
// split, and the receiving gateway reassembles before decapsulation.
//
// Outbound, ipv4_fragment() splits a packet in place: the packet buffer becomes the
// first fragment and the rest are copied into fresh single-segment buffers, so every
// fragment leaves through the ordinary neighbour/transmit path.
//
// Inbound, a Reassembler per worker (DPDK's librte_ip_frag) collects fragments of ESP
// packets addressed to the gateway. It relies on every fragment of a datagram reaching
// the same worker: RSS on NICs hashes fragments on addresses only (ports are absent),
// and af_packet's PACKET_FANOUT_HASH uses the kernel's flow dissector, which does the
// same (DPDK's af_packet PMD also sets PACKET_FANOUT_FLAG_DEFRAG, so on af_packet ports
// the kernel reassembles before we see the packet at all).
#pragma once

#include <rte_ip_frag.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "dataplane/counters.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace mbox::dataplane {

// Enough for any packet that fits one buffer at an MTU of 576 or more.
inline constexpr uint16_t kMaxFragments = 8;

// Splits the IPv4 packet in `m` (one segment, Ethernet header slot in front, exactly
// its total length long) into fragments of at most `mtu` bytes of IP each (RFC 791
// §2.3, §3.2: every fragment but the last carries a multiple of 8 payload bytes and MF;
// DF is cleared). `m` becomes out[0]; the others come from `pool`. Returns the number
// of fragments, or 0 with `m` untouched when buffers ran out, `mtu` leaves no room for
// 8 payload bytes, or more than out.size() fragments would be needed.
uint16_t ipv4_fragment(rte_mbuf* m, uint16_t mtu, rte_mempool* pool, std::span<rte_mbuf*> out);

class Reassembler {
public:
    // Sized per worker (the table lives in DPDK memory on `socket`).
    static constexpr uint32_t kBuckets = 1024;
    static constexpr uint32_t kBucketEntries = 4;  // a power of two (librte_ip_frag)
    static constexpr uint32_t kMaxDatagrams = 1024;  // incomplete datagrams held at once
    static constexpr uint64_t kTimeoutMs = 2000;     // RFC 791 leaves it to us; Linux uses 30 s

    static std::unique_ptr<Reassembler> create(uint64_t tsc_hz, int socket, std::string& error);
    ~Reassembler();  // frees every fragment still held
    Reassembler(const Reassembler&) = delete;
    Reassembler& operator=(const Reassembler&) = delete;

    // Takes a fragment (an IPv4 packet with MF or an offset, Ethernet slot in front).
    // Returns the reassembled packet, header checksum valid, possibly a chain of segments
    // (the caller linearises what it needs contiguous: ESP; IKE goes to the control thread
    // as it is), or nullptr when the datagram is still incomplete or something was
    // dropped (counted in `c`: reassembly_failed per fragment discarded).
    rte_mbuf* add(WorkerCounters& c, rte_mbuf* m, uint64_t now_tsc);

    // Drops the fragments of datagrams older than kTimeoutMs (reassembly_timeout, per
    // fragment). Cheap when nothing expired: call it about every millisecond.
    void expire(WorkerCounters& c, uint64_t now_tsc);

private:
    explicit Reassembler(rte_ip_frag_tbl* table) : table_(table) {}
    void free_death_row(WorkerCounters& c, Drop reason);

    rte_ip_frag_tbl* table_;
    rte_ip_frag_death_row death_row_{};
};

}  // namespace mbox::dataplane

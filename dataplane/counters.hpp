// Per-worker counters. Each worker writes only its own block (no atomics, no shared
// cache lines); the control thread reads them with relaxed loads and sums on demand.
#pragma once

#include <cstdint>

#include "dataplane/drop_reasons.hpp"

namespace mbox::dataplane {

inline constexpr uint16_t kMaxPorts = 16;
inline constexpr uint16_t kMaxSnatRules = 256;  // configuration validation enforces it

struct PortCounters {
    uint64_t rx_packets = 0;
    uint64_t rx_bytes = 0;
    uint64_t tx_packets = 0;
    uint64_t tx_bytes = 0;
};

struct alignas(64) WorkerCounters {
    uint64_t drops[kDropReasonCount] = {};
    PortCounters ports[kMaxPorts] = {};
    uint64_t forwarded = 0;      // packets routed through the gateway
    uint64_t punted = 0;         // packets handed to the control thread (ARP; IKE is counted apart)
    uint64_t ike_punted = 0;     // IKE datagrams handed to the control thread
    uint64_t originated = 0;     // datagrams the control thread originated (IKE, NAT-T keepalives) sent on
    uint64_t handed_off = 0;     // packets passed to the worker that owns their SA
    uint64_t icmp_generated = 0; // echo replies and ICMP errors we originated
    uint64_t fragmented = 0;     // encapsulated or originated packets split because they exceeded the egress MTU
    uint64_t fragments_created = 0;  // fragments those were split into (all of them, first included)
    uint64_t reassembled = 0;    // packets to the gateway put back together from fragments
    uint64_t polls = 0;          // loop iterations (liveness)
    uint64_t idle_sleeps = 0;    // back-off sleeps taken
    uint64_t busy_cycles = 0;    // TSC cycles spent in loop iterations that did work
    uint64_t nat_created = 0;    // NAT mappings made
    uint64_t nat_expired = 0;    // NAT mappings removed by their timeout
    uint64_t nat_translated_out = 0;  // packets whose source was translated
    uint64_t nat_translated_in = 0;   // packets (replies, ICMP errors) translated back
    uint64_t snat_hits[kMaxSnatRules] = {};  // packets each firewall-snat rule decided, by chain index

    void drop(Drop reason) { ++drops[static_cast<size_t>(reason)]; }
};

// A reader's view of a counter another core writes: a relaxed atomic load, so the
// compiler neither tears nor caches it.
inline uint64_t read_counter(const uint64_t& c) {
    return __atomic_load_n(&c, __ATOMIC_RELAXED);
}

}  // namespace mbox::dataplane

// What one worker owns: its queues, rings, counters, neighbour table, the packets
// waiting for ARP, transmit buffers, and the forwarding snapshot it currently uses.
// Only this worker's lcore touches it (the control thread reads the counters).
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/control_wakeup.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/forwarding_state.hpp"
#include "dataplane/neighbour_table.hpp"
#include "dataplane/sa_table.hpp"

namespace mbox::crypto {
class EspEngine;
}
namespace mbox::nat {
class SessionTable;
}

struct rte_ring;
struct rte_mempool;

namespace mbox::dataplane {

class Reassembler;

inline constexpr uint16_t kBurstSize = 32;
inline constexpr uint16_t kTxBufferSize = 64;

// Where a packet goes after a stage.
enum class Next : uint8_t {
    Drop,      // counted by the stage that chose it; the dispatcher frees it
    Punt,      // to the control thread
    Local,     // addressed to the gateway
    Forward,   // route it
    Transmit,  // out_port and next_hop are set: resolve the neighbour and send
    EspIn,     // ESP (or ESP-in-UDP) for one of our addresses: decapsulate
    EspOut,    // matched an outbound policy (sa set): encapsulate
    Consumed,  // the stage kept the packet (queued for ARP, handed to another worker)
};

// Per-packet working state for one burst, indexed like `packets`.
struct Burst {
    rte_mbuf* packets[kBurstSize];
    Next next[kBurstSize];
    uint16_t out_port[kBurstSize];
    uint32_t next_hop[kBurstSize];  // host order: the address to ARP for
    uint16_t in_port[kBurstSize];   // where the packet entered (ICMP errors are sent from there)
    void* sa[kBurstSize];           // EspIn: InboundSa* once looked up; EspOut: OutboundSa*
    bool encapsulated[kBurstSize];  // an ESP packet we built: never matched against policies
    uint16_t count = 0;
};

struct TxBuffer {
    rte_mbuf* packets[kTxBufferSize];
    uint16_t count = 0;
};

// A token bucket for ICMP errors we originate (RFC 1812 4.3.2.8 asks for a limit).
struct IcmpRateLimit {
    uint64_t tokens = 0;
    uint64_t last_refill_tsc = 0;
};

struct WorkerContext {
    unsigned index = 0;             // worker number: also its RX and TX queue on every port
    std::vector<uint16_t> ports;    // ports this worker polls
    rte_ring* commands = nullptr;   // control -> worker (SPSC, elements are Command)
    rte_ring* punts = nullptr;      // worker -> control (SPSC, elements are Punt)
    ControlWakeup* wakeup = nullptr;  // rung after each punt, for a sleeping control thread
    rte_mempool* pool = nullptr;
    WorkerCounters* counters = nullptr;
    const std::atomic<bool>* stop = nullptr;

    const ForwardingState* state = nullptr;
    NeighbourTable* neighbours = nullptr;
    PendingQueue pending;
    std::array<TxBuffer, kMaxPorts> tx{};
    IcmpRateLimit icmp_limit;
    uint64_t tsc_hz = 0;

    crypto::EspEngine* esp = nullptr;  // this worker's ipsec-mb manager
    SaTable* sas = nullptr;
    rte_ring* handoff = nullptr;              // packets other workers hand to this one (elements: Handoff)
    std::vector<rte_ring*> handoff_rings;     // every worker's, indexed by worker
    Reassembler* reassembly = nullptr;        // fragments of ESP to us; none: they are dropped
    nat::SessionTable* nat = nullptr;         // the NAT mappings this worker owns; none: no NAT

    void drop(Drop reason) { counters->drop(reason); }
};

}  // namespace mbox::dataplane

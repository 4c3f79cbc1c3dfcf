// The data plane as the control thread sees it: ports, packet pool, one worker per
// worker lcore, and the rings between them. This is the seam between control/ and
// dataplane/: control code never touches an mbuf, only bytes handed through here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "dataplane/control_wakeup.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/forwarding_state.hpp"
#include "dataplane/fragment.hpp"
#include "dataplane/messages.hpp"
#include "dataplane/neighbour_table.hpp"
#include "dataplane/sa.hpp"
#include "dataplane/sa_table.hpp"
#include "dataplane/worker_context.hpp"
#include "nat/session_table.hpp"

namespace mbox::crypto {
class EspEngine;
}

struct rte_mempool;
struct rte_mbuf;

namespace mbox::dataplane {

struct PortSpec {
    std::string interface;  // configuration name, e.g. "eth0"
    std::string device;     // vdev string or PCI address
    uint16_t mtu = 1500;
};

struct PortInfo {
    uint16_t id = 0;
    std::string interface;
    std::string device;
    std::string driver;
    uint8_t mac[6] = {};
    uint16_t mtu = 1500;
};

struct LinkStatus {
    bool up = false;
    uint32_t speed_mbps = 0;
};

// Hardware/driver view of a port, from rte_eth_stats.
struct PortStats {
    uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
    uint64_t rx_missed = 0, rx_errors = 0, tx_errors = 0, rx_nombuf = 0;
};

// The NAT table, fixed for the life of the data plane (`firewall-nat`).
struct NatOptions {
    bool enabled = false;        // tables are allocated only for a configuration that translates
    uint32_t sessions = 262144;  // shared out evenly among the workers
    uint16_t port_first = 1024;
    uint16_t port_last = 65535;
    nat::Timeouts timeouts;
};

// Interface addresses plus the largest translate pool (config::kMaxTranslatePool):
// how many external addresses one worker's table hands out ports on.
inline constexpr uint16_t kMaxNatExternalAddresses = kMaxPorts + 256;

// Sum over workers.
struct CounterTotals {
    uint64_t drops[kDropReasonCount] = {};
    PortCounters ports[kMaxPorts] = {};
    uint64_t forwarded = 0, punted = 0, ike_punted = 0, originated = 0, icmp_generated = 0, handed_off = 0;
    uint64_t fragmented = 0, fragments_created = 0, reassembled = 0;
    uint64_t polls = 0, idle_sleeps = 0, busy_cycles = 0;
    uint64_t nat_created = 0, nat_expired = 0, nat_translated_out = 0, nat_translated_in = 0;
    uint64_t snat_hits[kMaxSnatRules] = {};

    CounterTotals operator-(const CounterTotals& base) const;
    CounterTotals& operator+=(const CounterTotals& other);
};

// An IKE datagram a worker punted, as the control thread's IKE engine gets it.
struct IkeDatagram {
    uint16_t port;                           // ingress port
    uint32_t source, destination;            // IPv4, host order
    uint16_t source_port, destination_port;  // host order
    std::span<const uint8_t> message;        // the IKE message: for 4500 the non-ESP marker is already removed
};

// Reads a frame a worker punted as Punt::Kind::Ike (Ethernet, IPv4 and UDP headers
// already checked by the worker; checked again here against the bytes). `frame` must
// outlive the result's `message`.
std::optional<IkeDatagram> ike_datagram(uint16_t port, std::span<const uint8_t> frame);

// The result of installing an SA: the SA, or null and why it was refused.
template <typename Sa>
struct SaInstall {
    const Sa* sa = nullptr;
    std::string error;
    explicit operator bool() const { return sa != nullptr; }
    operator const Sa*() const { return sa; }  // NOLINT: reads like the pointer it carries
};

// What the control thread polls for rekeying and dead-peer detection, read without
// locks from counters the SA's owner writes.
struct SaUsage {
    uint64_t packets = 0;  // inner packets encapsulated / decapsulated
    uint64_t bytes = 0;    // inner bytes
    // When the owner last processed a packet of the SA (at burst granularity), or when
    // the SA was installed if it has seen none.
    std::chrono::steady_clock::time_point last_used;
    uint64_t seq = 0;  // outbound: the last sequence number sent; inbound: the highest authenticated
};

class Dataplane {
public:
    // Call after rte_eal_init. Probes and starts every port, then launches one worker on
    // each worker lcore. Workers forward nothing until the first publish().
    static std::unique_ptr<Dataplane> start(std::span<const PortSpec> ports, std::string& error,
                                            const NatOptions& nat = {});
    ~Dataplane();  // stops the workers, frees what they held, stops and closes the ports
    Dataplane(const Dataplane&) = delete;
    Dataplane& operator=(const Dataplane&) = delete;

    unsigned worker_count() const { return static_cast<unsigned>(workers_.size()); }
    const std::vector<PortInfo>& ports() const { return ports_; }
    std::optional<uint16_t> port_of(std::string_view interface) const;
    LinkStatus link(uint16_t port) const;
    PortStats port_stats(uint16_t port) const;

    // Hands a new snapshot to every worker. The previous one is freed once each worker
    // has returned it (collected by poll_punts).
    void publish(std::unique_ptr<ForwardingState> state);
    void neighbour_update(uint32_t ip, const uint8_t mac[6], uint16_t port);
    void neighbour_delete(uint32_t ip);
    // SAs: the data plane owns them from here on. Each is given to every worker (all
    // can look it up; its owner processes it); removal frees it once every worker has
    // let go and has run the hand-offs queued until then (see retire()). The owner is
    // chosen from the SPI. Refusals are decided here, on the control thread, so that no
    // worker ever fails an install:
    //  * inbound: an SPI below 256 (RFC 4303 §2.1) or already installed, or a full
    //    table (SaTable::kMaxInbound); an SPI reserved by allocate_inbound_spi is taken
    //    and its reservation ends;
    //  * outbound: a local-net x remote-net pair an installed SA already has (use
    //    replace_outbound_sa), or more policies than SaTable::kMaxPolicies.
    SaInstall<InboundSa> add_inbound_sa(std::unique_ptr<InboundSa> sa);
    SaInstall<OutboundSa> add_outbound_sa(std::unique_ptr<OutboundSa> sa);
    // `next` takes over the policies of the installed `old` in one command per worker
    // (no packet of the tunnel finds no policy, none leaves in the clear), then `old` is
    // retired as by remove_outbound_sa. `next`'s pairs may repeat `old`'s, not another SA's.
    SaInstall<OutboundSa> replace_outbound_sa(const OutboundSa* old, std::unique_ptr<OutboundSa> next);
    void remove_inbound_sa(const InboundSa* sa);
    void remove_outbound_sa(const OutboundSa* sa);
    // A random inbound SPI (getrandom), >= 256, unique across installed and reserved
    // SPIs; reserved until installed with add_inbound_sa or given back.
    uint32_t allocate_inbound_spi();
    void release_inbound_spi(uint32_t spi);  // a reserved SPI that will not be installed
    // Objects handed to the workers and not freed yet: the snapshot in use, and the
    // snapshots and SAs replaced or removed whose retirement is still under way.
    size_t retiring() const { return outstanding_.size(); }
    // Counters of an installed SA (either direction), read without locks.
    SaUsage usage(const SaCommon& sa) const;
    const std::vector<std::unique_ptr<InboundSa>>& inbound_sas() const { return inbound_sas_; }
    const std::vector<std::unique_ptr<OutboundSa>>& outbound_sas() const { return outbound_sas_; }
    std::string_view crypto_implementation() const;

    // Copies a frame the control thread built (ARP) into a packet and sends it through
    // worker 0. Returns false when no packet buffer is free.
    bool transmit(uint16_t port, std::span<const uint8_t> frame);

    // Sends a UDP datagram from the gateway itself (IKE, NAT-T keepalives): the control
    // thread builds IPv4 (TTL 64, DF clear, identification incrementing, checksum) and
    // UDP (checksum computed), prepends the 4-byte zero non-ESP marker when asked, and
    // hands it to worker 0, which routes it (FIB, egress port), holds it while ARP
    // resolves the next hop, and sends it. It meets neither source NAT nor the outbound
    // IPsec policy: IKE to an address inside a tunnel's remote-net leaves in the clear.
    // Over the egress MTU it is fragmented by IP. Returns false when the payload is
    // larger than max_udp_payload() (one packet buffer; IKE fragmentation, RFC 7383, is
    // the engine's way past it) or no buffer is free (control_frames_dropped).
    bool send_udp(uint32_t source, uint32_t destination, uint16_t source_port, uint16_t destination_port,
                  std::span<const uint8_t> payload, bool non_esp_marker);
    size_t max_udp_payload(bool non_esp_marker) const;

    struct PuntHandler {
        std::function<void(uint16_t port, std::span<const uint8_t> frame)> on_frame;
        std::function<void(uint16_t port, uint32_t ip)> on_resolve;
        // IKE to one of our addresses; none: IKE is dropped (counted as control_frames_dropped).
        std::function<void(const IkeDatagram&)> on_ike;
    };
    // Drains the punt rings. Returns how many items were handled.
    unsigned poll_punts(const PuntHandler& handler);
    // Whether any punt ring holds something (the control thread's last look before it
    // sleeps), and what wakes that sleep when a worker punts (control_wakeup.hpp).
    bool punts_pending() const;
    ControlWakeup& control_wakeup() { return wakeup_; }

    // Control-plane frames dropped: ours that found no packet buffer to go out in, and
    // punted frames and resolve requests that arrived while the control thread waited
    // for room on a command ring.
    uint64_t control_frames_dropped() const { return control_frames_dropped_; }

    // NAT mappings, copied by each worker on request: at most `limit` of them; `live`
    // is how many there are in all. Blocks until every worker has answered.
    struct NatSessionView {
        nat::Session session;
        unsigned worker;
        double expires_in;  // seconds
        double age;         // seconds
    };
    std::vector<NatSessionView> nat_sessions(size_t limit, uint64_t& live);
    void clear_nat_sessions();
    const NatOptions& nat_options() const { return nat_options_; }

    CounterTotals counters() const;          // all workers
    CounterTotals counters(unsigned worker) const;
    unsigned lcore_of(unsigned worker) const { return workers_[worker]->lcore; }

private:
    struct Worker {
        WorkerContext ctx;
        std::unique_ptr<NeighbourTable> neighbours;
        std::unique_ptr<SaTable> sas;
        std::unique_ptr<crypto::EspEngine> esp;
        std::unique_ptr<Reassembler> reassembly;
        std::unique_ptr<nat::SessionTable> nat;
        unsigned lcore = 0;
        ~Worker();
    };
    // Something handed to every worker that is freed when the last one returns it. An
    // SA also waits for a hand-off barrier: handed-off packets carry SA pointers.
    struct Retiring {
        unsigned remaining;
        std::function<void()> release;
        bool needs_barrier = false;
    };

    Dataplane() = default;
    bool open_ports(std::span<const PortSpec> specs, std::string& error);
    bool create_workers(std::string& error);
    void launch_workers();
    void stop_workers();
    void send(unsigned worker, Command c);  // by value: DPDK's ring API takes a non-const pointer
    void retire(const void* object);
    void send_barriers();
    void broadcast(Command c);
    void deliver_ike(const PuntHandler& handler, uint16_t port, rte_mbuf* m);
    std::string outbound_conflict(const OutboundSa& sa, const OutboundSa* except) const;
    static uint32_t policy_count(const OutboundSa& sa) { return static_cast<uint32_t>(sa.local_nets.size() * sa.remote_nets.size()); }

    rte_mempool* pool_ = nullptr;
    std::vector<PortInfo> ports_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::unique_ptr<WorkerCounters[]> counters_;
    std::atomic<bool> stop_{false};
    ControlWakeup wakeup_;
    bool launched_ = false;
    // Snapshots and SAs still held by some worker, by address.
    std::map<const void*, Retiring> outstanding_;
    uint64_t control_frames_dropped_ = 0;
    NatOptions nat_options_;
    std::vector<std::unique_ptr<InboundSa>> inbound_sas_;
    std::vector<std::unique_ptr<OutboundSa>> outbound_sas_;
    std::unordered_set<uint32_t> installed_spis_, reserved_spis_;  // inbound
    uint32_t policies_in_use_ = 0;                                  // outbound pairs installed
    std::vector<const void*> barriers_due_;  // SAs every worker has let go of: barrier next
    unsigned sending_ = 0;                   // inside send(): no barrier broadcast from poll_punts
    uint16_t ip_id_ = 0;                     // originated datagrams' identification
    std::vector<uint8_t> ike_copy_;          // a multi-segment IKE datagram made contiguous
};

}  // namespace mbox::dataplane

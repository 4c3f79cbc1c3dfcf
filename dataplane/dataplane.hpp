// The data plane as the control thread sees it: ports, packet pool, one worker per
// worker lcore, and the rings between them. This is the seam between control/ and
// dataplane/: control code never touches an mbuf, only bytes handed through here.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

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
    uint64_t forwarded = 0, punted = 0, icmp_generated = 0, handed_off = 0;
    uint64_t fragmented = 0, fragments_created = 0, reassembled = 0;
    uint64_t polls = 0, idle_sleeps = 0, busy_cycles = 0;
    uint64_t nat_created = 0, nat_expired = 0, nat_translated_out = 0, nat_translated_in = 0;
    uint64_t snat_hits[kMaxSnatRules] = {};

    CounterTotals operator-(const CounterTotals& base) const;
    CounterTotals& operator+=(const CounterTotals& other);
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
    // let go. The owner is chosen from the SPI.
    const InboundSa* add_inbound_sa(std::unique_ptr<InboundSa> sa);
    const OutboundSa* add_outbound_sa(std::unique_ptr<OutboundSa> sa);
    void remove_inbound_sa(const InboundSa* sa);
    void remove_outbound_sa(const OutboundSa* sa);
    const std::vector<std::unique_ptr<InboundSa>>& inbound_sas() const { return inbound_sas_; }
    const std::vector<std::unique_ptr<OutboundSa>>& outbound_sas() const { return outbound_sas_; }
    std::string_view crypto_implementation() const;

    // Copies a frame the control thread built (ARP) into a packet and sends it through
    // worker 0. Returns false when no packet buffer is free.
    bool transmit(uint16_t port, std::span<const uint8_t> frame);

    struct PuntHandler {
        std::function<void(uint16_t port, std::span<const uint8_t> frame)> on_frame;
        std::function<void(uint16_t port, uint32_t ip)> on_resolve;
    };
    // Drains the punt rings. Returns how many items were handled.
    unsigned poll_punts(const PuntHandler& handler);

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
    // Something handed to every worker that is freed when the last one returns it.
    struct Retiring {
        unsigned remaining;
        std::function<void()> release;
    };

    Dataplane() = default;
    bool open_ports(std::span<const PortSpec> specs, std::string& error);
    bool create_workers(std::string& error);
    void launch_workers();
    void stop_workers();
    void send(unsigned worker, Command c);  // by value: DPDK's ring API takes a non-const pointer
    void retire(const void* object);
    void broadcast(Command c);

    rte_mempool* pool_ = nullptr;
    std::vector<PortInfo> ports_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::unique_ptr<WorkerCounters[]> counters_;
    std::atomic<bool> stop_{false};
    bool launched_ = false;
    // Snapshots and SAs still held by some worker, by address.
    std::map<const void*, Retiring> outstanding_;
    uint64_t control_frames_dropped_ = 0;
    NatOptions nat_options_;
    std::vector<std::unique_ptr<InboundSa>> inbound_sas_;
    std::vector<std::unique_ptr<OutboundSa>> outbound_sas_;
};

}  // namespace mbox::dataplane

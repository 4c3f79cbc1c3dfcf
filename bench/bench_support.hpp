// Pieces the gateway benchmarks share: test frames, pcap files (the input that any DPDK
// gateway can replay through net_pcap), and running the production data plane with a
// configuration for a while and measuring its one worker.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/model.hpp"
#include "dataplane/dataplane.hpp"

namespace mbox::bench {

using Frame = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

inline constexpr unsigned kFcs = 4;            // frame sizes on the wire include the FCS
inline constexpr unsigned kWireOverhead = 20;  // preamble, SFD, inter-frame gap

// net_pcap gives its n-th port in a process the address 02:70:63:61:70:<n>.
Mac net_pcap_mac(unsigned index);
bool parse_mac(const std::string& text, Mac& mac);

// An Ethernet/IPv4/UDP frame carrying an IP packet of `ip_length` bytes, from
// 10.1.x.y (one source per flow) to `destination_ip` (default: 10.200.x.y by flow).
Frame make_udp_frame(unsigned ip_length, unsigned flow, const Mac& destination, uint32_t destination_ip = 0);

bool write_pcap(const std::string& path, const std::vector<Frame>& frames);
std::vector<Frame> read_pcap(const std::string& path);

struct Measurement {
    double seconds = 0;
    uint64_t packets = 0;          // forwarded (or encapsulated/decapsulated and sent)
    uint64_t bytes_in = 0;         // frame bytes received on the input port
    uint64_t rx_packets = 0;
    double cycles_per_packet = 0;  // worker busy cycles / packets
    double busy = 0;               // share of the worker's time spent on loop iterations with work
    std::vector<std::pair<std::string, uint64_t>> drops;  // non-zero drop reasons
    dataplane::CounterTotals counters;  // the worker's counters over the measurement

    double mpps() const { return static_cast<double>(packets) / seconds / 1e6; }
};

struct NeighbourEntry {
    uint32_t ip;  // host order
    Mac mac;
    std::string interface;
};

// Starts a Dataplane for `config` (every enabled interface), publishes its forwarding
// state, installs `neighbours` and the configuration's manual SAs, warms up, then
// measures the worker for `seconds`. `input` names the interface whose RX is counted.
// Returns false (with a message) when the data plane cannot start.
// Interface "in" (10.1.0.1/16) on `in_device`, "out" (198.51.100.1/24) on `out_device`,
// and a default route to `next_hop` (host order) out of "out".
config::Config forwarding_config(const std::string& in_device, const std::string& out_device, uint32_t next_hop);

// `nat` sizes the NAT table; `warm_up`, when given, runs after the data plane is
// forwarding and before the measurement (e.g. to wait until sessions exist).
bool measure_gateway(const config::Config& config, const std::vector<NeighbourEntry>& neighbours,
                     const std::string& input, double seconds, Measurement& out, std::string& error,
                     const dataplane::NatOptions& nat = {},
                     const std::function<void(dataplane::Dataplane&)>& warm_up = {});

// A NIC stand-in with no copy on the worker: a thread on another CPU writes frames into
// fresh mbufs and queues them on a ring that an in-process net_ring port receives from,
// as a NIC's DMA fills RX descriptors. The worker's RX is then a ring dequeue and its
// cycles per packet are its own work.
//
// Two ways to make the frames: one template with flow-specific fields written by
// `write_flow(frame, flow)`, flows visited in a fixed scrambled order (every flow once
// per round; `flows` a power of two); or a list of frames sent in turn, over and over.
class RingGenerator {
public:
    using WriteFlow = std::function<void(uint8_t* frame, uint32_t flow)>;

    // Creates the ring and an ethdev for it; device() is its name, to use as a
    // dpdk-device. The frames' destination MAC is set to the port's. `name` must be
    // unique in the process.
    static std::unique_ptr<RingGenerator> create(const std::string& name, Frame frame, uint32_t flows,
                                                 WriteFlow write_flow, std::string& error);
    static std::unique_ptr<RingGenerator> create(const std::string& name, std::vector<Frame> frames,
                                                 std::string& error);
    ~RingGenerator();

    const std::string& device() const { return device_; }
    void start(unsigned cpu);  // the thread is pinned to `cpu`
    void stop();
    uint64_t generated() const { return generated_.load(std::memory_order_relaxed); }

private:
    RingGenerator() = default;
    bool open(const std::string& name, std::string& error);
    void run();

    struct rte_ring* ring_ = nullptr;
    struct rte_ring* tx_ring_ = nullptr;  // net_ring needs one; the output goes elsewhere
    struct rte_mempool* pool_ = nullptr;
    std::string device_;
    std::vector<Frame> frames_;
    uint32_t flows_ = 0;
    WriteFlow write_flow_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> generated_{0};
};

std::vector<std::string> split_eal_arguments(int argc, char** argv, std::vector<std::string>& ours);

}  // namespace mbox::bench

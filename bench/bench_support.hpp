// Pieces the gateway benchmarks share: test frames, pcap files (the input that any DPDK
// gateway can replay through net_pcap), and running the production data plane with a
// configuration for a while and measuring its one worker.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
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
bool measure_gateway(const config::Config& config, const std::vector<NeighbourEntry>& neighbours,
                     const std::string& input, double seconds, Measurement& out, std::string& error);

std::vector<std::string> split_eal_arguments(int argc, char** argv, std::vector<std::string>& ours);

}  // namespace mbox::bench

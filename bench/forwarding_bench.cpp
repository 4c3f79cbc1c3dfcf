// Plain IPv4 forwarding benchmark: the production data plane (Dataplane, one worker,
// the forwarding snapshot built from a configuration exactly as mboxd builds it)
// forwarding UDP frames of many flows to a default route. Prints Mpps, Gbit/s and
// worker cycles per packet for each frame size.
//
// By default the frames of each size are written to a temporary pcap file and replayed
// endlessly through net_pcap (infinite_rx) into the worker, which transmits into
// net_null (freeing the packets, as a NIC's TX completion would). Both drivers run on
// the worker core, so cycles/packet include their cost, as they would a NIC driver's.
// --in / --out take any DPDK ports instead, so the same input can be run through other
// DPDK gateways side by side; --write-pcap writes a matching input file.
//
//   mbox-bench-forward [--seconds 3] [--sizes 64,1518] [--flows 256] -- --no-huge -m 512 --no-pci -l 0-1
//   mbox-bench-forward --in 'net_pcap0,rx_pcap=in.pcap,infinite_rx=1' --out net_null0,no-rx=1 -- ...
#include <rte_eal.h>
#include <rte_lcore.h>

#include <algorithm>
#include <cstdio>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/bench_support.hpp"

namespace {

using namespace mbox;
using namespace mbox::bench;

constexpr uint32_t kNextHop = 0xc6336402;  // 198.51.100.2
const Mac kNextHopMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x99};

struct Options {
    double seconds = 3.0;
    std::vector<unsigned> sizes{64, 1518};
    unsigned flows = 256;
    std::string in_device;   // empty: generated traffic replayed through net_pcap
    std::string out_device;  // empty: net_null
    std::string write_pcap;
    std::string pcap_mac = "02:70:63:61:70:00";  // net_pcap's first port in a process
};


std::vector<Frame> frames_of(unsigned size, unsigned flows, const Mac& mac) {
    std::vector<Frame> frames;
    for (unsigned f = 0; f < flows; ++f) frames.push_back(make_udp_frame(size - kFcs - 14, f, mac));
    return frames;
}

int run(const std::string& in_device, const std::string& out_device, double seconds) {
    Measurement m;
    std::string error;
    if (!measure_gateway(forwarding_config(in_device, out_device, kNextHop), {{kNextHop, kNextHopMac, "out"}}, "in", seconds,
                         m, error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    const double size = m.rx_packets ? static_cast<double>(m.bytes_in) / static_cast<double>(m.rx_packets) + kFcs : 0;
    const double pps = static_cast<double>(m.packets) / m.seconds;
    std::printf("%6.0f %10.3f %10.2f %10.2f %12.1f %7.0f%%\n", size, pps / 1e6, pps * size * 8 / 1e9,
                pps * (size + kWireOverhead) * 8 / 1e9, m.cycles_per_packet, m.busy * 100);
    for (const auto& [reason, count] : m.drops)
        std::printf("       dropped as %s: %lu\n", reason.c_str(), static_cast<unsigned long>(count));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> ours;
    auto eal = split_eal_arguments(argc, argv, ours);
    Options o;
    CLI::App app{"mbox IPv4 forwarding benchmark (one worker core)"};
    app.add_option("--seconds", o.seconds, "measurement time per frame size")->capture_default_str();
    app.add_option("--sizes", o.sizes, "frame sizes in bytes, FCS included")->delimiter(',');
    app.add_option("--flows", o.flows, "distinct flows (source address/port)")->capture_default_str();
    app.add_option("--in", o.in_device, "input DPDK port (default: generated frames replayed through net_pcap)");
    app.add_option("--out", o.out_device, "output DPDK port (default: net_null)");
    app.add_option("--write-pcap", o.write_pcap, "write the generated frames to a pcap file and exit");
    app.add_option("--pcap-mac", o.pcap_mac, "destination MAC of --write-pcap frames")->capture_default_str();
    std::reverse(ours.begin(), ours.end());
    try {
        app.parse(ours);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    Mac mac{};
    if (!parse_mac(o.pcap_mac, mac)) {
        std::fprintf(stderr, "bad --pcap-mac %s\n", o.pcap_mac.c_str());
        return 2;
    }
    if (!o.write_pcap.empty()) {
        std::vector<Frame> all;
        for (unsigned size : o.sizes)
            for (auto& f : frames_of(size, o.flows, mac)) all.push_back(std::move(f));
        if (!write_pcap(o.write_pcap, all)) return 1;
        std::printf("wrote %zu frames to %s (destination MAC %s)\n", all.size(), o.write_pcap.c_str(),
                    o.pcap_mac.c_str());
        return 0;
    }

    std::vector<char*> eal_argv;
    for (auto& a : eal) eal_argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) return 1;
    if (rte_lcore_count() != 2) {
        std::fprintf(stderr, "run with exactly two lcores (e.g. -l 0-1): the main lcore and one worker\n");
        return 2;
    }
    std::printf("mbox IPv4 forwarding, 1 worker, TSC %.2f GHz, %u flows, %.1f s per run\n",
                static_cast<double>(rte_get_tsc_hz()) / 1e9, o.flows, o.seconds);
    std::printf("%6s %10s %10s %10s %12s %8s\n", "bytes", "Mpps", "Gbit/s", "wire Gb/s", "cycles/pkt", "busy");
    int rc = 0;
    if (o.in_device.empty()) {
        for (size_t run_index = 0; run_index < o.sizes.size(); ++run_index) {
            const unsigned size = o.sizes[run_index];
            const std::string pcap = fmt::format("/tmp/mbox-bench-{}-{}.pcap", getpid(), size);
            // This run's net_pcap port is the process's run_index-th: frames carry its MAC.
            if (!write_pcap(pcap, frames_of(size, o.flows, net_pcap_mac(static_cast<unsigned>(run_index))))) {
                std::fprintf(stderr, "cannot write %s\n", pcap.c_str());
                return 1;
            }
            // Each run gets its own device names: a closed vdev cannot be probed again.
            rc |= run(fmt::format("net_pcap_in{},rx_pcap={},infinite_rx=1", size, pcap),
                      fmt::format("net_null_out{},no-rx=1", size), o.seconds);
            std::remove(pcap.c_str());
        }
    } else {
        rc = run(o.in_device, o.out_device.empty() ? "net_null_out,no-rx=1" : o.out_device, o.seconds);
    }
    rte_eal_cleanup();
    return rc;
}

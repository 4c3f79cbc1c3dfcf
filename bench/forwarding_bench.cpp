// Plain IPv4 forwarding benchmark: the production data plane (Dataplane, workers,
// forwarding snapshot built from a configuration) forwarding generated traffic on one
// worker core. Prints Mpps, Gbit/s and worker cycles per packet for each frame size.
//
// By default the benchmark generates the traffic itself: for each frame size it writes
// the frames (one per flow) to a temporary pcap file and replays it endlessly through
// net_pcap (infinite_rx) into the worker, which transmits into net_null (freeing the
// packets, as a NIC's TX completion would). Both drivers run on the worker core, so
// cycles/packet include their cost, as they would include a NIC driver's. Any other
// DPDK ports can be given instead (--in / --out), so the same input can be run through
// other DPDK gateways side by side; --write-pcap writes a matching input file.
//
//   mbox-bench-forward [--seconds 3] [--sizes 64,1518] [--flows 256] -- --no-huge -m 512 --no-pci -l 0-1
//   mbox-bench-forward --in 'net_pcap0,rx_pcap=in.pcap,infinite_rx=1' --out net_null0,no-rx=1 -- ...
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "control/forwarding_builder.hpp"
#include "dataplane/dataplane.hpp"

namespace {

using namespace mbox;

constexpr uint8_t kNextHopMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};
constexpr uint32_t kNextHop = 0xc6336402;  // 198.51.100.2
constexpr unsigned kFcs = 4;              // frame sizes are quoted with the FCS the wire adds
constexpr unsigned kWireOverhead = 20;    // preamble, SFD and inter-frame gap

struct Options {
    double seconds = 3.0;
    std::vector<unsigned> sizes{64, 1518};
    unsigned flows = 256;
    std::string in_device;   // empty: generated traffic replayed through net_pcap
    std::string out_device;  // empty: net_null
    std::string write_pcap;
    // net_pcap gives its n-th port in a process the address 02:70:63:61:70:<n>.
    std::string pcap_mac = "02:70:63:61:70:00";
};

config::Config bench_config(const std::string& in_device, const std::string& out_device) {
    config::Config c;
    config::Interface in;
    in.name = "in";
    in.dpdk_device = in_device;
    in.addresses = {*Ipv4Prefix::parse("10.1.0.1/16")};
    in.enabled = true;
    config::Interface out = in;
    out.name = "out";
    out.dpdk_device = out_device;
    out.addresses = {*Ipv4Prefix::parse("198.51.100.1/24")};
    c.interfaces = {in, out};
    c.routes.push_back({*Ipv4Prefix::parse("0.0.0.0/0"), Ipv4Address{kNextHop}, {}});
    return c;
}

// An Ethernet/IPv4/UDP frame of `size` bytes on the wire (FCS excluded from the data),
// from 10.1.x.y (one source per flow) to 10.200.x.y, addressed to `dst_mac`.
std::vector<uint8_t> make_frame(unsigned size, unsigned flow, const uint8_t dst_mac[6]) {
    std::vector<uint8_t> f(size - kFcs, 0);
    auto* eth = reinterpret_cast<rte_ether_hdr*>(f.data());
    std::memcpy(eth->dst_addr.addr_bytes, dst_mac, 6);
    const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::memcpy(eth->src_addr.addr_bytes, src_mac, 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    const auto ip_len = static_cast<uint16_t>(f.size() - sizeof(rte_ether_hdr));
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16(ip_len);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = rte_cpu_to_be_32(0x0a010000 | (2 + flow % 60000));
    ip->dst_addr = rte_cpu_to_be_32(0x0ac80000 | (flow % 65536));
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    udp->src_port = rte_cpu_to_be_16(static_cast<uint16_t>(1024 + flow));
    udp->dst_port = rte_cpu_to_be_16(9);
    udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(ip_len - sizeof(rte_ipv4_hdr)));
    return f;
}

bool parse_mac(const std::string& text, uint8_t mac[6]) {
    return std::sscanf(text.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
                       &mac[5]) == 6;
}

// A classic pcap file (v2.4, Ethernet) with one frame per flow for each size.
bool write_frames(const std::string& path, const std::vector<unsigned>& sizes, unsigned flows, const uint8_t mac[6]) {
    std::ofstream out(path, std::ios::binary);
    const uint32_t global[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};  // pcap v2.4, Ethernet
    out.write(reinterpret_cast<const char*>(global), sizeof global);
    for (unsigned flow = 0; flow < flows; ++flow) {
        for (unsigned size : sizes) {
            const auto f = make_frame(size, flow, mac);
            const uint32_t rec[4] = {0, 0, static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size())};
            out.write(reinterpret_cast<const char*>(rec), sizeof rec);
            out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
        }
    }
    return static_cast<bool>(out);
}

int write_pcap(const Options& o) {
    uint8_t mac[6];
    if (!parse_mac(o.pcap_mac, mac)) {
        std::fprintf(stderr, "bad --pcap-mac %s\n", o.pcap_mac.c_str());
        return 2;
    }
    if (!write_frames(o.write_pcap, o.sizes, o.flows, mac)) return 1;
    std::printf("wrote %u frames to %s (destination MAC %s)\n", o.flows * static_cast<unsigned>(o.sizes.size()),
                o.write_pcap.c_str(), o.pcap_mac.c_str());
    return 0;
}

struct Sample {
    dataplane::CounterTotals counters;
    uint64_t tsc;
};

Sample sample(const dataplane::Dataplane& dp) { return {dp.counters(0), rte_rdtsc()}; }

void report(uint16_t in_port, const Sample& a, const Sample& b) {
    const auto d = b.counters - a.counters;
    const auto& rx = d.ports[in_port];
    // Frame size as quoted on the wire: the data DPDK sees plus the FCS.
    const double size = rx.rx_packets ? static_cast<double>(rx.rx_bytes) / static_cast<double>(rx.rx_packets) + kFcs : 0;
    const double seconds = static_cast<double>(b.tsc - a.tsc) / static_cast<double>(rte_get_tsc_hz());
    const double pps = static_cast<double>(d.forwarded) / seconds;
    const double gbps = pps * size * 8 / 1e9;
    const double wire = pps * (size + kWireOverhead) * 8 / 1e9;
    const double cycles = d.forwarded ? static_cast<double>(d.busy_cycles) / static_cast<double>(d.forwarded) : 0;
    const double busy = static_cast<double>(d.busy_cycles) / static_cast<double>(b.tsc - a.tsc);
    uint64_t drops = 0;
    for (uint64_t x : d.drops) drops += x;
    std::printf("%6.0f %10.3f %10.2f %10.2f %12.1f %7.0f%% %10lu\n", size, pps / 1e6, gbps, wire, cycles, busy * 100,
                static_cast<unsigned long>(drops));
    for (size_t i = 0; i < dataplane::kDropReasonCount; ++i)
        if (d.drops[i] != 0)
            std::printf("       dropped as %s: %lu\n", std::string(dataplane::kDropReasons[i].name).c_str(),
                        static_cast<unsigned long>(d.drops[i]));
}

// Starts the data plane on in/out, forwards for `seconds` after a warm-up, reports.
int run(const std::string& in_device, const std::string& out_device, const std::array<uint8_t, 6>& input_mac,
        double seconds) {
    const config::Config config = bench_config(in_device, out_device);
    std::vector<dataplane::PortSpec> specs;
    for (const auto& i : config.interfaces) specs.push_back({i.name, i.dpdk_device, i.effective_mtu()});
    std::string error;
    auto dp = dataplane::Dataplane::start(specs, error);
    if (!dp) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    auto built = control::build_forwarding_state(config, *dp);
    if (!built.state) {
        std::fprintf(stderr, "%s\n", built.error.c_str());
        return 1;
    }
    dp->publish(std::move(built.state));
    dp->neighbour_update(kNextHop, kNextHopMac, *dp->port_of("out"));
    const uint16_t in = *dp->port_of("in");
    const uint8_t* actual = dp->ports()[0].mac;
    if (!std::equal(input_mac.begin(), input_mac.end(), actual)) {
        std::fprintf(stderr, "the input port's MAC is %02x:%02x:%02x:%02x:%02x:%02x, not the frames' destination\n",
                     actual[0], actual[1], actual[2], actual[3], actual[4], actual[5]);
        return 1;
    }
    const dataplane::Dataplane::PuntHandler ignore{[](uint16_t, std::span<const uint8_t>) {}, [](uint16_t, uint32_t) {}};
    const auto wait = [&](std::chrono::duration<double> d) {
        const auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until) {
            dp->poll_punts(ignore);  // returns retired snapshots
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    };
    wait(std::chrono::milliseconds(300));
    const Sample a = sample(*dp);
    wait(std::chrono::duration<double>(seconds));
    report(in, a, sample(*dp));
    return 0;
}

std::vector<std::string> split_eal(int argc, char** argv, std::vector<std::string>& ours) {
    std::vector<std::string> eal{"mbox-bench-forward"};
    bool after = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (!after && a == "--") after = true;
        else (after ? eal : ours).push_back(a);
    }
    return eal;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> ours;
    auto eal = split_eal(argc, argv, ours);
    Options o;
    CLI::App app{"mbox IPv4 forwarding benchmark (one worker core)"};
    app.add_option("--seconds", o.seconds, "measurement time per frame size")->capture_default_str();
    app.add_option("--sizes", o.sizes, "frame sizes in bytes, FCS included")->delimiter(',');
    app.add_option("--flows", o.flows, "distinct flows (source address/port)")->capture_default_str();
    app.add_option("--in", o.in_device, "input DPDK port (default: generated frames replayed through net_pcap)");
    app.add_option("--out", o.out_device, "output DPDK port")->capture_default_str();
    app.add_option("--write-pcap", o.write_pcap, "write the generator's frames to a pcap file and exit");
    app.add_option("--pcap-mac", o.pcap_mac, "the input port's MAC address, and the frames' destination")
        ->capture_default_str();
    std::reverse(ours.begin(), ours.end());
    try {
        app.parse(ours);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (!o.write_pcap.empty()) return write_pcap(o);

    std::vector<char*> eal_argv;
    for (auto& a : eal) eal_argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) return 1;
    if (rte_lcore_count() != 2) {
        std::fprintf(stderr, "run with exactly two lcores (e.g. -l 0-1): the main lcore and one worker\n");
        return 2;
    }
    std::printf("mbox IPv4 forwarding, 1 worker, TSC %.2f GHz, %u flows, %.1f s per run\n",
                static_cast<double>(rte_get_tsc_hz()) / 1e9, o.flows, o.seconds);
    std::printf("%6s %10s %10s %10s %12s %8s %10s\n", "bytes", "Mpps", "Gbit/s", "wire Gb/s", "cycles/pkt", "busy",
                "drops");
    std::array<uint8_t, 6> mac{};
    if (!parse_mac(o.pcap_mac, mac.data())) {
        std::fprintf(stderr, "bad --pcap-mac %s\n", o.pcap_mac.c_str());
        return 2;
    }
    int rc = 0;
    if (o.in_device.empty()) {
        --mac[5];
        for (unsigned size : o.sizes) {
            ++mac[5];  // this run's net_pcap port is the next one (see Options::pcap_mac)
            const std::string pcap = fmt::format("/tmp/mbox-bench-{}-{}.pcap", getpid(), size);
            if (!write_frames(pcap, {size}, o.flows, mac.data())) {
                std::fprintf(stderr, "cannot write %s\n", pcap.c_str());
                return 1;
            }
            // Each run gets its own device names: a closed vdev cannot be probed again.
            rc |= run(fmt::format("net_pcap_in{},rx_pcap={},infinite_rx=1", size, pcap),
                      fmt::format("net_null_out{},no-rx=1", size), mac, o.seconds);
            std::remove(pcap.c_str());
        }
    } else {
        rc = run(o.in_device, o.out_device.empty() ? "net_null_out,no-rx=1" : o.out_device, mac, o.seconds);
    }
    rte_eal_cleanup();
    return rc;
}

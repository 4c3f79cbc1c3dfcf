// SNAT/PAT benchmark: the production data plane (one worker) forwarding UDP through a
// firewall-snat rule, next to plain forwarding of the same traffic in the same run, with
// 1 k and 1 M live mappings, and the rate at which the worker makes new mappings.
//
// Input: a RingGenerator (a thread on CPU 0 writing frames into mbufs and queueing them
// on an in-process net_ring port, as a NIC's DMA would), so the worker's cycles are its
// own work and not a driver's copy; output: net_null. Flow f comes from
// 10.64.0.0/10 host (f / 16) port 10000 + (f % 16) and goes to 203.0.113.9:9 by the
// default route; each round of the generator visits every flow once, in scrambled order.
//
//   1 k mappings: `overload` to the out interface's address.
//   1 M mappings: `translate` to a 32-address pool (one address holds 64 k ports).
//
//   mbox-bench-nat [--seconds 2] [--sizes 64,1518] [--flows 1024,1048576] -- --no-huge -m 1024 --no-pci -l 0-1
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_udp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/bench_support.hpp"

namespace {

using namespace mbox;
using namespace mbox::bench;

constexpr uint32_t kNextHop = 0xc6336402;     // 198.51.100.2
constexpr uint32_t kServer = 0xcb007109;      // 203.0.113.9
constexpr uint32_t kInsideBase = 0x0a400000;  // 10.64.0.0
constexpr unsigned kPortsPerHost = 16;
constexpr unsigned kGeneratorCpu = 0;
const Mac kNextHopMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x99};

enum class Mode { Plain, Overload, Translate };

const char* name_of(Mode m) {
    switch (m) {
    case Mode::Plain: return "forward";
    case Mode::Overload: return "PAT overload";
    case Mode::Translate: return "PAT pool/32";
    }
    return "?";
}

config::Config nat_config(const std::string& in_device, const std::string& out_device, Mode mode) {
    config::Config c = forwarding_config(in_device, out_device, kNextHop);
    if (mode != Mode::Plain) {
        config::SnatRule rule;
        rule.rule = 10;
        rule.interface = "out";
        rule.action = mode == Mode::Overload ? config::SnatAction::Overload : config::SnatAction::Translate;
        if (mode == Mode::Translate)
            rule.xsrc = config::Ipv4Range{*Ipv4Address::parse("198.51.100.32"), *Ipv4Address::parse("198.51.100.63")};
        c.snat_rules.push_back(rule);
    }
    return c;
}

// Flow f: its source address and port, and the IPv4 checksum that goes with them.
void write_flow(uint8_t* frame, uint32_t flow) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(frame + sizeof(rte_ether_hdr));
    ip->src_addr = rte_cpu_to_be_32(kInsideBase + flow / kPortsPerHost);
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    udp->src_port = rte_cpu_to_be_16(static_cast<uint16_t>(10000 + flow % kPortsPerHost));
}

struct Row {
    Measurement m;
    double new_per_second = 0;  // mappings made per second of worker time (first round)
    uint64_t live = 0;
};

bool run_one(unsigned size, uint32_t flows, Mode mode, double seconds, unsigned serial, Row& row) {
    std::string error;
    auto generator = RingGenerator::create(fmt::format("gen{}", serial), make_udp_frame(size - kFcs - 14, 0, {}, kServer), flows, write_flow,
                                           error);
    if (!generator) return std::fprintf(stderr, "%s\n", error.c_str()), false;
    dataplane::NatOptions nat;
    nat.enabled = mode != Mode::Plain;
    nat.sessions = std::max<uint32_t>(2 * flows, 65536);
    generator->start(kGeneratorCpu);
    const auto warm_up = [&](dataplane::Dataplane& dp) {
        if (mode == Mode::Plain) return;
        // The first round makes one mapping per packet: that is the new-mapping rate.
        const auto a = dp.counters(0);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (dp.counters(0).nat_created < flows && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const auto b = dp.counters(0);
        const double busy = static_cast<double>(b.busy_cycles - a.busy_cycles) / static_cast<double>(rte_get_tsc_hz());
        if (busy > 0) row.new_per_second = static_cast<double>(b.nat_created - a.nat_created) / busy;
    };
    const bool ok = measure_gateway(nat_config(generator->device(), fmt::format("net_null_out{},no-rx=1", serial), mode),
                                    {{kNextHop, kNextHopMac, "out"}}, "in", seconds, row.m, error, nat, warm_up);
    generator->stop();
    if (!ok) return std::fprintf(stderr, "%s\n", error.c_str()), false;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> ours;
    auto eal = split_eal_arguments(argc, argv, ours);
    double seconds = 2.0;
    std::vector<unsigned> sizes{64, 1518};
    std::vector<uint32_t> flow_counts{1024, 1048576};
    CLI::App app{"mbox SNAT/PAT benchmark (one worker core) next to plain forwarding"};
    app.add_option("--seconds", seconds, "measurement time per run")->capture_default_str();
    app.add_option("--sizes", sizes, "frame sizes in bytes, FCS included")->delimiter(',');
    app.add_option("--flows", flow_counts, "live flows (= mappings), powers of two")->delimiter(',');
    std::reverse(ours.begin(), ours.end());
    try {
        app.parse(ours);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    std::vector<char*> eal_argv;
    for (auto& a : eal) eal_argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) return 1;
    if (rte_lcore_count() != 2) return std::fprintf(stderr, "run with exactly two lcores (e.g. -l 0-1)\n"), 2;

    std::printf("mbox SNAT/PAT, 1 worker, TSC %.2f GHz, generator thread on CPU %u, %.1f s per run\n",
                static_cast<double>(rte_get_tsc_hz()) / 1e9, kGeneratorCpu, seconds);
    std::printf("%6s %9s %-13s %8s %10s %6s %12s %14s\n", "bytes", "flows", "mode", "Mpps", "cycles/pkt", "busy",
                "cycles ratio", "new maps/s");
    unsigned serial = 0;
    int rc = 0;
    for (unsigned size : sizes) {
        for (uint32_t flows : flow_counts) {
            Row plain;
            for (Mode mode : {Mode::Plain, flows <= 32768 ? Mode::Overload : Mode::Translate}) {
                Row row;
                if (!run_one(size, flows, mode, seconds, serial++, row)) {
                    rc = 1;
                    continue;
                }
                if (mode == Mode::Plain) plain = row;
                const double ratio =
                    plain.m.cycles_per_packet > 0 ? row.m.cycles_per_packet / plain.m.cycles_per_packet : 0;
                std::printf("%6u %9u %-13s %8.3f %10.1f %5.0f%% %12.2f %14s\n", size, flows, name_of(mode),
                            row.m.mpps(), row.m.cycles_per_packet, row.m.busy * 100, ratio,
                            mode == Mode::Plain ? "-" : fmt::format("{:.2f} M", row.new_per_second / 1e6).c_str());
                for (const auto& [reason, count] : row.m.drops)
                    std::printf("       dropped as %s: %lu\n", reason.c_str(), static_cast<unsigned long>(count));
                std::fflush(stdout);
            }
        }
    }
    rte_eal_cleanup();
    return rc;
}

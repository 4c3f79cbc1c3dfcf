// Plain IPv4 forwarding benchmark: the production data plane (Dataplane, workers,
// forwarding snapshot built from a configuration) forwarding generated traffic on one
// worker core. Prints Mpps, Gbit/s and worker cycles per packet for each frame size.
//
// By default an in-process generator on the main lcore feeds a net_ring port and the
// worker transmits into net_null (which frees the packets, as a NIC would). Any other
// DPDK ports can be given instead (--in / --out), so the same input can be run through
// other DPDK gateways side by side; --write-pcap produces a matching input file.
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
    std::string in_device = "net_ring0";
    std::string out_device = "net_null0,no-rx=1";
    std::string write_pcap;
    std::string pcap_mac = "02:70:63:61:70:00";  // net_pcap's first port
};

config::Config bench_config(const Options& o) {
    config::Config c;
    config::Interface in;
    in.name = "in";
    in.dpdk_device = o.in_device;
    in.addresses = {*Ipv4Prefix::parse("10.1.0.1/16")};
    in.enabled = true;
    config::Interface out = in;
    out.name = "out";
    out.dpdk_device = o.out_device;
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

int write_pcap(const Options& o) {
    uint8_t mac[6];
    if (std::sscanf(o.pcap_mac.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
                    &mac[5]) != 6) {
        std::fprintf(stderr, "bad --pcap-mac %s\n", o.pcap_mac.c_str());
        return 2;
    }
    std::ofstream out(o.write_pcap, std::ios::binary);
    const uint32_t global[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};  // pcap v2.4, Ethernet
    out.write(reinterpret_cast<const char*>(global), 4 + 2 + 2 + 4 + 4 + 4 + 4 - 4);
    for (unsigned flow = 0; flow < o.flows; ++flow) {
        for (unsigned size : o.sizes) {
            const auto f = make_frame(size, flow, mac);
            const uint32_t rec[4] = {0, 0, static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size())};
            out.write(reinterpret_cast<const char*>(rec), sizeof rec);
            out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
        }
    }
    std::printf("wrote %u frames to %s (destination MAC %s)\n", o.flows * static_cast<unsigned>(o.sizes.size()),
                o.write_pcap.c_str(), o.pcap_mac.c_str());
    return out ? 0 : 1;
}

// Feeds the in-port's RX ring with fresh frames of one size until `until`.
struct Generator {
    rte_ring* ring;
    rte_mempool* pool;
    std::vector<std::vector<uint8_t>> frames;  // one per flow
    uint64_t generated = 0;

    void run_until(std::chrono::steady_clock::time_point until, dataplane::Dataplane& dp) {
        rte_mbuf* burst[32];
        unsigned flow = 0, spins = 0;
        const dataplane::Dataplane::PuntHandler ignore{[](uint16_t, std::span<const uint8_t>) {},
                                                      [](uint16_t, uint32_t) {}};
        while (true) {
            if (++spins % 4096 == 0) {
                dp.poll_punts(ignore);
                if (std::chrono::steady_clock::now() >= until) return;
            }
            if (rte_ring_free_count(ring) < 32) continue;
            if (rte_pktmbuf_alloc_bulk(pool, burst, 32) != 0) continue;
            for (auto* m : burst) {
                const auto& f = frames[flow];
                flow = flow + 1 == frames.size() ? 0 : flow + 1;
                m->data_len = static_cast<uint16_t>(f.size());
                m->pkt_len = static_cast<uint32_t>(f.size());
                std::memcpy(rte_pktmbuf_mtod(m, void*), f.data(), std::min<size_t>(f.size(), 64));
            }
            const unsigned n = rte_ring_sp_enqueue_burst(ring, reinterpret_cast<void**>(burst), 32, nullptr);
            if (n < 32) rte_pktmbuf_free_bulk(burst + n, 32 - n);
            generated += n;
        }
    }
};

struct Sample {
    dataplane::CounterTotals counters;
    uint64_t tsc;
};

Sample sample(const dataplane::Dataplane& dp) { return {dp.counters(0), rte_rdtsc()}; }

void report(unsigned size, const Sample& a, const Sample& b) {
    const auto d = b.counters - a.counters;
    const double seconds = static_cast<double>(b.tsc - a.tsc) / static_cast<double>(rte_get_tsc_hz());
    const double pps = static_cast<double>(d.forwarded) / seconds;
    const double gbps = pps * size * 8 / 1e9;
    const double wire = pps * (size + kWireOverhead) * 8 / 1e9;
    const double cycles = d.forwarded ? static_cast<double>(d.busy_cycles) / static_cast<double>(d.forwarded) : 0;
    const double busy = static_cast<double>(d.busy_cycles) / static_cast<double>(b.tsc - a.tsc);
    uint64_t drops = 0;
    for (uint64_t x : d.drops) drops += x;
    std::printf("%6u %10.3f %10.2f %10.2f %12.1f %7.0f%% %10lu\n", size, pps / 1e6, gbps, wire, cycles, busy * 100,
                static_cast<unsigned long>(drops));
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
    app.add_option("--in", o.in_device, "input DPDK port (default: in-process generator on net_ring)");
    app.add_option("--out", o.out_device, "output DPDK port")->capture_default_str();
    app.add_option("--write-pcap", o.write_pcap, "write the generator's frames to a pcap file and exit");
    app.add_option("--pcap-mac", o.pcap_mac, "destination MAC for --write-pcap")->capture_default_str();
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
        std::fprintf(stderr, "run with exactly two lcores (e.g. -l 0-1): main = generator, one worker\n");
        return 2;
    }
    const bool generate = o.in_device == "net_ring0";
    const config::Config config = bench_config(o);
    std::vector<dataplane::PortSpec> specs;
    for (const auto& i : config.interfaces) specs.push_back({i.name, i.dpdk_device, i.effective_mtu()});
    std::string error;
    int rc = 0;
    {
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

        const auto& in = dp->ports()[0];
        std::printf("mbox IPv4 forwarding, 1 worker (lcore %u), TSC %.2f GHz, input %s, output %s, %u flows\n",
                    dp->lcore_of(0), static_cast<double>(rte_get_tsc_hz()) / 1e9, o.in_device.c_str(),
                    o.out_device.c_str(), o.flows);
        std::printf("%6s %10s %10s %10s %12s %8s %10s\n", "bytes", "Mpps", "Gbit/s", "wire Gb/s", "cycles/pkt",
                    "busy", "drops");
        const auto measure = std::chrono::duration<double>(o.seconds);
        if (generate) {
            rte_ring* ring = rte_ring_lookup("ETH_RXTX0_net_ring0");
            rte_mempool* pool = rte_mempool_lookup("mbox_pkts");
            if (ring == nullptr || pool == nullptr) {
                std::fprintf(stderr, "cannot find the net_ring0 ring or the packet pool\n");
                return 1;
            }
            for (unsigned size : o.sizes) {
                Generator g{ring, pool, {}, 0};
                for (unsigned f = 0; f < o.flows; ++f) g.frames.push_back(make_frame(size, f, in.mac));
                const auto start = std::chrono::steady_clock::now();
                g.run_until(start + std::chrono::milliseconds(300), *dp);  // warm up
                const Sample a = sample(*dp);
                g.run_until(std::chrono::steady_clock::now() +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(measure),
                            *dp);
                report(size, a, sample(*dp));
                // Let the worker drain the ring before the next size.
                while (rte_ring_count(ring) > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            const Sample a = sample(*dp);
            std::this_thread::sleep_for(measure);
            report(0, a, sample(*dp));
            std::printf("(bytes column is 0: the input's frame sizes are whatever the port delivers; Gbit/s not computed)\n");
        }
    }
    rte_eal_cleanup();
    return rc;
}

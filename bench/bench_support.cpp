#include "bench/bench_support.hpp"

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "control/forwarding_builder.hpp"
#include "control/sa_manager.hpp"

namespace mbox::bench {

Mac net_pcap_mac(unsigned index) { return {0x02, 0x70, 0x63, 0x61, 0x70, static_cast<uint8_t>(index)}; }

bool parse_mac(const std::string& text, Mac& m) {
    return std::sscanf(text.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6;
}

Frame make_udp_frame(unsigned ip_length, unsigned flow, const Mac& destination, uint32_t destination_ip) {
    Frame f(sizeof(rte_ether_hdr) + ip_length, 0);
    auto* eth = reinterpret_cast<rte_ether_hdr*>(f.data());
    std::memcpy(eth->dst_addr.addr_bytes, destination.data(), 6);
    const uint8_t source[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::memcpy(eth->src_addr.addr_bytes, source, 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ip_length));
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = rte_cpu_to_be_32(0x0a010000 | (2 + flow % 60000));
    ip->dst_addr = rte_cpu_to_be_32(destination_ip != 0 ? destination_ip : 0x0ac80000 | (flow % 65536));
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    udp->src_port = rte_cpu_to_be_16(static_cast<uint16_t>(1024 + flow));
    udp->dst_port = rte_cpu_to_be_16(9);
    udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(ip_length - sizeof(rte_ipv4_hdr)));
    return f;
}

bool write_pcap(const std::string& path, const std::vector<Frame>& frames) {
    std::ofstream out(path, std::ios::binary);
    const uint32_t global[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};  // pcap 2.4, Ethernet
    out.write(reinterpret_cast<const char*>(global), sizeof global);
    for (const Frame& f : frames) {
        const uint32_t record[4] = {0, 0, static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size())};
        out.write(reinterpret_cast<const char*>(record), sizeof record);
        out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
    }
    return static_cast<bool>(out);
}

std::vector<Frame> read_pcap(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<Frame> frames;
    uint32_t global[6];
    // Microsecond (0xa1b2c3d4) or nanosecond (0xa1b23c4d, what net_pcap writes) timestamps.
    if (!in.read(reinterpret_cast<char*>(global), sizeof global) || (global[0] != 0xa1b2c3d4 && global[0] != 0xa1b23c4d))
        return frames;
    uint32_t record[4];
    while (in.read(reinterpret_cast<char*>(record), sizeof record)) {
        Frame f(record[2]);
        if (!in.read(reinterpret_cast<char*>(f.data()), record[2])) break;
        frames.push_back(std::move(f));
    }
    return frames;
}

bool measure_gateway(const config::Config& config, const std::vector<NeighbourEntry>& neighbours,
                     const std::string& input, double seconds, Measurement& out, std::string& error) {
    std::vector<dataplane::PortSpec> specs;
    for (const auto& i : config.interfaces)
        if (i.enabled) specs.push_back({i.name, i.dpdk_device, i.effective_mtu()});
    auto dp = dataplane::Dataplane::start(specs, error);
    if (!dp) return false;
    auto built = control::build_forwarding_state(config, *dp);
    if (!built.state) {
        error = built.error;
        return false;
    }
    dp->publish(std::move(built.state));
    for (const auto& n : neighbours) dp->neighbour_update(n.ip, n.mac.data(), *dp->port_of(n.interface));
    control::SaManager sas(*dp);
    for (const auto& e : sas.install_manual(config)) {
        error = e;
        return false;
    }
    const uint16_t in_port = *dp->port_of(input);
    const dataplane::Dataplane::PuntHandler ignore{[](uint16_t, std::span<const uint8_t>) {}, [](uint16_t, uint32_t) {}};
    const auto wait = [&](std::chrono::duration<double> d) {
        const auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until) {
            dp->poll_punts(ignore);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    };
    wait(std::chrono::milliseconds(300));
    const auto a = dp->counters(0);
    const uint64_t t0 = rte_rdtsc();
    wait(std::chrono::duration<double>(seconds));
    const auto d = dp->counters(0) - a;
    const uint64_t cycles = rte_rdtsc() - t0;

    out = {};
    out.seconds = static_cast<double>(cycles) / static_cast<double>(rte_get_tsc_hz());
    uint64_t tx = 0;
    for (const auto& p : d.ports) tx += p.tx_packets;
    out.packets = tx;
    out.rx_packets = d.ports[in_port].rx_packets;
    out.bytes_in = d.ports[in_port].rx_bytes;
    out.cycles_per_packet = tx ? static_cast<double>(d.busy_cycles) / static_cast<double>(tx) : 0;
    out.busy = static_cast<double>(d.busy_cycles) / static_cast<double>(cycles);
    for (size_t i = 0; i < dataplane::kDropReasonCount; ++i)
        if (d.drops[i] != 0) out.drops.emplace_back(dataplane::kDropReasons[i].name, d.drops[i]);
    return true;
}

std::vector<std::string> split_eal_arguments(int argc, char** argv, std::vector<std::string>& ours) {
    std::vector<std::string> eal{argv[0]};
    bool after = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (!after && a == "--") after = true;
        else (after ? eal : ours).push_back(a);
    }
    return eal;
}

}  // namespace mbox::bench

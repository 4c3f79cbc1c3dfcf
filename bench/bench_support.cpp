#include "bench/bench_support.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
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

config::Config forwarding_config(const std::string& in_device, const std::string& out_device, uint32_t next_hop) {
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
    c.routes.push_back({*Ipv4Prefix::parse("0.0.0.0/0"), Ipv4Address{next_hop}, {}});
    return c;
}

bool measure_gateway(const config::Config& config, const std::vector<NeighbourEntry>& neighbours,
                     const std::string& input, double seconds, Measurement& out, std::string& error,
                     const dataplane::NatOptions& nat, const std::function<void(dataplane::Dataplane&)>& warm_up) {
    std::vector<dataplane::PortSpec> specs;
    for (const auto& i : config.interfaces)
        if (i.enabled) specs.push_back({i.name, i.dpdk_device, i.effective_mtu()});
    auto dp = dataplane::Dataplane::start(specs, error, nat);
    if (!dp) return false;
    auto built = control::build_forwarding_state(config, *dp);
    if (!built.state) {
        error = built.error;
        return false;
    }
    // SAs and neighbours before the state: the worker polls no port until the state
    // arrives, so not one packet (of a one-pass input either) goes out unencrypted or
    // waits for ARP.
    control::SaManager sas(*dp);
    for (const auto& e : sas.install_manual(config)) {
        error = e;
        return false;
    }
    for (const auto& n : neighbours) dp->neighbour_update(n.ip, n.mac.data(), *dp->port_of(n.interface));
    dp->publish(std::move(built.state));
    const uint16_t in_port = *dp->port_of(input);
    const dataplane::Dataplane::PuntHandler ignore{[](uint16_t, std::span<const uint8_t>) {}, [](uint16_t, uint32_t) {}, {}};
    const auto wait = [&](std::chrono::duration<double> d) {
        const auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until) {
            dp->poll_punts(ignore);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    };
    if (warm_up) warm_up(*dp);
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
    out.counters = d;
    for (size_t i = 0; i < dataplane::kDropReasonCount; ++i)
        if (d.drops[i] != 0) out.drops.emplace_back(dataplane::kDropReasons[i].name, d.drops[i]);
    return true;
}

bool RingGenerator::open(const std::string& name, std::string& error) {
    ring_ = rte_ring_create((name + "_rx").c_str(), 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx_ring_ = rte_ring_create((name + "_tx").c_str(), 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    pool_ = rte_pktmbuf_pool_create((name + "_pool").c_str(), 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    SOCKET_ID_ANY);
    if (ring_ == nullptr || tx_ring_ == nullptr || pool_ == nullptr) {
        error = fmt::format("generator {}: {}", name, rte_strerror(rte_errno));
        return false;
    }
    const int port = rte_eth_from_rings(name.c_str(), &ring_, 1, &tx_ring_, 1, rte_socket_id());
    char device[RTE_ETH_NAME_MAX_LEN] = {};
    if (port < 0 || rte_eth_dev_get_name_by_port(static_cast<uint16_t>(port), device) != 0) {
        error = fmt::format("generator {}: cannot create the port: {}", name, rte_strerror(rte_errno));
        return false;
    }
    device_ = device;  // net_ring names it "net_ring_" + name
    rte_ether_addr mac{};
    rte_eth_macaddr_get(static_cast<uint16_t>(port), &mac);
    for (Frame& f : frames_) std::memcpy(f.data(), mac.addr_bytes, 6);
    return true;
}

std::unique_ptr<RingGenerator> RingGenerator::create(const std::string& name, Frame frame, uint32_t flows,
                                                     WriteFlow write_flow, std::string& error) {
    if (flows == 0 || (flows & (flows - 1)) != 0) {
        error = "the generator needs a power-of-two number of flows";
        return nullptr;
    }
    std::unique_ptr<RingGenerator> g(new RingGenerator());
    g->frames_.push_back(std::move(frame));
    g->flows_ = flows;
    g->write_flow_ = std::move(write_flow);
    if (!g->open(name, error)) return nullptr;
    return g;
}

std::unique_ptr<RingGenerator> RingGenerator::create(const std::string& name, std::vector<Frame> frames,
                                                     std::string& error) {
    if (frames.empty()) {
        error = "the generator needs frames";
        return nullptr;
    }
    std::unique_ptr<RingGenerator> g(new RingGenerator());
    g->flows_ = static_cast<uint32_t>(frames.size());
    g->frames_ = std::move(frames);
    if (!g->open(name, error)) return nullptr;
    return g;
}

// Call after the data plane that used the port is gone: it closed the port and gave
// back every mbuf it held, so what is left is in the ring.
RingGenerator::~RingGenerator() {
    stop();
    if (ring_ != nullptr) {
        void* m = nullptr;
        while (rte_ring_dequeue(ring_, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
    rte_ring_free(ring_);
    rte_ring_free(tx_ring_);
    rte_mempool_free(pool_);
}

void RingGenerator::start(unsigned cpu) {
    stop_ = false;
    thread_ = std::thread([this, cpu] {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
        rte_thread_register();  // an lcore id: a mempool cache of its own
        run();
        rte_thread_unregister();
    });
}

void RingGenerator::stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void RingGenerator::run() {
    constexpr unsigned kBurst = 32;
    // An odd stride visits every flow of a power-of-two set once per round, scattered.
    constexpr uint32_t kStride = 0x9e3779b1u;
    const uint32_t mask = flows_ - 1;
    uint64_t sequence = 0;
    rte_mbuf* burst[kBurst];
    while (!stop_.load(std::memory_order_relaxed)) {
        if (rte_pktmbuf_alloc_bulk(pool_, burst, kBurst) != 0) {
            std::this_thread::yield();
            continue;
        }
        for (rte_mbuf* m : burst) {
            if (write_flow_) {
                const Frame& frame = frames_[0];
                auto* data = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())));
                std::memcpy(data, frame.data(), frame.size());
                write_flow_(data, static_cast<uint32_t>(sequence++ * kStride) & mask);
            } else {
                const Frame& frame = frames_[sequence++ % frames_.size()];
                auto* data = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())));
                std::memcpy(data, frame.data(), frame.size());
            }
        }
        unsigned queued = 0;
        while (queued < kBurst && !stop_.load(std::memory_order_relaxed))
            queued += rte_ring_sp_enqueue_burst(ring_, reinterpret_cast<void**>(burst + queued), kBurst - queued,
                                                nullptr);
        for (unsigned i = queued; i < kBurst; ++i) rte_pktmbuf_free(burst[i]);
        generated_.fetch_add(queued, std::memory_order_relaxed);
    }
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

// ESP gateway benchmark: one worker encrypting (LAN -> tunnel) and one decrypting
// (tunnel -> LAN), through the production data plane with a manually keyed SA, next to
// the crypto ceiling measured on the same worker core in the same run: EspEngine alone
// encrypting packets of the same sizes with the same algorithms. Prints Mpps, Gbit/s
// (inner IP bytes), worker cycles/packet and the ratio gateway / ceiling.
//
//   mbox-bench-esp [--seconds 2] [--sizes 64,512,1420,imix] [--algorithms 'AES-GCM-128;AES SHA'] -- --no-huge -m 512 --no-pci -l 0-1
//
// Input (--input pcap, the default): the frames replayed through net_pcap (infinite_rx)
// on the worker core, its copy included. --input ring: a RingGenerator on CPU 0 writes
// them into mbufs and queues them on an in-process net_ring port instead; the worker
// pays no copy but reads every payload line out of the other core's cache (see
// bench/README.md). Output goes to net_null. The decrypt input
// is made by the gateway itself: a short encrypt run writes its ESP packets to a pcap
// file, whose frames the decrypt run replays with anti-replay off (the same sequence
// numbers come round again).
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <sstream>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/bench_support.hpp"
#include "control/sa_manager.hpp"
#include "crypto/esp_engine.hpp"
#include "crypto/esp_session.hpp"

namespace {

using namespace mbox;
using namespace mbox::bench;

constexpr uint32_t kGatewayA = 0xc6336401;  // 198.51.100.1: encrypts
constexpr uint32_t kGatewayB = 0xc6336402;  // 198.51.100.2: decrypts
constexpr uint32_t kLanNextHop = 0x0a630002;  // 10.99.0.2 behind gateway B
const Mac kPeerMac{0x02, 0, 0, 0, 0, 0x99};
constexpr unsigned kFlows = 256;

// With several SAs, SA i protects 10.128.0.0/9's i-th /24; one SA uses 10.200.0.0/16.
Ipv4Prefix remote_net(unsigned sa, unsigned count) {
    if (count == 1) return *Ipv4Prefix::parse("10.200.0.0/16");
    return {Ipv4Address{0x0a800000u | (sa << 8)}, 24};
}
uint32_t flow_destination(unsigned flow, unsigned count) {
    if (count == 1) return 0x0ac80000u | (flow % 65536);
    return 0x0a800000u | ((flow % count) << 8) | 9;
}
unsigned flows_for(unsigned sa_count) { return std::max(kFlows, sa_count); }

struct Algorithm {
    config::Encryption encryption;
    std::optional<config::Hash> hash;
    std::string label;
};

// "AES-GCM-128" or "AES SHA" in the configuration's words.
std::optional<Algorithm> parse_algorithm(const std::string& text) {
    std::istringstream in(text);
    std::string enc, hash;
    in >> enc >> hash;
    auto e = config::parse_encryption(enc);
    if (!e) return std::nullopt;
    Algorithm a{*e, std::nullopt, text};
    if (!hash.empty()) {
        a.hash = config::parse_hash(hash);
        if (!a.hash) return std::nullopt;
    }
    return a;
}

// Inner IP packet sizes for one size word: a number, or "imix" (7:4:1 of 40/576/1500).
std::vector<unsigned> packet_sizes(const std::string& word) {
    if (word == "imix") {
        std::vector<unsigned> v(7, 40);
        v.insert(v.end(), 4, 576);
        v.push_back(1500);
        return v;
    }
    return {static_cast<unsigned>(std::stoul(word))};
}

double average(const std::vector<unsigned>& v) {
    double sum = 0;
    for (unsigned x : v) sum += x;
    return sum / static_cast<double>(v.size());
}

struct Keys {
    std::vector<uint8_t> enc, auth;
};

Keys random_keys(const Algorithm& a, std::mt19937& rng) {
    Keys k{std::vector<uint8_t>(config::esp_key_length(a.encryption)),
           std::vector<uint8_t>(a.hash ? config::esp_key_length(*a.hash) : 0)};
    for (auto& b : k.enc) b = static_cast<uint8_t>(rng());
    for (auto& b : k.auth) b = static_cast<uint8_t>(rng());
    return k;
}

config::Interface interface(const std::string& name, const std::string& device, const char* address) {
    config::Interface i;
    i.name = name;
    i.dpdk_device = device;
    i.addresses = {*Ipv4Prefix::parse(address)};
    i.enabled = true;
    return i;
}

// `count` SAs between gateway A (198.51.100.1, LAN 10.1.0.0/16) and B (198.51.100.2):
// A encrypts 10.1/16 -> remote_net(i), B decrypts it. `for_a` picks the side.
void add_sas(config::Config& c, const Algorithm& a, const Keys& k, unsigned count, bool for_a) {
    for (unsigned i = 0; i < count; ++i) {
        config::ManualSa sa;
        sa.name = fmt::format("bench{}", i);
        sa.local_ip = Ipv4Address{for_a ? kGatewayA : kGatewayB};
        sa.peer = Ipv4Address{for_a ? kGatewayB : kGatewayA};
        const Ipv4Prefix lan = *Ipv4Prefix::parse("10.1.0.0/16");
        sa.local_nets = {for_a ? lan : remote_net(i, count)};
        sa.remote_nets = {for_a ? remote_net(i, count) : lan};
        sa.encryption = a.encryption;
        sa.hash = a.hash;
        const uint32_t a_to_b = 0x20000 + i, b_to_a = 0x10000 + i;
        sa.inbound = config::ManualSaKeys{for_a ? b_to_a : a_to_b, k.enc, k.auth, {}, {}, {}};
        sa.outbound = config::ManualSaKeys{for_a ? a_to_b : b_to_a, k.enc, k.auth, {}, {}, {}};
        if (!for_a) sa.replay_window = 0;  // the replayed input repeats sequence numbers
        c.manual_sas.push_back(std::move(sa));
    }
    c.ipsec_enabled = true;
}

// Gateway A: LAN "in", WAN "out"; everything for 10.128/9 and 10.200/16 goes to B.
config::Config encrypt_config(const Algorithm& a, const Keys& k, unsigned count, const std::string& in,
                              const std::string& out) {
    config::Config c;
    c.interfaces = {interface("in", in, "10.1.0.1/16"), interface("out", out, "198.51.100.1/24")};
    c.routes.push_back({*Ipv4Prefix::parse("10.128.0.0/9"), Ipv4Address{kGatewayB}, {}});
    add_sas(c, a, k, count, true);
    return c;
}

// Gateway B: WAN "in" receives the ESP packets, LAN "out" towards the protected networks.
config::Config decrypt_config(const Algorithm& a, const Keys& k, unsigned count, const std::string& in,
                              const std::string& out) {
    config::Config c;
    c.interfaces = {interface("in", in, "198.51.100.2/24"), interface("out", out, "10.99.0.1/24")};
    c.routes.push_back({*Ipv4Prefix::parse("10.128.0.0/9"), Ipv4Address{kLanNextHop}, {}});
    add_sas(c, a, k, count, false);
    return c;
}

// The crypto ceiling: EspEngine encrypting ESP packets of these inner sizes, bursts of
// 32, on the calling lcore.
struct Ceiling {
    const Algorithm* algorithm;
    const Keys* keys;
    std::vector<unsigned> sizes;
    double seconds;
    double mpps = 0, cycles = 0;
    std::string error;
};

int measure_ceiling(void* arg) {
    auto& c = *static_cast<Ceiling*>(arg);
    const auto algs = control::esp_algorithms(c.algorithm->encryption, c.algorithm->hash);
    auto session = crypto::EspSession::create(*algs, c.keys->enc, c.keys->auth, c.error);
    auto engine = session ? crypto::EspEngine::create(c.error) : nullptr;
    if (!engine) return 1;
    const unsigned block = std::max<unsigned>(session->block_size(), 4);
    constexpr unsigned kBuffers = 1024, kBurst = 32;
    std::vector<std::vector<uint8_t>> buffers;
    std::vector<uint32_t> padded;
    for (unsigned i = 0; i < kBuffers; ++i) {
        const unsigned size = c.sizes[i % c.sizes.size()];
        padded.push_back((size + 2 + block - 1) / block * block);
        buffers.emplace_back(8 + session->iv_len() + padded.back() + session->icv_len() + 4, 0x5a);
    }
    uint8_t aad[kBurst][12];
    crypto::EspCryptoOp ops[kBurst];
    uint64_t packets = 0, seq = 0;
    const uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc();
    const uint64_t end = start + static_cast<uint64_t>(c.seconds * static_cast<double>(hz));
    unsigned next = 0;
    while (rte_rdtsc() < end) {
        for (unsigned k = 0; k < kBurst; ++k, next = (next + 1) % kBuffers) {
            uint8_t* p = buffers[next].data();
            crypto::EspCryptoOp& op = ops[k];
            op = {};
            op.session = session.get();
            op.iv = p + 8;
            op.cipher_start = p + 8 + session->iv_len();
            op.cipher_len = padded[next];
            op.icv = op.cipher_start + op.cipher_len;
            ++seq;
            if (session->aead()) {
                crypto::gcm_iv_from_sequence(seq, std::span<uint8_t, 8>(p + 8, 8));
                op.aad = aad[k];
                op.aad_len = crypto::make_gcm_aad(aad[k], 0x2001, seq, false);
            } else {
                if (!engine->ivs().fill(p + 8, session->iv_len())) return 1;
                op.auth_start = p;
                op.auth_len = 8 + session->iv_len() + op.cipher_len;
            }
        }
        engine->encrypt(ops);
        packets += kBurst;
    }
    const uint64_t cycles = rte_rdtsc() - start;
    c.mpps = static_cast<double>(packets) / (static_cast<double>(cycles) / static_cast<double>(hz)) / 1e6;
    c.cycles = static_cast<double>(cycles) / static_cast<double>(packets);
    return 0;
}

constexpr unsigned kGeneratorCpu = 0;

struct Runner {
    double seconds = 2.0;
    bool encrypt = true, decrypt = true;
    bool ring = false;  // input from a RingGenerator (else net_pcap)
    std::unique_ptr<RingGenerator> generator;

    // The input device for these frames: a started generator's port, or a pcap file
    // replayed endlessly.
    std::string input_for(const std::vector<Frame>& frames, const std::string& pcap) {
        if (!ring) {
            write_pcap(pcap, frames);
            return pcap_in(pcap, true);
        }
        std::string error;
        generator = RingGenerator::create(fmt::format("gen{}", serial++), frames, error);
        if (!generator) {
            std::fprintf(stderr, "%s\n", error.c_str());
            return "";
        }
        generator->start(kGeneratorCpu);
        return generator->device();
    }
    void stop_input() {
        if (generator) generator->stop();
        generator.reset();
    }
    unsigned pcap_devices = 0;  // net_pcap numbers its ports per process: the MAC follows
    unsigned serial = 0;

    std::string pcap_in(const std::string& file, bool infinite) {
        ++pcap_devices;
        return fmt::format("net_pcap_in{},rx_pcap={}{}", serial++, file, infinite ? ",infinite_rx=1" : "");
    }
    Mac next_pcap_mac() const { return net_pcap_mac(pcap_devices); }
    std::string null_out() { return fmt::format("net_null_out{},no-rx=1", serial++); }

    void row(const Algorithm& a, const std::string& size, unsigned sas, const char* direction, const Measurement& m,
             double inner_bytes, const Ceiling& ceiling) {
        const double pps = static_cast<double>(m.packets) / m.seconds;
        std::printf("%-18s %6s %6u %-8s %8.3f %8.2f %10.0f %10.3f %8.2f\n", a.label.c_str(), size.c_str(), sas, direction,
                    pps / 1e6, pps * inner_bytes * 8 / 1e9, m.cycles_per_packet, ceiling.mpps,
                    pps / 1e6 / ceiling.mpps);
        for (const auto& [reason, count] : m.drops)
            std::printf("    dropped as %s: %lu\n", reason.c_str(), static_cast<unsigned long>(count));
    }

    int run(const Algorithm& a, const std::string& size_word, unsigned sas, std::mt19937& rng) {
        const auto sizes = packet_sizes(size_word);
        const Keys keys = random_keys(a, rng);
        Ceiling ceiling{&a, &keys, sizes, seconds, 0, 0, {}};
        const unsigned worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
        rte_eal_remote_launch(measure_ceiling, &ceiling, worker);
        if (rte_eal_wait_lcore(worker) != 0) {
            std::fprintf(stderr, "ceiling: %s\n", ceiling.error.c_str());
            return 1;
        }
        const std::string plain = fmt::format("/tmp/mbox-bench-esp-{}-plain.pcap", getpid());
        const std::string esp = fmt::format("/tmp/mbox-bench-esp-{}-esp.pcap", getpid());
        const auto frames = [&](const Mac& mac) {
            std::vector<Frame> v;
            for (unsigned f = 0; f < flows_for(sas); ++f)
                v.push_back(make_udp_frame(sizes[f % sizes.size()], f, mac, flow_destination(f, sas)));
            return v;
        };
        std::string error;
        Measurement m;

        // Encrypt: plain frames in, ESP out.
        if (encrypt) {
            const std::string in = input_for(frames(next_pcap_mac()), plain);
            const bool ok = !in.empty() && measure_gateway(encrypt_config(a, keys, sas, in, null_out()),
                                                           {{kGatewayB, kPeerMac, "out"}}, "in", seconds, m, error);
            stop_input();
            if (!ok) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
            row(a, size_word, sas, "encrypt", m, average(sizes), ceiling);
        }
        if (!decrypt) return 0;

        // Decrypt input: one pass of the frames through gateway A into a pcap file.
        write_pcap(plain, frames(next_pcap_mac()));
        const std::string in_once = pcap_in(plain, false);
        ++pcap_devices;  // the tx_pcap port
        const std::string to_file = fmt::format("net_pcap_out{},tx_pcap={}", serial++, esp);
        if (!measure_gateway(encrypt_config(a, keys, sas, in_once, to_file), {{kGatewayB, kPeerMac, "out"}}, "in", 0.3, m,
                             error))
            return std::fprintf(stderr, "%s\n", error.c_str()), 1;
        auto encrypted = read_pcap(esp);
        if (encrypted.empty()) {
            std::fprintf(stderr, "no ESP packets were produced (%lu sent", static_cast<unsigned long>(m.packets));
            for (const auto& [reason, count] : m.drops) std::fprintf(stderr, ", %lu %s", static_cast<unsigned long>(count), reason.c_str());
            std::fprintf(stderr, ")\n");
            return 1;
        }
        // Every frame must be ESP: a plaintext one would be forwarded by B without
        // decryption and flatter the figure (as a start-up race once did).
        const auto plaintext = std::count_if(encrypted.begin(), encrypted.end(), [](const Frame& f) {
            return f.size() < 34 || f[23] != IPPROTO_ESP;
        });
        if (plaintext != 0)
            return std::fprintf(stderr, "%ld of %zu decrypt input frames are not ESP\n", static_cast<long>(plaintext),
                                encrypted.size()),
                   1;
        const Mac b_mac = next_pcap_mac();
        for (auto& f : encrypted) std::copy(b_mac.begin(), b_mac.end(), f.begin());
        const std::string in = input_for(encrypted, esp);
        const bool ok = !in.empty() && measure_gateway(decrypt_config(a, keys, sas, in, null_out()),
                                                       {{kLanNextHop, kPeerMac, "out"}}, "in", seconds, m, error);
        stop_input();
        if (!ok) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
        row(a, size_word, sas, "decrypt", m, average(sizes), ceiling);
        std::remove(plain.c_str());
        std::remove(esp.c_str());
        return 0;
    }
};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(s);
    while (std::getline(in, item, sep))
        if (!item.empty()) out.push_back(item);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> ours;
    auto eal = split_eal_arguments(argc, argv, ours);
    double seconds = 2.0;
    std::string sizes = "64,512,1420,imix";
    std::string algorithms = "AES-GCM-128;AES SHA;AES-256 SHA-256;3DES MD5";
    std::vector<unsigned> sa_counts{1};
    std::string paths = "encrypt,decrypt";
    std::string input = "pcap";
    CLI::App app{"mbox ESP gateway benchmark (one worker core) with the crypto ceiling"};
    app.add_option("--seconds", seconds, "measurement time per run")->capture_default_str();
    app.add_option("--sizes", sizes, "inner IP packet sizes, comma-separated; 'imix' = 7:4:1 of 40/576/1500")
        ->capture_default_str();
    app.add_option("--algorithms", algorithms, "ESP algorithms in configuration words, ';'-separated")
        ->capture_default_str();
    app.add_option("--sas", sa_counts, "numbers of SAs to spread the traffic over, comma-separated (e.g. 1,10000)")
        ->delimiter(',');
    app.add_option("--input", input, "ring: frames from a generator thread on CPU 0 (no copy on the worker); "
                                     "pcap: replayed by net_pcap on the worker core")
        ->check(CLI::IsMember({"ring", "pcap"}))
        ->capture_default_str();
    app.add_option("--paths", paths, "which directions to measure: encrypt, decrypt or both, comma-separated")
        ->capture_default_str();
    std::reverse(ours.begin(), ours.end());
    try {
        app.parse(ours);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    std::vector<Algorithm> algs;
    for (const auto& word : split(algorithms, ';')) {
        auto a = parse_algorithm(word);
        if (!a) return std::fprintf(stderr, "unknown algorithms '%s'\n", word.c_str()), 2;
        algs.push_back(*a);
    }
    std::vector<char*> eal_argv;
    for (auto& a : eal) eal_argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) return 1;
    if (rte_lcore_count() != 2) return std::fprintf(stderr, "run with exactly two lcores (e.g. -l 0-1)\n"), 2;

    std::printf("mbox ESP, 1 worker, TSC %.2f GHz, max(256, SAs) flows, %.1f s per run, input %s; ceiling = "
                "EspEngine encrypt on the same core\n",
                static_cast<double>(rte_get_tsc_hz()) / 1e9, seconds,
                input == "ring" ? "ring (generator on CPU 0)" : "net_pcap");
    std::printf("%-18s %6s %6s %-8s %8s %8s %10s %10s %8s\n", "algorithms", "bytes", "SAs", "path", "Mpps", "Gbit/s",
                "cycles/pkt", "ceil Mpps", "ratio");
    Runner runner;
    runner.seconds = seconds;
    runner.ring = input == "ring";
    const auto path_words = split(paths, ',');
    runner.encrypt = std::find(path_words.begin(), path_words.end(), "encrypt") != path_words.end();
    runner.decrypt = std::find(path_words.begin(), path_words.end(), "decrypt") != path_words.end();
    if (!runner.encrypt && !runner.decrypt) return std::fprintf(stderr, "--paths: give encrypt, decrypt or both\n"), 2;
    std::mt19937 rng(20261126);
    int rc = 0;
    for (const auto& a : algs)
        for (const auto& s : split(sizes, ','))
            for (unsigned n : sa_counts) rc |= runner.run(a, s, n, rng);
    rte_eal_cleanup();
    return rc;
}

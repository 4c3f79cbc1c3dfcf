// IKEv2 tunnel set-up rate of the engine alone (control/ike/engine.hpp), in one process:
// one initiator engine with N peers and one responder engine with N `ipsec peer any`
// entries, joined by a queue of datagrams. PSK, IKE AES-128/SHA-1/PRF-SHA1 with the DH
// group under test, ESP AES-128/SHA-1-96 without PFS: every tunnel is IKE_SA_INIT +
// IKE_AUTH (the CHILD SA comes with IKE_AUTH), two DH key pairs and two shared secrets.
//
//   initiator 198.51.100.1, peer i = 198.18.X.Y (as bench/ike_rate_swan.sh), local-id
//   t<i>.bench, local-net 10.64.0.0/10's i-th /24, remote-net 10.200.0.0/13's i-th /24
//   responder: every 198.18.X.Y; peer i = `any remote-id t<i>.bench`, the nets mirrored
//
// The clock is frozen (no retransmission, no timer), the randomness is OpenSSL's (as in
// mboxd), and the SA installer only counts. Each engine's CPU time is that of its own
// calls (on_datagram, and start() for the initiator: it makes all N IKE_SA_INIT requests),
// so the per-side rates say what one control thread could sustain for that side alone.
// The "crypto ceiling" is DhKeyPair::generate + shared_secret, nothing else, on the same
// thread in the same run: a tunnel costs each side one of each, so the pair's ceiling is
// half the DH rate and each side's is the DH rate.
#include <CLI/CLI.hpp>
#include <openssl/rand.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "control/ike/engine.hpp"
#include "control/ike/io.hpp"
#include "crypto/ike_dh.hpp"

namespace {

using namespace mbox;
using namespace mbox::ike;

constexpr uint32_t kInitiator = 0xc6336401;  // 198.51.100.1

uint32_t responder_address(size_t i) {  // 198.18.X.Y, tunnel i (0-based), as ike_rate_swan.sh
    return 0xc6120000u | static_cast<uint32_t>((i / 250) << 8) | static_cast<uint32_t>(i % 250 + 1);
}
Ipv4Prefix initiator_net(size_t i) {  // 10.64.0.0/10's i-th /24
    return Ipv4Prefix{Ipv4Address{0x0a400000u + static_cast<uint32_t>(i << 8)}, 24};
}
Ipv4Prefix responder_net(size_t i) {  // 10.200.0.0/13's i-th /24
    return Ipv4Prefix{Ipv4Address{0x0ac80000u + static_cast<uint32_t>(i << 8)}, 24};
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Datagram {
    Endpoint from, to;
    std::vector<uint8_t> bytes;
};

// Both engines' I/O: one FIFO, a frozen clock, OpenSSL's RNG.
class Wire {
public:
    std::deque<Datagram> queue;
    Clock::time_point now{std::chrono::hours(1)};
    uint64_t datagrams = 0, bytes = 0;
};

class BenchIo final : public IkeIo {
public:
    explicit BenchIo(Wire& wire) : wire_(wire) {}
    void send(const Endpoint& local, const Endpoint& remote, std::span<const uint8_t> message) override {
        wire_.queue.push_back(Datagram{local, remote, {message.begin(), message.end()}});
        ++wire_.datagrams;
        wire_.bytes += message.size();
    }
    void send_keepalive(const Endpoint&, const Endpoint&) override {}
    Clock::time_point now() override { return wire_.now; }
    void random(std::span<uint8_t> out) override { RAND_bytes(out.data(), static_cast<int>(out.size())); }

private:
    Wire& wire_;
};

// Accepts every SA and keeps only counts (what mboxd's installer does beyond that is the
// data plane's business, measured by mbox-bench-esp).
class CountingInstaller final : public ChildSaInstaller {
public:
    explicit CountingInstaller(uint32_t first_spi) : next_spi_(first_spi) {}
    std::optional<uint32_t> allocate_spi() override { return next_spi_++; }
    void release_spi(uint32_t) override {}
    bool install_inbound(const ChildSaDescription&, const ChildSaKeys&, std::string&) override {
        ++inbound;
        return true;
    }
    bool install_outbound(const ChildSaDescription&, const ChildSaKeys&, std::optional<uint32_t>,
                          std::string&) override {
        ++outbound;
        return true;
    }
    void remove_inbound(uint32_t) override { ++removed; }
    void remove_outbound(uint32_t) override { ++removed; }
    SaUsage inbound_usage(uint32_t) override { return {}; }
    SaUsage outbound_usage(uint32_t) override { return {}; }
    size_t inbound = 0, outbound = 0, removed = 0;

private:
    uint32_t next_spi_;
};

struct Side {
    Side(Wire& wire, uint32_t first_spi) : io(wire), sas(first_spi), engine(io, sas) {}
    BenchIo io;
    CountingInstaller sas;
    IkeEngine engine;
    double cpu = 0;  // seconds spent in this engine's calls
};

PeerConfig base_peer(uint16_t group) {
    PeerConfig p;
    p.ike = IkeSuite{crypto::IkeCipher::Aes128Cbc, crypto::IkeIntegrity::HmacSha1_96, crypto::IkePrf::HmacSha1, group};
    p.esp.algorithms = {crypto::EspCipher::Aes128Cbc, crypto::EspIntegrity::HmacSha1_96};
    p.ike_policy = 10;
    p.esp_policy = 10;
    p.psk = crypto::SecretBytes(std::string_view("mbox ike rate bench"));
    return p;
}

std::string tunnel_id(size_t i) { return "t" + std::to_string(i + 1) + ".bench"; }

struct RoundResult {
    bool complete = false;
    double wall = 0, cpu_initiator = 0, cpu_responder = 0;
    size_t established_i = 0, established_r = 0, children_i = 0, children_r = 0;
    uint64_t datagrams = 0;
    std::string failure;
};

RoundResult run_round(size_t tunnels, uint16_t group) {
    Wire wire;
    auto initiator = std::make_unique<Side>(wire, 0x10000000u);
    auto responder = std::make_unique<Side>(wire, 0x20000000u);

    std::vector<PeerConfig> ipeers, rpeers;
    ipeers.reserve(tunnels);
    rpeers.reserve(tunnels);
    for (size_t i = 0; i < tunnels; ++i) {
        PeerConfig a = base_peer(group);
        a.address = responder_address(i);
        a.name = Ipv4Address{*a.address}.to_string();
        a.local_address = kInitiator;
        a.local_id = Identity::from_text(tunnel_id(i));
        a.local_nets = {initiator_net(i)};
        a.remote_nets = {responder_net(i)};
        ipeers.push_back(std::move(a));

        PeerConfig b = base_peer(group);
        b.name = "any remote-id " + tunnel_id(i);
        b.remote_id = Identity::from_text(tunnel_id(i));
        b.local_address = 0;  // answers on whichever address was asked
        b.local_id = Identity::ipv4(responder_address(i));
        b.local_nets = {responder_net(i)};
        b.remote_nets = {initiator_net(i)};
        b.initiate = false;
        rpeers.push_back(std::move(b));
    }
    initiator->engine.configure(std::move(ipeers));
    responder->engine.configure(std::move(rpeers));
    responder->engine.start();  // answers; no peer to initiate

    RoundResult r;
    const double w0 = wall_seconds();
    double c0 = thread_cpu_seconds();
    initiator->engine.start();  // N IKE_SA_INIT requests: N DH key pairs
    double c1 = thread_cpu_seconds();
    initiator->cpu += c1 - c0;
    while (!wire.queue.empty()) {
        Datagram d = std::move(wire.queue.front());
        wire.queue.pop_front();
        Side& to = d.to.address == kInitiator ? *initiator : *responder;
        c0 = thread_cpu_seconds();
        to.engine.on_datagram(d.to, d.from, d.bytes);
        c1 = thread_cpu_seconds();
        to.cpu += c1 - c0;
    }
    r.wall = wall_seconds() - w0;
    r.cpu_initiator = initiator->cpu;
    r.cpu_responder = responder->cpu;
    r.established_i = initiator->engine.counters().ike_sas_established;
    r.established_r = responder->engine.counters().ike_sas_established;
    r.children_i = initiator->sas.outbound;
    r.children_r = responder->sas.outbound;
    r.datagrams = wire.datagrams;
    r.complete = r.established_i == tunnels && r.established_r == tunnels && r.children_i == tunnels &&
                 r.children_r == tunnels;
    if (!r.complete) {
        // The queue is empty and the clock frozen: nothing more will happen. Say why.
        for (const auto* side : {&initiator->engine, &responder->engine}) {
            for (auto it = side->log().rbegin(); it != side->log().rend() && r.failure.empty(); ++it)
                if (it->text.find("established") == std::string::npos) r.failure = it->peer + ": " + it->text;
        }
    }
    // Destruction (the engines delete their SAs) is not part of the measurement.
    return r;
}

// DhKeyPair::generate + shared_secret per second on this thread, for `seconds`.
double dh_rate(uint16_t group, double seconds) {
    std::string error;
    auto peer = crypto::DhKeyPair::generate(group, error);
    if (!peer) {
        std::fprintf(stderr, "DH group %u: %s\n", group, error.c_str());
        return 0;
    }
    size_t n = 0;
    const double c0 = thread_cpu_seconds();
    double c = c0;
    while (c - c0 < seconds) {
        for (int k = 0; k < 8; ++k) {
            auto ours = crypto::DhKeyPair::generate(group, error);
            auto shared = ours ? ours->shared_secret(peer->public_value(), error) : std::nullopt;
            if (!shared) {
                std::fprintf(stderr, "DH group %u: %s\n", group, error.c_str());
                return 0;
            }
        }
        n += 8;
        c = thread_cpu_seconds();
    }
    return static_cast<double>(n) / (c - c0);
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> out;
    for (size_t pos = 0; pos <= text.size();) {
        const size_t comma = text.find(',', pos);
        const size_t end = comma == std::string::npos ? text.size() : comma;
        if (end > pos) out.push_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

struct Spread {
    double min = 0, median = 0, max = 0;
};
Spread spread(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v.front(), v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2, v.back()};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"IKEv2 tunnel set-up rate of the mbox engine, initiator and responder in one process"};
    size_t tunnels = 1000;
    std::string groups_arg = "14,19";
    unsigned rounds = 3;
    double dh_seconds = 1.0;
    app.add_option("--peers", tunnels, "tunnels (peers) per round")->capture_default_str();
    app.add_option("--groups", groups_arg, "DH groups, e.g. 14,19,31")->capture_default_str();
    app.add_option("--rounds", rounds, "rounds per group (fresh engines each)")->capture_default_str();
    app.add_option("--dh-seconds", dh_seconds, "CPU seconds for the DH ceiling per group")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    if (tunnels < 1 || tunnels > 60000 || rounds < 1) {
        std::fprintf(stderr, "--peers 1..60000, --rounds >= 1\n");
        return 2;
    }

    std::printf("mbox IKE engine, in process, 1 thread: %zu tunnels per round, PSK, IKE AES-128/SHA-1/PRF-SHA1, "
                "ESP AES-128/SHA-1-96, no PFS\n",
                tunnels);
    std::printf("t/s = tunnels/s. pair = both engines on one thread (N / wall and N / CPU); initiator, responder = N / "
                "that engine's CPU;\nceiling = (DhKeyPair::generate + shared_secret)/s on this thread: each side needs "
                "one per tunnel, so pair ceiling = half of it\n");
    std::printf("%-6s %5s %8s %10s %10s %10s %10s %9s %9s %10s %8s\n", "group", "round", "wall s", "pair t/s",
                "pair cpu", "init t/s", "resp t/s", "init ms", "resp ms", "DH ops/s", "ratio");
    bool ok = true;
    for (const auto& g : split(groups_arg)) {
        const auto group = static_cast<uint16_t>(std::stoul(g));
        if (!crypto::is_supported_ike_dh_group(group)) {
            std::fprintf(stderr, "DH group %u is not supported\n", group);
            return 2;
        }
        std::vector<double> pair_wall, pair_cpu, init_rate, resp_rate, ratios;
        for (unsigned round = 1; round <= rounds; ++round) {
            const double dh = dh_rate(group, dh_seconds / 2);  // around the round: the machine is shared
            const RoundResult r = run_round(tunnels, group);
            const double dh_after = dh_rate(group, dh_seconds / 2);
            const double ops = (dh + dh_after) / 2;
            if (!r.complete) {
                std::printf("%-6s %5u incomplete: IKE SAs %zu/%zu, CHILD SAs %zu/%zu (initiator/responder), %llu "
                            "datagrams; last log line: %s\n",
                            crypto::ike_dh_group_name(group).c_str(), round, r.established_i, r.established_r,
                            r.children_i, r.children_r, static_cast<unsigned long long>(r.datagrams),
                            r.failure.c_str());
                ok = false;
                continue;
            }
            const double n = static_cast<double>(tunnels);
            const double cpu = r.cpu_initiator + r.cpu_responder;
            const double ratio = (n / cpu) / (ops / 2);
            pair_wall.push_back(n / r.wall);
            pair_cpu.push_back(n / cpu);
            init_rate.push_back(n / r.cpu_initiator);
            resp_rate.push_back(n / r.cpu_responder);
            ratios.push_back(ratio);
            std::printf("%-6s %5u %8.3f %10.1f %10.1f %10.1f %10.1f %9.3f %9.3f %10.1f %8.2f\n",
                        crypto::ike_dh_group_name(group).c_str(), round, r.wall, n / r.wall, n / cpu,
                        n / r.cpu_initiator, n / r.cpu_responder, r.cpu_initiator * 1e3 / n,
                        r.cpu_responder * 1e3 / n, ops, ratio);
            std::fflush(stdout);
        }
        if (pair_wall.size() > 1) {
            const auto w = spread(pair_wall), c = spread(pair_cpu), i = spread(init_rate), s = spread(resp_rate),
                       q = spread(ratios);
            std::printf("%-6s  min/median/max: pair %.0f/%.0f/%.0f t/s (wall), %.0f/%.0f/%.0f (cpu); initiator "
                        "%.0f/%.0f/%.0f; responder %.0f/%.0f/%.0f; ratio %.2f/%.2f/%.2f\n",
                        crypto::ike_dh_group_name(group).c_str(), w.min, w.median, w.max, c.min, c.median, c.max,
                        i.min, i.median, i.max, s.min, s.median, s.max, q.min, q.median, q.max);
        }
    }
    return ok ? 0 : 1;
}

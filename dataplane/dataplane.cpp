#include "dataplane/dataplane.hpp"

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_jhash.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_udp.h>

#include <sys/random.h>

#include <cstring>
#include <algorithm>
#include <cctype>
#include <new>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "crypto/esp_engine.hpp"
#include "dataplane/esp.hpp"
#include "dataplane/messages.hpp"
#include "dataplane/nat.hpp"
#include "dataplane/originate.hpp"
#include "dataplane/worker.hpp"

namespace mbox::dataplane {

namespace {

constexpr uint16_t kRxDescriptors = 512;
constexpr uint16_t kTxDescriptors = 512;
constexpr unsigned kMbufCache = 256;
constexpr unsigned kRingSize = 1024;
constexpr uint32_t kNeighbourCapacity = 4096;
// Headroom for bursts in flight, control frames, fragments and drivers that hold a
// whole input file (net_pcap's infinite_rx keeps every packet of its pcap in mbufs).
constexpr unsigned kSpareMbufs = 12288;
// Fragments a worker's reassembly table may hold: two per incomplete datagram (an ESP
// packet over a 1500-byte path splits in two); more only under attack, when the table's
// own limit and the 2 s timeout bound them.
constexpr unsigned kReassemblyMbufs = Reassembler::kMaxDatagrams * 2;

// [DDDD:]BB:DD.F, optionally followed by ",args" (hex digits; F is 0..7).
bool is_pci_address(const std::string& device) {
    const std::string id = device.substr(0, device.find(','));
    const auto hex_run = [&](size_t at, size_t n) {
        if (at + n > id.size()) return false;
        return std::all_of(id.begin() + static_cast<ptrdiff_t>(at), id.begin() + static_cast<ptrdiff_t>(at + n),
                           [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
    };
    const size_t at = id.size() == 12 ? 5 : 0;  // with or without the domain
    if (id.size() != 12 && id.size() != 7) return false;
    if (at == 5 && (!hex_run(0, 4) || id[4] != ':')) return false;
    return hex_run(at, 2) && id[at + 2] == ':' && hex_run(at + 3, 2) && id[at + 5] == '.' && id[at + 6] >= '0' &&
           id[at + 6] <= '7';
}

std::string device_name(const std::string& device) { return device.substr(0, device.find(',')); }

// net_af_packet gives one queue pair per socket; each worker needs its own pair.
std::string with_queue_pairs(const std::string& device, unsigned workers) {
    if (device.rfind("net_af_packet", 0) != 0 || workers <= 1 || device.find("qpairs=") != std::string::npos)
        return device;
    return fmt::format("{},qpairs={}", device, workers);
}

int worker_main(void* arg) { return run_worker(*static_cast<WorkerContext*>(arg)); }

rte_ring* make_ring(const char* kind, unsigned worker, unsigned elem_size, unsigned flags) {
    const std::string name = fmt::format("mbox_{}_{}", kind, worker);
    return rte_ring_create_elem(name.c_str(), elem_size, kRingSize, static_cast<int>(rte_socket_id()), flags);
}

}  // namespace

namespace {

// Applies op to every counter of a and the matching counter of b.
template <typename Op>
void for_each_counter(CounterTotals& a, const CounterTotals& b, Op op) {
    for (size_t i = 0; i < kDropReasonCount; ++i) op(a.drops[i], b.drops[i]);
    for (size_t p = 0; p < kMaxPorts; ++p) {
        op(a.ports[p].rx_packets, b.ports[p].rx_packets);
        op(a.ports[p].rx_bytes, b.ports[p].rx_bytes);
        op(a.ports[p].tx_packets, b.ports[p].tx_packets);
        op(a.ports[p].tx_bytes, b.ports[p].tx_bytes);
    }
    op(a.forwarded, b.forwarded);
    op(a.punted, b.punted);
    op(a.ike_punted, b.ike_punted);
    op(a.originated, b.originated);
    op(a.handed_off, b.handed_off);
    op(a.icmp_generated, b.icmp_generated);
    op(a.fragmented, b.fragmented);
    op(a.fragments_created, b.fragments_created);
    op(a.reassembled, b.reassembled);
    op(a.polls, b.polls);
    op(a.idle_sleeps, b.idle_sleeps);
    op(a.busy_cycles, b.busy_cycles);
    op(a.nat_created, b.nat_created);
    op(a.nat_expired, b.nat_expired);
    op(a.nat_translated_out, b.nat_translated_out);
    op(a.nat_translated_in, b.nat_translated_in);
    for (size_t r = 0; r < kMaxSnatRules; ++r) op(a.snat_hits[r], b.snat_hits[r]);
}

}  // namespace

CounterTotals CounterTotals::operator-(const CounterTotals& base) const {
    CounterTotals d = *this;
    for_each_counter(d, base, [](uint64_t& x, uint64_t y) { x -= y; });
    return d;
}

CounterTotals& CounterTotals::operator+=(const CounterTotals& other) {
    for_each_counter(*this, other, [](uint64_t& x, uint64_t y) { x += y; });
    return *this;
}

std::unique_ptr<Dataplane> Dataplane::start(std::span<const PortSpec> ports, std::string& error,
                                            const NatOptions& nat) {
    if (rte_lcore_count() < 2) {
        error = "mboxd needs at least two lcores (e.g. -l 0-1): the main lcore runs the control thread, "
                "the others run workers";
        return nullptr;
    }
    if (ports.size() > kMaxPorts) {
        error = fmt::format("at most {} interfaces are supported", kMaxPorts);
        return nullptr;
    }
    if (nat.port_first > nat.port_last) {
        error = "the NAT port range is empty";
        return nullptr;
    }
    std::unique_ptr<Dataplane> dp(new Dataplane());
    dp->nat_options_ = nat;
    if (!dp->create_workers(error) || !dp->open_ports(ports, error)) return nullptr;
    dp->launch_workers();
    return dp;
}

bool Dataplane::create_workers(std::string& error) {
    const unsigned count = rte_lcore_count() - 1;
    counters_ = std::make_unique<WorkerCounters[]>(count);
    unsigned index = 0;
    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        auto w = std::make_unique<Worker>();
        w->lcore = lcore;
        w->neighbours = NeighbourTable::create(index, kNeighbourCapacity, error);
        if (!w->neighbours) return false;
        WorkerContext& ctx = w->ctx;
        ctx.index = index;
        ctx.commands = make_ring("cmd", index, sizeof(Command), RING_F_SP_ENQ | RING_F_SC_DEQ);
        ctx.punts = make_ring("punt", index, sizeof(Punt), RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (ctx.commands == nullptr || ctx.punts == nullptr) {
            error = fmt::format("cannot create worker rings: {}", rte_strerror(rte_errno));
            return false;
        }
        w->sas = SaTable::create(index, error);
        if (!w->sas) return false;
        w->esp = crypto::EspEngine::create(error);
        if (!w->esp) return false;
        w->reassembly = Reassembler::create(rte_get_tsc_hz(), static_cast<int>(rte_lcore_to_socket_id(lcore)), error);
        if (!w->reassembly) return false;
        ctx.handoff = make_ring("handoff", index, sizeof(Handoff), RING_F_SC_DEQ);
        if (ctx.handoff == nullptr) {
            error = fmt::format("cannot create the hand-off ring: {}", rte_strerror(rte_errno));
            return false;
        }
        ctx.counters = &counters_[index];
        ctx.neighbours = w->neighbours.get();
        ctx.sas = w->sas.get();
        ctx.esp = w->esp.get();
        ctx.reassembly = w->reassembly.get();
        ctx.stop = &stop_;
        ctx.wakeup = &wakeup_;
        workers_.push_back(std::move(w));
        ++index;
    }
    // NAT: the session budget and the port range shared out among the workers.
    const unsigned workers = static_cast<unsigned>(workers_.size());
    if (static_cast<unsigned>(nat_options_.port_last - nat_options_.port_first) + 1 < workers) {
        error = fmt::format("the NAT port range {}-{} is smaller than the number of workers ({})",
                            nat_options_.port_first, nat_options_.port_last, workers);
        return false;
    }
    nat::Limits limits;
    limits.max_sessions = (nat_options_.sessions + workers - 1) / workers;
    limits.port_first = nat_options_.port_first;
    limits.port_last = nat_options_.port_last;
    limits.max_external_addresses = kMaxNatExternalAddresses;
    for (auto& w : workers_) {
        if (!nat_options_.enabled) break;
        try {
            w->nat = std::make_unique<nat::SessionTable>(limits, nat_options_.timeouts, w->ctx.index, workers,
                                                         rte_get_tsc_hz());
        } catch (const std::bad_alloc&) {
            error = fmt::format("cannot allocate a NAT table of {} sessions per worker (firewall-nat sessions)",
                                limits.max_sessions);
            return false;
        } catch (const std::invalid_argument& e) {
            error = fmt::format("NAT table: {}", e.what());
            return false;
        }
        w->ctx.nat = w->nat.get();
    }
    std::vector<rte_ring*> handoffs;
    for (auto& w : workers_) handoffs.push_back(w->ctx.handoff);
    for (auto& w : workers_) w->ctx.handoff_rings = handoffs;
    return true;
}

Dataplane::Worker::~Worker() {
    if (ctx.handoff != nullptr) {
        Handoff h;
        while (rte_ring_sc_dequeue_elem(ctx.handoff, &h, sizeof h) == 0) rte_pktmbuf_free(h.packet);
        rte_ring_free(ctx.handoff);
    }
    for (TxBuffer& b : ctx.tx)
        for (uint16_t i = 0; i < b.count; ++i) rte_pktmbuf_free(b.packets[i]);
    rte_ring_free(ctx.commands);
    rte_ring_free(ctx.punts);
}

bool Dataplane::open_ports(std::span<const PortSpec> specs, std::string& error) {
    const unsigned workers = worker_count();
    const unsigned mbufs = static_cast<unsigned>(specs.size()) * workers * (kRxDescriptors + kTxDescriptors) +
                           workers * (kMbufCache + PendingQueue::kCapacity + kTxBufferSize * kMaxPorts) +
                           workers * kReassemblyMbufs + kSpareMbufs;
    pool_ = rte_pktmbuf_pool_create("mbox_pkts", mbufs, kMbufCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    static_cast<int>(rte_socket_id()));
    if (pool_ == nullptr) {
        error = fmt::format("cannot allocate {} packet buffers: {} (give EAL more memory, e.g. -m 512)", mbufs,
                            rte_strerror(rte_errno));
        return false;
    }
    for (auto& w : workers_) w->ctx.pool = pool_;

    for (const PortSpec& spec : specs) {
        const std::string devargs = with_queue_pairs(spec.device, workers);
        const std::string name = is_pci_address(spec.device) ? device_name(spec.device) : device_name(devargs);
        uint16_t id = 0;
        const bool exists = rte_eth_dev_get_port_by_name(spec.device.c_str(), &id) == 0;
        if (exists) {
            // An ethdev created in-process (rte_eth_from_rings in benchmarks and tests).
        } else if (int rc = rte_dev_probe(devargs.c_str()); rc < 0 && rc != -EEXIST) {
            error = fmt::format("interface {}: cannot probe dpdk-device '{}': {}", spec.interface, spec.device,
                                rte_strerror(-rc));
            return false;
        }
        if (!exists && rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
            error = fmt::format("interface {}: dpdk-device '{}' is not an Ethernet port", spec.interface, spec.device);
            return false;
        }
        if (id >= kMaxPorts) {
            error = fmt::format("interface {}: port id {} beyond the supported {}", spec.interface, id, kMaxPorts);
            return false;
        }
        rte_eth_dev_info info{};
        if (int rc = rte_eth_dev_info_get(id, &info); rc != 0) {
            error = fmt::format("interface {}: {}", spec.interface, rte_strerror(-rc));
            return false;
        }
        if (info.max_rx_queues < workers || info.max_tx_queues < workers) {
            error = fmt::format("interface {}: device has {} RX / {} TX queues, {} workers need one each",
                                spec.interface, info.max_rx_queues, info.max_tx_queues, workers);
            return false;
        }
        rte_eth_conf conf{};
        const uint64_t rss = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
        if (workers > 1 && rss != 0) {
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = rss;
        }
        const auto queues = static_cast<uint16_t>(workers);
        if (int rc = rte_eth_dev_configure(id, queues, queues, &conf); rc != 0) {
            error = fmt::format("interface {}: cannot configure: {}", spec.interface, rte_strerror(-rc));
            return false;
        }
        uint16_t rxd = kRxDescriptors, txd = kTxDescriptors;
        rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd);
        const int socket = rte_eth_dev_socket_id(id);
        for (uint16_t q = 0; q < queues; ++q) {
            if (rte_eth_rx_queue_setup(id, q, rxd, static_cast<unsigned>(socket), nullptr, pool_) != 0 ||
                rte_eth_tx_queue_setup(id, q, txd, static_cast<unsigned>(socket), nullptr) != 0) {
                error = fmt::format("interface {}: cannot set up queue {}", spec.interface, q);
                return false;
            }
        }
        // The software MTU check in the route stage is what enforces the configured MTU;
        // a driver that cannot change its own is not an error.
        rte_eth_dev_set_mtu(id, spec.mtu);

        if (int rc = rte_eth_dev_start(id); rc != 0) {
            error = fmt::format("interface {}: cannot start: {}", spec.interface, rte_strerror(-rc));
            return false;
        }
        PortInfo p;
        p.id = id;
        p.interface = spec.interface;
        p.device = spec.device;
        p.driver = info.driver_name ? info.driver_name : "";
        p.mtu = spec.mtu;
        rte_ether_addr mac{};
        rte_eth_macaddr_get(id, &mac);
        std::memcpy(p.mac, mac.addr_bytes, sizeof p.mac);
        ports_.push_back(p);
        for (auto& w : workers_) w->ctx.ports.push_back(id);
    }
    return true;
}

void Dataplane::launch_workers() {
    for (auto& w : workers_) rte_eal_remote_launch(worker_main, &w->ctx, w->lcore);
    launched_ = true;
}

void Dataplane::stop_workers() {
    if (!launched_) return;
    stop_.store(true);
    // Keep draining the punt rings until every worker has left its loop: one may be
    // waiting for room to hand back a retired SA or snapshot.
    const PuntHandler discard{[](uint16_t, std::span<const uint8_t>) {}, [](uint16_t, uint32_t) {}, {}};
    const auto running = [this] {
        return std::any_of(workers_.begin(), workers_.end(),
                           [](const auto& w) { return rte_eal_get_lcore_state(w->lcore) != WAIT; });
    };
    while (running()) {
        if (poll_punts(discard) == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    rte_eal_mp_wait_lcore();
    launched_ = false;
    // Collect the snapshots the workers handed back on their way out; free the rest.
    poll_punts(discard);
    for (auto& w : workers_) {
        Command c;
        while (rte_ring_sc_dequeue_elem(w->ctx.commands, &c, sizeof c) == 0) {
            if (c.kind == Command::Kind::Transmit || c.kind == Command::Kind::Originate) rte_pktmbuf_free(c.packet);
        }
    }
}

Dataplane::~Dataplane() {
    stop_workers();
    for (auto& [object, retiring] : outstanding_) retiring.release();
    outstanding_.clear();
    for (const PortInfo& p : ports_) {
        rte_eth_dev_stop(p.id);
        rte_eth_dev_close(p.id);
    }
    workers_.clear();
    inbound_sas_.clear();
    outbound_sas_.clear();
    rte_mempool_free(pool_);
}

std::optional<uint16_t> Dataplane::port_of(std::string_view interface) const {
    for (const PortInfo& p : ports_)
        if (p.interface == interface) return p.id;
    return std::nullopt;
}

LinkStatus Dataplane::link(uint16_t port) const {
    rte_eth_link l{};
    if (rte_eth_link_get_nowait(port, &l) != 0) return {};
    return {l.link_status == RTE_ETH_LINK_UP, l.link_speed};
}

PortStats Dataplane::port_stats(uint16_t port) const {
    rte_eth_stats s{};
    if (rte_eth_stats_get(port, &s) != 0) return {};
    return {s.ipackets, s.opackets, s.ibytes, s.obytes, s.imissed, s.ierrors, s.oerrors, s.rx_nombuf};
}

void Dataplane::send(unsigned worker, Command c) {
    // The worker drains its ring every loop; waiting here is the control thread's
    // back-pressure, never the worker's. While waiting, keep draining the punt rings: a
    // worker that is handing back retired SAs or snapshots waits for room there, and
    // would otherwise never get to our command (thousands of SA deletions at once).
    // Frames punted meanwhile are not for a busy control thread: counted and dropped.
    rte_ring* ring = workers_[worker]->ctx.commands;
    if (rte_ring_sp_enqueue_elem(ring, &c, sizeof c) == 0) return;
    const PuntHandler busy{[this](uint16_t, std::span<const uint8_t>) { ++control_frames_dropped_; },
                           [this](uint16_t, uint32_t) { ++control_frames_dropped_; }, {}};
    ++sending_;  // barriers that fall due meanwhile wait for the next top-level poll_punts
    while (rte_ring_sp_enqueue_elem(ring, &c, sizeof c) != 0) {
        if (poll_punts(busy) == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    --sending_;
}

void Dataplane::broadcast(Command c) {
    for (unsigned w = 0; w < worker_count(); ++w) send(w, c);
}

void Dataplane::publish(std::unique_ptr<ForwardingState> state) {
    Command c{};
    c.kind = Command::Kind::SetForwardingState;
    c.state = state.release();
    outstanding_[c.state] = {worker_count(), [s = c.state] { delete s; }};
    broadcast(c);
}

// An object every worker was given is freed in one or two rounds of reports:
//  1. each worker returns it when it has stopped using it (a snapshot it switched away
//     from, an SA it deleted from its table). After that no worker can find an SA any
//     more, so no new hand-off can carry its pointer (only SAs found in the producer's own
//     table travel in hand-offs, see messages.hpp);
//  2. for SAs, a HandoffBarrier to every worker: each runs every hand-off already on its
//     ring and answers. Hand-offs naming the SA were all enqueued before their producer's
//     round-1 report, hence before the barrier command; after the last answer none is
//     left anywhere and the SA is freed.
void Dataplane::retire(const void* object) {
    auto it = outstanding_.find(object);
    if (it == outstanding_.end()) return;
    if (--it->second.remaining != 0) return;
    if (it->second.needs_barrier) {
        if (stop_.load()) return;  // workers are leaving: the destructor frees it after they have
        it->second.needs_barrier = false;
        it->second.remaining = worker_count();
        barriers_due_.push_back(object);
        return;
    }
    it->second.release();
    outstanding_.erase(it);
}

void Dataplane::send_barriers() {
    if (sending_ > 0 || barriers_due_.empty() || stop_.load()) return;
    std::vector<const void*> due;
    due.swap(barriers_due_);
    for (const void* token : due) {
        Command c{};
        c.kind = Command::Kind::HandoffBarrier;
        c.token = token;
        broadcast(c);
    }
}

namespace {

template <typename Sa>
unsigned owner_of(const Sa& sa, unsigned workers) {
    return static_cast<unsigned>(rte_jhash_1word(sa.spi, 0) % workers);
}

// Moves `sa` out of `live` into a release function (the SA dies when it runs).
template <typename Sa>
std::function<void()> take(std::vector<std::unique_ptr<Sa>>& live, const Sa* sa) {
    auto it = std::find_if(live.begin(), live.end(), [&](const auto& p) { return p.get() == sa; });
    if (it == live.end()) return {};
    auto owned = std::make_shared<std::unique_ptr<Sa>>(std::move(*it));
    live.erase(it);
    return [owned] { owned->reset(); };
}

}  // namespace

SaInstall<InboundSa> Dataplane::add_inbound_sa(std::unique_ptr<InboundSa> sa) {
    if (sa->spi < 256) return {nullptr, fmt::format("inbound SPI {:#010x} is reserved (RFC 4303 §2.1)", sa->spi)};
    if (installed_spis_.contains(sa->spi))
        return {nullptr, fmt::format("inbound SPI {:#010x} is already installed", sa->spi)};
    // Removed SAs leave the workers' tables before a later add reaches them (commands
    // run in order), so the installed ones are all that count.
    if (inbound_sas_.size() >= SaTable::kMaxInbound)
        return {nullptr, fmt::format("the inbound SA table is full ({} SAs)", SaTable::kMaxInbound)};
    sa->owner = owner_of(*sa, worker_count());
    sa->last_used_tsc = rte_rdtsc();
    reserved_spis_.erase(sa->spi);
    installed_spis_.insert(sa->spi);
    Command c{};
    c.kind = Command::Kind::InboundSaAdd;
    c.inbound = sa.get();
    inbound_sas_.push_back(std::move(sa));
    broadcast(c);
    return {c.inbound, {}};
}

std::string Dataplane::outbound_conflict(const OutboundSa& sa, const OutboundSa* except) const {
    for (const auto& other : outbound_sas_) {
        if (other.get() == except) continue;
        for (const auto& local : sa.local_nets)
            for (const auto& remote : sa.remote_nets)
                for (const auto& l : other->local_nets)
                    for (const auto& r : other->remote_nets)
                        if (l.network() == local.network() && r.network() == remote.network())
                            return fmt::format("the policy {} -> {} is already installed (SA {:#010x}{}{})",
                                               local.network().to_string(), remote.network().to_string(),
                                               other->spi, other->name.empty() ? "" : " of ", other->name);
    }
    return {};
}

SaInstall<OutboundSa> Dataplane::add_outbound_sa(std::unique_ptr<OutboundSa> sa) {
    if (std::string conflict = outbound_conflict(*sa, nullptr); !conflict.empty()) return {nullptr, conflict};
    if (policies_in_use_ + policy_count(*sa) > SaTable::kMaxPolicies)
        return {nullptr, fmt::format("the outbound policy table is full ({} policies)", SaTable::kMaxPolicies)};
    sa->owner = owner_of(*sa, worker_count());
    sa->last_used_tsc = rte_rdtsc();
    policies_in_use_ += policy_count(*sa);
    Command c{};
    c.kind = Command::Kind::OutboundSaAdd;
    c.outbound = sa.get();
    outbound_sas_.push_back(std::move(sa));
    broadcast(c);
    return {c.outbound, {}};
}

SaInstall<OutboundSa> Dataplane::replace_outbound_sa(const OutboundSa* old, std::unique_ptr<OutboundSa> next) {
    auto it = std::find_if(outbound_sas_.begin(), outbound_sas_.end(), [&](const auto& p) { return p.get() == old; });
    if (old == nullptr || it == outbound_sas_.end()) return {nullptr, "the SA to replace is not installed"};
    if (std::string conflict = outbound_conflict(*next, old); !conflict.empty()) return {nullptr, conflict};
    if (policies_in_use_ - policy_count(*old) + policy_count(*next) > SaTable::kMaxPolicies)
        return {nullptr, fmt::format("the outbound policy table is full ({} policies)", SaTable::kMaxPolicies)};
    next->owner = owner_of(*next, worker_count());
    next->last_used_tsc = rte_rdtsc();
    next->replaced = old;
    policies_in_use_ = policies_in_use_ - policy_count(*old) + policy_count(*next);
    auto release = take(outbound_sas_, old);
    Retiring retiring{worker_count(), std::move(release)};
    retiring.needs_barrier = true;
    outstanding_[old] = std::move(retiring);
    Command c{};
    c.kind = Command::Kind::OutboundSaReplace;
    c.outbound = next.get();
    outbound_sas_.push_back(std::move(next));
    broadcast(c);
    return {c.outbound, {}};
}

uint32_t Dataplane::allocate_inbound_spi() {
    for (;;) {
        uint32_t spi = 0;
        if (getrandom(&spi, sizeof spi, 0) != static_cast<ssize_t>(sizeof spi)) continue;  // EINTR
        if (spi < 256 || installed_spis_.contains(spi) || reserved_spis_.contains(spi)) continue;
        reserved_spis_.insert(spi);
        return spi;
    }
}

void Dataplane::release_inbound_spi(uint32_t spi) { reserved_spis_.erase(spi); }

SaUsage Dataplane::usage(const SaCommon& sa) const {
    SaUsage u;
    u.packets = read_counter(sa.counters.packets);
    u.bytes = read_counter(sa.counters.bytes);
    u.seq = sa.direction == SaCommon::Direction::Outbound ? read_counter(static_cast<const OutboundSa&>(sa).seq)
                                                          : read_counter(static_cast<const InboundSa&>(sa).replay.highest());
    const uint64_t then = read_counter(sa.last_used_tsc);
    const uint64_t now_tsc = rte_rdtsc();
    const auto now = std::chrono::steady_clock::now();
    const double ago = now_tsc > then ? static_cast<double>(now_tsc - then) / static_cast<double>(rte_get_tsc_hz()) : 0;
    u.last_used = now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(ago));
    return u;
}

void Dataplane::remove_inbound_sa(const InboundSa* sa) {
    auto release = take(inbound_sas_, sa);
    if (!release) return;
    installed_spis_.erase(sa->spi);  // a later add of it reaches every worker after this delete
    outstanding_[sa] = {worker_count(), std::move(release), true};
    Command c{};
    c.kind = Command::Kind::InboundSaDelete;
    c.inbound = const_cast<InboundSa*>(sa);
    broadcast(c);
}

void Dataplane::remove_outbound_sa(const OutboundSa* sa) {
    auto release = take(outbound_sas_, sa);
    if (!release) return;
    policies_in_use_ -= policy_count(*sa);
    outstanding_[sa] = {worker_count(), std::move(release), true};
    Command c{};
    c.kind = Command::Kind::OutboundSaDelete;
    c.outbound = const_cast<OutboundSa*>(sa);
    broadcast(c);
}

std::string_view Dataplane::crypto_implementation() const {
    return workers_.empty() ? std::string_view("none") : workers_.front()->esp->arch_name();
}

void Dataplane::neighbour_update(uint32_t ip, const uint8_t mac[6], uint16_t port) {
    Command c{};
    c.kind = Command::Kind::NeighbourUpdate;
    c.ip = ip;
    c.port = port;
    std::memcpy(c.mac, mac, sizeof c.mac);
    broadcast(c);
}

void Dataplane::neighbour_delete(uint32_t ip) {
    Command c{};
    c.kind = Command::Kind::NeighbourDelete;
    c.ip = ip;
    broadcast(c);
}

bool Dataplane::transmit(uint16_t port, std::span<const uint8_t> frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) return ++control_frames_dropped_, false;
    char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    if (data == nullptr) {
        rte_pktmbuf_free(m);
        ++control_frames_dropped_;
        return false;
    }
    std::memcpy(data, frame.data(), frame.size());
    Command c{};
    c.kind = Command::Kind::Transmit;
    c.port = port;
    c.packet = m;
    send(0, c);
    return true;
}

size_t Dataplane::max_udp_payload(bool non_esp_marker) const {
    return dataplane::max_udp_payload(pool_, non_esp_marker);
}

bool Dataplane::send_udp(uint32_t source, uint32_t destination, uint16_t source_port, uint16_t destination_port,
                         std::span<const uint8_t> payload, bool non_esp_marker) {
    if (payload.size() > max_udp_payload(non_esp_marker)) return false;
    const UdpDatagram d{source, destination, source_port, destination_port, payload, non_esp_marker};
    rte_mbuf* m = build_udp_datagram(pool_, d, ip_id_);
    if (m == nullptr) return ++control_frames_dropped_, false;
    ++ip_id_;
    Command c{};
    c.kind = Command::Kind::Originate;
    c.packet = m;
    send(0, c);
    return true;
}

std::optional<IkeDatagram> ike_datagram(uint16_t port, std::span<const uint8_t> frame) {
    constexpr size_t kEth = sizeof(rte_ether_hdr), kUdp = sizeof(rte_udp_hdr), kMarker = 4;
    const auto be16 = [&](size_t at) { return static_cast<uint16_t>(frame[at] << 8 | frame[at + 1]); };
    const auto be32 = [&](size_t at) { return uint32_t{be16(at)} << 16 | be16(at + 2); };
    if (frame.size() < kEth + sizeof(rte_ipv4_hdr)) return std::nullopt;
    const size_t header = (frame[kEth] & 0x0fu) * 4u;
    const size_t total = be16(kEth + 2);
    if (header < sizeof(rte_ipv4_hdr) || total < header + kUdp || kEth + total > frame.size()) return std::nullopt;
    const size_t udp = kEth + header;
    if (frame[kEth + 9] != IPPROTO_UDP || be16(udp + 4) != total - header) return std::nullopt;
    IkeDatagram d{port, be32(kEth + 12), be32(kEth + 16), be16(udp), be16(udp + 2), {}};
    size_t at = udp + kUdp;
    if (d.destination_port == kIkeNattPort) {
        if (kEth + total < at + kMarker) return std::nullopt;
        at += kMarker;  // the non-ESP marker (RFC 3948 §2.2)
    }
    d.message = frame.subspan(at, kEth + total - at);
    return d;
}

void Dataplane::deliver_ike(const PuntHandler& handler, uint16_t port, rte_mbuf* m) {
    if (!handler.on_ike) {
        ++control_frames_dropped_;
        return;
    }
    // A datagram reassembled from fragments may span several buffers.
    std::span<const uint8_t> frame;
    if (m->nb_segs == 1) {
        frame = {rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m)};
    } else {
        ike_copy_.resize(rte_pktmbuf_pkt_len(m));
        const void* bytes = rte_pktmbuf_read(m, 0, rte_pktmbuf_pkt_len(m), ike_copy_.data());
        frame = {static_cast<const uint8_t*>(bytes), rte_pktmbuf_pkt_len(m)};
    }
    if (const auto d = ike_datagram(port, frame)) handler.on_ike(*d);
    else ++control_frames_dropped_;
}

bool Dataplane::punts_pending() const {
    return std::any_of(workers_.begin(), workers_.end(), [](const auto& w) { return !rte_ring_empty(w->ctx.punts); });
}

unsigned Dataplane::poll_punts(const PuntHandler& handler) {
    unsigned handled = 0;
    for (auto& w : workers_) {
        Punt batch[32];
        unsigned n;
        while ((n = rte_ring_sc_dequeue_burst_elem(w->ctx.punts, batch, sizeof(Punt), 32, nullptr)) > 0) {
            for (unsigned i = 0; i < n; ++i) {
                const Punt& p = batch[i];
                switch (p.kind) {
                case Punt::Kind::Packet: {
                    rte_mbuf* m = p.packet;
                    handler.on_frame(p.port, {rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m)});
                    rte_pktmbuf_free(m);
                    break;
                }
                case Punt::Kind::Ike:
                    deliver_ike(handler, p.port, p.packet);
                    rte_pktmbuf_free(p.packet);
                    break;
                case Punt::Kind::Resolve: handler.on_resolve(p.port, p.ip); break;
                case Punt::Kind::BarrierPassed: retire(p.token); break;
                case Punt::Kind::Retired: retire(p.state); break;
                case Punt::Kind::RetiredInboundSa: retire(p.inbound); break;
                case Punt::Kind::RetiredOutboundSa: retire(p.outbound); break;
                }
            }
            handled += n;
        }
    }
    send_barriers();
    return handled;
}

CounterTotals Dataplane::counters(unsigned worker) const {
    CounterTotals t;
    const WorkerCounters& c = counters_[worker];
    for (size_t i = 0; i < kDropReasonCount; ++i) t.drops[i] = read_counter(c.drops[i]);
    for (size_t p = 0; p < kMaxPorts; ++p) {
        t.ports[p].rx_packets = read_counter(c.ports[p].rx_packets);
        t.ports[p].rx_bytes = read_counter(c.ports[p].rx_bytes);
        t.ports[p].tx_packets = read_counter(c.ports[p].tx_packets);
        t.ports[p].tx_bytes = read_counter(c.ports[p].tx_bytes);
    }
    t.forwarded = read_counter(c.forwarded);
    t.punted = read_counter(c.punted);
    t.ike_punted = read_counter(c.ike_punted);
    t.originated = read_counter(c.originated);
    t.handed_off = read_counter(c.handed_off);
    t.icmp_generated = read_counter(c.icmp_generated);
    t.fragmented = read_counter(c.fragmented);
    t.fragments_created = read_counter(c.fragments_created);
    t.reassembled = read_counter(c.reassembled);
    t.polls = read_counter(c.polls);
    t.idle_sleeps = read_counter(c.idle_sleeps);
    t.busy_cycles = read_counter(c.busy_cycles);
    t.nat_created = read_counter(c.nat_created);
    t.nat_expired = read_counter(c.nat_expired);
    t.nat_translated_out = read_counter(c.nat_translated_out);
    t.nat_translated_in = read_counter(c.nat_translated_in);
    for (size_t r = 0; r < kMaxSnatRules; ++r) t.snat_hits[r] = read_counter(c.snat_hits[r]);
    return t;
}

std::vector<Dataplane::NatSessionView> Dataplane::nat_sessions(size_t limit, uint64_t& live) {
    std::vector<std::unique_ptr<NatDump>> dumps;
    for (unsigned w = 0; w < worker_count(); ++w) {
        auto dump = std::make_unique<NatDump>();
        dump->sessions.reserve(limit);
        Command c{};
        c.kind = Command::Kind::NatDump;
        c.nat_dump = dump.get();
        send(w, c);
        dumps.push_back(std::move(dump));
    }
    // Workers answer within a loop iteration; stopped workers (never here) would not.
    // The dumps must outlive the wait, whatever happens: wait for every one.
    const PuntHandler busy{[this](uint16_t, std::span<const uint8_t>) { ++control_frames_dropped_; },
                           [this](uint16_t, uint32_t) { ++control_frames_dropped_; }, {}};
    for (const auto& d : dumps)
        while (!d->done.load(std::memory_order_acquire))
            if (poll_punts(busy) == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
    std::vector<NatSessionView> out;
    live = 0;
    const double hz = static_cast<double>(rte_get_tsc_hz());
    for (unsigned w = 0; w < dumps.size(); ++w) {
        live += dumps[w]->live;
        for (const nat::Session& s : dumps[w]->sessions) {
            if (out.size() >= limit) break;
            out.push_back({s, w, static_cast<double>(s.expires - dumps[w]->now) / hz,
                           static_cast<double>(dumps[w]->now - s.created) / hz});
        }
    }
    return out;
}

void Dataplane::clear_nat_sessions() {
    Command c{};
    c.kind = Command::Kind::NatClear;
    broadcast(c);
}

CounterTotals Dataplane::counters() const {
    CounterTotals t;
    for (unsigned w = 0; w < worker_count(); ++w) t += counters(w);
    return t;
}

}  // namespace mbox::dataplane

#include "dataplane/worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "dataplane/classify.hpp"
#include "dataplane/esp.hpp"
#include "dataplane/fragment.hpp"
#include "dataplane/handoff.hpp"
#include "dataplane/local.hpp"
#include "dataplane/nat.hpp"
#include "dataplane/originate.hpp"
#include "dataplane/neighbour.hpp"
#include "dataplane/punt.hpp"
#include "dataplane/route.hpp"
#include "dataplane/tx.hpp"

namespace mbox::dataplane {

namespace {

void finish_burst(WorkerContext& ctx, Burst& burst) {
    for (uint16_t i = 0; i < burst.count; ++i) {
        switch (burst.next[i]) {
        case Next::Punt: punt_packet(ctx, burst.in_port[i], burst.packets[i]); break;
        case Next::Drop: rte_pktmbuf_free(burst.packets[i]); break;
        case Next::Consumed: break;
        case Next::Local:
        case Next::Forward:
        case Next::Transmit:
        case Next::EspIn:
        case Next::EspOut:
            // Only a packet that came out of a tunnel and asks for another round
            // (ESP to us inside ESP) gets here: not something we serve.
            ctx.drop(Drop::local_unsupported);
            rte_pktmbuf_free(burst.packets[i]);
            break;
        }
    }
}

// Tells the control thread this worker no longer references an SA it deleted.
template <typename Sa>
void hand_back(WorkerContext& ctx, Punt::Kind kind, const Sa* sa) {
    Punt p{};
    p.kind = kind;
    if constexpr (std::is_same_v<Sa, InboundSa>) p.inbound = sa;
    else p.outbound = sa;
    punt_control(ctx, p);
}

void set_state(WorkerContext& ctx, const ForwardingState* state) {
    const ForwardingState* old = ctx.state;
    ctx.state = state;
    if (old != nullptr) punt_retired(ctx, old);
}

}  // namespace

void process_burst(WorkerContext& ctx, uint16_t in_port, rte_mbuf** packets, uint16_t count) {
    Burst burst;
    burst.count = count;
    std::copy_n(packets, count, burst.packets);
    PortCounters& pc = ctx.counters->ports[in_port];
    pc.rx_packets += count;
    for (uint16_t i = 0; i < count; ++i) pc.rx_bytes += rte_pktmbuf_pkt_len(packets[i]);

    for (uint16_t i = 0; i < count; ++i) {
        burst.in_port[i] = in_port;
        burst.sa[i] = nullptr;
        burst.encapsulated[i] = false;
    }
    classify(ctx, in_port, burst);
    nat_inbound(ctx, burst);
    run_stages(ctx, burst);
}

void run_stages(WorkerContext& ctx, Burst& burst) {
    route(ctx, burst);
    deliver_local(ctx, burst);
    esp_decap(ctx, burst);
    nat_inbound(ctx, burst);    // replies that come back through a tunnel to a translated source
    route(ctx, burst);          // packets that came out of a tunnel
    deliver_local(ctx, burst);  // ... some of them for us (a ping to the gateway)
    nat_outbound(ctx, burst);
    esp_match_outbound(ctx, burst);
    esp_encap(ctx, burst);
    resolve_neighbours(ctx, burst);
    finish_burst(ctx, burst);
}

void apply_command(WorkerContext& ctx, const Command& c) {
    switch (c.kind) {
    case Command::Kind::SetForwardingState: set_state(ctx, c.state); break;
    case Command::Kind::NeighbourUpdate: {
        Neighbour n{};
        std::memcpy(n.mac, c.mac, sizeof n.mac);
        n.port = c.port;
        neighbour_resolved(ctx, c.ip, n);
        break;
    }
    case Command::Kind::NeighbourDelete: neighbour_removed(ctx, c.ip); break;
    case Command::Kind::InboundSaAdd: ctx.sas->add_inbound(c.inbound); break;
    case Command::Kind::InboundSaDelete:
        ctx.sas->remove_inbound(c.inbound);
        hand_back(ctx, Punt::Kind::RetiredInboundSa, c.inbound);
        break;
    case Command::Kind::OutboundSaAdd: ctx.sas->add_outbound(c.outbound); break;
    case Command::Kind::OutboundSaDelete:
        ctx.sas->remove_outbound(c.outbound);
        hand_back(ctx, Punt::Kind::RetiredOutboundSa, c.outbound);
        break;
    case Command::Kind::OutboundSaReplace:
        // Between two bursts: no packet of the tunnel meets neither SA.
        ctx.sas->replace_outbound(c.outbound->replaced, c.outbound);
        hand_back(ctx, Punt::Kind::RetiredOutboundSa, c.outbound->replaced);
        break;
    case Command::Kind::HandoffBarrier: {
        handoff_barrier(ctx);
        Punt p{};
        p.kind = Punt::Kind::BarrierPassed;
        p.token = c.token;
        punt_control(ctx, p);
        break;
    }
    case Command::Kind::Originate: originate(ctx, c.packet); break;
    case Command::Kind::NatDump: nat_dump(ctx, *c.nat_dump); break;
    case Command::Kind::NatClear:
        if (ctx.nat != nullptr) ctx.nat->clear();
        break;
    case Command::Kind::Transmit:
        if (c.port < kMaxPorts && ctx.state != nullptr && ctx.state->ports[c.port].enabled)
            tx_enqueue(ctx, c.port, c.packet);
        else
            rte_pktmbuf_free(c.packet), ctx.drop(Drop::interface_disabled);
        break;
    }
}

unsigned apply_commands(WorkerContext& ctx) {
    Command batch[16];
    unsigned total = 0;
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst_elem(ctx.commands, batch, sizeof(Command), 16, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) apply_command(ctx, batch[i]);
        total += n;
    }
    return total;
}

int run_worker(WorkerContext& ctx) {
    ctx.tsc_hz = rte_get_tsc_hz();
    rte_mbuf* packets[kBurstSize];
    IdleBackoff backoff(kWorkerIdleBackoff);
    uint64_t next_expiry = 0;

    while (!ctx.stop->load(std::memory_order_relaxed)) {
        const uint64_t loop_start = rte_rdtsc();
        ++ctx.counters->polls;
        unsigned work = apply_commands(ctx);
        if (ctx.state != nullptr) {
            for (uint16_t port : ctx.ports) {
                const uint16_t n = rte_eth_rx_burst(port, static_cast<uint16_t>(ctx.index), packets, kBurstSize);
                if (n > 0) process_burst(ctx, port, packets, n);
                work += n;
            }
            work += drain_handoffs(ctx);
        }
        const uint64_t now = rte_rdtsc();
        if (now >= next_expiry) {  // timers, once a millisecond
            if (ctx.pending.count > 0) expire_pending(ctx, now);
            if (ctx.reassembly != nullptr) ctx.reassembly->expire(*ctx.counters, now);
            nat_expire(ctx, now);
            next_expiry = now + ctx.tsc_hz / 1000;
        }
        tx_flush(ctx);

        if (work > 0) ctx.counters->busy_cycles += rte_rdtsc() - loop_start;
        if (const auto wait = backoff.after_round(work > 0); wait.count() > 0) {
            ++ctx.counters->idle_sleeps;
            rte_delay_us_sleep(static_cast<unsigned>(wait.count()));
        }
    }
    // Free what is still queued and hand the snapshot back so the control thread can free it.
    expire_pending(ctx, UINT64_MAX / 2 + rte_rdtsc());
    if (ctx.state != nullptr) set_state(ctx, nullptr);
    return 0;
}

}  // namespace mbox::dataplane

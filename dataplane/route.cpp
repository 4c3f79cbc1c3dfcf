#include "dataplane/route.hpp"

#include "dataplane/icmp.hpp"
#include "dataplane/packet.hpp"

namespace mbox::dataplane {

namespace {

// Looks the destination up and fills out_port/next_hop for a Connected or Gateway hop.
// Returns the hop, or nullptr (no_route counted) when nothing matches.
const NextHop* lookup(WorkerContext& ctx, Burst& burst, uint16_t i, uint32_t dst) {
    const NextHop* hop = ctx.state->routes->lookup(dst);
    if (hop == nullptr) return nullptr;
    burst.out_port[i] = hop->port;
    burst.next_hop[i] = hop->kind == NextHop::Kind::Gateway ? hop->gateway : dst;
    return hop;
}

// Replaces the packet with an ICMP error from the ingress interface and routes it back.
// When no error may be sent, the packet is dropped (the reason is already counted).
// An error about a packet that came out of a tunnel must go back through it, never in
// the clear (it quotes the inner headers): its source is one of our addresses inside
// the SA's local networks, so that the outbound policy takes it. None: no error.
uint32_t tunnel_error_source(const WorkerContext& ctx, const InboundSa& sa) {
    for (const PortState& port : ctx.state->ports) {
        if (!port.enabled || port.primary_address == 0) continue;
        for (const auto& net : sa.local_nets)
            if (net.contains(Ipv4Address{port.primary_address})) return port.primary_address;
    }
    return 0;
}

Next answer_with_error(WorkerContext& ctx, Burst& burst, uint16_t i, IcmpError error) {
    // After decap, burst.sa holds the inbound SA the packet arrived through.
    const auto* tunnel = static_cast<const InboundSa*>(burst.sa[i]);
    const uint32_t source = tunnel != nullptr ? tunnel_error_source(ctx, *tunnel)
                                              : ctx.state->ports[burst.in_port[i]].primary_address;
    if (!make_icmp_error(ctx, burst.packets[i], error, source)) return Next::Drop;
    burst.sa[i] = nullptr;  // the error is ours now: the outbound policy decides its way
    return route_originated(ctx, burst, i);
}

Next route_one(WorkerContext& ctx, Burst& burst, uint16_t i) {
    rte_ipv4_hdr* ip = ipv4_header(burst.packets[i]);
    const NextHop* hop = lookup(ctx, burst, i, ipv4_dst(ip));
    if (hop == nullptr) {
        ctx.drop(Drop::no_route);
        return answer_with_error(ctx, burst, i, kNetUnreachable);
    }
    switch (hop->kind) {
    case NextHop::Kind::Local: return Next::Local;
    case NextHop::Kind::Broadcast: return ctx.drop(Drop::ipv4_bad_destination), Next::Drop;
    case NextHop::Kind::Connected:
    case NextHop::Kind::Gateway: break;
    }
    const PortState& out = ctx.state->ports[hop->port];
    if (!out.enabled) return ctx.drop(Drop::interface_disabled), Next::Drop;
    if (ip->time_to_live <= 1) {
        ctx.drop(Drop::ttl_exceeded);
        return answer_with_error(ctx, burst, i, kTimeExceeded);
    }
    if (ipv4_total_length(ip) > out.mtu) {
        ctx.drop(Drop::mtu_exceeded);
        if ((rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_DF_FLAG) == 0) return Next::Drop;
        return answer_with_error(ctx, burst, i, fragmentation_needed(out.mtu));
    }
    ipv4_decrement_ttl(ip);
    ++ctx.counters->forwarded;
    return Next::Transmit;
}

}  // namespace

Next route_originated(WorkerContext& ctx, Burst& burst, uint16_t i) {
    const rte_ipv4_hdr* ip = ipv4_header(burst.packets[i]);
    const NextHop* hop = lookup(ctx, burst, i, ipv4_dst(ip));
    if (hop == nullptr) return ctx.drop(Drop::no_route), Next::Drop;
    if (hop->kind != NextHop::Kind::Connected && hop->kind != NextHop::Kind::Gateway)
        return ctx.drop(Drop::ipv4_bad_destination), Next::Drop;
    if (!ctx.state->ports[hop->port].enabled) return ctx.drop(Drop::interface_disabled), Next::Drop;
    return Next::Transmit;
}

void route(WorkerContext& ctx, Burst& burst) {
    for (uint16_t i = 0; i < burst.count; ++i) {
        if (burst.next[i] == Next::Forward) burst.next[i] = route_one(ctx, burst, i);
    }
}

}  // namespace mbox::dataplane

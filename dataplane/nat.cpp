#include "dataplane/nat.hpp"

#include <rte_cycles.h>

#include <algorithm>
#include <new>

#include "dataplane/esp.hpp"
#include "dataplane/handoff.hpp"
#include "dataplane/packet.hpp"
#include "nat/packet.hpp"
#include "nat/session_table.hpp"

namespace mbox::dataplane {

namespace {

// The IPv4 packet of an mbuf as the nat/ functions take it: the header and the bytes
// readable after it in the first segment.
struct Bytes {
    uint8_t* ip;
    size_t length;
};

Bytes packet_bytes(rte_mbuf* m) {
    return {reinterpret_cast<uint8_t*>(ipv4_header(m)), rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr)};
}

Drop drop_for(nat::CreateError e) {
    switch (e) {
    case nat::CreateError::TableFull: return Drop::nat_table_full;
    case nat::CreateError::PortsExhausted: return Drop::nat_ports_exhausted;
    case nat::CreateError::TooManyAddresses: return Drop::nat_too_many_addresses;
    case nat::CreateError::Conflict:
    case nat::CreateError::None: break;
    }
    return Drop::nat_conflict;
}

Next drop(WorkerContext& ctx, Drop reason) {
    ctx.drop(reason);
    return Next::Drop;
}

// ---- outbound ----

// An ICMP error an inside host sends about a packet that reached it translated back:
// its quoted packet carries the inside endpoint, which goes back to the external one.
// Returns false when no mapping is known (the caller then sends it statelessly).
bool error_about_mapping(WorkerContext& ctx, Burst& burst, uint16_t i, const nat::Flow& f, Bytes b, uint64_t now,
                         Next& next) {
    const bool ports = true;
    const unsigned owner = ctx.nat->owner_outbound(f.embedded_protocol, ports, f.embedded_destination,
                                                   f.embedded_destination_port, f.embedded_source);
    if (owner != ctx.index) {
        next = hand_off(ctx, burst, i, owner, Handoff::Kind::NatOut);
        return true;
    }
    nat::Session* s = ctx.nat->find_outbound(f.embedded_protocol, ports, f.embedded_destination,
                                             f.embedded_destination_port, f.embedded_source, now);
    if (s == nullptr) return false;
    // An ICMP error does not keep a mapping alive (RFC 5508 REQ-4 and REQ-5 speak of
    // query packets refreshing mappings; errors only report on them).
    nat::rewrite_icmp_error_outbound(b.ip, b.length, f, s->external_address, s->external_port);
    ++ctx.counters->nat_translated_out;
    next = Next::Transmit;
    return true;
}

Next translate_source(WorkerContext& ctx, Burst& burst, uint16_t i, uint16_t rule_index, nat::Flow f,
                      uint64_t now) {
    const nat::Rule& rule = ctx.state->nat->chain.rules()[rule_index];
    const Bytes b = packet_bytes(burst.packets[i]);
    switch (f.kind) {
    case nat::FlowKind::Malformed: return drop(ctx, Drop::nat_malformed);
    case nat::FlowKind::Fragment: return drop(ctx, Drop::nat_fragment);
    case nat::FlowKind::IcmpError: {
        if (f.embedded_kind == nat::FlowKind::Ports || f.embedded_kind == nat::FlowKind::IcmpEcho) {
            Next next;
            if (error_about_mapping(ctx, burst, i, f, b, now, next)) return next;
        }
        // About nothing we translated (or a mapping gone): the error leaves from the
        // external address, statelessly and on this worker (no mapping: no owner to
        // hand it to; a hand-off here could bounce between two workers), its quote as
        // the host wrote it.
        const uint32_t external =
            nat::SnatChain::external_address(rule, f.source, ctx.state->ports[burst.out_port[i]].primary_address);
        if (external == 0) return drop(ctx, Drop::nat_too_many_addresses);
        ++ctx.counters->snat_hits[rule_index];
        f.kind = nat::FlowKind::AddressOnly;
        nat::rewrite_source(b.ip, b.length, f, external, 0);
        ++ctx.counters->nat_translated_out;
        return Next::Transmit;
    }
    case nat::FlowKind::Ports:
    case nat::FlowKind::IcmpEcho:
    case nat::FlowKind::AddressOnly: break;
    }
    const bool ports = f.kind != nat::FlowKind::AddressOnly;
    const uint16_t inside_port = ports ? f.source_port : 0;
    const unsigned owner = ctx.nat->owner_outbound(f.protocol, ports, f.source, inside_port, f.destination);
    if (owner != ctx.index) return hand_off(ctx, burst, i, owner, Handoff::Kind::NatOut);

    ++ctx.counters->snat_hits[rule_index];
    const uint32_t external =
        nat::SnatChain::external_address(rule, f.source, ctx.state->ports[burst.out_port[i]].primary_address);
    nat::Session* s = ctx.nat->find_outbound(f.protocol, ports, f.source, inside_port, f.destination, now);
    if (s == nullptr) {
        if (external == 0) return drop(ctx, Drop::nat_too_many_addresses);  // an interface without an address
        nat::CreateError error = nat::CreateError::None;
        s = ctx.nat->create(f.protocol, ports, f.source, inside_port, f.destination, f.destination_port, external,
                            rule_index, now, error);
        if (s == nullptr) return drop(ctx, drop_for(error));
        ++ctx.counters->nat_created;
    } else if (s->external_address != external) {
        // Endpoint-independent mapping: one inside endpoint, one external endpoint.
        // Leaving by another interface (or rule) that names another address would
        // need a second mapping for the same endpoint.
        return drop(ctx, Drop::nat_conflict);
    }
    ctx.nat->touch(*s, nat::Direction::Outbound, f.tcp_flags, static_cast<uint32_t>(b.length), now);
    s->remote_address = f.destination;  // the last remote this endpoint sent to (shown to operators)
    s->remote_port = f.destination_port;
    nat::rewrite_source(b.ip, b.length, f, s->external_address, s->external_port);
    ++ctx.counters->nat_translated_out;
    return Next::Transmit;
}

// ---- inbound ----

// The gateway's own IPsec traffic to an interface address is never a NAT reply.
bool gateway_service(const nat::Flow& f) {
    if (f.protocol == IPPROTO_ESP) return true;
    return f.protocol == IPPROTO_UDP && f.kind == nat::FlowKind::Ports &&
           (f.destination_port == kIkePort || f.destination_port == kIkeNattPort);
}

// What identifies the mapping an inbound packet belongs to.
struct InboundKey {
    uint8_t protocol;
    bool ports;
    uint32_t external;
    uint16_t external_port;
    uint32_t remote;
};

// nullopt: the packet cannot belong to a mapping (an echo request, a malformed
// message, an error quoting something we never translate).
std::optional<InboundKey> inbound_key(const nat::Flow& f) {
    switch (f.kind) {
    case nat::FlowKind::Ports: return InboundKey{f.protocol, true, f.destination, f.destination_port, f.source};
    case nat::FlowKind::IcmpEcho:
        if (!f.echo_reply) return std::nullopt;
        return InboundKey{f.protocol, true, f.destination, f.destination_port, f.source};
    case nat::FlowKind::AddressOnly: return InboundKey{f.protocol, false, f.destination, 0, f.source};
    case nat::FlowKind::IcmpError:
        // The quoted packet is one we sent: its source is the external endpoint.
        if (f.embedded_kind != nat::FlowKind::Ports && f.embedded_kind != nat::FlowKind::IcmpEcho)
            return std::nullopt;
        return InboundKey{f.embedded_protocol, true, f.embedded_source, f.embedded_source_port,
                          f.embedded_destination};
    case nat::FlowKind::Fragment:
    case nat::FlowKind::Malformed: break;
    }
    return std::nullopt;
}

Next translate_destination(WorkerContext& ctx, Burst& burst, uint16_t i, const NatState::External& to,
                           const nat::Flow& f, uint64_t now) {
    // What is not a reply: the gateway's own (to an interface address), or a drop (to
    // a pool address, which is nobody's but the mappings').
    const Next unchanged = burst.next[i];
    const auto not_a_reply = [&](Drop reason) { return to.pool ? drop(ctx, reason) : unchanged; };
    const auto no_session = [&] { return not_a_reply(Drop::nat_no_session); };
    const Bytes b = packet_bytes(burst.packets[i]);
    if (!to.pool && gateway_service(f)) return unchanged;
    if (f.kind == nat::FlowKind::Malformed) return not_a_reply(Drop::nat_malformed);
    if (f.kind == nat::FlowKind::Fragment) return not_a_reply(Drop::nat_fragment);
    const auto key = inbound_key(f);
    if (!key) return no_session();
    const unsigned owner = ctx.nat->owner_inbound(key->protocol, key->ports, key->external_port, key->remote);
    if (owner != ctx.index) {
        if (owner >= ctx.handoff_rings.size()) return no_session();  // a port outside the NAT range
        return hand_off(ctx, burst, i, owner, Handoff::Kind::NatIn);
    }
    nat::Session* s =
        ctx.nat->find_inbound(key->protocol, key->ports, key->external, key->external_port, key->remote, now);
    if (s == nullptr) return no_session();
    if (f.kind == nat::FlowKind::IcmpError) {  // an error does not keep its mapping alive
        nat::rewrite_icmp_error_inbound(b.ip, b.length, f, s->internal_address, s->internal_port);
    } else {
        ctx.nat->touch(*s, nat::Direction::Inbound, f.kind == nat::FlowKind::Ports ? f.tcp_flags : 0,
                       static_cast<uint32_t>(b.length), now);
        nat::rewrite_destination(b.ip, b.length, f, s->internal_address, s->internal_port);
    }
    ++ctx.counters->nat_translated_in;
    return Next::Forward;
}

// Echo replies and ICMP errors the gateway sends from its own addresses are not
// inside traffic: they keep their source.
bool from_gateway(const WorkerContext& ctx, uint32_t source) {
    return std::ranges::find(ctx.state->nat->own_addresses, source) != ctx.state->nat->own_addresses.end();
}

// A burst's worth of flows, left unconstructed: nat::Flow initialises its members, and
// zeroing 32 of them per burst showed in the profile. Each one used is constructed in
// place from read_flow().
union BurstFlows {
    BurstFlows() {}
    nat::Flow at[kBurstSize];
};

}  // namespace

// Two passes over the burst: the first decides which packets to translate, reads
// their flows and starts loading their mappings' buckets; the second translates, by
// which time the buckets are in cache (a table of a million mappings misses on every
// lookup otherwise).
void nat_outbound(WorkerContext& ctx, Burst& burst) {
    if (ctx.state->nat == nullptr || ctx.nat == nullptr) return;
    const nat::SnatChain& chain = ctx.state->nat->chain;
    constexpr uint16_t kNone = UINT16_MAX;
    constexpr uint16_t kGatewayError = UINT16_MAX - 1;  // no rule: see below
    uint16_t rules[kBurstSize];
    BurstFlows scratch;
    nat::Flow* flows = scratch.at;
    for (uint16_t i = 0; i < burst.count; ++i) {
        rules[i] = kNone;
        if (burst.next[i] != Next::Transmit || burst.encapsulated[i]) continue;
        const rte_ipv4_hdr* ip = ipv4_header(burst.packets[i]);
        if (from_gateway(ctx, ipv4_src(ip))) {
            // The gateway's own ICMP error about a packet it translated back (TTL
            // exceeded, fragmentation needed towards the LAN) quotes the inside
            // endpoint: it must quote the external one the remote knows, or path MTU
            // discovery through PAT breaks.
            if (ip->next_proto_id != IPPROTO_ICMP) continue;
            const Bytes b = packet_bytes(burst.packets[i]);
            const nat::Flow& f = *new (&flows[i]) nat::Flow(nat::read_flow(b.ip, b.length));
            if (f.kind == nat::FlowKind::IcmpError &&
                (f.embedded_kind == nat::FlowKind::Ports || f.embedded_kind == nat::FlowKind::IcmpEcho))
                rules[i] = kGatewayError;
            continue;
        }
        const auto rule = chain.match(burst.out_port[i], ip->next_proto_id, ipv4_src(ip), ipv4_dst(ip));
        if (!rule) continue;
        if (chain.rules()[*rule].action == nat::Action::Exempt) {
            ++ctx.counters->snat_hits[*rule];
            continue;
        }
        rules[i] = *rule;
        const Bytes b = packet_bytes(burst.packets[i]);
        // Constructed in place: copying a returned Flow into the array stalled on
        // store forwarding in the profile.
        const nat::Flow& f = *new (&flows[i]) nat::Flow(nat::read_flow(b.ip, b.length));
        if (f.kind == nat::FlowKind::Ports || f.kind == nat::FlowKind::IcmpEcho)
            ctx.nat->prefetch_outbound(f.protocol, true, f.source, f.source_port, f.destination);
    }
    const uint64_t now = rte_rdtsc();
    for (uint16_t i = 0; i < burst.count; ++i) {
        if (rules[i] == kNone) continue;
        if (rules[i] != kGatewayError) {
            burst.next[i] = translate_source(ctx, burst, i, rules[i], flows[i], now);
            continue;
        }
        Next next;
        if (error_about_mapping(ctx, burst, i, flows[i], packet_bytes(burst.packets[i]), now, next))
            burst.next[i] = next;  // else it quotes nothing we translated: it leaves as it is
    }
}

// Two passes, as nat_outbound: flows read and buckets loading first, lookups second.
void nat_inbound(WorkerContext& ctx, Burst& burst) {
    if (ctx.state == nullptr || ctx.state->nat == nullptr || ctx.nat == nullptr) return;
    const NatState& state = *ctx.state->nat;
    const NatState::External* to[kBurstSize];
    BurstFlows scratch;
    nat::Flow* flows = scratch.at;
    for (uint16_t i = 0; i < burst.count; ++i) {
        to[i] = nullptr;
        if (burst.next[i] != Next::Forward && burst.next[i] != Next::Local) continue;
        to[i] = state.external_for(ipv4_dst(ipv4_header(burst.packets[i])));
        if (to[i] == nullptr) continue;
        const Bytes b = packet_bytes(burst.packets[i]);
        new (&flows[i]) nat::Flow(nat::read_flow(b.ip, b.length));
        if (const auto key = inbound_key(flows[i]))
            ctx.nat->prefetch_inbound(key->protocol, key->ports, key->external, key->external_port, key->remote);
    }
    const uint64_t now = rte_rdtsc();
    for (uint16_t i = 0; i < burst.count; ++i)
        if (to[i] != nullptr) burst.next[i] = translate_destination(ctx, burst, i, *to[i], flows[i], now);
}

void nat_dump(WorkerContext& ctx, NatDump& dump) {
    const uint64_t now = rte_rdtsc();
    dump.now = now;
    if (ctx.nat != nullptr && dump.sessions.capacity() == 0) {
        dump.live = ctx.nat->size();  // a count only: no walk over every slot (includes unswept expired ones)
    } else if (ctx.nat != nullptr) {
        ctx.nat->for_each([&](const nat::Session& s) {
            if (s.expires <= now) return;
            ++dump.live;
            if (dump.sessions.size() < dump.sessions.capacity()) dump.sessions.push_back(s);
        });
    }
    dump.done.store(true, std::memory_order_release);
}

void nat_expire(WorkerContext& ctx, uint64_t now) {
    if (ctx.nat == nullptr) return;
    // A full sweep about once a second, never fewer than 256 slots a call.
    const size_t budget = std::max<size_t>(256, ctx.nat->capacity() / 1000);
    ctx.counters->nat_expired += ctx.nat->expire(now, budget);
}

}  // namespace mbox::dataplane

// The NAT stages (firewall-snat). Outbound runs after routing, on the egress port,
// before the IPsec policy lookup (DESIGN.md data path step 4); inbound runs right
// after classify, before routing, so a translated-back reply is routed to the inside
// host. Each mapping has one owner worker (nat/session_table.hpp); a packet for a
// mapping another worker owns is handed to it.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/worker_context.hpp"
#include "nat/session_table.hpp"

namespace mbox::dataplane {

// Transmit packets (not ones we encapsulated) leaving a port with firewall-snat rules:
// the first matching rule decides. Exempt leaves the packet alone; overload and
// translate rewrite its source through a mapping (made on first use). Drops are
// counted by reason; packets owned by another worker become Consumed.
void nat_outbound(WorkerContext& ctx, Burst& burst);

// Forward/Local packets addressed to an external address: replies and ICMP errors of
// a live mapping are translated back and become Forward. Others to an interface
// address go on as they were (the gateway's own traffic); others to a pool address
// are dropped (nat_no_session).
void nat_inbound(WorkerContext& ctx, Burst& burst);

// What a worker fills in for Command::NatDump: the control thread reserves `sessions`
// (the worker never allocates), the worker appends what fits, counts the rest, and
// sets `done` last. With no room reserved the worker only counts, without walking the
// table (the count then includes expired mappings not yet swept).
struct NatDump {
    std::vector<nat::Session> sessions;
    uint64_t live = 0;  // live mappings, including those that did not fit
    uint64_t now = 0;   // the worker's clock when it copied them
    std::atomic<bool> done{false};
};

void nat_dump(WorkerContext& ctx, NatDump& dump);

// Removes a bounded number of expired mappings; call about once a millisecond.
void nat_expire(WorkerContext& ctx, uint64_t now);

}  // namespace mbox::dataplane

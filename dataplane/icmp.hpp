// ICMP the gateway originates: echo replies for its own addresses and the errors a
// router owes a sender (time exceeded, destination unreachable, fragmentation needed).
// Both rewrite the received packet in place: no allocation on the fast path.
#pragma once

#include "dataplane/worker_context.hpp"

namespace mbox::dataplane {

// Turns an echo request addressed to us into the echo reply. Returns Forward (route
// the reply back) or Drop (counted: truncated or bad checksum).
Next icmp_echo_reply(WorkerContext& ctx, rte_mbuf* m);

struct IcmpError {
    uint8_t type;
    uint8_t code;
    uint16_t next_hop_mtu = 0;  // type 3 code 4 only (RFC 1191)
};

inline constexpr IcmpError kTimeExceeded{11, 0};
inline constexpr IcmpError kNetUnreachable{3, 0};
inline IcmpError fragmentation_needed(uint16_t mtu) { return {3, 4, mtu}; }

// Rewrites `m` into an ICMP error about it, sent from `source` (host order) back to
// its sender. Returns false, leaving `m` untouched, when RFC 1812 4.3.2.7 forbids an
// error (the packet is itself an ICMP error, a non-initial fragment, or from a
// martian source) or the rate limit is spent; the caller then drops the packet.
bool make_icmp_error(WorkerContext& ctx, rte_mbuf* m, IcmpError error, uint32_t source);

}  // namespace mbox::dataplane

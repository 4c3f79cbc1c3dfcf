// One worker's NAT sessions (mappings). Shared-nothing: every mapping has one owner
// worker, the same for both directions, so no table is ever touched by two threads.
//
//  * TCP, UDP and ICMP echo (the identifier plays the port): endpoint-independent
//    mapping (RFC 4787 REQ-1, RFC 5382 REQ-1): one mapping per internal
//    (protocol, address, port), whatever the remote. The owner of an outbound packet
//    is the worker whose slice of the port range holds the inside port (so that it can
//    keep the port), or a hash of the triple for a port outside the range; the owner
//    of an inbound packet is the worker whose slice holds the external port. The owner
//    allocates only from its own slice, so both directions agree. Filtering is endpoint-independent too
//    (a live mapping accepts any remote), which keeps peer-to-peer applications
//    working (RFC 4787 REQ-8).
//  * Other protocols: address-only translation keyed by the remote address as well
//    (internal, remote) <-> (external, remote); external port 0. Owner: a hash of
//    (protocol, remote address), the same both ways. A second internal host reaching
//    the same remote with the same protocol through the same external address is a
//    conflict (counted by the caller), not a silent steal.
//
// Port allocation keeps the internal port when it is in the owner's slice and free
// (port preservation), else takes the next free port of the slice for that
// (external address, protocol). A port is never handed out twice while its mapping
// lives. The constructor allocates everything: no method allocates afterwards.
//
// Time is in caller ticks (TSC); `ticks_per_second` converts the timeouts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace mbox::nat {

struct Limits {
    uint32_t max_sessions = 65536;    // in this table
    uint16_t port_first = 1024;       // the external ports (and ICMP identifiers) to use
    uint16_t port_last = 65535;
    uint16_t max_external_addresses = 64;  // distinct external addresses this table can hand out ports on
};

// Seconds. Defaults: RFC 5382 REQ-5 (established >= 2 h 4 min; transitory 4 min),
// RFC 4787 REQ-5 (UDP >= 2 min, 5 min recommended), RFC 5508 REQ-1 (ICMP query 60 s).
struct Timeouts {
    uint32_t tcp_established = 7440;
    uint32_t tcp_transitory = 240;
    uint32_t udp = 300;
    uint32_t icmp = 60;
    uint32_t other = 600;
};

// TCP as seen through the mapping. New: SYN seen, not yet answered (transitory
// timeout). Established: the SYN was answered and data can flow both ways
// (established timeout). Closing: a FIN seen in each direction, or a RST (transitory).
enum class TcpState : uint8_t { None, New, Established, Closing };

enum class Direction : uint8_t { Outbound, Inbound };

struct Session {
    uint8_t protocol = 0;
    TcpState tcp = TcpState::None;
    uint8_t fin_seen = 0;            // bit 0: FIN outbound, bit 1: FIN inbound
    uint16_t rule = 0;               // index of the chain rule that created it
    uint32_t internal_address = 0;
    uint16_t internal_port = 0;      // 0 for address-only
    uint16_t external_port = 0;
    uint32_t external_address = 0;
    uint32_t remote_address = 0;     // address-only: part of the key; else the last remote seen
    uint16_t remote_port = 0;
    uint64_t created = 0;            // ticks
    uint64_t expires = 0;            // ticks: live while now < expires
    uint64_t packets_out = 0, packets_in = 0;
    uint64_t bytes_out = 0, bytes_in = 0;
};

enum class CreateError : uint8_t {
    None,
    TableFull,          // max_sessions live mappings
    PortsExhausted,     // no free port in this worker's slice for (external address, protocol)
    TooManyAddresses,   // max_external_addresses already in use
    Conflict,           // address-only: (protocol, external, remote) is held by another host
};

class SessionTable {
public:
    SessionTable(const Limits& limits, const Timeouts& timeouts, unsigned worker, unsigned workers,
                 uint64_t ticks_per_second);
    ~SessionTable();
    SessionTable(const SessionTable&) = delete;
    SessionTable& operator=(const SessionTable&) = delete;

    // Which worker owns the mapping of a packet. Address-only protocols (not TCP, UDP
    // or ICMP echo, told apart by `ports`) ignore the ports. owner_inbound returns
    // `workers` (no one) for an external port outside [port_first, port_last].
    unsigned owner_outbound(uint8_t protocol, bool ports, uint32_t internal_address, uint16_t internal_port,
                            uint32_t remote_address) const;
    unsigned owner_inbound(uint8_t protocol, bool ports, uint16_t external_port, uint32_t remote_address) const;

    // Start loading where find_outbound / find_inbound will look, so that a burst can
    // ask for every packet's key before it looks any of them up.
    void prefetch_outbound(uint8_t protocol, bool ports, uint32_t internal_address, uint16_t internal_port,
                           uint32_t remote_address) const;
    void prefetch_inbound(uint8_t protocol, bool ports, uint32_t external_address, uint16_t external_port,
                          uint32_t remote_address) const;

    // Live mappings only: one found expired is removed and nullptr returned.
    Session* find_outbound(uint8_t protocol, bool ports, uint32_t internal_address, uint16_t internal_port,
                           uint32_t remote_address, uint64_t now);
    Session* find_inbound(uint8_t protocol, bool ports, uint32_t external_address, uint16_t external_port,
                          uint32_t remote_address, uint64_t now);

    // A new mapping on `external_address` for an outbound packet (call find_outbound
    // first). Its timeout starts as the protocol's (TCP: transitory until established).
    Session* create(uint8_t protocol, bool ports, uint32_t internal_address, uint16_t internal_port,
                    uint32_t remote_address, uint16_t remote_port, uint32_t external_address, uint16_t rule,
                    uint64_t now, CreateError& error);

    // A packet passed through `s`: counters, TCP state from the flags (0 for other
    // protocols), and the expiry that state implies. The remote of an outbound packet
    // is the caller's to record (remote_address, remote_port): touch is not given it.
    void touch(Session& s, Direction direction, uint8_t tcp_flags, uint32_t bytes, uint64_t now);

    // Removes up to `budget` expired mappings, resuming where the last call stopped;
    // returns how many were removed. Call it often with a small budget.
    size_t expire(uint64_t now, size_t budget);

    void clear();
    void set_timeouts(const Timeouts& timeouts);
    size_t size() const;
    size_t capacity() const;
    const Limits& limits() const;
    const Timeouts& timeouts() const;
    // The ports this worker hands out: [first, last].
    uint16_t slice_first() const;
    uint16_t slice_last() const;

    // Every live mapping (`f(const Session&)`), in no particular order.
    template <typename F>
    void for_each(F&& f) const {
        for (size_t i = 0; i < slot_count(); ++i)
            if (const Session* s = slot(i)) f(*s);
    }

private:
    size_t slot_count() const;
    const Session* slot(size_t index) const;  // nullptr when the slot is free

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mbox::nat

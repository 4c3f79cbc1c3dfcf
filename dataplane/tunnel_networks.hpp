// The networks of every configured tunnel (manual SAs and IKE peers): each local-net x
// remote-net pair. Traffic between them must leave through an SA or not at all: this
// is the policy that stays when no SA is there (ipsec stopped, a tunnel not negotiated
// yet or down after DPD), so that such traffic is dropped and counted instead of
// following the route in the clear (RFC 4301 §4.4.1: a PROTECT entry without an SA
// sends nothing unprotected).
//
// Built on the control thread into the forwarding snapshot, read-only on the workers.
// A lookup first asks whether any remote network holds the destination at all (most
// forwarded packets are outside every one); then it tries each remote prefix length in
// use, with a binary search within it: the cost grows with the number of distinct
// lengths and log(pairs), not with tunnels.
#pragma once

#include <cstdint>
#include <vector>

#include "config/ipv4.hpp"
#include "dataplane/address_ranges.hpp"

namespace mbox::dataplane {

class TunnelNetworks {
public:
    struct Pair {
        Ipv4Prefix local;   // inner source
        Ipv4Prefix remote;  // inner destination
    };

    TunnelNetworks() = default;
    explicit TunnelNetworks(const std::vector<Pair>& pairs);

    // Whether a packet from `src` to `dst` (host order) is between a pair's networks.
    bool covers(uint32_t src, uint32_t dst) const;
    bool empty() const { return by_length_.empty(); }

private:
    struct Entry {
        uint32_t remote = 0;  // network address, host order
        Ipv4Prefix local;
    };
    struct SameLength {
        uint8_t length = 0;
        std::vector<Entry> entries;  // sorted by remote
    };
    std::vector<SameLength> by_length_;  // one per remote prefix length in use
    AddressRanges remotes_;              // every remote network
};

}  // namespace mbox::dataplane

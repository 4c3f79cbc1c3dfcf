// The immutable snapshot a worker forwards with: per-port facts, the route table, the
// source-NAT chain and the tunnels' networks.
// The control thread builds a new one for every change, hands it to each worker over
// its command ring, and frees the old one once every worker has handed it back.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/counters.hpp"
#include "dataplane/route_table.hpp"
#include "dataplane/tunnel_networks.hpp"
#include "nat/snat_chain.hpp"

namespace mbox::dataplane {

struct PortState {
    bool in_use = false;   // a configured interface is bound to this port
    bool enabled = false;  // `enable`d: packets in or out of a disabled port are dropped
    uint8_t mac[6] = {};
    uint16_t mtu = 1500;
    uint32_t primary_address = 0;  // host order; source of ICMP errors sent from this port (0: none)
};

// The source-NAT side of a snapshot: the firewall-snat chain and the external
// addresses it translates to. Inbound packets to those addresses are matched against
// the sessions; one to a pool address that matches none is dropped, one to an
// interface address goes on to the gateway itself.
struct NatState {
    struct External {
        uint32_t first = 0, last = 0;  // host order, inclusive
        bool pool = false;             // a translate pool (else an interface's address)
    };
    nat::SnatChain chain;
    std::vector<External> external;
    std::vector<uint32_t> own_addresses;  // every interface address: the gateway's own packets are not translated

    const External* external_for(uint32_t address) const {
        for (const External& e : external)
            if (address >= e.first && address <= e.last) return &e;
        return nullptr;
    }
};

// What happens to a packet between a configured tunnel's networks that no SA took:
// dropped and counted under `drop` (ipsec_no_sa while ipsec runs, ipsec_stopped while
// it is stopped). `networks` is empty when no tunnel is configured, or while ipsec is
// stopped with `ipsec stopped-traffic forward` (the operator lets it go in the clear).
struct TunnelPolicy {
    TunnelNetworks networks;
    Drop drop = Drop::ipsec_no_sa;
};

// Never 0, never the same for two snapshots (not even one built where a freed one lived):
// what workers key their per-SA caches of this snapshot's lookups on.
inline uint64_t next_forwarding_state_serial() {
    static std::atomic<uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

struct ForwardingState {
    uint64_t serial = next_forwarding_state_serial();
    std::array<PortState, kMaxPorts> ports{};
    std::unique_ptr<RouteTable> routes;
    std::unique_ptr<NatState> nat;  // null: no firewall-snat rules
    TunnelPolicy tunnels;
};

}  // namespace mbox::dataplane

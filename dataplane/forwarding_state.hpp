// The immutable snapshot a worker forwards with: per-port facts and the route table.
// The control thread builds a new one for every change, hands it to each worker over
// its command ring, and frees the old one once every worker has handed it back.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "dataplane/counters.hpp"
#include "dataplane/route_table.hpp"

namespace mbox::dataplane {

struct PortState {
    bool in_use = false;   // a configured interface is bound to this port
    bool enabled = false;  // `enable`d: packets in or out of a disabled port are dropped
    uint8_t mac[6] = {};
    uint16_t mtu = 1500;
    uint32_t primary_address = 0;  // host order; source of ICMP errors sent from this port (0: none)
};

struct ForwardingState {
    std::array<PortState, kMaxPorts> ports{};
    std::unique_ptr<RouteTable> routes;
};

}  // namespace mbox::dataplane

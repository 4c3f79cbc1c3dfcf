// The routing information base: every route the configuration implies (connected
// networks, our own addresses, static routes and interface default gateways), with
// where each came from. `show ip route` prints it; the FIB the workers use is built
// from it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "dataplane/route_table.hpp"

namespace mbox::control {

struct RibRoute {
    enum class Source { Connected, Local, Static };
    Ipv4Prefix prefix;                   // network form (Local: the /32 address)
    Source source = Source::Connected;
    std::optional<Ipv4Address> nexthop;  // Static only
    std::string interface;
    uint16_t port = 0;
};

using PortLookup = std::function<std::optional<uint16_t>(std::string_view interface)>;

// Interfaces without a port (disabled, or not opened) contribute no routes; a static
// route whose next hop is not on a connected network of an open interface is left out
// (validation rejects such configurations before they get here). A connected network
// wins over a static route for the same prefix.
std::vector<RibRoute> build_rib(const config::Config& config, const PortLookup& port_of);

// The forwarding entries: one per route, plus the broadcast address of every connected
// network shorter than /31 so that directed broadcasts are never forwarded.
std::vector<dataplane::RouteEntry> build_fib_entries(const std::vector<RibRoute>& rib);

std::string_view to_string(RibRoute::Source source);

}  // namespace mbox::control

#include "control/rib.hpp"

#include <algorithm>
#include <tuple>

namespace mbox::control {

namespace {

using dataplane::NextHop;

struct Connected {
    Ipv4Prefix network;
    std::string interface;
    uint16_t port;
};

std::vector<Connected> connected_networks(const config::Config& config, const PortLookup& port_of) {
    std::vector<Connected> out;
    for (const auto& iface : config.interfaces) {
        const auto port = port_of(iface.name);
        if (!port) continue;
        for (const auto& a : iface.addresses) out.push_back({a.network(), iface.name, *port});
    }
    return out;
}

const Connected* network_of(const std::vector<Connected>& nets, Ipv4Address a) {
    const Connected* best = nullptr;
    for (const auto& n : nets)
        if (n.network.contains(a) && (best == nullptr || n.network.length > best->network.length)) best = &n;
    return best;
}

void add_static(std::vector<RibRoute>& rib, const std::vector<Connected>& nets, Ipv4Prefix prefix, Ipv4Address nexthop) {
    const Connected* via = network_of(nets, nexthop);
    if (via == nullptr) return;
    const Ipv4Prefix network = prefix.network();
    // Connected networks and our own addresses are never overridden by a static route.
    const bool shadowed = std::any_of(rib.begin(), rib.end(), [&](const RibRoute& r) {
        return r.source != RibRoute::Source::Static && r.prefix == network;
    });
    if (shadowed) return;
    std::erase_if(rib, [&](const RibRoute& r) { return r.source == RibRoute::Source::Static && r.prefix == network; });
    rib.push_back({network, RibRoute::Source::Static, nexthop, via->interface, via->port});
}

}  // namespace

std::vector<RibRoute> build_rib(const config::Config& config, const PortLookup& port_of) {
    const std::vector<Connected> nets = connected_networks(config, port_of);
    std::vector<RibRoute> rib;
    for (const auto& n : nets) rib.push_back({n.network, RibRoute::Source::Connected, std::nullopt, n.interface, n.port});
    for (const auto& iface : config.interfaces) {
        const auto port = port_of(iface.name);
        if (!port) continue;
        for (const auto& a : iface.addresses)
            rib.push_back({Ipv4Prefix{a.address, 32}, RibRoute::Source::Local, std::nullopt, iface.name, *port});
    }
    // `ip default-gateway` belongs to its interface: no port, no route.
    for (const auto& iface : config.interfaces)
        if (iface.default_gateway && port_of(iface.name)) add_static(rib, nets, Ipv4Prefix{{}, 0}, *iface.default_gateway);
    for (const auto& r : config.routes) add_static(rib, nets, r.prefix, r.nexthop);

    std::stable_sort(rib.begin(), rib.end(), [](const RibRoute& a, const RibRoute& b) {
        return std::tie(a.prefix.address.value, a.prefix.length) < std::tie(b.prefix.address.value, b.prefix.length);
    });
    return rib;
}

std::vector<dataplane::RouteEntry> build_fib_entries(const std::vector<RibRoute>& rib) {
    std::vector<dataplane::RouteEntry> fib;
    for (const auto& r : rib) {
        NextHop hop;
        hop.port = r.port;
        switch (r.source) {
        case RibRoute::Source::Connected: hop.kind = NextHop::Kind::Connected; break;
        case RibRoute::Source::Local: hop.kind = NextHop::Kind::Local; break;
        case RibRoute::Source::Static:
            hop.kind = NextHop::Kind::Gateway;
            hop.gateway = r.nexthop->value;
            break;
        }
        fib.push_back({r.prefix, hop});
    }
    // Broadcast entries after the routes: Local entries for the same /32 win (an
    // address configured as .255 of a /24 is still ours, as on Linux).
    for (const auto& r : rib) {
        if (r.source != RibRoute::Source::Connected || r.prefix.length >= 31) continue;
        const Ipv4Address broadcast{r.prefix.address.value | ~r.prefix.mask()};
        const bool is_local = std::any_of(rib.begin(), rib.end(), [&](const RibRoute& o) {
            return o.source == RibRoute::Source::Local && o.prefix.address == broadcast;
        });
        if (!is_local) fib.push_back({Ipv4Prefix{broadcast, 32}, NextHop{NextHop::Kind::Broadcast, r.port, 0}});
    }
    return fib;
}

std::string_view to_string(RibRoute::Source source) {
    switch (source) {
    case RibRoute::Source::Connected: return "connected";
    case RibRoute::Source::Local: return "local";
    case RibRoute::Source::Static: return "static";
    }
    return "?";
}

}  // namespace mbox::control

#include "control/forwarding_builder.hpp"

#include <cstring>

namespace mbox::control {

ForwardingBuild build_forwarding_state(const config::Config& config, const dataplane::Dataplane& dataplane) {
    ForwardingBuild out;
    out.rib = build_rib(config, [&](std::string_view name) { return dataplane.port_of(name); });
    auto routes = dataplane::RouteTable::build(build_fib_entries(out.rib), out.error);
    if (!routes) return out;
    out.state = std::make_unique<dataplane::ForwardingState>();
    out.state->routes = std::move(routes);
    for (const auto& port : dataplane.ports()) {
        const config::Interface* iface = config.find_interface(port.interface);
        auto& ps = out.state->ports[port.id];
        ps.in_use = true;
        ps.enabled = iface != nullptr && iface->enabled;
        std::memcpy(ps.mac, port.mac, sizeof ps.mac);
        ps.mtu = port.mtu;
        ps.primary_address = iface != nullptr && !iface->addresses.empty() ? iface->addresses.front().address.value : 0;
    }
    return out;
}

}  // namespace mbox::control

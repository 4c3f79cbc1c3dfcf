#include "control/forwarding_builder.hpp"

#include <algorithm>
#include <cstring>

namespace mbox::control {

namespace {

nat::Action action_of(config::SnatAction a) {
    switch (a) {
    case config::SnatAction::Exempt: return nat::Action::Exempt;
    case config::SnatAction::Overload: return nat::Action::Overload;
    case config::SnatAction::Translate: return nat::Action::Translate;
    }
    return nat::Action::Exempt;
}

std::vector<nat::Prefix> prefixes_of(const std::vector<Ipv4Prefix>& list) {
    std::vector<nat::Prefix> out;
    for (const auto& p : list) out.push_back({p.network().address.value, p.length});
    return out;
}

// The chain keeps the configuration's order (by rule number), so chain index i is
// config.snat_rules[i]: the per-rule hit counters are read back that way.
std::unique_ptr<dataplane::NatState> build_nat_state(const config::Config& config,
                                                     const dataplane::Dataplane& dataplane,
                                                     const dataplane::ForwardingState& state) {
    if (config.snat_rules.empty()) return nullptr;
    auto nat_state = std::make_unique<dataplane::NatState>();
    std::vector<nat::Rule> rules;
    const auto add_external = [&](uint32_t first, uint32_t last, bool pool) {
        if (first == 0) return;
        const dataplane::NatState::External e{first, last, pool};
        const bool known = std::ranges::any_of(nat_state->external, [&](const auto& x) {
            return x.first == e.first && x.last == e.last;
        });
        if (!known) nat_state->external.push_back(e);
    };
    for (const auto& r : config.snat_rules) {
        nat::Rule rule;
        rule.number = static_cast<uint32_t>(r.rule);
        rule.action = action_of(r.action);
        // An interface without a port takes no traffic: the rule can never match.
        rule.port = dataplane.port_of(r.interface).value_or(dataplane::kMaxPorts);
        rule.protocol = r.protocol ? static_cast<uint8_t>(*r.protocol) : 0;
        rule.source = prefixes_of(r.src);
        rule.destination = prefixes_of(r.dst);
        if (r.xsrc) {
            rule.pool_first = r.xsrc->first.value;
            rule.pool_last = r.xsrc->last.value;
            add_external(rule.pool_first, rule.pool_last, true);
        } else if (rule.action == nat::Action::Overload && rule.port < dataplane::kMaxPorts) {
            const uint32_t address = state.ports[rule.port].primary_address;
            add_external(address, address, false);
        }
        rules.push_back(std::move(rule));
    }
    nat_state->chain = nat::SnatChain(std::move(rules));
    for (const auto& iface : config.interfaces)
        for (const auto& a : iface.addresses) nat_state->own_addresses.push_back(a.address.value);
    return nat_state;
}

void add_pairs(std::vector<dataplane::TunnelNetworks::Pair>& pairs, const std::vector<Ipv4Prefix>& locals,
               const std::vector<Ipv4Prefix>& remotes) {
    for (const auto& remote : remotes)
        for (const auto& local : locals) pairs.push_back({local, remote});
}

}  // namespace

dataplane::TunnelPolicy build_tunnel_policy(const config::Config& config) {
    dataplane::TunnelPolicy policy;
    policy.drop = config.ipsec_enabled ? dataplane::Drop::ipsec_no_sa : dataplane::Drop::ipsec_stopped;
    if (!config.ipsec_enabled && config.ipsec_stopped_traffic == config::StoppedTraffic::Forward) return policy;
    // Every configured tunnel, whether or not it can have an SA now (IKEv1 peers, `any`
    // peers that have not called, SAs the data plane refused): none may leak.
    std::vector<dataplane::TunnelNetworks::Pair> pairs;
    for (const auto& sa : config.manual_sas) add_pairs(pairs, sa.local_nets, sa.remote_nets);
    for (const auto& peer : config.peers) add_pairs(pairs, peer.local_nets, peer.remote_nets);
    policy.networks = dataplane::TunnelNetworks(pairs);
    return policy;
}

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
    out.state->nat = build_nat_state(config, dataplane, *out.state);
    out.state->tunnels = build_tunnel_policy(config);
    return out;
}

}  // namespace mbox::control

// Validation of a whole model: cross-references and rules that no single line shows.
// Every diagnostic carries the location of the object it is about.
#include "config/validate.hpp"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "config/value_parsing.hpp"

namespace mbox::config {
namespace {

bool covers(const std::vector<Ipv4Prefix>& rule_networks, const Ipv4Prefix& traffic) {
    if (rule_networks.empty()) return true;  // an empty src or dst list means any
    return std::ranges::any_of(rule_networks, [&](const Ipv4Prefix& network) {
        return network.length <= traffic.length && network.contains(traffic.address);
    });
}

bool is_connected(const Interface& interface, Ipv4Address address) {
    return std::ranges::any_of(interface.addresses, [&](const Ipv4Prefix& p) { return p.contains(address); });
}

class Validator {
public:
    explicit Validator(const Config& config) : config_(config) {}

    Diagnostics run() {
        for (size_t i = 0; i < config_.interfaces.size(); ++i) check_interface(i);
        for (const auto& route : config_.routes) check_route(route);
        for (const auto& [id, policy] : config_.ike_policies) check_ike_policy(policy);
        for (size_t i = 0; i < config_.peers.size(); ++i) check_peer(i);
        for (size_t i = 0; i < config_.snat_rules.size(); ++i) check_snat_rule(i);
        return std::move(diagnostics_);
    }

private:
    // ---- interfaces and routes ----

    void check_interface(size_t index) {
        const Interface& interface = config_.interfaces[index];
        const auto earlier = std::span(config_.interfaces).first(index);
        if (const auto* same_name = find_earlier(earlier, &Interface::name, interface.name)) {
            error(interface.where, fmt::format("interface {} is already defined at {}", interface.name,
                                               same_name->where.file_and_line()));
        }
        if (interface.enabled && interface.dpdk_device.empty()) {
            error(interface.where, fmt::format("interface {} is enabled but has no dpdk-device", interface.name));
        }
        const auto* same_device = find_earlier(earlier, &Interface::dpdk_device, interface.dpdk_device);
        if (!interface.dpdk_device.empty() && same_device) {
            error(interface.where, fmt::format("interface {}: dpdk-device '{}' is already used by interface {}",
                                               interface.name, interface.dpdk_device, same_device->name));
        }
        if (interface.default_gateway && !is_connected(interface, *interface.default_gateway)) {
            error(interface.where, fmt::format("interface {}: default-gateway {} is not on a connected network",
                                               interface.name, interface.default_gateway->to_string()));
        }
    }

    void check_route(const Route& route) {
        if (!route.prefix.is_network()) error(route.where, host_bits_message("ip route", route.prefix));
        const bool connected = std::ranges::any_of(config_.interfaces, [&](const Interface& interface) {
            return is_connected(interface, route.nexthop);
        });
        if (!connected) {
            error(route.where, fmt::format("ip route {}: nexthop {} is not on a connected network",
                                           route.prefix.to_string(), route.nexthop.to_string()));
        }
    }

    // ---- policies and peers ----

    void check_ike_policy(const IkePolicy& policy) {
        if (policy.hash == Hash::Md5_128 && policy.version == 1) {
            error(policy.where, fmt::format("ike-policy {}: MD5-128 is IKEv2-only, but the policy is version 1",
                                            policy.id));
        }
    }

    void check_peer(size_t index) {
        const Peer& peer = config_.peers[index];
        const std::string name = peer.address.to_string();
        const auto earlier = std::span(config_.peers).first(index);
        if (const auto* same = find_earlier(earlier, &Peer::address, peer.address)) {
            error(peer.where, fmt::format("peer {} is already defined at {}", name, same->where.file_and_line()));
        }
        if (peer.nated && !peer.local_ip) {
            error(peer.where, fmt::format("peer {}: nated is set without a local ip", name));
        }
        check_peer_networks(peer, name);
        check_peer_policies(peer, name);
        check_tunnel_not_translated(peer, name);
    }

    void check_peer_networks(const Peer& peer, const std::string& name) {
        if (peer.local_nets.empty()) error(peer.where, fmt::format("peer {}: no local-net given", name));
        if (peer.remote_nets.empty()) error(peer.where, fmt::format("peer {}: no remote-net given", name));
        check_networks(peer.where, peer.local_nets, fmt::format("peer {} local-net", name));
        check_networks(peer.where, peer.remote_nets, fmt::format("peer {} remote-net", name));
    }

    void check_peer_policies(const Peer& peer, const std::string& name) {
        if (!peer.ike_policy || !peer.esp_policy) {
            error(peer.where, fmt::format("peer {}: no 'policy ike N esp M' given", name));
            return;
        }
        const IkePolicy* ike = find_policy(config_.ike_policies, *peer.ike_policy, peer, "ike-policy");
        const EspPolicy* esp = find_policy(config_.esp_policies, *peer.esp_policy, peer, "esp-policy");
        if (ike && ike->authentication == IkeAuthentication::Psk && peer.psk.empty()) {
            error(peer.where, fmt::format("peer {}: ike-policy {} uses psk authentication but the peer has no psk",
                                          name, ike->id));
        }
        if (ike && esp && ike->version == 1 && esp->hash == Hash::Md5_128) {
            error(peer.where, fmt::format("peer {}: esp-policy {} uses MD5-128, which is IKEv2-only, but ike-policy {} "
                                          "is version 1",
                                          name, esp->id, ike->id));
        }
    }

    template <typename Policy>
    const Policy* find_policy(const std::map<int, Policy>& policies, int id, const Peer& peer, std::string_view kind) {
        const auto found = policies.find(id);
        if (found != policies.end()) return &found->second;
        error(peer.where, fmt::format("peer {}: {} {} is not defined", peer.address.to_string(), kind, id));
        return nullptr;
    }

    // The outbound chain runs before the IPsec policy lookup (DESIGN.md, data path
    // step 4): tunnel traffic that meets an overload rule first leaves translated
    // and no longer matches the tunnel's selectors.
    void check_tunnel_not_translated(const Peer& peer, const std::string& name) {
        for (const auto& local : peer.local_nets) {
            for (const auto& remote : peer.remote_nets) {
                for (const SnatRule* rule : deciding_rules_per_interface(local, remote)) {
                    if (rule->action != SnatAction::Overload) continue;
                    warning(peer.where, fmt::format("peer {}: traffic {} -> {} is caught by overload rule {} with no "
                                                    "exempt rule before it",
                                                    name, local.to_string(), remote.to_string(), rule->rule));
                }
            }
        }
    }

    // Per interface, the lowest-numbered rule that takes all of local -> remote. A
    // rule limited to one protocol takes only part of it, so it decides nothing.
    std::vector<const SnatRule*> deciding_rules_per_interface(const Ipv4Prefix& local, const Ipv4Prefix& remote) const {
        std::vector<const SnatRule*> rules;
        for (const auto& rule : config_.snat_rules) rules.push_back(&rule);
        std::ranges::stable_sort(rules, {}, &SnatRule::rule);
        std::vector<const SnatRule*> deciding;
        for (const SnatRule* rule : rules) {
            const bool interface_decided = std::ranges::any_of(deciding, [&](const SnatRule* d) {
                return d->interface == rule->interface;
            });
            if (!interface_decided && !rule->protocol && covers(rule->src, local) && covers(rule->dst, remote)) {
                deciding.push_back(rule);
            }
        }
        return deciding;
    }

    // ---- firewall-snat ----

    void check_snat_rule(size_t index) {
        const SnatRule& rule = config_.snat_rules[index];
        const auto earlier = std::span(config_.snat_rules).first(index);
        if (const auto* same = find_earlier(earlier, &SnatRule::rule, rule.rule)) {
            error(rule.where, fmt::format("firewall-snat rule {} is already defined at {}", rule.rule,
                                          same->where.file_and_line()));
        }
        if (!config_.find_interface(rule.interface)) {
            error(rule.where, fmt::format("firewall-snat {}: interface {} is not defined", rule.rule, rule.interface));
        }
        check_networks(rule.where, rule.src, fmt::format("firewall-snat {} src", rule.rule));
        check_networks(rule.where, rule.dst, fmt::format("firewall-snat {} dst", rule.rule));
    }

    // ---- helpers ----

    void check_networks(const SourceLocation& where, const std::vector<Ipv4Prefix>& networks,
                        const std::string& context) {
        for (const auto& network : networks) {
            if (!network.is_network()) error(where, host_bits_message(context, network));
        }
    }

    template <typename T, typename Field, typename Value>
    static const T* find_earlier(std::span<const T> earlier, Field T::*field, const Value& value) {
        const auto found = std::ranges::find(earlier, value, field);
        return found == earlier.end() ? nullptr : &*found;
    }

    void error(const SourceLocation& where, std::string message) {
        diagnostics_.push_back(Diagnostic{Severity::Error, where, std::move(message)});
    }

    void warning(const SourceLocation& where, std::string message) {
        diagnostics_.push_back(Diagnostic{Severity::Warning, where, std::move(message)});
    }

    const Config& config_;
    Diagnostics diagnostics_;
};

}  // namespace

Diagnostics validate(const Config& config) {
    return Validator(config).run();
}

}  // namespace mbox::config

// Validation of a whole model: cross-references and rules that no single line shows.
// Every diagnostic carries the location of the object it is about.
#include "config/validate.hpp"

#include <algorithm>
#include <set>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/first_occurrence.hpp"
#include "config/identity.hpp"
#include "config/pki.hpp"
#include "config/value_parsing.hpp"

namespace mbox::config {
namespace {

bool covers(const std::vector<Ipv4Prefix>& rule_networks, const Ipv4Prefix& traffic) {
    if (rule_networks.empty()) return true;  // an empty src or dst list means any
    return std::ranges::any_of(rule_networks, [&](const Ipv4Prefix& network) {
        return network.length <= traffic.length && network.contains(traffic.address);
    });
}

// The traffic one outbound policy entry of a manual SA selects: local-net x remote-net.
struct Selector {
    Ipv4Prefix local;
    Ipv4Prefix remote;

    bool operator==(const Selector&) const = default;
};

struct SelectorHash {
    size_t operator()(const Selector& s) const {
        const auto bits = [](const Ipv4Prefix& p) { return uint64_t{p.address.value} << 8 | p.length; };
        return std::hash<uint64_t>{}(bits(s.local) * 0x9e3779b97f4a7c15 ^ bits(s.remote));
    }
};

// An SA's selectors in the order written, each once (a list may name a network twice).
std::vector<Selector> selectors_of(const ManualSa& sa) {
    std::vector<Selector> selectors;
    std::unordered_set<Selector, SelectorHash> seen;
    for (const auto& local : sa.local_nets) {
        for (const auto& remote : sa.remote_nets) {
            if (seen.insert({local, remote}).second) selectors.push_back({local, remote});
        }
    }
    return selectors;
}

// The chain as the data plane runs it: in rule order, and no more than it holds. Every
// tunnel is checked against it, so a longer one (an error of its own) would only make
// the check cost tunnels x rules.
std::vector<const SnatRule*> snat_chain(const std::vector<SnatRule>& rules) {
    std::vector<const SnatRule*> chain;
    for (const auto& rule : rules) chain.push_back(&rule);
    std::ranges::stable_sort(chain, {}, &SnatRule::rule);
    if (chain.size() > kMaxSnatRules) chain.resize(kMaxSnatRules);
    return chain;
}

bool is_connected(const Interface& interface, Ipv4Address address) {
    return std::ranges::any_of(interface.addresses, [&](const Ipv4Prefix& p) { return p.contains(address); });
}

class Validator {
public:
    explicit Validator(const Config& config) : config_(config), snat_chain_(snat_chain(config.snat_rules)) {}

    Diagnostics run() {
        for (size_t i = 0; i < config_.interfaces.size(); ++i) check_interface(i);
        for (const auto& route : config_.routes) check_route(route);
        for (const auto& [id, policy] : config_.ike_policies) check_ike_policy(policy);
        for (const auto& [id, policy] : config_.esp_policies) check_esp_policy(policy);
        for (Diagnostic& found : check_pki_files(config_.pki)) diagnostics_.push_back(std::move(found));
        for (size_t i = 0; i < config_.peers.size(); ++i) check_peer(i);
        for (size_t i = 0; i < config_.manual_sas.size(); ++i) check_manual_sa(i);
        for (size_t i = 0; i < config_.snat_rules.size(); ++i) check_snat_rule(i);
        check_translate_pools();
        if (config_.snat_rules.size() > kMaxSnatRules) {
            error(config_.snat_rules[kMaxSnatRules].where,
                  fmt::format("at most {} firewall-snat rules are supported", kMaxSnatRules));
        }
        return std::move(diagnostics_);
    }

private:
    // ---- interfaces and routes ----

    void check_interface(size_t index) {
        const Interface& interface = config_.interfaces[index];
        if (const auto first = interface_names_.find_or_add(interface.name, index)) {
            error(interface.where, fmt::format("interface {} is already defined at {}", interface.name,
                                               config_.interfaces[*first].where.file_and_line()));
        }
        if (interface.enabled && interface.dpdk_device.empty()) {
            error(interface.where, fmt::format("interface {} is enabled but has no dpdk-device", interface.name));
        }
        const size_t* same_device =
            interface.dpdk_device.empty() ? nullptr : dpdk_devices_.find_or_add(interface.dpdk_device, index);
        if (same_device) {
            error(interface.where, fmt::format("interface {}: dpdk-device '{}' is already used by interface {}",
                                               interface.name, interface.dpdk_device,
                                               config_.interfaces[*same_device].name));
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

    // The parsers never produce a CBC policy without a hash or GCM with one; a model
    // built by code might.
    void check_esp_policy(const EspPolicy& policy) {
        if (const auto problem = esp_transform_problem(policy.encryption, policy.hash)) {
            error(policy.where, fmt::format("esp-policy {}: {}", policy.id, *problem));
        }
    }

    void check_peer(size_t index) {
        const Peer& peer = config_.peers[index];
        const std::string name = peer.name();
        if (peer.address) {
            if (const auto first = peer_addresses_.find_or_add(peer.address->value, index)) {
                error(peer.where, fmt::format("peer {} is already defined at {}", name,
                                              config_.peers[*first].where.file_and_line()));
            }
        } else {
            check_any_peer(peer, index);
        }
        if (peer.nated && !peer.local_ip) {
            error(peer.where, fmt::format("peer {}: nated is set without a local ip", name));
        }
        check_identity(peer, "local-id", peer.local_id);
        check_identity(peer, "remote-id", peer.remote_id);
        if (peer.dpd != 0 && (peer.dpd < kDpdMin || peer.dpd > kDpdMax)) {  // a model built by code
            error(peer.where, fmt::format("peer {}: dpd {} is out of range (expected 0 or {}..{})", name, peer.dpd,
                                          kDpdMin, kDpdMax));
        }
        check_peer_networks(peer, name);
        check_peer_policies(peer, name);
        check_tunnel_not_translated(peer.where, fmt::format("peer {}", name), peer.local_nets, peer.remote_nets);
    }

    // `ipsec peer any` answers whoever presents its remote-id: without one it would take
    // anyone, and two with the same one could not be told apart.
    void check_any_peer(const Peer& peer, size_t index) {
        if (peer.remote_id.empty()) {
            error(peer.where, "peer any: no remote-id given (an 'any' peer is told apart by the identity it presents)");
            return;
        }
        if (const auto first = any_peer_ids_.find_or_add(peer.remote_id, index)) {
            error(peer.where, fmt::format("peer {} is already defined at {}", peer.name(),
                                          config_.peers[*first].where.file_and_line()));
        }
        if (peer.remote_ip_any) {
            warning(peer.where, fmt::format("peer {}: remote-ip any says nothing more for an 'any' peer", peer.name()));
        }
    }

    void check_identity(const Peer& peer, std::string_view what, const std::string& text) {
        if (text.empty()) return;  // not given
        if (const auto identity = parse_identity(text); !identity) {
            error(peer.where, fmt::format("peer {}: {}: {}", peer.name(), what, identity.error()));
        }
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
        if (ike && ike->authentication == IkeAuthentication::RsaSig) check_rsa_sig_peer(name, *ike, peer);
        if (ike && peer.mode && ike->version == 2) {
            error(peer.where, fmt::format("peer {}: mode {} is IKEv1-only, but ike-policy {} is version 2", name,
                                          to_string(*peer.mode), ike->id));
        }
        if (ike && esp && ike->version == 1 && esp->hash == Hash::Md5_128) {
            error(peer.where, fmt::format("peer {}: esp-policy {} uses MD5-128, which is IKEv2-only, but ike-policy {} "
                                          "is version 1",
                                          name, esp->id, ike->id));
        }
    }

    // rsa-sig signs with our key, shows our certificate and checks the peer's against
    // our CAs: all three must be there.
    void check_rsa_sig_peer(const std::string& name, const IkePolicy& ike, const Peer& peer) {
        std::vector<std::string_view> missing;
        if (!config_.pki.local_cert) missing.push_back("local-cert");
        if (!config_.pki.local_key) missing.push_back("local-key");
        if (config_.pki.ca_certs.empty()) missing.push_back("ca-cert");
        if (missing.empty()) return;
        error(peer.where, fmt::format("peer {}: ike-policy {} uses rsa-sig authentication but ipsec pki has no {}",
                                      name, ike.id, fmt::join(missing, ", ")));
    }

    template <typename Policy>
    const Policy* find_policy(const std::map<int, Policy>& policies, int id, const Peer& peer, std::string_view kind) {
        const auto found = policies.find(id);
        if (found != policies.end()) return &found->second;
        error(peer.where, fmt::format("peer {}: {} {} is not defined", peer.name(), kind, id));
        return nullptr;
    }

    // ---- manual SAs ----

    void check_manual_sa(size_t index) {
        const ManualSa& sa = config_.manual_sas[index];
        const std::string subject = fmt::format("manual-sa {}", sa.name);
        if (const auto first = manual_sa_names_.find_or_add(sa.name, index)) {
            error(sa.where, fmt::format("{} is already defined at {}", subject,
                                        config_.manual_sas[*first].where.file_and_line()));
        }
        check_manual_sa_addresses(sa, subject);
        if (sa.local_nets.empty()) error(sa.where, fmt::format("{}: no local-net given", subject));
        if (sa.remote_nets.empty()) error(sa.where, fmt::format("{}: no remote-net given", subject));
        check_networks(sa.where, sa.local_nets, fmt::format("{} local-net", subject));
        check_networks(sa.where, sa.remote_nets, fmt::format("{} remote-net", subject));
        check_manual_sa_algorithms(sa, subject);
        check_manual_sa_unique(sa, index, subject);
        check_tunnel_not_translated(sa.where, subject, sa.local_nets, sa.remote_nets);
    }

    void check_manual_sa_addresses(const ManualSa& sa, const std::string& subject) {
        if (!sa.local_ip) {
            error(sa.where, fmt::format("{}: no local ip given", subject));
        } else if (!is_our_address(*sa.local_ip)) {
            error(sa.where, fmt::format("{}: local ip {} is not an address of any interface", subject,
                                        sa.local_ip->to_string()));
        }
        if (!sa.peer) error(sa.where, fmt::format("{}: no peer given", subject));
    }

    void check_manual_sa_algorithms(const ManualSa& sa, const std::string& subject) {
        if (!sa.encryption) {
            error(sa.where, fmt::format("{}: no 'esp ENC [HASH]' given", subject));
        } else if (const auto problem = esp_transform_problem(*sa.encryption, sa.hash)) {
            error(sa.where, fmt::format("{}: {}", subject, *problem));
        }
        const bool algorithms_known = sa.encryption && !esp_transform_problem(*sa.encryption, sa.hash);
        for (const auto& [direction, keys] : {std::pair{"inbound", &sa.inbound}, std::pair{"outbound", &sa.outbound}}) {
            if (!*keys) {
                error(sa.where, fmt::format("{}: no '{} spi SPI enc-key KEY' given", subject, direction));
            } else if (algorithms_known) {
                check_manual_sa_keys(**keys, *sa.encryption, sa.hash, fmt::format("{}: {}", subject, direction));
            }
        }
    }

    // Key lengths as `ip xfrm state` takes them (model.hpp, esp_key_length).
    void check_manual_sa_keys(const ManualSaKeys& keys, Encryption encryption, std::optional<Hash> hash,
                              const std::string& subject) {
        const size_t enc_length = esp_key_length(encryption);
        if (keys.enc_key.size() != enc_length) {
            const std::string salt = is_aead(encryption)
                                         ? fmt::format(" ({}-byte key and 4-byte salt)", enc_length - 4)
                                         : "";
            error(keys.where, fmt::format("{} enc-key is {} bytes, but {} takes {}{}", subject, keys.enc_key.size(),
                                          to_string(encryption), enc_length, salt));
        }
        if (!hash) {
            if (!keys.auth_key.empty()) {
                error(keys.where, fmt::format("{} auth-key given, but {} takes none (GCM authenticates the packets "
                                              "itself)",
                                              subject, to_string(encryption)));
            }
            return;
        }
        const size_t auth_length = esp_key_length(*hash);
        if (keys.auth_key.empty()) {
            error(keys.where, fmt::format("{} has no auth-key, but {} needs one of {} bytes", subject,
                                          to_string(*hash), auth_length));
        } else if (keys.auth_key.size() != auth_length) {
            error(keys.where, fmt::format("{} auth-key is {} bytes, but {} takes {}", subject, keys.auth_key.size(),
                                          to_string(*hash), auth_length));
        }
    }

    // Inbound ESP finds its SA by SPI alone (DESIGN.md, data path step 3), and the
    // outbound policy lookup by local-net x remote-net: both must be unambiguous. A
    // repeat is reported once, against the manual SA that has it first.
    void check_manual_sa_unique(const ManualSa& sa, size_t index, const std::string& subject) {
        if (sa.inbound) {
            if (const auto first = inbound_spis_.find_or_add(sa.inbound->spi, index)) {
                const ManualSa& other = config_.manual_sas[*first];
                error(sa.inbound->where, fmt::format("{}: inbound SPI 0x{:x} is already used by manual-sa {} at {}",
                                                     subject, sa.inbound->spi, other.name,
                                                     other.inbound->where.file_and_line()));
            }
        }
        for (const Selector& selector : selectors_of(sa)) {
            const auto first = selectors_.find_or_add(selector, index);
            if (!first) continue;
            const ManualSa& other = config_.manual_sas[*first];
            error(sa.where, fmt::format("{}: traffic {} -> {} is already carried by manual-sa {} at {}", subject,
                                        selector.local.to_string(), selector.remote.to_string(), other.name,
                                        other.where.file_and_line()));
        }
    }

    bool is_our_address(Ipv4Address address) const {
        return std::ranges::any_of(config_.interfaces, [&](const Interface& interface) {
            return std::ranges::any_of(interface.addresses, [&](const Ipv4Prefix& p) { return p.address == address; });
        });
    }

    // ---- tunnels and NAT ----

    // The outbound chain runs before the IPsec policy lookup (DESIGN.md, data path
    // step 4): tunnel traffic that meets a translating rule first leaves translated
    // and no longer matches the tunnel's selectors. `subject`: "peer A", "manual-sa NAME".
    void check_tunnel_not_translated(const SourceLocation& where, const std::string& subject,
                                     const std::vector<Ipv4Prefix>& local_nets,
                                     const std::vector<Ipv4Prefix>& remote_nets) {
        for (const auto& local : local_nets) {
            // NAT into a tunnel: its local network holds a translate pool, so its traffic
            // leaves the chain already translated (the chain is not run twice).
            if (holds_translate_pool(local)) continue;
            for (const auto& remote : remote_nets) {
                for (const SnatRule* rule : translating_rules_reached(local, remote)) {
                    const std::string only =
                        rule->protocol ? fmt::format(" ({} only)", to_string(*rule->protocol)) : std::string{};
                    warning(where, fmt::format("{}: traffic {} -> {} is caught by {} rule {}{} with no exempt rule "
                                               "before it",
                                               subject, local.to_string(), remote.to_string(),
                                               to_string(rule->action), rule->rule, only));
                }
            }
        }
    }

    bool holds_translate_pool(const Ipv4Prefix& net) const {
        return std::ranges::any_of(snat_chain_, [&](const SnatRule* rule) {
            return rule->action == SnatAction::Translate && rule->xsrc && net.contains(rule->xsrc->first) &&
                   net.contains(rule->xsrc->last);
        });
    }

    // Per interface, in rule order, the translating rules that take some of
    // local -> remote before an exempt rule has taken it all. An exempt rule limited
    // to one protocol exempts that protocol only; a translating rule limited to one
    // protocol takes that part of the traffic and leaves the rest to later rules.
    std::vector<const SnatRule*> translating_rules_reached(const Ipv4Prefix& local, const Ipv4Prefix& remote) const {
        std::vector<const SnatRule*> reached;
        std::set<std::string> decided;                                  // interfaces whose traffic is all taken
        std::set<std::pair<std::string, IpProtocol>> exempted;          // (interface, protocol) taken by exempt
        for (const SnatRule* rule : snat_chain_) {
            if (decided.contains(rule->interface) || !covers(rule->src, local) || !covers(rule->dst, remote)) continue;
            if (rule->protocol && exempted.contains({rule->interface, *rule->protocol})) continue;
            if (rule->action == SnatAction::Exempt) {
                if (rule->protocol) exempted.insert({rule->interface, *rule->protocol});
            } else {
                reached.push_back(rule);
            }
            if (!rule->protocol) decided.insert(rule->interface);
        }
        return reached;
    }

    // ---- firewall-snat ----

    void check_snat_rule(size_t index) {
        const SnatRule& rule = config_.snat_rules[index];
        if (const auto first = snat_rule_numbers_.find_or_add(rule.rule, index)) {
            error(rule.where, fmt::format("firewall-snat rule {} is already defined at {}", rule.rule,
                                          config_.snat_rules[*first].where.file_and_line()));
        }
        if (!config_.find_interface(rule.interface)) {
            error(rule.where, fmt::format("firewall-snat {}: interface {} is not defined", rule.rule, rule.interface));
        }
        check_networks(rule.where, rule.src, fmt::format("firewall-snat {} src", rule.rule));
        check_networks(rule.where, rule.dst, fmt::format("firewall-snat {} dst", rule.rule));
        if (rule.action == SnatAction::Translate && !rule.xsrc) {
            error(rule.where, fmt::format("firewall-snat {}: translate needs 'xsrc ADDR[-ADDR]' (the addresses to "
                                          "translate sources to)",
                                          rule.rule));
        }
        if (rule.action != SnatAction::Translate && rule.xsrc) {
            error(rule.where, fmt::format("firewall-snat {}: xsrc is only for translate rules ({} translates to {})",
                                          rule.rule, to_string(rule.action),
                                          rule.action == SnatAction::Exempt ? "nothing" : "the interface address"));
        }
        if (rule.action == SnatAction::Overload) {
            const Interface* iface = config_.find_interface(rule.interface);
            if (iface != nullptr && iface->addresses.empty())
                error(rule.where, fmt::format("firewall-snat {}: overload translates to {}'s address, and it has none",
                                              rule.rule, rule.interface));
        }
        if (rule.xsrc && rule.xsrc->size() > kMaxTranslatePool) {
            error(rule.where, fmt::format("firewall-snat {}: xsrc {} holds {} addresses (at most {})", rule.rule,
                                          rule.xsrc->to_string(), rule.xsrc->size(), kMaxTranslatePool));
        }
    }

    // A pool address is answered for in ARP and its packets belong to NAT: it must not
    // be one of ours, nor in another pool; and the data plane tracks ports on at most
    // kMaxTranslatePool pool addresses in all.
    void check_translate_pools() {
        uint64_t total = 0, largest = 0;
        std::vector<const SnatRule*> seen;
        for (const SnatRule& rule : config_.snat_rules) {
            if (!rule.xsrc) continue;
            const Ipv4Range& pool = *rule.xsrc;
            total += pool.size();
            largest = std::max(largest, pool.size());
            for (const Interface& iface : config_.interfaces)
                for (const Ipv4Prefix& a : iface.addresses)
                    if (a.address >= pool.first && a.address <= pool.last)
                        error(rule.where, fmt::format("firewall-snat {}: xsrc {} includes {}, an address of interface {}",
                                                      rule.rule, pool.to_string(), a.address.to_string(), iface.name));
            // Every pool holds an address, so past kMaxTranslatePool pools the total is over
            // the limit (reported below): comparing more pairs would only cost quadratic time.
            if (seen.size() <= kMaxTranslatePool) report_overlaps(rule, seen);
            seen.push_back(&rule);
        }
        if (total > kMaxTranslatePool && largest <= kMaxTranslatePool)  // else one pool is reported already
            error(seen.back()->where, fmt::format("firewall-snat: the xsrc pools hold {} addresses in all (at most {})",
                                                  total, kMaxTranslatePool));
    }

    void report_overlaps(const SnatRule& rule, const std::vector<const SnatRule*>& earlier) {
        const Ipv4Range& pool = *rule.xsrc;
        for (const SnatRule* other : earlier)
            if (pool.first <= other->xsrc->last && other->xsrc->first <= pool.last && pool != *other->xsrc)
                error(rule.where, fmt::format("firewall-snat {}: xsrc {} overlaps rule {}'s xsrc {}", rule.rule,
                                              pool.to_string(), other->rule, other->xsrc->to_string()));
    }

    // ---- helpers ----

    void check_networks(const SourceLocation& where, const std::vector<Ipv4Prefix>& networks,
                        const std::string& context) {
        for (const auto& network : networks) {
            if (!network.is_network()) error(where, host_bits_message(context, network));
        }
    }

    void error(const SourceLocation& where, std::string message) {
        diagnostics_.push_back(Diagnostic{Severity::Error, where, std::move(message)});
    }

    void warning(const SourceLocation& where, std::string message) {
        diagnostics_.push_back(Diagnostic{Severity::Warning, where, std::move(message)});
    }

    const Config& config_;
    const std::vector<const SnatRule*> snat_chain_;
    // Where each name, address or number was first seen, for the duplicate checks.
    FirstOccurrence<std::string> interface_names_;
    FirstOccurrence<std::string> dpdk_devices_;
    FirstOccurrence<uint32_t> peer_addresses_;
    FirstOccurrence<std::string> any_peer_ids_;  // an `any` peer is known by its remote-id
    FirstOccurrence<std::string> manual_sa_names_;
    FirstOccurrence<uint32_t> inbound_spis_;
    FirstOccurrence<Selector, size_t, SelectorHash> selectors_;
    FirstOccurrence<int> snat_rule_numbers_;
    Diagnostics diagnostics_;
};

}  // namespace

Diagnostics validate(const Config& config) {
    return Validator(config).run();
}

}  // namespace mbox::config

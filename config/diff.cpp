// Comparing two configurations for an applier (config/diff.hpp).
#include "config/diff.hpp"

#include <algorithm>
#include <map>

namespace mbox::config {
namespace {

template <typename Policy>
const Policy* find(const std::map<int, Policy>& policies, const std::optional<int>& id) {
    if (!id) return nullptr;
    const auto found = policies.find(*id);
    return found == policies.end() ? nullptr : &found->second;
}

template <typename Policy>
bool same_policy(const std::map<int, Policy>& before, const std::map<int, Policy>& after, const std::optional<int>& id) {
    const Policy* old_policy = find(before, id);
    const Policy* new_policy = find(after, id);
    if (!old_policy || !new_policy) return old_policy == new_policy;
    return *old_policy == *new_policy;
}

bool uses_rsa_sig(const Config& config, const Peer& peer) {
    const IkePolicy* ike = find(config.ike_policies, peer.ike_policy);
    return ike && ike->authentication == IkeAuthentication::RsaSig;
}

// The appliance is subtler: there, a peer takes a changed policy only when its
// `policy ike N esp M` line is applied again, so a running tunnel keeps the old
// proposal until then. mbox applies whole configurations, so the simple rule stands:
// a peer whose referenced policy changed is a changed peer (it is renegotiated).
bool peer_changed(const Config& before, const Peer& old_peer, const Config& after, const Peer& new_peer) {
    if (!(old_peer == new_peer)) return true;
    if (!same_policy(before.ike_policies, after.ike_policies, new_peer.ike_policy)) return true;
    if (!same_policy(before.esp_policies, after.esp_policies, new_peer.esp_policy)) return true;
    const bool pki_matters = uses_rsa_sig(before, old_peer) || uses_rsa_sig(after, new_peer);
    return pki_matters && !(before.pki == after.pki);
}

// Matches the objects of two lists by key; `changed(old, new)` decides for a pair.
// With duplicate keys (an invalid configuration) the first of each is compared.
template <typename T, typename Key, typename Changed>
KeyedChanges compare_by_key(const std::vector<T>& before, const std::vector<T>& after, Key key, Changed changed) {
    std::map<std::string, const T*> old_objects;
    std::map<std::string, const T*> new_objects;
    for (const T& object : before) old_objects.emplace(key(object), &object);
    for (const T& object : after) new_objects.emplace(key(object), &object);
    KeyedChanges changes;  // std::map iterates in key order, so every list comes out sorted
    for (const auto& [name, object] : old_objects) {
        const auto found = new_objects.find(name);
        if (found == new_objects.end()) {
            changes.removed.push_back(name);
        } else if (changed(*object, *found->second)) {
            changes.changed.push_back(name);
        }
    }
    for (const auto& [name, object] : new_objects) {
        if (!old_objects.contains(name)) changes.added.push_back(name);
    }
    return changes;
}

// Routes are a set for forwarding: the longest prefix decides, not the order written.
bool same_routes(std::vector<Route> before, std::vector<Route> after) {
    const auto by_value = [](const Route& a, const Route& b) {
        return std::tie(a.prefix, a.nexthop) < std::tie(b.prefix, b.nexthop);
    };
    std::ranges::sort(before, by_value);
    std::ranges::sort(after, by_value);
    return before == after;
}

}  // namespace

ConfigDiff diff(const Config& before, const Config& after) {
    ConfigDiff result;
    // Interfaces in order: their order is the order of the DPDK ports.
    result.forwarding = before.interfaces != after.interfaces || !same_routes(before.routes, after.routes);
    result.nat = before.snat_rules != after.snat_rules || !(before.nat == after.nat);
    result.pki = !(before.pki == after.pki);
    result.ipsec_enabled = before.ipsec_enabled != after.ipsec_enabled;
    result.stopped_traffic = before.ipsec_stopped_traffic != after.ipsec_stopped_traffic;
    result.manual_sas = compare_by_key(before.manual_sas, after.manual_sas, [](const ManualSa& sa) { return sa.name; },
                                       [](const ManualSa& a, const ManualSa& b) { return !(a == b); });
    result.peers = compare_by_key(before.peers, after.peers, [](const Peer& peer) { return peer.name(); },
                                  [&](const Peer& a, const Peer& b) { return peer_changed(before, a, after, b); });
    return result;
}

}  // namespace mbox::config

// What changed between two configurations, as an applier needs to know it: which
// state to rebuild and which tunnels to tear down, bring up or renegotiate. Model
// equality ignores where things were written (SourceLocation), so moving a block or
// reformatting a file changes nothing.
#pragma once

#include <string>
#include <vector>

#include "config/model.hpp"

namespace mbox::config {

// Objects known by a key: manual SAs by name, peers by Peer::name() (the address, or
// "any remote-id ID"). Each list is sorted.
struct KeyedChanges {
    std::vector<std::string> added;
    std::vector<std::string> removed;
    std::vector<std::string> changed;

    bool operator==(const KeyedChanges&) const = default;
    bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

struct ConfigDiff {
    bool forwarding = false;       // interfaces or routes: the forwarding state must be rebuilt
    bool nat = false;              // firewall-snat rules or firewall-nat settings
    bool pki = false;              // `ipsec pki` files (by name: a file rewritten in place is not seen)
    bool ipsec_enabled = false;    // `ipsec start` / `ipsec stop` toggled
    bool stopped_traffic = false;  // `ipsec stopped-traffic drop|forward` changed
    KeyedChanges manual_sas;
    KeyedChanges peers;

    bool operator==(const ConfigDiff&) const = default;
    bool empty() const {
        return !forwarding && !nat && !pki && !ipsec_enabled && !stopped_traffic && manual_sas.empty() &&
               peers.empty();
    }
};

// A peer counts as changed when its own settings changed, when the ike-policy or
// esp-policy it names changed (or appeared or vanished), or, for a peer whose
// ike-policy uses rsa-sig (before or after), when the pki changed. Order never
// matters: peers and manual SAs are matched by key.
ConfigDiff diff(const Config& before, const Config& after);

}  // namespace mbox::config

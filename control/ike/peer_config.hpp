// From the configuration model to the engine's peers: algorithm words to transforms,
// identities, lifetimes, the local address for each peer.
#pragma once

#include <string>
#include <vector>

#include "config/model.hpp"
#include "control/ike/types.hpp"

namespace mbox::ike {

std::optional<IkeSuite> ike_suite(const config::IkePolicy& policy);
std::optional<EspSuite> esp_suite(const config::EspPolicy& policy);

// The IKEv2 peers of `config` (peers whose ike-policy says version 1 are left out and
// named in `errors`, as are peers whose policies are missing). Validation has already
// refused what it can; a model built elsewhere gets messages, not a crash.
std::vector<PeerConfig> ikev2_peers(const config::Config& config, std::vector<std::string>& errors);
// The IKEv1 peers (ike-policy `version 1`), for control/ike1's engine. Their ESP policy
// must have an IKEv1 form (not MD5-128) and the peer an address.
std::vector<PeerConfig> ikev1_peers(const config::Config& config, std::vector<std::string>& errors);

}  // namespace mbox::ike

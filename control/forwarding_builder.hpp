// Builds the snapshot the workers forward with from the configuration and the ports
// the data plane opened. Used by the control thread on every change and by the
// benchmarks, so that both forward with exactly the same tables.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "control/rib.hpp"
#include "dataplane/dataplane.hpp"

namespace mbox::control {

struct ForwardingBuild {
    std::unique_ptr<dataplane::ForwardingState> state;  // null on failure
    std::vector<RibRoute> rib;
    std::string error;
};

ForwardingBuild build_forwarding_state(const config::Config& config, const dataplane::Dataplane& dataplane);

// The networks of every manual SA and peer, which the snapshot keeps out of the clear:
// with ipsec started their traffic without an SA is an ipsec_no_sa drop; with ipsec
// stopped an ipsec_stopped drop, or nothing at all with `ipsec stopped-traffic forward`.
dataplane::TunnelPolicy build_tunnel_policy(const config::Config& config);

}  // namespace mbox::control

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

}  // namespace mbox::control

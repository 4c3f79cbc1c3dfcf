// The operational `show` commands: each turns the gateway's state into a Reply with
// text for people and JSON data for tools. Read-only: none changes anything.
#pragma once

#include <chrono>
#include <vector>

#include "config/model.hpp"
#include "control/command_protocol.hpp"
#include "control/neighbour_manager.hpp"
#include "control/rib.hpp"
#include "dataplane/dataplane.hpp"

namespace mbox::control {

// Everything a show command may read, gathered by the control thread.
struct GatewayView {
    const config::Config& config;
    const dataplane::Dataplane& dataplane;
    const std::vector<RibRoute>& rib;
    const NeighbourManager& neighbours;
    dataplane::CounterTotals counters;  // all workers, since the last `clear dataplane counters`
    std::vector<dataplane::CounterTotals> worker_counters;  // the same, per worker
    Clock::time_point now;
};

Reply show_interfaces(const GatewayView& view);
Reply show_ip_route(const GatewayView& view);
Reply show_arp(const GatewayView& view);
Reply show_dataplane_counters(const GatewayView& view);
Reply show_running_config(const GatewayView& view);
Reply show_ipsec_sa(const GatewayView& view);
Reply show_version();
Reply show_firewall_snat(const GatewayView& view, uint64_t live_sessions);
// `sessions`: what the workers copied (at most the display limit); `live`: how many there are.
Reply show_nat_sessions(const GatewayView& view, const std::vector<dataplane::Dataplane::NatSessionView>& sessions,
                        uint64_t live);

}  // namespace mbox::control

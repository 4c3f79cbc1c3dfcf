// `show ipsec status`, `show ipsec peer [ADDR]` and `show ipsec log [ADDR]`: the IKE
// engine's view (peers, IKE and CHILD SAs with their SPIs, algorithms, lifetimes and
// counters, the events that explain a tunnel that is down) as text in the appliance's
// layout and as JSON. Keys never appear: the engine's status holds none.
#pragma once

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "control/command_protocol.hpp"
#include "control/ike/engine.hpp"
#include "control/ike1/engine.hpp"

namespace mbox::control {

struct IpsecView {
    bool running = false;
    std::chrono::seconds uptime{0};        // of ipsec (since `ipsec start`)
    std::string local_addresses;           // "198.51.100.1"
    std::vector<ike::PeerStatus> peers;
    const ike::EngineCounters* counters = nullptr;
    const ike1::EngineCounters* counters_v1 = nullptr;
};

Reply show_ipsec_status(const IpsecView& view);
// `peer`: a peer's name (its address, or "any ID"); empty: every peer. Unknown: an error.
Reply show_ipsec_peer(const IpsecView& view, const std::string& peer);
Reply show_ipsec_log(const std::deque<ike::LogEntry>& log, const std::string& peer);

}  // namespace mbox::control

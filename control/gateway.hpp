// The control thread: owns the configuration, the data plane handle, ARP and the
// command server, and runs them in one loop on the EAL main lcore. All mutable state
// lives here; workers get immutable snapshots and commands through their rings.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "config/model.hpp"
#include "control/command_server.hpp"
#include "control/ike/engine.hpp"
#include "control/ike1/engine.hpp"
#include "control/ike_dataplane_io.hpp"
#include "control/neighbour_manager.hpp"
#include "control/rib.hpp"
#include "control/sa_manager.hpp"
#include "dataplane/dataplane.hpp"

namespace mbox::control {

class Gateway final : private NeighbourOutput {
public:
    Gateway(config::Config config, std::unique_ptr<dataplane::Dataplane> dataplane,
            std::unique_ptr<CommandServer> server);
    ~Gateway() override;

    // Publishes the forwarding state, announces our addresses, and serves until `stop`.
    // Returns false when the forwarding state could not be built.
    bool run(const std::atomic<bool>& stop);
    // SIGHUP: when `flag` is set the loop clears it and applies `path` again.
    void reload_on(std::atomic<bool>* flag, std::string path) {
        reload_ = flag;
        config_path_ = std::move(path);
    }

    Reply handle(const CommandMatch& match, const Request& request);

private:
    void transmit(uint16_t port, std::span<const uint8_t> frame) override;
    void install(uint32_t ip, const MacAddress& mac, uint16_t port) override;
    void remove(uint32_t ip) override;

    bool publish_forwarding_state();
    void configure_ike();
    // Both engines: IKEv2 and IKEv1 (`version 1` ike-policies).
    void start_ike();
    void stop_ike();
    void on_ike(const dataplane::IkeDatagram& d);
    std::deque<ike::LogEntry> merged_ike_log() const;
    Reply ipsec_command(const std::string& key, const std::vector<std::string>& args);
public:
    // Applies the configuration in `path` (`mbox configure FILE`, SIGHUP): refused whole
    // when invalid or when it changes interfaces or NAT table settings (a restart's
    // job); otherwise routes and SNAT rules are republished, changed manual SAs
    // reinstalled, and only changed peers renegotiated.
    Reply configure(const std::string& path);

private:
    std::vector<NeighbourInterface> neighbour_interfaces() const;
    std::map<std::string, std::vector<config::Ipv4Range>> translate_pools() const;

    config::Config config_;
    std::unique_ptr<dataplane::Dataplane> dataplane_;
    std::unique_ptr<CommandServer> server_;
    std::vector<RibRoute> rib_;
    std::unique_ptr<NeighbourManager> neighbours_;
    std::unique_ptr<SaManager> sas_;  // before dataplane_ goes: its destructor removes SAs
    std::unique_ptr<DataplaneIkeIo> ike_io_;
    std::unique_ptr<ike::IkeEngine> ike_;  // before sas_ goes: it removes its CHILD SAs through it
    std::unique_ptr<ike1::Engine> ike1_;   // the same, for `version 1` peers
    Clock::time_point ipsec_started_{};
    std::atomic<bool>* reload_ = nullptr;
    std::string config_path_;
    std::vector<dataplane::CounterTotals> counter_base_;  // per worker, taken by `clear dataplane counters`
};

}  // namespace mbox::control

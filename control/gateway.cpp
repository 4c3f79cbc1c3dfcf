#include "control/gateway.hpp"

#include <algorithm>
#include <cstring>

#include "control/forwarding_builder.hpp"
#include "config/diff.hpp"
#include "config/load.hpp"
#include "config/printable_text.hpp"
#include "control/ike/peer_config.hpp"
#include "control/log.hpp"
#include "control/show_commands.hpp"
#include "control/show_ipsec.hpp"

namespace mbox::control {

namespace {

constexpr std::chrono::milliseconds kTickInterval{100};
// `show nat sessions` lists at most this many mappings (and says how many there are).
constexpr size_t kNatSessionsShown = 10000;

// Without an eventfd (ControlWakeup could not make one) the loop cannot be woken by a
// punt: it looks at the punt rings this often instead.
constexpr std::chrono::milliseconds kUnwakeableSlice{1};

}  // namespace

Gateway::Gateway(config::Config config, std::unique_ptr<dataplane::Dataplane> dataplane,
                 std::unique_ptr<CommandServer> server)
    : config_(std::move(config)), dataplane_(std::move(dataplane)), server_(std::move(server)) {
    counter_base_.resize(dataplane_->worker_count());
    NeighbourOutput& output = *this;  // private base: convert here, where it is accessible
    neighbours_ = std::make_unique<NeighbourManager>(neighbour_interfaces(), output);
    sas_ = std::make_unique<SaManager>(*dataplane_);
    ike_io_ = std::make_unique<DataplaneIkeIo>(*dataplane_);
    ike_ = std::make_unique<ike::IkeEngine>(*ike_io_, *sas_);
    ike1_ = std::make_unique<ike1::Engine>(*ike_io_, *sas_);
    ike_->set_log_sink([](const ike::LogEntry& e) {
        if (e.peer.empty()) log_info("IKE: {}", e.text);
        else log_info("IKE {}: {}", e.peer, e.text);
    });
    ike1_->set_log_sink([](const ike::LogEntry& e) {
        if (e.peer.empty()) log_info("IKEv1: {}", e.text);
        else log_info("IKEv1 {}: {}", e.peer, e.text);
    });
    configure_ike();
}

Gateway::~Gateway() {
    // DELETE to every peer, CHILD SAs removed through the SA manager while it exists.
    if (ike_) ike_->stop();
    if (ike1_) ike1_->stop();
    ike_.reset();
    ike1_.reset();
}

void Gateway::start_ike() {
    ike_->start();
    ike1_->start();
}

void Gateway::stop_ike() {
    ike_->stop();
    ike1_->stop();
}

// IKE datagrams by the major version in their header (octet 17: IKEv2 0x20, ISAKMP
// 0x10). Anything else, too short ones included, goes to the IKEv2 engine, which
// counts it and answers INVALID_MAJOR_VERSION where RFC 7296 §1.5 says to.
void Gateway::on_ike(const dataplane::IkeDatagram& d) {
    const ike::Endpoint local{d.destination, d.destination_port}, remote{d.source, d.source_port};
    constexpr size_t kVersionOctet = 17;
    if (d.message.size() > kVersionOctet && (d.message[kVersionOctet] >> 4) == 1)
        ike1_->on_datagram(local, remote, d.message);
    else
        ike_->on_datagram(local, remote, d.message);
}

void Gateway::configure_ike() {
    std::vector<std::string> errors;
    auto peers = ike::ikev2_peers(config_, errors);
    auto v1_peers = ike::ikev1_peers(config_, errors);
    for (const auto& e : errors) log_warning("IKE: {}", e);
    ike_->configure(std::move(peers));
    ike1_->configure(std::move(v1_peers));
}

// Translate pools by interface: the next hop must be able to reach them, so the
// gateway answers ARP for their addresses there.
std::map<std::string, std::vector<config::Ipv4Range>> Gateway::translate_pools() const {
    std::map<std::string, std::vector<config::Ipv4Range>> pools;
    for (const auto& rule : config_.snat_rules)
        if (rule.xsrc) pools[rule.interface].push_back(*rule.xsrc);
    return pools;
}

std::vector<NeighbourInterface> Gateway::neighbour_interfaces() const {
    const auto pools = translate_pools();
    std::vector<NeighbourInterface> out;
    for (const auto& port : dataplane_->ports()) {
        const config::Interface* iface = config_.find_interface(port.interface);
        if (iface == nullptr) continue;
        NeighbourInterface n;
        n.name = port.interface;
        n.port = port.id;
        std::memcpy(n.mac.data(), port.mac, n.mac.size());
        n.addresses = iface->addresses;
        if (const auto it = pools.find(port.interface); it != pools.end()) n.proxied = it->second;
        out.push_back(std::move(n));
    }
    return out;
}

bool Gateway::publish_forwarding_state() {
    auto built = build_forwarding_state(config_, *dataplane_);
    if (!built.state) {
        log_error("cannot build the forwarding table: {}", built.error);
        return false;
    }
    rib_ = std::move(built.rib);
    dataplane_->publish(std::move(built.state));
    return true;
}

bool Gateway::run(const std::atomic<bool>& stop) {
    // SAs first: workers receive nothing until the first forwarding state arrives, and
    // commands are applied in order, so no packet for a tunnel is ever forwarded in the
    // clear while its SA is still on its way.
    if (config_.ipsec_enabled) {
        for (const auto& error : sas_->install_manual(config_)) log_error("{}", error);
    } else if (!config_.manual_sas.empty() || !config_.peers.empty()) {
        log_warning("ipsec is stopped: {} manual SA(s) not installed, {} peer(s) not started ('ipsec start' "
                    "starts them); their traffic is {}",
                    config_.manual_sas.size(), config_.peers.size(),
                    config_.ipsec_stopped_traffic == config::StoppedTraffic::Forward
                        ? "forwarded in the clear (ipsec stopped-traffic forward)"
                        : "dropped");
    }
    if (!publish_forwarding_state()) return false;
    neighbours_->announce();
    if (config_.ipsec_enabled) {
        ipsec_started_ = Clock::now();
        start_ike();
    }
    log_info("forwarding on {} interface(s) with {} worker(s); {} route(s)", dataplane_->ports().size(),
             dataplane_->worker_count(), rib_.size());

    const dataplane::Dataplane::PuntHandler punts{
        [this](uint16_t port, std::span<const uint8_t> frame) { neighbours_->on_frame(port, frame, Clock::now()); },
        [this](uint16_t port, uint32_t ip) { neighbours_->on_resolve(port, ip, Clock::now()); },
        [this](const dataplane::IkeDatagram& d) { on_ike(d); }};
    const auto handler = [this](const CommandMatch& m, const Request& r) { return handle(m, r); };
    auto next_tick = Clock::now();
    dataplane::ControlWakeup& wakeup = dataplane_->control_wakeup();

    while (!stop.load(std::memory_order_relaxed)) {
        if (dataplane_->poll_punts(punts) > 0) {
            server_->serve(std::chrono::milliseconds(0), handler);
        } else {
            // Nothing punted: sleep until the next tick, a command, or a worker's punt
            // (the rings are looked at once more after the sleep is announced).
            wakeup.begin_wait();
            const auto until_tick =
                std::chrono::ceil<std::chrono::milliseconds>(std::max(next_tick - Clock::now(), Clock::duration::zero()));
            const auto wait = dataplane_->punts_pending() ? std::chrono::milliseconds(0)
                              : wakeup.fd() < 0          ? std::min(until_tick, kUnwakeableSlice)
                                                         : until_tick;
            server_->serve(wait, handler, wakeup.fd());
            wakeup.end_wait();
        }
        if (const auto now = Clock::now(); now >= next_tick) {
            neighbours_->tick(now);
            ike_->tick();
            ike1_->tick();
            next_tick = now + kTickInterval;
            if (reload_ != nullptr && reload_->exchange(false)) {
                const Reply r = configure(config_path_);
                if (!r.ok) log_error("reload: {}", r.error);
            }
        }
    }
    log_info("stopping");
    return true;
}

Reply Gateway::handle(const CommandMatch& match, const Request&) {
    const std::string key = command_key(*match.spec);
    static constexpr std::string_view kIkeCommands[] = {"show ipsec status", "show ipsec peer", "show ipsec log",
                                                         "clear ipsec peer",  "ipsec start",     "ipsec stop"};
    if (std::find(std::begin(kIkeCommands), std::end(kIkeCommands), key) != std::end(kIkeCommands))
        return ipsec_command(key, match.args);
    if (key == "clear dataplane counters") {
        for (unsigned w = 0; w < dataplane_->worker_count(); ++w) counter_base_[w] = dataplane_->counters(w);
        Reply r;
        r.text = "dataplane counters cleared\n";
        return r;
    }
    if (key == "show version") return show_version();
    if (key == "configure") return configure(match.args.front());
    if (key == "clear nat sessions") {
        dataplane_->clear_nat_sessions();
        Reply r;
        r.text = "NAT sessions cleared\n";
        return r;
    }
    std::vector<dataplane::CounterTotals> per_worker;
    dataplane::CounterTotals total;
    for (unsigned w = 0; w < dataplane_->worker_count(); ++w) {
        per_worker.push_back(dataplane_->counters(w) - counter_base_[w]);
        total += per_worker.back();
    }
    const GatewayView view{config_, *dataplane_, rib_, *neighbours_, total, std::move(per_worker), Clock::now()};
    if (key == "show interfaces") return show_interfaces(view);
    if (key == "show ip route") return show_ip_route(view);
    if (key == "show arp") return show_arp(view);
    if (key == "show dataplane counters") return show_dataplane_counters(view);
    if (key == "show running-config") return show_running_config(view);
    if (key == "show ipsec sa") return show_ipsec_sa(view);
    if (key == "show firewall snat") {
        uint64_t live = 0;
        dataplane_->nat_sessions(0, live);
        return show_firewall_snat(view, live);
    }
    if (key == "show nat sessions") {
        uint64_t live = 0;
        const auto sessions = dataplane_->nat_sessions(kNatSessionsShown, live);
        return show_nat_sessions(view, sessions, live);
    }
    return Reply::failure("command '" + key + "' is not implemented by this mboxd");
}

Reply Gateway::ipsec_command(const std::string& key, const std::vector<std::string>& args) {
    const std::string peer = args.empty() ? std::string{} : args.front();
    if (key == "ipsec start") {
        if (ike_->running()) return Reply{true, "ipsec is already running\n", nullptr, {}};
        for (const auto& error : sas_->install_manual(config_)) log_error("{}", error);
        config_.ipsec_enabled = true;
        publish_forwarding_state();  // the tunnels' traffic that no SA carries yet: ipsec_no_sa
        ipsec_started_ = Clock::now();
        start_ike();
        return Reply{true, "ipsec started\n", nullptr, {}};
    }
    if (key == "ipsec stop") {
        // DELETE to every peer, then every SA (negotiated and manual) removed.
        stop_ike();
        sas_->remove_manual();
        config_.ipsec_enabled = false;
        publish_forwarding_state();  // ipsec_stopped drops, or the clear with `ipsec stopped-traffic forward`
        return Reply{true, "ipsec stopped\n", nullptr, {}};
    }
    if (key == "clear ipsec peer") {
        if (!ike_->restart_peer(peer) && !ike1_->restart_peer(peer))
            return Reply::failure("no ipsec peer " + config::printable_text(peer));
        return Reply{true, "peer " + peer + " restarted\n", nullptr, {}};
    }
    if (key == "show ipsec log") return show_ipsec_log(merged_ike_log(), peer);
    IpsecView view;
    view.running = ike_->running();
    view.uptime = view.running ? std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - ipsec_started_)
                               : std::chrono::seconds(0);
    for (const auto* peers : {&ike_->peers(), &ike1_->peers()}) {
        for (const auto& p : *peers) {
            const std::string address = Ipv4Address{p.local_address}.to_string();
            if (view.local_addresses.find(address) == std::string::npos)
                view.local_addresses += (view.local_addresses.empty() ? "" : ", ") + address;
        }
    }
    view.peers = ike_->status();
    for (auto& p : ike1_->status()) view.peers.push_back(std::move(p));
    view.counters = &ike_->counters();
    view.counters_v1 = &ike1_->counters();
    if (key == "show ipsec status") return show_ipsec_status(view);
    if (key == "show ipsec peer") return show_ipsec_peer(view, peer);
    return Reply::failure("command '" + key + "' is not implemented by this mboxd");
}

Reply Gateway::configure(const std::string& path) {
    const auto loaded = config::load_file(path);
    const std::string shown_path = config::printable_text(path);  // as typed by the operator
    std::string problems;
    for (const auto& d : loaded.diagnostics) problems += d.to_string() + "\n";
    if (config::has_errors(loaded.diagnostics))
        return Reply::failure(problems + shown_path + ": configuration is NOT valid; nothing changed");
    const config::Config& next = loaded.config;
    const config::ConfigDiff changes = config::diff(config_, next);
    if (!(next.interfaces == config_.interfaces) || !(next.nat == config_.nat))
        return Reply::failure(shown_path + ": interfaces or firewall-nat settings changed: restart mboxd to apply them; "
                                     "nothing changed");
    Reply r;
    r.text = problems;
    const bool manual_changed = !changes.manual_sas.empty() || changes.ipsec_enabled;
    config_ = next;
    if (manual_changed) {
        sas_->remove_manual();
        if (config_.ipsec_enabled)
            for (const auto& error : sas_->install_manual(config_)) r.text += error + "\n";
    }
    // The snapshot also holds the tunnels' networks and what their traffic without an SA becomes.
    const bool tunnels_changed =
        !changes.manual_sas.empty() || !changes.peers.empty() || changes.ipsec_enabled || changes.stopped_traffic;
    if (changes.forwarding || changes.nat || tunnels_changed) {
        if (!publish_forwarding_state()) return Reply::failure("cannot build the forwarding table (see the log)");
    }
    if (changes.nat) neighbours_->set_proxied(translate_pools());
    configure_ike();  // keeps the SAs of every peer whose settings did not change
    if (changes.ipsec_enabled) {
        if (config_.ipsec_enabled) {
            ipsec_started_ = Clock::now();
            start_ike();
        } else {
            stop_ike();
        }
    }
    r.text += fmt::format("{}: applied ({} peer(s) added, {} removed, {} changed; {} manual SA(s) changed{}{})\n",
                          path, changes.peers.added.size(), changes.peers.removed.size(),
                          changes.peers.changed.size(),
                          changes.manual_sas.added.size() + changes.manual_sas.removed.size() +
                              changes.manual_sas.changed.size(),
                          changes.forwarding ? "; routes rebuilt" : "",
                          changes.ipsec_enabled ? (config_.ipsec_enabled ? "; ipsec started" : "; ipsec stopped") : "");
    log_info("{}", r.text.substr(0, r.text.size() - 1));
    return r;
}

// Both engines' logs in time order, for `show ipsec log`.
std::deque<ike::LogEntry> Gateway::merged_ike_log() const {
    std::deque<ike::LogEntry> merged;
    std::merge(ike_->log().begin(), ike_->log().end(), ike1_->log().begin(), ike1_->log().end(),
               std::back_inserter(merged), [](const ike::LogEntry& a, const ike::LogEntry& b) { return a.when < b.when; });
    return merged;
}

void Gateway::transmit(uint16_t port, std::span<const uint8_t> frame) {
    // Counted by the data plane (control_frames_dropped); logged now and then.
    if (!dataplane_->transmit(port, frame) && dataplane_->control_frames_dropped() % 1000 == 1)
        log_warning("no packet buffer for a control frame on port {} ({} control frames dropped so far)", port,
                    dataplane_->control_frames_dropped());
}

void Gateway::install(uint32_t ip, const MacAddress& mac, uint16_t port) {
    dataplane_->neighbour_update(ip, mac.data(), port);
}

void Gateway::remove(uint32_t ip) { dataplane_->neighbour_delete(ip); }

}  // namespace mbox::control

// mboxd: the gateway daemon. Loads and validates the configuration (nothing starts
// unless it is valid), initialises DPDK's EAL with the configured ports, starts the
// workers and runs the control thread on the main lcore until SIGINT or SIGTERM.
//
//   mboxd -c FILE [--socket PATH] [-- EAL arguments]
//   mboxd --check-config FILE
#include <rte_eal.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/load.hpp"
#include "control/gateway.hpp"
#include "control/log.hpp"

namespace {

std::atomic<bool> g_stop{false};    // set from the signal handlers
std::atomic<bool> g_reload{false};

void on_signal(int) { g_stop.store(true); }
void on_hangup(int) { g_reload.store(true); }

// Prints diagnostics; returns true when there is no error.
bool report(const mbox::config::ParseResult& result) {
    for (const auto& d : result.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return !mbox::config::has_errors(result.diagnostics);
}

int check_config(const std::string& path) {
    const auto result = mbox::config::load_file(path);
    if (!report(result)) {
        std::fprintf(stderr, "%s: configuration is NOT valid\n", path.c_str());
        return 1;
    }
    std::printf("%s: configuration is valid\n", path.c_str());
    return 0;
}

// `translates`: the configuration has an overload or translate rule (else no table).
mbox::dataplane::NatOptions nat_options(const mbox::config::NatSettings& nat, bool translates) {
    mbox::dataplane::NatOptions o;
    o.enabled = translates;
    o.sessions = nat.sessions;
    o.port_first = nat.port_first;
    o.port_last = nat.port_last;
    o.timeouts = {nat.timeouts.tcp_established, nat.timeouts.tcp_transitory, nat.timeouts.udp, nat.timeouts.icmp,
                  nat.timeouts.other};
    return o;
}

std::vector<mbox::dataplane::PortSpec> port_specs(const mbox::config::Config& config) {
    std::vector<mbox::dataplane::PortSpec> specs;
    for (const auto& iface : config.interfaces) {
        if (!iface.enabled || iface.dpdk_device.empty()) continue;
        specs.push_back({iface.name, iface.dpdk_device, iface.effective_mtu()});
    }
    return specs;
}

int run_gateway(const mbox::config::Config& config, const std::string& path, const std::string& socket,
                std::vector<std::string> eal_args) {
    using namespace mbox;
    eal_args.insert(eal_args.begin(), "mboxd");
    std::vector<char*> argv;
    for (auto& a : eal_args) argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
        control::log_error("cannot initialise DPDK (EAL arguments: see above)");
        return 1;
    }
    int rc = 1;
    {
        std::string error;
        const auto specs = port_specs(config);
        auto dataplane = dataplane::Dataplane::start(
            specs, error,
            nat_options(config.nat, std::ranges::any_of(config.snat_rules, [](const config::SnatRule& r) {
                            return r.action != config::SnatAction::Exempt;
                        })));
        auto server = dataplane ? control::CommandServer::open(socket, error) : nullptr;
        if (!dataplane || !server) {
            control::log_error("{}", error);
        } else {
            control::log_info("command socket {}", socket);
            control::Gateway gateway(config, std::move(dataplane), std::move(server));
            gateway.reload_on(&g_reload, path);
            rc = gateway.run(g_stop) ? 0 : 1;
        }
    }
    rte_eal_cleanup();
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    // Everything after "--" belongs to DPDK's EAL.
    std::vector<std::string> ours, eal;
    bool after_separator = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (!after_separator && a == "--") after_separator = true;
        else (after_separator ? eal : ours).push_back(a);
    }

    CLI::App app{"mboxd: the mbox IPsec VPN gateway daemon"};
    std::string config_path, check_path, socket = "/run/mbox/mboxd.sock";
    app.add_option("-c,--config", config_path, "configuration file (mbox language, or YAML when .yaml/.yml)");
    app.add_option("--check-config", check_path, "validate FILE, print every problem, exit non-zero if invalid");
    app.add_option("--socket", socket, "command socket path")->capture_default_str();
    app.set_version_flag("--version", "mboxd " MBOX_VERSION);
    std::reverse(ours.begin(), ours.end());
    try {
        app.parse(ours);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (!check_path.empty()) return check_config(check_path);
    if (config_path.empty()) {
        std::fprintf(stderr, "mboxd: a configuration file is required (-c FILE); see --help\n");
        return 2;
    }
    const auto loaded = mbox::config::load_file(config_path);
    if (!report(loaded)) {
        std::fprintf(stderr, "%s: configuration is NOT valid; nothing started\n", config_path.c_str());
        return 1;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGHUP, on_hangup);
    return run_gateway(loaded.config, config_path, socket, std::move(eal));
}

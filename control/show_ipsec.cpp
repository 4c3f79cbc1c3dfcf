#include "control/show_ipsec.hpp"

#include <ctime>

#include <fmt/format.h>

#include "config/printable_text.hpp"

namespace mbox::control {

namespace {

using nlohmann::json;

// An engine's drop counters by name (each engine's enum has its own name()).
template <typename Drop, size_t N>
json drops_json(const std::array<uint64_t, N>& counts) {
    json drops = json::object();
    for (size_t i = 0; i < N; ++i) drops[std::string(name(static_cast<Drop>(i)))] = counts[i];
    return drops;
}

std::string duration_text(double seconds) {
    const auto s = static_cast<long long>(seconds);
    if (s >= 86400) return fmt::format("{}d {:02}:{:02}:{:02}", s / 86400, s % 86400 / 3600, s % 3600 / 60, s % 60);
    return fmt::format("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60);
}

std::string bytes_text(uint64_t b) {
    if (b >= 1'000'000'000) return fmt::format("{:.1f} GB", b / 1e9);
    if (b >= 1'000'000) return fmt::format("{:.1f} MB", b / 1e6);
    if (b >= 1'000) return fmt::format("{:.1f} kB", b / 1e3);
    return fmt::format("{} B", b);
}

std::vector<std::string> nets(const std::vector<Ipv4Prefix>& list) {
    std::vector<std::string> out;
    for (const auto& p : list) out.push_back(p.to_string());
    if (out.empty()) out.push_back("-");
    return out;
}

json nets_json(const std::vector<Ipv4Prefix>& list) {
    json out = json::array();
    for (const auto& p : list) out.push_back(p.to_string());
    return out;
}

std::string state_word(const ike::PeerStatus& p) {
    return p.state == "up" ? "established" : p.state;
}

json usage_json(const ike::SaUsage& u) { return {{"packets", u.packets}, {"bytes", u.bytes}, {"sequence", u.seq}}; }

json child_json(const ike::ChildStatus& c) {
    return {{"inbound_spi", fmt::format("{:08x}", c.inbound_spi)},
            {"outbound_spi", fmt::format("{:08x}", c.outbound_spi)},
            {"algorithms", c.algorithms},
            {"pfs", c.pfs},
            {"local_ts", nets_json(c.local_ts)},
            {"remote_ts", nets_json(c.remote_ts)},
            {"udp_encapsulation", c.udp_encapsulated},
            {"state", c.state},
            {"age", static_cast<long long>(c.age)},
            {"rekey_in", static_cast<long long>(c.rekey_in)},
            {"expires_in", static_cast<long long>(c.expires_in)},
            {"in", usage_json(c.in)},
            {"out", usage_json(c.out)}};
}

json ike_json(const ike::IkeSaStatus& s) {
    json children = json::array();
    for (const auto& c : s.children) children.push_back(child_json(c));
    return {{"spi_i", fmt::format("{:016x}", s.spi_i)},
            {"spi_r", fmt::format("{:016x}", s.spi_r)},
            {"role", s.initiator ? "initiator" : "responder"},
            {"state", s.state},
            {"algorithms", s.suite},
            {"local", s.local.to_string()},
            {"remote", s.remote.to_string()},
            {"nat_t", s.natt},
            {"nat_local", s.nat_local},
            {"nat_remote", s.nat_remote},
            {"remote_id", s.remote_identity},
            {"age", static_cast<long long>(s.age)},
            {"rekey_in", static_cast<long long>(s.rekey_in)},
            {"expires_in", static_cast<long long>(s.expires_in)},
            {"child_sas", std::move(children)}};
}

json peer_json(const ike::PeerStatus& p) {
    json sas = json::array();
    for (const auto& s : p.ike_sas) sas.push_back(ike_json(s));
    return {{"peer", p.name},
            {"state", state_word(p)},
            {"local_nets", nets_json(p.local_nets)},
            {"remote_nets", nets_json(p.remote_nets)},
            {"tx_bytes", p.tx_bytes},
            {"rx_bytes", p.rx_bytes},
            {"uptime", static_cast<long long>(p.uptime)},
            {"ike", p.version_auth},
            {"esp", p.esp},
            {"ike_sas", std::move(sas)}};
}

}  // namespace

Reply show_ipsec_status(const IpsecView& v) {
    Reply r;
    size_t up = 0, connecting = 0;
    for (const auto& p : v.peers) {
        up += p.state == "up";
        connecting += p.state == "connecting";
    }
    r.text = fmt::format("IPsec {}, uptime {}, local address {}\nPeers: {} established, {} connecting\n\n",
                         v.running ? "running" : "stopped", duration_text(static_cast<double>(v.uptime.count())),
                         v.local_addresses.empty() ? "-" : v.local_addresses, up, connecting);
    r.text += fmt::format("{:<18} {:<12} {:<18} {:<18} {:>10} {:>10} {:>11}  {:<11} {}\n", "Peer", "State",
                          "Local net", "Remote net", "Tx", "Rx", "Uptime", "IKE(auth)", "ESP");
    json rows = json::array();
    for (const auto& p : v.peers) {
        const auto local = nets(p.local_nets), remote = nets(p.remote_nets);
        const size_t lines = std::max(local.size(), remote.size());
        for (size_t i = 0; i < lines; ++i) {
            const std::string l = i < local.size() ? local[i] : "", rn = i < remote.size() ? remote[i] : "";
            if (i == 0)
                r.text += fmt::format("{:<18} {:<12} {:<18} {:<18} {:>10} {:>10} {:>11}  {:<11} {}\n", p.name,
                                      state_word(p), l, rn, bytes_text(p.tx_bytes), bytes_text(p.rx_bytes),
                                      p.state == "up" ? duration_text(p.uptime) : "-", p.version_auth, p.esp);
            else
                r.text += fmt::format("{:<18} {:<12} {:<18} {:<18}\n", "", "", l, rn);
        }
        rows.push_back(peer_json(p));
    }
    if (v.peers.empty()) r.text += "(no ipsec peer configured)\n";
    r.data = {{"running", v.running},
              {"uptime", v.uptime.count()},
              {"local_address", v.local_addresses},
              {"established", up},
              {"connecting", connecting},
              {"peers", std::move(rows)}};
    if (v.counters != nullptr) {
        json drops = drops_json<ike::IkeDrop>(v.counters->drops);
        r.data["ike"] = {{"received", v.counters->received},
                         {"sent", v.counters->sent},
                         {"retransmitted", v.counters->retransmitted},
                         {"ike_sas_established", v.counters->ike_sas_established},
                         {"child_sas_installed", v.counters->child_sas_installed},
                         {"child_rekeys", v.counters->child_rekeys},
                         {"ike_rekeys", v.counters->ike_rekeys},
                         {"cookies_sent", v.counters->cookies_sent},
                         {"dh_keys",
                          {{"precomputed", v.counters->dh.precomputed},
                           {"taken_ready", v.counters->dh.taken_ready},
                           {"taken_fresh", v.counters->dh.taken_fresh}}},
                         {"drops", std::move(drops)}};
    }
    if (v.counters_v1 != nullptr) {
        const ike1::EngineCounters& c = *v.counters_v1;
        json drops = drops_json<ike1::Drop>(c.drops);
        r.data["ikev1"] = {{"received", c.received},
                           {"sent", c.sent},
                           {"retransmitted", c.retransmitted},
                           {"phase1_established", c.phase1_established},
                           {"child_sas_installed", c.child_sas_installed},
                           {"drops", std::move(drops)}};
    }
    return r;
}

Reply show_ipsec_peer(const IpsecView& v, const std::string& peer) {
    Reply r;
    json out = json::array();
    for (const auto& p : v.peers) {
        if (!peer.empty() && p.name != peer) continue;
        r.text += fmt::format("Peer {}: {} ({}, ESP {})\n", p.name, state_word(p), p.version_auth, p.esp);
        if (p.ike_sas.empty()) r.text += "  no IKE SA (see `show ipsec log`)\n";
        for (const auto& s : p.ike_sas) {
            r.text += fmt::format("  IKE SA {:016x}_i {:016x}_r {} as {}, {}\n", s.spi_i, s.spi_r, s.state,
                                  s.initiator ? "initiator" : "responder", s.suite);
            r.text += fmt::format("    {} <-> {}{}{}; remote id {}\n", s.local.to_string(), s.remote.to_string(),
                                  s.natt ? ", NAT-T" : "",
                                  s.natt ? fmt::format(" (NAT {}{})", s.nat_local ? "here" : "",
                                                       s.nat_remote ? (s.nat_local ? ", at peer" : "at peer") : "")
                                         : "",
                                  s.remote_identity.empty() ? "-" : s.remote_identity);
            r.text += fmt::format("    established {} ago, rekey in {}, expires in {}\n", duration_text(s.age),
                                  s.rekey_in < 0 ? std::string("- (by the peer)") : duration_text(s.rekey_in),
                                  duration_text(s.expires_in));
            for (const auto& c : s.children) {
                r.text += fmt::format("    CHILD SA {:08x}_i {:08x}_o {}: {}{}{}\n", c.inbound_spi, c.outbound_spi,
                                      c.state, c.algorithms, c.pfs.empty() ? "" : ", PFS " + c.pfs,
                                      c.udp_encapsulated ? ", UDP-encapsulated" : "");
                std::string lts, rts;
                for (const auto& n : nets(c.local_ts)) lts += (lts.empty() ? "" : ",") + n;
                for (const auto& n : nets(c.remote_ts)) rts += (rts.empty() ? "" : ",") + n;
                r.text += fmt::format("      {} === {}\n", lts, rts);
                r.text += fmt::format("      in  {} packets, {} bytes; out {} packets, {} bytes (seq {})\n",
                                      c.in.packets, c.in.bytes, c.out.packets, c.out.bytes, c.out.seq);
                r.text += fmt::format("      installed {} ago, rekey in {}, expires in {}\n", duration_text(c.age),
                                      duration_text(c.rekey_in), duration_text(c.expires_in));
            }
        }
        out.push_back(peer_json(p));
    }
    if (!peer.empty() && out.empty()) return Reply::failure("no ipsec peer " + config::printable_text(peer));
    if (out.empty()) r.text = "(no ipsec peer configured)\n";
    r.data = {{"peers", std::move(out)}};
    return r;
}

Reply show_ipsec_log(const std::deque<ike::LogEntry>& log, const std::string& peer) {
    Reply r;
    json out = json::array();
    for (const auto& e : log) {
        if (!peer.empty() && e.peer != peer) continue;
        const std::time_t t = std::chrono::system_clock::to_time_t(e.when);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
        r.text += fmt::format("{} {}{}{}\n", stamp, e.peer.empty() ? "" : e.peer, e.peer.empty() ? "" : ": ", e.text);
        out.push_back({{"time", stamp}, {"peer", e.peer}, {"text", e.text}});
    }
    if (out.empty()) r.text = "(no IKE events)\n";
    r.data = {{"events", std::move(out)}};
    return r;
}

}  // namespace mbox::control

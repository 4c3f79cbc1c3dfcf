#include "control/show_commands.hpp"

#include <fmt/format.h>

#include "config/mbox_language.hpp"
#include "crypto/esp_session.hpp"

namespace mbox::control {

namespace {

using nlohmann::json;

std::string mac_string(const uint8_t mac[6]) {
    MacAddress m;
    std::copy_n(mac, 6, m.begin());
    return to_string(m);
}

const dataplane::PortInfo* port_of(const GatewayView& v, const std::string& interface) {
    for (const auto& p : v.dataplane.ports())
        if (p.interface == interface) return &p;
    return nullptr;
}

json interface_json(const GatewayView& v, const config::Interface& iface) {
    json j{{"name", iface.name},
           {"description", iface.description},
           {"enabled", iface.enabled},
           {"dpdk_device", iface.dpdk_device},
           {"mtu", iface.effective_mtu()},
           {"addresses", json::array()}};
    for (const auto& a : iface.addresses) j["addresses"].push_back(a.to_string());
    const dataplane::PortInfo* p = port_of(v, iface.name);
    if (p == nullptr) {
        j["port"] = nullptr;
        j["link_up"] = false;
        return j;
    }
    const auto link = v.dataplane.link(p->id);
    const auto& c = v.counters.ports[p->id];
    const auto hw = v.dataplane.port_stats(p->id);
    j["port"] = p->id;
    j["driver"] = p->driver;
    j["mac"] = mac_string(p->mac);
    j["link_up"] = link.up;
    j["speed_mbps"] = link.speed_mbps;
    j["counters"] = {{"rx_packets", c.rx_packets}, {"rx_bytes", c.rx_bytes},
                     {"tx_packets", c.tx_packets}, {"tx_bytes", c.tx_bytes}};
    j["driver_counters"] = {{"rx_packets", hw.rx_packets}, {"tx_packets", hw.tx_packets},
                            {"rx_missed", hw.rx_missed},   {"rx_errors", hw.rx_errors},
                            {"tx_errors", hw.tx_errors},   {"rx_no_mbuf", hw.rx_nombuf}};
    return j;
}

std::string interface_text(const json& j) {
    std::string out = fmt::format("{} is {}, link is {}\n", j["name"].get<std::string>(),
                                  j["enabled"].get<bool>() ? "enabled" : "disabled",
                                  j["link_up"].get<bool>() ? "up" : "down");
    if (!j["description"].get<std::string>().empty())
        out += fmt::format("  Description: {}\n", j["description"].get<std::string>());
    out += fmt::format("  DPDK device {}", j["dpdk_device"].get<std::string>());
    if (!j["port"].is_null())
        out += fmt::format(" (port {}, driver {})", j["port"].get<int>(), j["driver"].get<std::string>());
    out += "\n";
    if (j.contains("mac")) out += fmt::format("  Hardware address {}, ", j["mac"].get<std::string>());
    else out += "  ";
    out += fmt::format("MTU {}\n", j["mtu"].get<int>());
    for (const auto& a : j["addresses"]) out += fmt::format("  Internet address {}\n", a.get<std::string>());
    if (j.contains("counters")) {
        const auto& c = j["counters"];
        out += fmt::format("  RX {} packets, {} bytes; TX {} packets, {} bytes\n", c["rx_packets"].get<uint64_t>(),
                           c["rx_bytes"].get<uint64_t>(), c["tx_packets"].get<uint64_t>(),
                           c["tx_bytes"].get<uint64_t>());
        const auto& d = j["driver_counters"];
        out += fmt::format("  Driver: {} missed, {} RX errors, {} TX errors, {} RX without buffer\n",
                           d["rx_missed"].get<uint64_t>(), d["rx_errors"].get<uint64_t>(),
                           d["tx_errors"].get<uint64_t>(), d["rx_no_mbuf"].get<uint64_t>());
    }
    return out;
}

std::string age_string(Clock::duration d) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

}  // namespace

Reply show_interfaces(const GatewayView& v) {
    Reply r;
    r.data = {{"interfaces", json::array()}};
    for (const auto& iface : v.config.interfaces) {
        json j = interface_json(v, iface);
        r.text += interface_text(j);
        r.data["interfaces"].push_back(std::move(j));
    }
    if (v.config.interfaces.empty()) r.text = "no interfaces configured\n";
    return r;
}

Reply show_ip_route(const GatewayView& v) {
    Reply r;
    r.data = {{"routes", json::array()}};
    r.text = "Codes: C connected, L local, S static\n\n";
    for (const auto& route : v.rib) {
        const char code = route.source == RibRoute::Source::Connected ? 'C'
                          : route.source == RibRoute::Source::Local   ? 'L'
                                                                      : 'S';
        const std::string via = route.nexthop                                    ? fmt::format("via {}, ", route.nexthop->to_string())
                                : route.source == RibRoute::Source::Local ? std::string("is local, ")
                                                                          : std::string("is directly connected, ");
        r.text += fmt::format("{}  {:<18} {}{}\n", code, route.prefix.to_string(), via, route.interface);
        json j{{"prefix", route.prefix.to_string()},
               {"source", to_string(route.source)},
               {"interface", route.interface},
               {"port", route.port}};
        j["nexthop"] = route.nexthop ? json(route.nexthop->to_string()) : json(nullptr);
        r.data["routes"].push_back(std::move(j));
    }
    return r;
}

Reply show_arp(const GatewayView& v) {
    Reply r;
    r.data = {{"entries", json::array()}};
    r.text = fmt::format("{:<16} {:<18} {:<10} {:<11} {}\n", "Address", "Hardware address", "Interface", "State", "Age");
    for (const auto& e : v.neighbours.entries()) {
        std::string iface = "?";
        for (const auto& i : v.neighbours.interfaces())
            if (i.port == e.port) iface = i.name;
        const bool known = e.state == NeighbourEntry::State::Reachable || e.state == NeighbourEntry::State::Stale;
        const std::string mac = known ? to_string(e.mac) : "(incomplete)";
        const std::string age = known ? age_string(v.now - e.confirmed) : "-";
        const std::string ip = Ipv4Address{e.ip}.to_string();
        r.text += fmt::format("{:<16} {:<18} {:<10} {:<11} {}\n", ip, mac, iface, to_string(e.state), age);
        json j{{"address", ip}, {"interface", iface}, {"state", to_string(e.state)}};
        j["mac"] = known ? json(mac) : json(nullptr);
        j["age_seconds"] = known ? json(std::chrono::duration_cast<std::chrono::seconds>(v.now - e.confirmed).count())
                                 : json(nullptr);
        r.data["entries"].push_back(std::move(j));
    }
    const auto& c = v.neighbours.counters();
    r.data["counters"] = {{"requests_received", c.requests_received}, {"replies_received", c.replies_received},
                          {"requests_sent", c.requests_sent},         {"replies_sent", c.replies_sent},
                          {"invalid", c.invalid},                     {"not_for_us", c.not_for_us},
                          {"resolve_off_link", c.resolve_off_link}};
    return r;
}

Reply show_dataplane_counters(const GatewayView& v) {
    const auto& t = v.counters;
    const size_t workers = v.worker_counters.size();
    Reply r;
    r.data = {{"workers", workers},
              {"forwarded", t.forwarded},
              {"punted", t.punted},
              {"ike_punted", t.ike_punted},
              {"originated", t.originated},
              {"handed_off", t.handed_off},
              {"icmp_generated", t.icmp_generated},
              {"fragmented", t.fragmented},
              {"fragments_created", t.fragments_created},
              {"reassembled", t.reassembled},
              {"control_frames_dropped", v.dataplane.control_frames_dropped()},
              {"drops", json::object()},
              {"per_worker", json::array()}};
    r.text = fmt::format(
        "Workers: {}\nForwarded: {}\nPunted to control: {}\nIKE punted to control: {}\nOriginated by control (IKE): {}\n"
        "Handed to another worker (SA or NAT owner): {}\nICMP generated: {}\n"
        "Fragmented after encapsulation: {} ({} fragments)\nReassembled: {}\n\n",
        workers, t.forwarded, t.punted, t.ike_punted, t.originated, t.handed_off, t.icmp_generated, t.fragmented,
        t.fragments_created, t.reassembled);
    r.text += fmt::format("{:<24} {:>12}", "Drop reason", "total");
    for (size_t w = 0; w < workers; ++w) r.text += fmt::format(" {:>12}", fmt::format("worker {}", w));
    r.text += "\n";
    uint64_t total = 0;
    for (size_t i = 0; i < dataplane::kDropReasonCount; ++i) {
        const auto& info = dataplane::kDropReasons[i];
        r.data["drops"][std::string(info.name)] = t.drops[i];
        total += t.drops[i];
        if (t.drops[i] == 0) continue;
        r.text += fmt::format("{:<24} {:>12}", info.name, t.drops[i]);
        for (const auto& wc : v.worker_counters) r.text += fmt::format(" {:>12}", wc.drops[i]);
        r.text += fmt::format("  {}\n", info.description);
    }
    if (total == 0) r.text += "(no drops)\n";
    r.data["drops_total"] = total;
    for (size_t w = 0; w < workers; ++w) {
        const auto& wc = v.worker_counters[w];
        uint64_t rx = 0, tx = 0;
        for (const auto& p : wc.ports) rx += p.rx_packets, tx += p.tx_packets;
        json drops = json::object();
        for (size_t i = 0; i < dataplane::kDropReasonCount; ++i)
            drops[std::string(dataplane::kDropReasons[i].name)] = wc.drops[i];
        r.data["per_worker"].push_back({{"worker", w},
                                        {"lcore", v.dataplane.lcore_of(static_cast<unsigned>(w))},
                                        {"rx_packets", rx},
                                        {"tx_packets", tx},
                                        {"forwarded", wc.forwarded},
                                        {"punted", wc.punted},
                                        {"handed_off", wc.handed_off},
                                        {"drops", std::move(drops)}});
    }
    return r;
}

namespace {

std::string algorithms_text(const crypto::EspAlgorithms& a) {
    std::string text(crypto::info(a.cipher).name);
    if (a.integrity != crypto::EspIntegrity::None) text += fmt::format("/{}", crypto::info(a.integrity).name);
    return text;
}

json sa_json(const dataplane::SaCommon& sa, std::string_view direction) {
    json j{{"name", sa.name},
           {"direction", direction},
           {"spi", fmt::format("0x{:08x}", sa.spi)},
           {"algorithms", algorithms_text(sa.session->algorithms())},
           {"local", Ipv4Address{sa.local_address}.to_string()},
           {"peer", Ipv4Address{sa.peer_address}.to_string()},
           {"esn", sa.esn},
           {"owner_worker", sa.owner},
           {"packets", dataplane::read_counter(sa.counters.packets)},
           {"bytes", dataplane::read_counter(sa.counters.bytes)},
           {"drops", json::object()}};
    j["udp_encap"] = sa.udp_peer_port != 0 ? json{{"local_port", sa.udp_local_port}, {"peer_port", sa.udp_peer_port}}
                                           : json(nullptr);
    for (size_t i = 0; i < dataplane::kDropReasonCount; ++i)
        if (const uint64_t n = dataplane::read_counter(sa.counters.drops[i]))
            j["drops"][std::string(dataplane::kDropReasons[i].name)] = n;
    return j;
}

std::string sa_text(const json& j, const std::string& extra) {
    std::string out = fmt::format("{} {} SPI {} {} {} -> {}{}{}\n", j["name"].get<std::string>(),
                                  j["direction"].get<std::string>(), j["spi"].get<std::string>(),
                                  j["algorithms"].get<std::string>(), j["local"].get<std::string>(),
                                  j["peer"].get<std::string>(), j["udp_encap"].is_null() ? "" : " (UDP 4500 encap)",
                                  j["esn"].get<bool>() ? " ESN" : "");
    out += fmt::format("  {} packets, {} bytes; {}; worker {}\n", j["packets"].get<uint64_t>(),
                       j["bytes"].get<uint64_t>(), extra, j["owner_worker"].get<unsigned>());
    for (const auto& [reason, count] : j["drops"].items())
        out += fmt::format("  dropped {} {}\n", count.get<uint64_t>(), reason);
    return out;
}

}  // namespace

Reply show_ipsec_sa(const GatewayView& v) {
    Reply r;
    r.data = {{"sas", json::array()}};
    for (const auto& sa : v.dataplane.inbound_sas()) {
        json j = sa_json(*sa, "inbound");
        j["replay_window"] = sa->replay.size();
        j["highest_sequence"] = sa->replay.highest();
        r.text += sa_text(j, fmt::format("replay window {}, highest sequence {}", sa->replay.size(),
                                         sa->replay.highest()));
        r.data["sas"].push_back(std::move(j));
    }
    for (const auto& sa : v.dataplane.outbound_sas()) {
        json j = sa_json(*sa, "outbound");
        j["sequence"] = dataplane::read_counter(sa->seq);
        j["df_bit"] = sa->df == dataplane::OutboundSa::Df::Set     ? "set"
                      : sa->df == dataplane::OutboundSa::Df::Clear ? "clear"
                                                                   : "copy";
        r.text += sa_text(j, fmt::format("last sequence {}", j["sequence"].get<uint64_t>()));
        r.data["sas"].push_back(std::move(j));
    }
    if (r.data["sas"].empty()) r.text = v.config.ipsec_enabled ? "no IPsec SAs\n" : "no IPsec SAs (ipsec is stopped)\n";
    return r;
}

namespace {

std::string networks_text(const std::vector<Ipv4Prefix>& networks) {
    if (networks.empty()) return "any";
    std::string out;
    for (const auto& n : networks) out += (out.empty() ? "" : ",") + n.to_string();
    return out;
}

std::string translated_to(const GatewayView& v, const config::SnatRule& rule) {
    switch (rule.action) {
    case config::SnatAction::Exempt: return "-";
    case config::SnatAction::Translate: return rule.xsrc ? rule.xsrc->to_string() : "?";
    case config::SnatAction::Overload: break;
    }
    const config::Interface* iface = v.config.find_interface(rule.interface);
    if (iface == nullptr || iface->addresses.empty()) return "(no address)";
    return iface->addresses.front().address.to_string();
}

std::string protocol_name(uint8_t protocol) {
    switch (protocol) {
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    default: return std::to_string(protocol);
    }
}

std::string tcp_state_name(nat::TcpState s) {
    switch (s) {
    case nat::TcpState::None: return "-";
    case nat::TcpState::New: return "new";
    case nat::TcpState::Established: return "established";
    case nat::TcpState::Closing: return "closing";
    }
    return "?";
}

std::string endpoint(uint32_t address, uint16_t port, bool ports) {
    const std::string a = Ipv4Address{address}.to_string();
    return ports ? fmt::format("{}:{}", a, port) : a;
}

}  // namespace

Reply show_firewall_snat(const GatewayView& v, uint64_t live_sessions) {
    Reply r;
    r.data = {{"rules", json::array()}};
    r.text = fmt::format("{:<6} {:<9} {:<10} {:<5} {:<18} {:<18} {:<27} {:>12}  {}\n", "Rule", "Action", "Interface",
                         "Proto", "Source", "Destination", "Translate to", "Hits", "Remark");
    for (size_t i = 0; i < v.config.snat_rules.size(); ++i) {
        const config::SnatRule& rule = v.config.snat_rules[i];
        const uint64_t hits = i < dataplane::kMaxSnatRules ? v.counters.snat_hits[i] : 0;
        const std::string protocol = rule.protocol ? std::string(config::to_string(*rule.protocol)) : "any";
        const std::string to = translated_to(v, rule);
        r.text += fmt::format("{:<6} {:<9} {:<10} {:<5} {:<18} {:<18} {:<27} {:>12}  {}\n", rule.rule,
                              config::to_string(rule.action), rule.interface, protocol, networks_text(rule.src),
                              networks_text(rule.dst), to, hits, rule.remark);
        r.data["rules"].push_back({{"rule", rule.rule},
                                   {"action", config::to_string(rule.action)},
                                   {"interface", rule.interface},
                                   {"protocol", protocol},
                                   {"src", networks_text(rule.src)},
                                   {"dst", networks_text(rule.dst)},
                                   {"translate_to", to},
                                   {"hits", hits},
                                   {"remark", rule.remark}});
    }
    if (v.config.snat_rules.empty()) r.text = "no firewall-snat rules\n";
    const auto& t = v.counters;
    const auto& nat = v.dataplane.nat_options();
    r.text += fmt::format("\nNAT: {} mappings (table {}), ports {}-{}; created {}, expired {}; translated {} out, "
                          "{} in\n",
                          live_sessions, nat.sessions, nat.port_first, nat.port_last, t.nat_created, t.nat_expired,
                          t.nat_translated_out, t.nat_translated_in);
    r.data["nat"] = {{"mappings", live_sessions}, {"table_size", nat.sessions},
                     {"port_first", nat.port_first},   {"port_last", nat.port_last},
                     {"created", t.nat_created},       {"expired", t.nat_expired},
                     {"translated_out", t.nat_translated_out}, {"translated_in", t.nat_translated_in}};
    return r;
}

Reply show_nat_sessions(const GatewayView&, const std::vector<dataplane::Dataplane::NatSessionView>& sessions,
                        uint64_t live) {
    Reply r;
    r.data = {{"live", live}, {"shown", sessions.size()}, {"sessions", json::array()}};
    r.text = fmt::format("{:<5} {:<21} {:<21} {:<21} {:<11} {:>8} {:>10} {:>10} {:>6}\n", "Proto", "Inside", "Outside",
                         "Remote", "TCP state", "Expires", "Pkts out", "Pkts in", "Worker");
    for (const auto& view : sessions) {
        const nat::Session& s = view.session;
        const bool ports = s.internal_port != 0 || s.external_port != 0;
        const std::string inside = endpoint(s.internal_address, s.internal_port, ports);
        const std::string outside = endpoint(s.external_address, s.external_port, ports);
        const std::string remote = endpoint(s.remote_address, s.remote_port, ports && s.protocol != 1);
        const std::string state = tcp_state_name(s.tcp);
        r.text += fmt::format("{:<5} {:<21} {:<21} {:<21} {:<11} {:>7.0f}s {:>10} {:>10} {:>6}\n",
                              protocol_name(s.protocol), inside, outside, remote, state, view.expires_in,
                              s.packets_out, s.packets_in, view.worker);
        r.data["sessions"].push_back({{"protocol", protocol_name(s.protocol)},
                                      {"inside", inside},
                                      {"outside", outside},
                                      {"remote", remote},
                                      {"tcp_state", state},
                                      {"expires_in_seconds", view.expires_in},
                                      {"age_seconds", view.age},
                                      {"packets_out", s.packets_out},
                                      {"packets_in", s.packets_in},
                                      {"bytes_out", s.bytes_out},
                                      {"bytes_in", s.bytes_in},
                                      {"rule", s.rule},
                                      {"worker", view.worker}});
    }
    r.text += sessions.size() < live ? fmt::format("{} of {} mappings shown\n", sessions.size(), live)
                                     : fmt::format("{} mappings\n", live);
    return r;
}

Reply show_running_config(const GatewayView& v) {
    Reply r;
    r.text = config::emit_mbox(v.config, config::EmitOptions{.redact_secrets = true});
    r.data = {{"config", r.text}};
    return r;
}

Reply show_version() {
    Reply r;
    r.text = "mbox " MBOX_VERSION "\n";
    r.data = {{"version", MBOX_VERSION}};
    return r;
}

}  // namespace mbox::control

#include "control/neighbour_manager.hpp"

#include <algorithm>

namespace mbox::control {

using State = NeighbourEntry::State;

std::string_view to_string(State state) {
    switch (state) {
    case State::Incomplete: return "incomplete";
    case State::Reachable: return "reachable";
    case State::Stale: return "stale";
    case State::Failed: return "failed";
    }
    return "?";
}

NeighbourManager::NeighbourManager(std::vector<NeighbourInterface> interfaces, NeighbourOutput& out,
                                   NeighbourTimers timers)
    : interfaces_(std::move(interfaces)), out_(out), timers_(timers) {}

const NeighbourInterface* NeighbourManager::interface_of(uint16_t port) const {
    for (const auto& i : interfaces_)
        if (i.port == port) return &i;
    return nullptr;
}

bool NeighbourManager::is_our_address(const NeighbourInterface& iface, uint32_t ip) const {
    return std::any_of(iface.addresses.begin(), iface.addresses.end(),
                       [&](const Ipv4Prefix& a) { return a.address.value == ip; }) ||
           std::any_of(iface.proxied.begin(), iface.proxied.end(),
                       [&](const config::Ipv4Range& r) { return ip >= r.first.value && ip <= r.last.value; });
}

// Our address on the interface whose network holds `target` (RFC 1812 source choice).
std::optional<uint32_t> NeighbourManager::source_for(const NeighbourInterface& iface, uint32_t target) const {
    for (const auto& a : iface.addresses)
        if (a.contains(Ipv4Address{target}) && a.address.value != target) return a.address.value;
    return std::nullopt;
}

void NeighbourManager::confirm(NeighbourEntry& e, const MacAddress& mac, Clock::time_point now) {
    const bool changed = !e.installed || e.mac != mac;
    e.mac = mac;
    e.state = State::Reachable;
    e.confirmed = now;
    e.probes = 0;
    if (changed) {
        out_.install(e.ip, e.mac, e.port);
        e.installed = true;
    }
}

void NeighbourManager::send_request(NeighbourEntry& e, bool unicast, Clock::time_point now) {
    const NeighbourInterface* iface = interface_of(e.port);
    if (iface == nullptr) return;
    const auto source = source_for(*iface, e.ip);
    if (!source) return;
    ArpPacket req;
    req.op = ArpPacket::Op::Request;
    req.sender_mac = iface->mac;
    req.sender_ip = *source;
    req.target_ip = e.ip;  // target_mac stays zero, as RFC 826 leaves it
    out_.transmit(e.port, build_arp(req, unicast ? e.mac : kBroadcastMac));
    e.last_sent = now;
    ++e.probes;
    ++counters_.requests_sent;
}

void NeighbourManager::send_reply(const NeighbourInterface& iface, const ArpPacket& request) {
    ArpPacket reply;
    reply.op = ArpPacket::Op::Reply;
    reply.sender_mac = iface.mac;
    reply.sender_ip = request.target_ip;
    reply.target_mac = request.sender_mac;
    reply.target_ip = request.sender_ip;
    out_.transmit(iface.port, build_arp(reply, request.sender_mac));
    ++counters_.replies_sent;
}

void NeighbourManager::on_frame(uint16_t port, std::span<const uint8_t> frame, Clock::time_point now) {
    const auto arp = parse_arp(frame);
    const NeighbourInterface* iface = interface_of(port);
    if (!arp || iface == nullptr) {
        ++counters_.invalid;
        return;
    }
    ++(arp->op == ArpPacket::Op::Request ? counters_.requests_received : counters_.replies_received);

    const bool for_us = is_our_address(*iface, arp->target_ip);
    const bool sender_on_link = source_for(*iface, arp->sender_ip).has_value();
    // RFC 826 merge: refresh an entry we have; create one only when the packet is for us.
    auto it = entries_.find(arp->sender_ip);
    if (sender_on_link && it != entries_.end() && it->second.port == port) {
        confirm(it->second, arp->sender_mac, now);
    } else if (sender_on_link && for_us) {
        NeighbourEntry e;
        e.ip = arp->sender_ip;
        e.port = port;
        confirm(entries_.emplace(e.ip, e).first->second, arp->sender_mac, now);
    } else if (!for_us) {
        ++counters_.not_for_us;
    }
    if (for_us && arp->op == ArpPacket::Op::Request) send_reply(*iface, *arp);
}

void NeighbourManager::on_resolve(uint16_t port, uint32_t ip, Clock::time_point now) {
    const NeighbourInterface* iface = interface_of(port);
    if (iface == nullptr || !source_for(*iface, ip)) {
        ++counters_.resolve_off_link;
        return;
    }
    auto [it, inserted] = entries_.try_emplace(ip);
    NeighbourEntry& e = it->second;
    if (inserted) {
        e.ip = ip;
        e.port = port;
        send_request(e, false, now);
        return;
    }
    switch (e.state) {
    case State::Reachable:
    case State::Stale:
        // A worker without the entry (it was added before the worker's last restart of
        // its table, or the port changed): give it again.
        out_.install(e.ip, e.mac, e.port);
        e.installed = true;
        break;
    case State::Incomplete: break;  // tick() retries
    case State::Failed:
        if (now - e.last_sent >= timers_.retry_interval) {
            e.state = State::Incomplete;
            e.port = port;
            e.probes = 0;
            send_request(e, false, now);
        }
        break;
    }
}

void NeighbourManager::erase(std::map<uint32_t, NeighbourEntry>::iterator it) {
    if (it->second.installed) out_.remove(it->first);
    entries_.erase(it);
}

void NeighbourManager::tick(Clock::time_point now) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        NeighbourEntry& e = it->second;
        auto next = std::next(it);
        switch (e.state) {
        case State::Reachable:
            if (now - e.confirmed >= timers_.reachable_time) {
                e.state = State::Stale;
                e.probes = 0;
                send_request(e, true, now);
            }
            break;
        case State::Stale:
        case State::Incomplete:
            if (now - e.last_sent < timers_.probe_interval) break;
            if (e.probes < timers_.max_probes) {
                send_request(e, e.state == State::Stale, now);
            } else if (e.state == State::Stale) {
                erase(it);
            } else {
                e.state = State::Failed;
            }
            break;
        case State::Failed:
            if (now - e.last_sent >= timers_.failed_lifetime) erase(it);
            break;
        }
        it = next;
    }
}

void NeighbourManager::set_proxied(const std::map<std::string, std::vector<config::Ipv4Range>>& pools) {
    for (auto& iface : interfaces_) {
        const auto it = pools.find(iface.name);
        iface.proxied = it == pools.end() ? std::vector<config::Ipv4Range>{} : it->second;
    }
}

void NeighbourManager::announce() {
    for (const auto& iface : interfaces_) {
        for (const auto& a : iface.addresses) {
            ArpPacket g;
            g.op = ArpPacket::Op::Request;
            g.sender_mac = iface.mac;
            g.sender_ip = a.address.value;
            g.target_ip = a.address.value;
            out_.transmit(iface.port, build_arp(g, kBroadcastMac));
            ++counters_.requests_sent;
        }
    }
}

std::vector<NeighbourEntry> NeighbourManager::entries() const {
    std::vector<NeighbourEntry> out;
    for (const auto& [ip, e] : entries_) out.push_back(e);
    return out;
}

}  // namespace mbox::control

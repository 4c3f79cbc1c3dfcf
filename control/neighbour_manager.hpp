// The gateway's ARP: answers requests for our addresses, resolves next hops the
// workers ask for, and ages what it learned. Plain logic over bytes and a clock, so
// it is tested without DPDK; the control thread wires it to the data plane.
//
// Entry life: Incomplete (broadcast requests, one a second) -> Reachable (an answer)
// -> Stale after reachable_time (still used; unicast probes) -> Reachable again on an
// answer, or deleted after max_probes unanswered probes. An Incomplete entry that
// gets no answer becomes Failed and is retried no sooner than retry_interval.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/ipv4.hpp"
#include "config/model.hpp"
#include "control/arp.hpp"

namespace mbox::control {

using Clock = std::chrono::steady_clock;

struct NeighbourTimers {
    std::chrono::milliseconds reachable_time{300'000};
    std::chrono::milliseconds probe_interval{1'000};
    unsigned max_probes = 3;
    std::chrono::milliseconds retry_interval{1'000};  // after Failed
    std::chrono::milliseconds failed_lifetime{20'000};
};

// What the manager needs from the data plane.
class NeighbourOutput {
public:
    virtual ~NeighbourOutput() = default;
    virtual void transmit(uint16_t port, std::span<const uint8_t> frame) = 0;
    virtual void install(uint32_t ip, const MacAddress& mac, uint16_t port) = 0;
    virtual void remove(uint32_t ip) = 0;
};

struct NeighbourInterface {
    std::string name;
    uint16_t port = 0;
    MacAddress mac{};
    std::vector<Ipv4Prefix> addresses;  // host address + prefix length
    std::vector<config::Ipv4Range> proxied;  // also answered for (NAT translate pools), never a source
};

struct NeighbourEntry {
    enum class State { Incomplete, Reachable, Stale, Failed };
    uint32_t ip = 0;
    uint16_t port = 0;
    MacAddress mac{};
    State state = State::Incomplete;
    Clock::time_point confirmed{};  // last answer (Reachable/Stale)
    Clock::time_point last_sent{};  // last request or probe
    unsigned probes = 0;
    bool installed = false;         // the workers have it
};

struct NeighbourCounters {
    uint64_t requests_received = 0, replies_received = 0, requests_sent = 0, replies_sent = 0;
    uint64_t invalid = 0;       // not Ethernet/IPv4 ARP, or truncated
    uint64_t not_for_us = 0;    // neither about our addresses nor from a known/connected neighbour
    uint64_t resolve_off_link = 0;  // a worker asked for an address on no connected network
};

std::string_view to_string(NeighbourEntry::State state);

class NeighbourManager {
public:
    NeighbourManager(std::vector<NeighbourInterface> interfaces, NeighbourOutput& out, NeighbourTimers timers = {});

    void on_frame(uint16_t port, std::span<const uint8_t> frame, Clock::time_point now);
    void on_resolve(uint16_t port, uint32_t ip, Clock::time_point now);
    void tick(Clock::time_point now);
    // Gratuitous ARP for every address, so neighbours update caches at start-up.
    void announce();
    // New translate pools answered for (a reloaded configuration's SNAT rules), by
    // interface name; an interface not named answers for none. Learned neighbours stay.
    void set_proxied(const std::map<std::string, std::vector<config::Ipv4Range>>& pools);

    std::vector<NeighbourEntry> entries() const;
    const NeighbourCounters& counters() const { return counters_; }
    const std::vector<NeighbourInterface>& interfaces() const { return interfaces_; }

private:
    const NeighbourInterface* interface_of(uint16_t port) const;
    std::optional<uint32_t> source_for(const NeighbourInterface& iface, uint32_t target) const;
    bool is_our_address(const NeighbourInterface& iface, uint32_t ip) const;
    void confirm(NeighbourEntry& e, const MacAddress& mac, Clock::time_point now);
    void send_request(NeighbourEntry& e, bool unicast, Clock::time_point now);
    void send_reply(const NeighbourInterface& iface, const ArpPacket& request);
    void erase(std::map<uint32_t, NeighbourEntry>::iterator it);

    std::vector<NeighbourInterface> interfaces_;
    NeighbourOutput& out_;
    NeighbourTimers timers_;
    std::map<uint32_t, NeighbourEntry> entries_;
    NeighbourCounters counters_;
};

}  // namespace mbox::control

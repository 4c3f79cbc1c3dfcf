// The longest-prefix-match table a worker forwards with: DPDK's rte_lpm mapping a
// prefix to an index into a next-hop array. Built whole by the control thread and
// never modified afterwards, so workers read it without locks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/ipv4.hpp"

struct rte_lpm;

namespace mbox::dataplane {

struct NextHop {
    enum class Kind : uint8_t {
        Connected,  // destination is on the link: ARP for the destination itself
        Gateway,    // ARP for `gateway`
        Local,      // one of our own addresses
        Broadcast,  // a connected network's broadcast address: never forwarded
    };
    Kind kind = Kind::Connected;
    uint16_t port = 0;
    uint32_t gateway = 0;  // host byte order, Kind::Gateway only

    bool operator==(const NextHop&) const = default;
};

struct RouteEntry {
    Ipv4Prefix prefix;  // network form
    NextHop next_hop;
};

class RouteTable {
public:
    // Later entries for the same prefix replace earlier ones. Fails (nullptr and a
    // message) when DPDK cannot allocate the table.
    static std::unique_ptr<RouteTable> build(std::span<const RouteEntry> entries, std::string& error);
    ~RouteTable();
    RouteTable(const RouteTable&) = delete;
    RouteTable& operator=(const RouteTable&) = delete;

    // addr in host byte order; nullptr when nothing matches.
    const NextHop* lookup(uint32_t addr) const;
    size_t size() const { return next_hops_.size() + (default_hop_ ? 1 : 0); }

private:
    RouteTable(rte_lpm* lpm, std::vector<NextHop> next_hops, std::optional<NextHop> default_hop)
        : lpm_(lpm), next_hops_(std::move(next_hops)), default_hop_(default_hop) {}
    rte_lpm* lpm_;
    std::vector<NextHop> next_hops_;
    std::optional<NextHop> default_hop_;  // rte_lpm takes depths 1..32: 0.0.0.0/0 lives here
};

}  // namespace mbox::dataplane

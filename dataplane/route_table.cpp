#include "dataplane/route_table.hpp"

#include <rte_errno.h>
#include <rte_lpm.h>

#include <atomic>
#include <map>
#include <set>

#include <fmt/format.h>

namespace mbox::dataplane {

namespace {

// rte_lpm tables live in a process-wide namespace: each needs a distinct name.
std::string next_table_name() {
    static std::atomic<unsigned> serial{0};
    return fmt::format("mbox_fib_{}", serial.fetch_add(1));
}

}  // namespace

std::unique_ptr<RouteTable> RouteTable::build(std::span<const RouteEntry> entries, std::string& error) {
    // Deduplicate first so that the next-hop array holds exactly what the LPM points at.
    std::map<std::pair<uint32_t, uint8_t>, NextHop> unique;
    for (const auto& e : entries) {
        unique[{e.prefix.network().address.value, e.prefix.length}] = e.next_hop;
    }

    // rte_lpm needs one tbl8 group for every /24 that holds a prefix longer than /24.
    std::set<uint32_t> long_prefix_slash24s;
    for (const auto& [key, hop] : unique)
        if (key.second > 24) long_prefix_slash24s.insert(key.first >> 8);
    rte_lpm_config cfg{};
    cfg.max_rules = static_cast<uint32_t>(std::max<size_t>(unique.size(), 16) * 2);
    cfg.number_tbl8s = static_cast<uint32_t>(std::max<size_t>(long_prefix_slash24s.size() + 16, 64));
    const std::string name = next_table_name();
    rte_lpm* lpm = rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &cfg);
    if (lpm == nullptr) {
        error = fmt::format("cannot create route table: {}", rte_strerror(rte_errno));
        return nullptr;
    }

    std::vector<NextHop> hops;
    hops.reserve(unique.size());
    std::optional<NextHop> default_hop;
    for (const auto& [key, hop] : unique) {
        if (key.second == 0) {
            default_hop = hop;
            continue;
        }
        const auto index = static_cast<uint32_t>(hops.size());
        hops.push_back(hop);
        if (int rc = rte_lpm_add(lpm, key.first, key.second, index); rc < 0) {
            error = fmt::format("cannot add route {}/{}: {}", Ipv4Address{key.first}.to_string(),
                                key.second, rte_strerror(-rc));
            rte_lpm_free(lpm);
            return nullptr;
        }
    }
    return std::unique_ptr<RouteTable>(new RouteTable(lpm, std::move(hops), default_hop));
}

RouteTable::~RouteTable() { rte_lpm_free(lpm_); }

const NextHop* RouteTable::lookup(uint32_t addr) const {
    uint32_t index = 0;
    if (rte_lpm_lookup(lpm_, addr, &index) != 0) return default_hop_ ? &*default_hop_ : nullptr;
    return &next_hops_[index];
}

}  // namespace mbox::dataplane

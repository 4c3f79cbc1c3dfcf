#include "nat/snat_chain.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "nat/hash.hpp"

namespace mbox::nat {
namespace {

bool any_contains(const std::vector<Prefix>& prefixes, uint32_t address) {
    if (prefixes.empty()) return true;
    return std::any_of(prefixes.begin(), prefixes.end(), [address](const Prefix& p) { return p.contains(address); });
}

bool matches(const Rule& rule, uint8_t protocol, uint32_t source, uint32_t destination) {
    return (rule.protocol == 0 || rule.protocol == protocol) && any_contains(rule.source, source) &&
           any_contains(rule.destination, destination);
}

}  // namespace

SnatChain::SnatChain(std::vector<Rule> rules) : rules_(std::move(rules)) {
    // match() hands out indexes as uint16_t.
    if (rules_.size() > std::numeric_limits<uint16_t>::max())
        throw std::length_error("firewall-snat: more than 65535 rules");
    std::sort(rules_.begin(), rules_.end(), [](const Rule& a, const Rule& b) { return a.number < b.number; });
    for (size_t i = 0; i < rules_.size(); ++i) {
        const uint16_t port = rules_[i].port;
        if (port >= by_port_.size()) by_port_.resize(size_t{port} + 1);
        by_port_[port].push_back(static_cast<uint16_t>(i));
    }
}

std::optional<uint16_t> SnatChain::match(uint16_t port, uint8_t protocol, uint32_t source,
                                         uint32_t destination) const {
    if (port >= by_port_.size()) return std::nullopt;
    for (const uint16_t index : by_port_[port])
        if (matches(rules_[index], protocol, source, destination)) return index;
    return std::nullopt;
}

uint32_t SnatChain::external_address(const Rule& rule, uint32_t internal, uint32_t interface_address) {
    switch (rule.action) {
    case Action::Overload:
        return interface_address;
    case Action::Translate: {
        // 64 bits: a pool of every address (0.0.0.0-255.255.255.255) has 2^32 of them.
        const uint64_t size = uint64_t{rule.pool_last} - rule.pool_first + 1;
        return rule.pool_first + static_cast<uint32_t>(mix32(internal) % size);
    }
    case Action::Exempt:
        break;
    }
    return internal;
}

}  // namespace mbox::nat

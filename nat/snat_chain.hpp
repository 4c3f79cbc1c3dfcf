// The outbound source-NAT chain of `firewall-snat` rules, compiled once per
// configuration and evaluated per packet after routing: rules in ascending number,
// the first that matches the egress port, protocol, source and destination decides;
// no match leaves the packet as it is.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace mbox::nat {

enum class Action : uint8_t { Exempt, Overload, Translate };

struct Prefix {
    uint32_t address = 0;  // host order; bits beyond `length` are ignored
    uint8_t length = 0;    // 0..32

    bool contains(uint32_t a) const {
        return length == 0 || ((a ^ address) >> (32 - length)) == 0;
    }
};

struct Rule {
    uint32_t number = 0;          // `firewall-snat N`
    Action action = Action::Exempt;
    uint16_t port = 0;            // the egress data-plane port (`outbound IFACE`)
    uint8_t protocol = 0;         // 0: any; else the IP protocol (1, 6, 17)
    std::vector<Prefix> source;   // empty: any
    std::vector<Prefix> destination;
    // Translate: the pool `xsrc FIRST[-LAST]`, host order, first <= last.
    uint32_t pool_first = 0;
    uint32_t pool_last = 0;
};

class SnatChain {
public:
    SnatChain() = default;
    // Orders the rules by number (numbers are unique: validation saw to it).
    explicit SnatChain(std::vector<Rule> rules);

    // The index (into rules()) of the first rule that matches a packet leaving
    // `port`, or nullopt. Allocation-free; cost grows with the rules of that port only.
    std::optional<uint16_t> match(uint16_t port, uint8_t protocol, uint32_t source, uint32_t destination) const;

    const std::vector<Rule>& rules() const { return rules_; }
    bool empty() const { return rules_.empty(); }

    // The address a translating rule gives `internal`: Overload uses the egress
    // interface's address; Translate picks from its pool by a hash of the internal
    // address, so one host always gets the same pool address (RFC 4787 REQ-2,
    // "paired" pooling).
    static uint32_t external_address(const Rule& rule, uint32_t internal, uint32_t interface_address);

private:
    std::vector<Rule> rules_;                       // by number
    std::vector<std::vector<uint16_t>> by_port_;    // port -> indexes into rules_, in order
};

}  // namespace mbox::nat

// The union of a set of IPv4 prefixes as sorted, disjoint address ranges: a cheap
// "can any of these prefixes hold this address?" test. The outbound policy lookups
// run it first, because most packets a gateway forwards (everything that came out of
// a tunnel, all plain forwarding) lie outside every remote network, and a miss here
// costs a compare or two instead of a hash probe per prefix length in use.
//
// Rebuilt whole from its prefixes on every change (policies change between bursts,
// packets arrive every few nanoseconds). The storage is reserved up front, so a
// rebuild on a worker never allocates.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "config/ipv4.hpp"

namespace mbox::dataplane {

class AddressRanges {
public:
    explicit AddressRanges(size_t capacity = 0) { ranges_.reserve(capacity); }

    // `prefixes` sorted by network address; at most the capacity given at construction
    // (or any number, when the rebuild may allocate).
    void assign(std::span<const Ipv4Prefix> prefixes) {
        ranges_.clear();
        for (const Ipv4Prefix& p : prefixes) {
            const uint32_t first = p.network().address.value;
            const uint32_t last = first | ~p.mask();
            // Sorted by first address: a prefix overlaps or touches only the last range.
            if (!ranges_.empty() && (ranges_.back().last == UINT32_MAX || first <= ranges_.back().last + 1))
                ranges_.back().last = std::max(ranges_.back().last, last);
            else
                ranges_.push_back({first, last});
        }
    }

    // `address` in host order.
    bool contains(uint32_t address) const {
        // The first range starting after the address; the one before it is the only candidate.
        const auto after = std::ranges::upper_bound(ranges_, address, {}, &Range::first);
        return after != ranges_.begin() && address <= std::prev(after)->last;
    }

private:
    struct Range {
        uint32_t first, last;  // inclusive
    };
    std::vector<Range> ranges_;
};

}  // namespace mbox::dataplane

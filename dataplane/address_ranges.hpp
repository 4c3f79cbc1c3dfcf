// The union of a set of IPv4 prefixes as sorted, disjoint address ranges: a cheap
// "can any of these prefixes hold this address?" test. The outbound policy lookups
// run it first, because most packets a gateway forwards (everything that came out of
// a tunnel, all plain forwarding) lie outside every remote network, and a miss here
// costs a compare or two instead of a hash probe per prefix length in use.
//
// Changed as the prefixes come and go, between bursts: an added prefix merges into
// the ranges, a removed one has only the range that held it recomputed. The storage is
// reserved up front, so a change on a worker never allocates.
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

    // Every prefix in network form, sorted (Ipv4Prefix's order: by network address).
    void assign(std::span<const Ipv4Prefix> prefixes) {
        ranges_.clear();
        merge(prefixes, [&](const Range& r) { ranges_.push_back(r); });
    }

    // Adds a prefix's addresses: the ranges it overlaps or touches become one.
    void add(const Ipv4Prefix& prefix) {
        Range r = range_of(prefix);
        // [first, end): the ranges that end at or after r.first - 1 and start at or
        // before r.last + 1 (saturated at the top of the address space).
        const auto first = std::ranges::lower_bound(ranges_, r.first, {}, [](const Range& x) {
            return x.last == UINT32_MAX ? x.last : x.last + 1;
        });
        const auto end = r.last == UINT32_MAX ? ranges_.end()
                                              : std::ranges::upper_bound(ranges_, r.last + 1, {}, &Range::first);
        if (first == end) {
            ranges_.insert(first, r);  // within the reserve
            return;
        }
        r.first = std::min(r.first, first->first);
        r.last = std::max(r.last, std::prev(end)->last);
        *first = r;
        ranges_.erase(first + 1, end);
    }

    // Takes back the addresses of a prefix no longer in the set; `remaining` is the set
    // without it, in network form and sorted. Only the range that held it is rebuilt,
    // from the remaining prefixes inside that range.
    void remove(const Ipv4Prefix& removed, std::span<const Ipv4Prefix> remaining) {
        const auto held = std::prev(std::ranges::upper_bound(ranges_, range_of(removed).first, {}, &Range::first));
        const Range old = *held;
        const auto network = [](const Ipv4Prefix& p) { return p.address.value; };
        const auto from = std::ranges::lower_bound(remaining, old.first, {}, network);
        const auto to = std::ranges::upper_bound(remaining, old.last, {}, network);
        const std::span<const Ipv4Prefix> inside(from, to);
        size_t count = 0;
        merge(inside, [&](const Range&) { ++count; });
        if (count == 0) {
            ranges_.erase(held);
            return;
        }
        const auto at = held - ranges_.begin();
        ranges_.insert(held, count - 1, Range{});  // room for the pieces, within the reserve
        auto out = ranges_.begin() + at;
        merge(inside, [&](const Range& r) { *out++ = r; });
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

    static Range range_of(const Ipv4Prefix& p) {
        const uint32_t first = p.network().address.value;
        return {first, first | ~p.mask()};
    }

    // Calls emit with the union of `sorted` (sorted by network address) as disjoint
    // ranges, in order.
    template <typename Emit>
    static void merge(std::span<const Ipv4Prefix> sorted, Emit emit) {
        bool open = false;
        Range current{};
        for (const Ipv4Prefix& p : sorted) {
            const Range r = range_of(p);
            // Sorted by first address: a prefix overlaps or touches only the open range.
            if (open && (current.last == UINT32_MAX || r.first <= current.last + 1)) {
                current.last = std::max(current.last, r.last);
                continue;
            }
            if (open) emit(current);
            current = r;
            open = true;
        }
        if (open) emit(current);
    }

    std::vector<Range> ranges_;
};

}  // namespace mbox::dataplane

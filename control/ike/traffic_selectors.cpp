#include "control/ike/traffic_selectors.hpp"

#include <algorithm>

namespace mbox::ike {

namespace {

std::vector<uint8_t> bytes_of(uint32_t address) {
    return {static_cast<uint8_t>(address >> 24), static_cast<uint8_t>(address >> 16),
            static_cast<uint8_t>(address >> 8), static_cast<uint8_t>(address)};
}

uint32_t address_of(const std::vector<uint8_t>& b) {
    return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
}

AddressRange range_of(const Ipv4Prefix& p) {
    const Ipv4Prefix n = p.network();
    return {n.address.value, n.address.value | ~n.mask()};
}

// An IPv4 selector for every protocol and port, as a range; nullopt for anything else.
std::optional<AddressRange> whole_range(const TrafficSelector& ts) {
    if (ts.type != TsType::Ipv4AddressRange || ts.start_address.size() != 4 || ts.end_address.size() != 4)
        return std::nullopt;
    if (ts.ip_protocol != 0 || ts.start_port != 0 || ts.end_port != 65535) return std::nullopt;
    const AddressRange r{address_of(ts.start_address), address_of(ts.end_address)};
    if (r.first > r.last) return std::nullopt;
    return r;
}

}  // namespace

std::vector<TrafficSelector> selectors_for(const std::vector<AddressRange>& ranges) {
    std::vector<TrafficSelector> out;
    for (const auto& r : ranges) {
        TrafficSelector ts;
        ts.start_address = bytes_of(r.first);
        ts.end_address = bytes_of(r.last);
        out.push_back(std::move(ts));
    }
    return out;
}

std::vector<TrafficSelector> selectors_for(const std::vector<Ipv4Prefix>& nets) {
    std::vector<AddressRange> ranges;
    for (const auto& p : nets) ranges.push_back(range_of(p));
    return selectors_for(ranges);
}

std::vector<AddressRange> narrow(const std::vector<TrafficSelector>& proposed, const std::vector<Ipv4Prefix>& allowed) {
    std::vector<AddressRange> out;
    for (const auto& ts : proposed) {
        const auto r = whole_range(ts);
        if (!r) continue;
        for (const auto& p : allowed) {
            const AddressRange a = range_of(p);
            const AddressRange both{std::max(r->first, a.first), std::min(r->last, a.last)};
            if (both.first <= both.last && std::find(out.begin(), out.end(), both) == out.end())
                out.push_back(both);
        }
    }
    return out;
}

std::optional<std::vector<AddressRange>> inside(const std::vector<TrafficSelector>& answer,
                                                const std::vector<Ipv4Prefix>& proposed) {
    std::vector<AddressRange> out;
    for (const auto& ts : answer) {
        const auto r = whole_range(ts);
        if (!r) return std::nullopt;
        const bool contained = std::any_of(proposed.begin(), proposed.end(), [&](const Ipv4Prefix& p) {
            const AddressRange a = range_of(p);
            return a.first <= r->first && r->last <= a.last;
        });
        if (!contained) return std::nullopt;
        out.push_back(*r);
    }
    if (out.empty()) return std::nullopt;
    return out;
}

std::vector<Ipv4Prefix> to_prefixes(const std::vector<AddressRange>& ranges) {
    std::vector<Ipv4Prefix> out;
    for (const auto& r : ranges) {
        uint64_t at = r.first;
        while (at <= r.last) {
            // The largest aligned block starting at `at` that does not pass r.last.
            uint8_t length = 32;
            while (length > 0) {
                const uint64_t size = uint64_t{1} << (32 - (length - 1));
                if ((at & (size - 1)) != 0 || at + size - 1 > r.last) break;
                --length;
            }
            out.push_back(Ipv4Prefix{Ipv4Address{static_cast<uint32_t>(at)}, length});
            at += uint64_t{1} << (32 - length);
        }
    }
    return out;
}

}  // namespace mbox::ike

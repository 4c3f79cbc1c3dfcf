#include "dataplane/tunnel_networks.hpp"

#include <algorithm>

namespace mbox::dataplane {

TunnelNetworks::TunnelNetworks(const std::vector<Pair>& pairs) {
    std::vector<Ipv4Prefix> remotes;
    for (const Pair& pair : pairs) {
        remotes.push_back(pair.remote.network());
        auto level = std::ranges::find(by_length_, pair.remote.length, &SameLength::length);
        if (level == by_length_.end()) level = by_length_.insert(level, SameLength{pair.remote.length, {}});
        level->entries.push_back({pair.remote.network().address.value, pair.local});
    }
    for (SameLength& level : by_length_) std::ranges::sort(level.entries, {}, &Entry::remote);
    std::ranges::sort(remotes);
    remotes_.assign(remotes);
}

bool TunnelNetworks::covers(uint32_t src, uint32_t dst) const {
    if (!remotes_.contains(dst)) return false;
    for (const SameLength& level : by_length_) {
        const uint32_t remote = Ipv4Prefix{Ipv4Address{dst}, level.length}.network().address.value;
        const auto [first, last] = std::ranges::equal_range(level.entries, remote, {}, &Entry::remote);
        for (auto it = first; it != last; ++it)
            if (it->local.contains(Ipv4Address{src})) return true;
    }
    return false;
}

}  // namespace mbox::dataplane

#include "control/ike/dh_pool.hpp"

#include <algorithm>

namespace mbox::ike {

void DhPool::set_groups(const std::vector<uint16_t>& groups) {
    std::erase_if(ready_, [&](const auto& entry) {
        return std::find(groups.begin(), groups.end(), entry.first) == groups.end();
    });
    if (depth_ == 0) return;
    for (uint16_t group : groups)
        if (crypto::is_supported_ike_dh_group(group)) ready_.try_emplace(group);
}

std::unique_ptr<crypto::DhKeyPair> DhPool::take(uint16_t group, std::string& error) {
    if (auto it = ready_.find(group); it != ready_.end() && !it->second.empty()) {
        auto pair = std::move(it->second.back());
        it->second.pop_back();
        ++counters_.taken_ready;
        return pair;
    }
    auto pair = crypto::DhKeyPair::generate(group, error);
    if (pair) ++counters_.taken_fresh;
    return pair;
}

void DhPool::refill(std::chrono::steady_clock::time_point deadline) {
    // Round-robin over the groups, so that one slow group (MODP-8192) cannot starve the
    // others of the time budget.
    bool short_of_keys = true;
    while (short_of_keys) {
        short_of_keys = false;
        for (auto& [group, pairs] : ready_) {
            if (pairs.size() >= depth_) continue;
            if (std::chrono::steady_clock::now() >= deadline) return;
            std::string error;
            auto pair = crypto::DhKeyPair::generate(group, error);
            if (!pair) continue;  // take() will report the failure where it matters
            pairs.push_back(std::move(pair));
            ++counters_.precomputed;
            short_of_keys = short_of_keys || pairs.size() < depth_;
        }
    }
}

size_t DhPool::ready(uint16_t group) const {
    const auto it = ready_.find(group);
    return it == ready_.end() ? 0 : it->second.size();
}

}  // namespace mbox::ike

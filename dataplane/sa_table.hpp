// A worker's view of the SAs: inbound SAs by SPI (an rte_hash of this worker's) and
// the outbound policies, local-net x remote-net -> outbound SA, in the order added.
// Changed only by commands from the control thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/sa.hpp"

struct rte_hash;

namespace mbox::dataplane {

struct OutboundPolicy {
    Ipv4Prefix local;   // inner source
    Ipv4Prefix remote;  // inner destination
    OutboundSa* sa;
};

class SaTable {
public:
    static constexpr uint32_t kMaxInbound = 16384;
    static constexpr uint32_t kMaxPolicies = 16384;

    static std::unique_ptr<SaTable> create(unsigned worker, std::string& error);
    ~SaTable();
    SaTable(const SaTable&) = delete;
    SaTable& operator=(const SaTable&) = delete;

    InboundSa* inbound(uint32_t spi) const;
    bool add_inbound(InboundSa* sa);
    void remove_inbound(const InboundSa* sa);

    // Every local-net x remote-net pair of the SA; false when the table is full.
    bool add_outbound(OutboundSa* sa);
    void remove_outbound(const OutboundSa* sa);
    // First policy whose networks hold src and dst (host order), or nullptr.
    OutboundSa* outbound(uint32_t src, uint32_t dst) const {
        for (uint32_t i = 0; i < policy_count_; ++i) {
            const OutboundPolicy& p = policies_[i];
            if (p.remote.contains(Ipv4Address{dst}) && p.local.contains(Ipv4Address{src})) return p.sa;
        }
        return nullptr;
    }
    uint32_t policy_count() const { return policy_count_; }

private:
    explicit SaTable(rte_hash* inbound) : inbound_(inbound) {}
    rte_hash* inbound_;
    std::unique_ptr<std::array<OutboundPolicy, kMaxPolicies>> storage_ =
        std::make_unique<std::array<OutboundPolicy, kMaxPolicies>>();
    OutboundPolicy* policies_ = storage_->data();
    uint32_t policy_count_ = 0;
};

}  // namespace mbox::dataplane

// A worker's view of the SAs: inbound SAs by SPI and the outbound policies
// (local-net x remote-net -> outbound SA), both in hash tables of this worker's,
// changed only by commands from the control thread. Inbound SAs are in an rte_hash.
// The policies' remote networks are in an open-addressing table of our own, probed
// inline: rte_hash_lookup_data (a call, jhash, a memcmp of the 8-byte key) was ~10%
// of the worker when every packet of a tunnel looked its policy up (enc-gcm 64).
//
// Outbound lookup is longest-match on the destination: one hash per remote prefix
// length in use (the classic hash-per-length LPM), longest first; each hit is a short
// chain of policies tried in the order they were added, the first whose local network
// holds the source wins. The cost grows with the number of distinct prefix lengths,
// not with the number of tunnels. Before any probe, one search in the union of the
// remote networks turns away the packets no policy can match (most of what a gateway
// forwards: everything that came out of a tunnel, all plain traffic).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/address_ranges.hpp"
#include "dataplane/sa.hpp"

struct rte_hash;

namespace mbox::dataplane {

struct OutboundPolicy {
    Ipv4Prefix local;   // inner source
    Ipv4Prefix remote;  // inner destination (network form)
    OutboundSa* sa = nullptr;
    int32_t next = -1;  // next policy with the same remote network, or -1
};

class SaTable {
public:
    static constexpr uint32_t kMaxInbound = 16384;
    static constexpr uint32_t kMaxPolicies = 32768;

    static std::unique_ptr<SaTable> create(unsigned worker, std::string& error);
    ~SaTable();
    SaTable(const SaTable&) = delete;
    SaTable& operator=(const SaTable&) = delete;

    InboundSa* inbound(uint32_t spi) const;
    bool add_inbound(InboundSa* sa);
    void remove_inbound(const InboundSa* sa);

    // Every local-net x remote-net pair of the SA; false (nothing added) when full.
    bool add_outbound(OutboundSa* sa);
    void remove_outbound(const OutboundSa* sa);
    // The policies of `old` removed and those of `next` added, in one call (a worker
    // runs it between bursts, so no packet finds neither).
    bool replace_outbound(const OutboundSa* old, OutboundSa* next);
    // The policy for an inner packet (addresses in host order), or nullptr.
    OutboundSa* outbound(uint32_t src, uint32_t dst) const;
    uint32_t policy_count() const { return policy_count_; }

private:
    explicit SaTable(rte_hash* inbound) : inbound_(inbound) {}
    static uint64_t key(const Ipv4Prefix& remote) {
        return uint64_t{remote.length} << 32 | remote.network().address.value;
    }
    // The remote networks' table: linear probing, at most half full (at most one
    // remote network per policy), so a probe ends at an empty slot after a few steps.
    struct RemoteSlot {
        uint64_t key = kNoRemote;
        int32_t head = -1;  // index of the first policy
    };
    static constexpr uint64_t kNoRemote = UINT64_MAX;  // no key() is
    static constexpr unsigned kRemoteSlotBits = 16;
    static constexpr uint32_t kRemoteSlots = 1u << kRemoteSlotBits;
    static_assert(kRemoteSlots >= 2 * kMaxPolicies);
    static uint32_t home_slot(uint64_t k) {  // Fibonacci hashing: the top bits of k * 2^64/phi
        return static_cast<uint32_t>((k * 0x9e3779b97f4a7c15u) >> (64 - kRemoteSlotBits));
    }
    static uint32_t next_slot(uint32_t s) { return (s + 1) & (kRemoteSlots - 1); }
    uint32_t find_slot(uint64_t k) const;  // k's slot, or the empty one where it would go
    int32_t head(uint64_t k) const { return remote_slots_[find_slot(k)].head; }
    void set_head(uint64_t k, int32_t index);
    void erase_head(uint64_t k);
    void unlink(int32_t index);
    // A remote network gained its first policy / lost its last one.
    void remote_added(const Ipv4Prefix& remote);
    void remote_removed(const Ipv4Prefix& remote);

    rte_hash* inbound_;
    std::vector<RemoteSlot> remote_slots_ = std::vector<RemoteSlot>(kRemoteSlots);
    std::vector<OutboundPolicy> policies_ = std::vector<OutboundPolicy>(kMaxPolicies);
    std::vector<int32_t> free_;                  // unused policy slots
    std::array<uint32_t, 33> per_length_{};      // policies per remote prefix length
    uint32_t policy_count_ = 0;
    std::vector<Ipv4Prefix> remotes_;            // the distinct remote networks, sorted
    AddressRanges remote_ranges_{kMaxPolicies};  // their union
};

}  // namespace mbox::dataplane

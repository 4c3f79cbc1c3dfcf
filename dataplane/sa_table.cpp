#include "dataplane/sa_table.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

namespace mbox::dataplane {

namespace {

rte_hash* make_hash(const std::string& name, uint32_t entries, uint32_t key_len) {
    rte_hash_parameters params{};
    params.name = name.c_str();
    params.entries = entries;
    params.key_len = key_len;
    params.hash_func = rte_hash_crc;  // one crc32 instruction (SSE4.2) for a 4-byte SPI, not jhash's mixing rounds
    params.socket_id = SOCKET_ID_ANY;
    // Every key up to `entries` fits (no cuckoo-path failure below capacity): the
    // control thread counts what it installs and refuses beyond capacity, so an
    // install on a worker can never fail.
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    return rte_hash_create(&params);
}

}  // namespace

std::unique_ptr<SaTable> SaTable::create(unsigned worker, std::string& error) {
    static std::atomic<unsigned> serial{0};
    const unsigned n = serial.fetch_add(1);
    rte_hash* inbound = make_hash(fmt::format("mbox_sain_{}_{}", worker, n), kMaxInbound, sizeof(uint32_t));
    if (inbound == nullptr) {
        error = fmt::format("cannot create the SA table: {}", rte_strerror(rte_errno));
        return nullptr;
    }
    auto table = std::unique_ptr<SaTable>(new SaTable(inbound));
    table->free_.reserve(kMaxPolicies);
    table->remotes_.reserve(kMaxPolicies);
    for (int32_t i = kMaxPolicies - 1; i >= 0; --i) table->free_.push_back(i);
    return table;
}

SaTable::~SaTable() { rte_hash_free(inbound_); }

InboundSa* SaTable::inbound(uint32_t spi) const {
    void* data = nullptr;
    return rte_hash_lookup_data(inbound_, &spi, &data) < 0 ? nullptr : static_cast<InboundSa*>(data);
}

bool SaTable::add_inbound(InboundSa* sa) { return rte_hash_add_key_data(inbound_, &sa->spi, sa) == 0; }

void SaTable::remove_inbound(const InboundSa* sa) {
    if (inbound(sa->spi) == sa) rte_hash_del_key(inbound_, &sa->spi);
}

uint32_t SaTable::find_slot(uint64_t k) const {
    uint32_t s = home_slot(k);
    while (remote_slots_[s].key != k && remote_slots_[s].key != kNoRemote) s = next_slot(s);
    return s;
}

void SaTable::set_head(uint64_t k, int32_t index) { remote_slots_[find_slot(k)] = {k, index}; }

void SaTable::erase_head(uint64_t k) {
    // Backward-shift deletion: the keys after the hole that probing would no longer
    // reach move into it, so that every key stays reachable from its home slot
    // without tombstones.
    uint32_t hole = find_slot(k);
    for (uint32_t s = next_slot(hole); remote_slots_[s].key != kNoRemote; s = next_slot(s)) {
        const uint32_t home = home_slot(remote_slots_[s].key);
        // The hole lies on the way from the key's home to where it sits: it may move.
        if (((s - home) & (kRemoteSlots - 1)) >= ((s - hole) & (kRemoteSlots - 1))) {
            remote_slots_[hole] = remote_slots_[s];
            hole = s;
        }
    }
    remote_slots_[hole] = RemoteSlot{};
}

bool SaTable::add_outbound(OutboundSa* sa) {
    const size_t needed = sa->local_nets.size() * sa->remote_nets.size();
    if (needed > free_.size()) return false;
    for (const auto& remote : sa->remote_nets) {
        for (const auto& local : sa->local_nets) {
            const int32_t index = free_.back();
            free_.pop_back();
            const uint64_t k = key(remote);
            policies_[index] = {local, remote.network(), sa, -1};
            // Append to the chain, so that policies keep the order they were added in.
            int32_t tail = head(k);
            if (tail < 0) {
                set_head(k, index);
                remote_added(remote.network());
            } else {
                while (policies_[tail].next >= 0) tail = policies_[tail].next;
                policies_[tail].next = index;
            }
            ++per_length_[remote.length];
            ++policy_count_;
        }
    }
    return true;
}

void SaTable::remote_added(const Ipv4Prefix& remote) {
    remotes_.insert(std::ranges::lower_bound(remotes_, remote), remote);  // within the reserve
    remote_ranges_.add(remote);
}

void SaTable::remote_removed(const Ipv4Prefix& remote) {
    remotes_.erase(std::ranges::lower_bound(remotes_, remote));
    remote_ranges_.remove(remote, remotes_);
}

void SaTable::unlink(int32_t index) {
    OutboundPolicy& p = policies_[index];
    const uint64_t k = key(p.remote);
    const int32_t first = head(k);
    if (first == index) {
        if (p.next < 0) {
            erase_head(k);
            remote_removed(p.remote);
        } else {
            set_head(k, p.next);
        }
    } else {
        int32_t prev = first;
        while (prev >= 0 && policies_[prev].next != index) prev = policies_[prev].next;
        if (prev >= 0) policies_[prev].next = p.next;
    }
    --per_length_[p.remote.length];
    --policy_count_;
    p = OutboundPolicy{};
    free_.push_back(index);
}

void SaTable::remove_outbound(const OutboundSa* sa) {
    for (const auto& remote : sa->remote_nets) {
        for (int32_t i = head(key(remote)); i >= 0;) {
            const int32_t next = policies_[i].next;
            if (policies_[i].sa == sa) unlink(i);
            i = next;
        }
    }
}

bool SaTable::replace_outbound(const OutboundSa* old, OutboundSa* next) {
    if (old != nullptr) remove_outbound(old);
    return add_outbound(next);
}

OutboundSa* SaTable::outbound(uint32_t src, uint32_t dst) const {
    if (!remote_ranges_.contains(dst)) return nullptr;
    for (int length = 32; length >= 0; --length) {
        if (per_length_[length] == 0) continue;
        const Ipv4Prefix remote{Ipv4Address{dst}, static_cast<uint8_t>(length)};
        for (int32_t i = head(key(remote)); i >= 0; i = policies_[i].next)
            if (policies_[i].local.contains(Ipv4Address{src})) return policies_[i].sa;
    }
    return nullptr;
}

}  // namespace mbox::dataplane

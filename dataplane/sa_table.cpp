#include "dataplane/sa_table.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>

#include <atomic>

#include <fmt/format.h>

namespace mbox::dataplane {

std::unique_ptr<SaTable> SaTable::create(unsigned worker, std::string& error) {
    static std::atomic<unsigned> serial{0};
    const std::string name = fmt::format("mbox_sa_{}_{}", worker, serial.fetch_add(1));
    rte_hash_parameters params{};
    params.name = name.c_str();
    params.entries = kMaxInbound;
    params.key_len = sizeof(uint32_t);
    params.hash_func = rte_jhash;
    params.socket_id = SOCKET_ID_ANY;
    rte_hash* hash = rte_hash_create(&params);
    if (hash == nullptr) {
        error = fmt::format("cannot create the SA table: {}", rte_strerror(rte_errno));
        return nullptr;
    }
    return std::unique_ptr<SaTable>(new SaTable(hash));
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

bool SaTable::add_outbound(OutboundSa* sa) {
    const size_t needed = sa->local_nets.size() * sa->remote_nets.size();
    if (policy_count_ + needed > kMaxPolicies) return false;
    for (const auto& local : sa->local_nets)
        for (const auto& remote : sa->remote_nets) policies_[policy_count_++] = {local, remote, sa};
    return true;
}

void SaTable::remove_outbound(const OutboundSa* sa) {
    uint32_t kept = 0;
    for (uint32_t i = 0; i < policy_count_; ++i)
        if (policies_[i].sa != sa) policies_[kept++] = policies_[i];
    policy_count_ = kept;
}

}  // namespace mbox::dataplane

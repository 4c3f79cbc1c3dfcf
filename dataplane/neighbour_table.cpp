#include "dataplane/neighbour_table.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <atomic>

#include <fmt/format.h>

namespace mbox::dataplane {

std::unique_ptr<NeighbourTable> NeighbourTable::create(unsigned worker, uint32_t capacity, std::string& error) {
    static std::atomic<unsigned> serial{0};
    const std::string name = fmt::format("mbox_nbr_{}_{}", worker, serial.fetch_add(1));
    rte_hash_parameters params{};
    params.name = name.c_str();
    params.entries = capacity;
    params.key_len = sizeof(uint32_t);
    params.hash_func = rte_hash_crc;  // one crc32 instruction (SSE4.2) for a 4-byte address
    params.socket_id = SOCKET_ID_ANY;
    rte_hash* hash = rte_hash_create(&params);
    if (hash == nullptr) {
        error = fmt::format("cannot create neighbour table: {}", rte_strerror(rte_errno));
        return nullptr;
    }
    // rte_hash may place keys at positions up to its rounded-up internal size.
    const auto slots = static_cast<uint32_t>(rte_hash_max_key_id(hash)) + 1;
    return std::unique_ptr<NeighbourTable>(new NeighbourTable(hash, slots));
}

NeighbourTable::~NeighbourTable() { rte_hash_free(hash_); }

const Neighbour* NeighbourTable::find(uint32_t ip) const {
    const int32_t pos = rte_hash_lookup(hash_, &ip);
    return pos < 0 ? nullptr : &entries_[static_cast<size_t>(pos)];
}

bool NeighbourTable::update(uint32_t ip, const Neighbour& n) {
    const int32_t pos = rte_hash_add_key(hash_, &ip);
    if (pos < 0) return false;
    entries_[static_cast<size_t>(pos)] = n;
    return true;
}

void NeighbourTable::remove(uint32_t ip) { rte_hash_del_key(hash_, &ip); }

}  // namespace mbox::dataplane

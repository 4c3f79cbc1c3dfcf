// A worker's copy of the resolved next hops (IPv4 -> MAC, port), kept in an rte_hash
// that only this worker touches, plus the bounded queue of packets waiting for a next
// hop that is not resolved yet. The control thread runs ARP and sends the results.
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_hash;

namespace mbox::dataplane {

struct Neighbour {
    uint8_t mac[6];
    uint16_t port;
};

class NeighbourTable {
public:
    static std::unique_ptr<NeighbourTable> create(unsigned worker, uint32_t capacity, std::string& error);
    ~NeighbourTable();
    NeighbourTable(const NeighbourTable&) = delete;
    NeighbourTable& operator=(const NeighbourTable&) = delete;

    const Neighbour* find(uint32_t ip) const;  // ip in host order
    bool update(uint32_t ip, const Neighbour& n);  // false when the table is full
    void remove(uint32_t ip);

private:
    NeighbourTable(rte_hash* hash, uint32_t capacity) : hash_(hash), entries_(capacity) {}
    rte_hash* hash_;
    std::vector<Neighbour> entries_;  // indexed by the hash's key position
};

// Packets held while their next hop is resolved. Bounded: a full queue drops and counts.
struct PendingPacket {
    rte_mbuf* packet;
    uint64_t enqueued_tsc;
    uint32_t next_hop;
    uint16_t port;
};

struct PendingQueue {
    static constexpr uint16_t kCapacity = 256;
    std::array<PendingPacket, kCapacity> slots{};
    uint16_t count = 0;

    bool waiting_for(uint32_t next_hop) const {
        for (uint16_t i = 0; i < count; ++i)
            if (slots[i].next_hop == next_hop) return true;
        return false;
    }
};

}  // namespace mbox::dataplane

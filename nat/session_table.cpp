#include "nat/session_table.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <optional>
#include <stdexcept>

#include "nat/hash.hpp"
#include "nat/huge_pages.hpp"

namespace mbox::nat {
namespace {

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpRst = 0x04;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kFinOutbound = 1;
constexpr uint8_t kFinInbound = 2;

constexpr uint32_t kNoSession = std::numeric_limits<uint32_t>::max();
constexpr uint16_t kNoAddress = std::numeric_limits<uint16_t>::max();  // address-only: no port pool

// Ports are allocated apart per protocol class: TCP, UDP, ICMP echo identifiers.
constexpr size_t kPortClasses = 3;
constexpr size_t kUdpClass = 1;
size_t port_class(uint8_t protocol) {
    return protocol == kProtoTcp ? 0 : protocol == kProtoUdp ? kUdpClass : 2;
}

// UDP ports never handed out: the gateway's own IKE (500) and NAT-T (4500). A mapping
// on one of them would take the gateway's IPsec traffic for an inside host (filtering
// is endpoint-independent), e.g. an inside NAT-T client's port 4500 kept as it is.
constexpr uint16_t kReservedUdpPorts[] = {500, 4500};

// A mapping's key in one direction. Outbound: the internal address and port; inbound:
// the external ones. Address-only mappings have no port and key on the remote too.
struct Key {
    uint32_t address = 0;
    uint32_t remote = 0;
    uint16_t port = 0;
    uint8_t protocol = 0;
    uint8_t ports = 0;  // ICMP echo (ports) and other ICMP (address-only) must not meet
    bool operator==(const Key&) const = default;
};

Key make_key(uint8_t protocol, bool ports, uint32_t address, uint16_t port, uint32_t remote) {
    if (ports) return Key{address, 0, port, protocol, 1};
    return Key{address, remote, 0, protocol, 0};
}

uint64_t hash(const Key& k) {
    const uint64_t tag = uint64_t{k.port} << 16 | uint64_t{k.protocol} << 8 | k.ports;
    return mix64((uint64_t{k.address} << 32 | k.remote) + tag * 0x9e3779b97f4a7c15ull);
}

// One direction's index, key -> session: open addressing with linear probing and
// backward-shift deletion (Knuth, TAOCP vol. 3, 6.4 Algorithm R), so deletions leave
// no tombstones and a lookup ends at the first empty bucket. At least twice as many
// buckets as sessions keeps probe sequences short.
class KeyIndex {
public:
    explicit KeyIndex(size_t sessions)
        : buckets_(std::bit_ceil(std::max<size_t>(2 * sessions, 2))), mask_(buckets_.size() - 1) {}

    // An asm statement: GCC 12 compiled __builtin_prefetch here to nothing (seen in
    // the object code), and the lookups of a million-mapping table paid every miss.
    void prefetch(const Key& key) const { asm volatile("prefetcht0 %0" : : "m"(buckets_[home(key)])); }

    uint32_t find(const Key& key) const {
        const size_t at = position(key);
        return at == kAbsent ? kNoSession : buckets_[at].session;
    }

    // The key must be absent.
    void insert(const Key& key, uint32_t session) {
        size_t at = home(key);
        while (buckets_[at].session != kNoSession) at = (at + 1) & mask_;
        buckets_[at] = Bucket{key, session};
    }

    // The key must be present. Each entry after the hole moves back into it unless
    // its home lies cyclically in (hole, entry]: then the hole is not on its path.
    void erase(const Key& key) {
        size_t hole = position(key);
        if (hole == kAbsent) return;
        for (size_t next = (hole + 1) & mask_; buckets_[next].session != kNoSession; next = (next + 1) & mask_) {
            const size_t distance_home = (next - home(buckets_[next].key)) & mask_;
            const size_t distance_hole = (next - hole) & mask_;
            if (distance_home >= distance_hole) {
                buckets_[hole] = buckets_[next];
                hole = next;
            }
        }
        buckets_[hole] = Bucket{};
    }

    void clear() { std::fill(buckets_.begin(), buckets_.end(), Bucket{}); }

private:
    static constexpr size_t kAbsent = std::numeric_limits<size_t>::max();
    struct Bucket {
        Key key;
        uint32_t session = kNoSession;
    };

    size_t home(const Key& key) const { return static_cast<size_t>(hash(key)) & mask_; }
    size_t position(const Key& key) const {
        for (size_t at = home(key);; at = (at + 1) & mask_) {
            if (buckets_[at].session == kNoSession) return kAbsent;
            if (buckets_[at].key == key) return at;
        }
    }

    std::vector<Bucket, HugePageAllocator<Bucket>> buckets_;
    size_t mask_;
};

// The worker's slice of ports, once per (external address slot, protocol class): a
// bitmap (set: in use), a free count, and a cursor that rotates so a freed port is not
// handed out again at once.
class PortPools {
public:
    PortPools(uint16_t first, uint16_t last, size_t pools)
        : first_(first), size_(uint32_t{last} - first + 1), words_((size_ + 63) / 64),
          bits_(pools * words_), free_(pools), cursor_(pools) {
        clear();
    }

    // `preferred` when it is in the slice and free (port preservation), else the next
    // free port from the cursor; nullopt when the slice is full.
    std::optional<uint16_t> allocate(size_t pool, uint16_t preferred) {
        if (free_[pool] == 0) return std::nullopt;
        uint32_t offset = uint32_t{preferred} - first_;
        if (preferred < first_ || offset >= size_ || taken(pool, offset)) offset = next_free(pool);
        bits_[pool * words_ + offset / 64] |= uint64_t{1} << (offset % 64);
        --free_[pool];
        cursor_[pool] = (offset + 1) % size_;
        return static_cast<uint16_t>(first_ + offset);
    }

    void release(size_t pool, uint16_t port) {
        const uint32_t offset = uint32_t{port} - first_;
        bits_[pool * words_ + offset / 64] &= ~(uint64_t{1} << (offset % 64));
        ++free_[pool];
    }

    // Bits past the slice's end in the last word are set for good: never free. So are
    // the reserved UDP ports in UDP pools.
    void clear() {
        const uint64_t tail = size_ % 64 == 0 ? 0 : ~uint64_t{0} << (size_ % 64);
        for (size_t pool = 0; pool < free_.size(); ++pool) {
            std::fill_n(bits_.begin() + static_cast<ptrdiff_t>(pool * words_), words_, 0);
            bits_[pool * words_ + words_ - 1] = tail;
            free_[pool] = size_;
            cursor_[pool] = 0;
            if (pool % kPortClasses != kUdpClass) continue;
            for (const uint16_t port : kReservedUdpPorts) {
                const uint32_t offset = uint32_t{port} - first_;
                if (port < first_ || offset >= size_) continue;
                bits_[pool * words_ + offset / 64] |= uint64_t{1} << (offset % 64);
                --free_[pool];
            }
        }
    }

private:
    bool taken(size_t pool, uint32_t offset) const {
        return (bits_[pool * words_ + offset / 64] >> (offset % 64) & 1) != 0;
    }

    // A free bit exists (free_ > 0). The first word is looked at twice: from the
    // cursor on first, then whole after wrapping around.
    uint32_t next_free(size_t pool) const {
        const uint64_t* words = &bits_[pool * words_];
        const size_t start = cursor_[pool] / 64;
        for (size_t i = 0; i <= words_; ++i) {
            const size_t w = (start + i) % words_;
            uint64_t free = ~words[w];
            if (i == 0) free &= ~uint64_t{0} << (cursor_[pool] % 64);
            if (free != 0) return static_cast<uint32_t>(w * 64 + static_cast<size_t>(std::countr_zero(free)));
        }
        return 0;  // unreachable while free_ > 0
    }

    uint16_t first_;
    uint32_t size_;
    size_t words_;
    std::vector<uint64_t> bits_;
    std::vector<uint32_t> free_;
    std::vector<uint32_t> cursor_;
};

// An external address this table allocates ports on. Free while no mapping uses it.
struct AddressSlot {
    uint32_t address = 0;
    uint32_t mappings = 0;
};

// Per session: its address slot (kNoAddress for address-only), and whether it lives.
struct Meta {
    uint16_t address = kNoAddress;
    bool live = false;
};

uint64_t to_ticks(uint32_t seconds, uint64_t ticks_per_second) { return seconds * ticks_per_second; }

void check(const Limits& limits, unsigned worker, unsigned workers, uint64_t ticks_per_second) {
    if (workers == 0 || worker >= workers) throw std::invalid_argument("nat: worker outside [0, workers)");
    if (limits.port_first > limits.port_last || uint32_t{limits.port_last} - limits.port_first + 1 < workers)
        throw std::invalid_argument("nat: fewer external ports than workers");
    if (limits.max_sessions == 0 || limits.max_sessions == kNoSession || limits.max_external_addresses == 0 ||
        limits.max_external_addresses == kNoAddress)
        throw std::invalid_argument("nat: max_sessions and max_external_addresses must be in [1, max)");
    if (ticks_per_second == 0) throw std::invalid_argument("nat: ticks_per_second must be positive");
}

// TCP through the mapping (RFC 5382 REQ-5; RFC 7857 §2). A SYN on a closing mapping
// is a new connection from the same endpoint. The SYN is answered by a SYN+ACK either
// way (the inside host may be the one answering, through an existing mapping), or by a
// plain ACK from outside (the mapping was made mid-connection, e.g. after a restart).
void track_tcp(Session& s, Direction direction, uint8_t flags) {
    const uint8_t syn_ack = static_cast<uint8_t>(flags & (kTcpSyn | kTcpAck));
    if ((flags & kTcpRst) != 0) {
        s.tcp = TcpState::Closing;
        return;
    }
    if (s.tcp == TcpState::Closing && syn_ack == kTcpSyn) {
        s.tcp = TcpState::New;
        s.fin_seen = 0;
        return;
    }
    if ((flags & kTcpFin) != 0) s.fin_seen |= direction == Direction::Outbound ? kFinOutbound : kFinInbound;
    if (s.fin_seen == (kFinOutbound | kFinInbound)) {
        s.tcp = TcpState::Closing;
    } else if (s.tcp == TcpState::New) {
        const bool answered = syn_ack == (kTcpSyn | kTcpAck) || (direction == Direction::Inbound && syn_ack == kTcpAck);
        if (answered) s.tcp = TcpState::Established;
    }
}

}  // namespace

struct SessionTable::Impl {
    Impl(const Limits& l, unsigned w, unsigned ws, uint64_t tps)
        : limits(l), worker(w), workers(ws), ticks_per_second(tps),
          slice_size((uint32_t{l.port_last} - l.port_first + 1) / ws),
          slice_first(static_cast<uint16_t>(l.port_first + w * slice_size)),
          slice_last(w + 1 == ws ? l.port_last : static_cast<uint16_t>(slice_first + slice_size - 1)),
          sessions(l.max_sessions), meta(l.max_sessions), free_list(l.max_sessions), outbound(l.max_sessions),
          inbound(l.max_sessions), addresses(l.max_external_addresses),
          ports(slice_first, slice_last, size_t{l.max_external_addresses} * kPortClasses) {
        reset();
    }

    void reset() {
        std::fill(meta.begin(), meta.end(), Meta{});
        // Popped from the back: the lowest slots are used first.
        for (size_t i = 0; i < free_list.size(); ++i) free_list[i] = static_cast<uint32_t>(free_list.size() - 1 - i);
        free_count = free_list.size();
        outbound.clear();
        inbound.clear();
        std::fill(addresses.begin(), addresses.end(), AddressSlot{});
        addresses_used = 0;
        ports.clear();
        cursor = 0;
    }

    void set_timeouts(const Timeouts& t) {
        timeouts = t;
        tcp_established = to_ticks(t.tcp_established, ticks_per_second);
        tcp_transitory = to_ticks(t.tcp_transitory, ticks_per_second);
        udp = to_ticks(t.udp, ticks_per_second);
        icmp = to_ticks(t.icmp, ticks_per_second);
        other = to_ticks(t.other, ticks_per_second);
    }

    uint32_t index_of(const Session& s) const { return static_cast<uint32_t>(&s - sessions.data()); }
    bool has_ports(uint32_t index) const { return meta[index].address != kNoAddress; }

    uint64_t lifetime(const Session& s) const {
        if (!has_ports(index_of(s))) return other;
        if (s.protocol == kProtoTcp) return s.tcp == TcpState::Established ? tcp_established : tcp_transitory;
        return s.protocol == kProtoUdp ? udp : icmp;
    }

    Key outbound_key(uint32_t index) const {
        const Session& s = sessions[index];
        return make_key(s.protocol, has_ports(index), s.internal_address, s.internal_port, s.remote_address);
    }
    Key inbound_key(uint32_t index) const {
        const Session& s = sessions[index];
        return make_key(s.protocol, has_ports(index), s.external_address, s.external_port, s.remote_address);
    }

    // The live session under `key`; one found expired is removed on the way.
    Session* find(const KeyIndex& index, const Key& key, uint64_t now) {
        const uint32_t i = index.find(key);
        if (i == kNoSession) return nullptr;
        if (sessions[i].expires <= now) {
            remove(i);
            return nullptr;
        }
        return &sessions[i];
    }

    // The slot of `address`, or a free one (claimed for good only when a mapping uses
    // it); kNoAddress when all are taken.
    uint16_t address_slot(uint32_t address) const {
        uint16_t free_slot = kNoAddress;
        for (uint16_t i = 0; i < addresses_used; ++i) {
            if (addresses[i].mappings == 0) {
                if (free_slot == kNoAddress) free_slot = i;
            } else if (addresses[i].address == address) {
                return i;
            }
        }
        if (free_slot == kNoAddress && addresses_used < addresses.size()) free_slot = addresses_used;
        return free_slot;
    }

    // The external port for a new mapping, its address slot in `slot`.
    std::optional<uint16_t> allocate_port(uint8_t protocol, uint32_t external, uint16_t preferred, uint16_t& slot,
                                          CreateError& error) {
        slot = address_slot(external);
        if (slot == kNoAddress) {
            error = CreateError::TooManyAddresses;
            return std::nullopt;
        }
        const std::optional<uint16_t> port = ports.allocate(pool(slot, protocol), preferred);
        if (!port) {
            error = CreateError::PortsExhausted;
            return std::nullopt;
        }
        addresses[slot].address = external;
        ++addresses[slot].mappings;
        addresses_used = std::max<uint16_t>(addresses_used, static_cast<uint16_t>(slot + 1));
        return port;
    }

    size_t pool(uint16_t slot, uint8_t protocol) const { return slot * kPortClasses + port_class(protocol); }

    uint32_t take_slot(const Session& s, uint16_t address) {
        const uint32_t i = free_list[--free_count];
        sessions[i] = s;
        meta[i] = Meta{address, true};
        outbound.insert(outbound_key(i), i);
        inbound.insert(inbound_key(i), i);
        return i;
    }

    void remove(uint32_t i) {
        outbound.erase(outbound_key(i));
        inbound.erase(inbound_key(i));
        if (const uint16_t slot = meta[i].address; slot != kNoAddress) {
            ports.release(pool(slot, sessions[i].protocol), sessions[i].external_port);
            --addresses[slot].mappings;
        }
        meta[i] = Meta{};
        free_list[free_count++] = i;
    }

    Limits limits;
    Timeouts timeouts;
    unsigned worker;
    unsigned workers;
    uint64_t ticks_per_second;
    uint64_t tcp_established = 0, tcp_transitory = 0, udp = 0, icmp = 0, other = 0;  // ticks
    uint32_t slice_size;  // every worker's but the last, which takes the remainder too
    uint16_t slice_first;
    uint16_t slice_last;

    std::vector<Session, HugePageAllocator<Session>> sessions;
    std::vector<Meta, HugePageAllocator<Meta>> meta;
    std::vector<uint32_t> free_list;  // a stack of free session slots
    size_t free_count = 0;
    KeyIndex outbound;
    KeyIndex inbound;
    std::vector<AddressSlot> addresses;
    uint16_t addresses_used = 0;  // slots [0, addresses_used) have been claimed at some time
    PortPools ports;
    size_t cursor = 0;  // where expire() resumes
};

SessionTable::SessionTable(const Limits& limits, const Timeouts& timeouts, unsigned worker, unsigned workers,
                           uint64_t ticks_per_second) {
    check(limits, worker, workers, ticks_per_second);
    impl_ = std::make_unique<Impl>(limits, worker, workers, ticks_per_second);
    impl_->set_timeouts(timeouts);
}

SessionTable::~SessionTable() = default;

// Address-only: hashed on what both directions see, (protocol, remote).
unsigned SessionTable::owner_outbound(uint8_t protocol, bool ports, uint32_t internal_address,
                                      uint16_t internal_port, uint32_t remote_address) const {
    if (!ports) return owner_inbound(protocol, false, 0, remote_address);
    // The worker whose slice holds the inside port: the only one that can keep it.
    const unsigned keeper = owner_inbound(protocol, true, internal_port, 0);
    if (keeper < impl_->workers) return keeper;
    const uint64_t h = mix64(uint64_t{internal_address} << 32 | uint64_t{internal_port} << 8 | protocol);
    return scale(static_cast<uint32_t>(h >> 32), impl_->workers);
}

unsigned SessionTable::owner_inbound(uint8_t protocol, bool ports, uint16_t external_port,
                                     uint32_t remote_address) const {
    const Impl& t = *impl_;
    if (!ports) return scale(static_cast<uint32_t>(mix64(uint64_t{remote_address} << 8 | protocol) >> 32), t.workers);
    if (external_port < t.limits.port_first || external_port > t.limits.port_last) return t.workers;
    return std::min<unsigned>((external_port - t.limits.port_first) / t.slice_size, t.workers - 1);
}

void SessionTable::prefetch_outbound(uint8_t protocol, bool ports, uint32_t internal_address, uint16_t internal_port,
                                     uint32_t remote_address) const {
    impl_->outbound.prefetch(make_key(protocol, ports, internal_address, internal_port, remote_address));
}

void SessionTable::prefetch_inbound(uint8_t protocol, bool ports, uint32_t external_address, uint16_t external_port,
                                    uint32_t remote_address) const {
    impl_->inbound.prefetch(make_key(protocol, ports, external_address, external_port, remote_address));
}

Session* SessionTable::find_outbound(uint8_t protocol, bool ports, uint32_t internal_address, uint16_t internal_port,
                                     uint32_t remote_address, uint64_t now) {
    return impl_->find(impl_->outbound, make_key(protocol, ports, internal_address, internal_port, remote_address),
                       now);
}

Session* SessionTable::find_inbound(uint8_t protocol, bool ports, uint32_t external_address, uint16_t external_port,
                                    uint32_t remote_address, uint64_t now) {
    return impl_->find(impl_->inbound, make_key(protocol, ports, external_address, external_port, remote_address),
                       now);
}

// A live mapping for the same internal endpoint is returned as it is: endpoint-
// independent mapping wants that one, and a second key would corrupt the index.
Session* SessionTable::create(uint8_t protocol, bool ports, uint32_t internal_address, uint16_t internal_port,
                              uint32_t remote_address, uint16_t remote_port, uint32_t external_address, uint16_t rule,
                              uint64_t now, CreateError& error) {
    Impl& t = *impl_;
    error = CreateError::None;
    const Key out = make_key(protocol, ports, internal_address, internal_port, remote_address);
    if (Session* existing = t.find(t.outbound, out, now)) return existing;
    if (t.free_count == 0) {
        error = CreateError::TableFull;
        return nullptr;
    }
    uint16_t slot = kNoAddress;
    uint16_t external_port = 0;
    if (ports) {
        const std::optional<uint16_t> port = t.allocate_port(protocol, external_address, internal_port, slot, error);
        if (!port) return nullptr;
        external_port = *port;
    } else if (t.find(t.inbound, make_key(protocol, false, external_address, 0, remote_address), now)) {
        error = CreateError::Conflict;
        return nullptr;
    }
    Session s;
    s.protocol = protocol;
    s.tcp = ports && protocol == kProtoTcp ? TcpState::New : TcpState::None;
    s.rule = rule;
    s.internal_address = internal_address;
    s.internal_port = ports ? internal_port : 0;
    s.external_address = external_address;
    s.external_port = external_port;
    s.remote_address = remote_address;
    s.remote_port = remote_port;
    s.created = now;
    Session& created = t.sessions[t.take_slot(s, slot)];
    created.expires = now + t.lifetime(created);
    return &created;
}

void SessionTable::touch(Session& s, Direction direction, uint8_t tcp_flags, uint32_t bytes, uint64_t now) {
    if (direction == Direction::Outbound) {
        ++s.packets_out;
        s.bytes_out += bytes;
    } else {
        ++s.packets_in;
        s.bytes_in += bytes;
    }
    if (s.tcp != TcpState::None) track_tcp(s, direction, tcp_flags);
    s.expires = now + impl_->lifetime(s);
}

// `budget` bounds the slots looked at, not only the removals: a call costs the same
// however few sessions have expired.
size_t SessionTable::expire(uint64_t now, size_t budget) {
    Impl& t = *impl_;
    const size_t n = t.sessions.size();
    size_t removed = 0;
    for (size_t k = 0; k < std::min(budget, n); ++k) {
        const size_t i = t.cursor;
        t.cursor = (t.cursor + 1) % n;
        if (t.meta[i].live && t.sessions[i].expires <= now) {
            t.remove(static_cast<uint32_t>(i));
            ++removed;
        }
    }
    return removed;
}

void SessionTable::clear() { impl_->reset(); }
void SessionTable::set_timeouts(const Timeouts& timeouts) { impl_->set_timeouts(timeouts); }
size_t SessionTable::size() const { return impl_->sessions.size() - impl_->free_count; }
size_t SessionTable::capacity() const { return impl_->sessions.size(); }
const Limits& SessionTable::limits() const { return impl_->limits; }
const Timeouts& SessionTable::timeouts() const { return impl_->timeouts; }
uint16_t SessionTable::slice_first() const { return impl_->slice_first; }
uint16_t SessionTable::slice_last() const { return impl_->slice_last; }
size_t SessionTable::slot_count() const { return impl_->sessions.size(); }
const Session* SessionTable::slot(size_t index) const {
    return impl_->meta[index].live ? &impl_->sessions[index] : nullptr;
}

}  // namespace mbox::nat

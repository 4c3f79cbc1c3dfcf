// Integer mixing for NAT: spreading internal hosts over a pool's addresses and over
// workers, and session keys over hash buckets. The MurmurHash3 finalizers (Austin
// Appleby, public domain): every input bit flips each output bit with probability
// about 1/2, which `% n` on a raw address (consecutive hosts, even strides) does not.
// Private to nat/.
#pragma once

#include <cstdint>

namespace mbox::nat {

constexpr uint32_t mix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

constexpr uint64_t mix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

// An even spread of `h` over [0, n) without a division (Lemire's multiply-shift).
constexpr uint32_t scale(uint32_t h, uint32_t n) {
    return static_cast<uint32_t>((uint64_t{h} * n) >> 32);
}

}  // namespace mbox::nat

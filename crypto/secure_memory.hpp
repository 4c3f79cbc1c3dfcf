// Two primitives every key-handling file needs: wiping memory so the compiler cannot
// drop the stores as dead, and comparing authentication tags in time that does not
// depend on where they differ.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string.h>  // explicit_bzero (glibc >= 2.25)

namespace mbox::crypto {

// Zeroes n bytes even when the memory is never read again (a destructor's last act).
inline void secure_wipe(void* p, size_t n) noexcept { explicit_bzero(p, n); }

// true when a[0..n) == b[0..n). Reads every byte whatever the data; the empty asm hides
// the accumulator from the optimiser so the loop cannot become an early-exit memcmp.
inline bool equal_constant_time(const uint8_t* a, const uint8_t* b, size_t n) noexcept {
    uint8_t diff = 0;
    for (size_t i = 0; i < n; ++i)
        diff = static_cast<uint8_t>(diff | (a[i] ^ b[i]));
    asm volatile("" : "+r"(diff));
    return diff == 0;
}

}  // namespace mbox::crypto

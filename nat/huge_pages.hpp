// An allocator for the session table's large arrays: blocks of 2 MiB and more are
// mapped on their own and marked for transparent huge pages (MADV_HUGEPAGE), so that
// a million random lookups do not also take a million TLB misses. Smaller blocks come
// from the ordinary heap. Works whether or not the kernel grants huge pages.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace mbox::nat {

inline constexpr size_t kHugePage = size_t{2} << 20;

template <typename T>
struct HugePageAllocator {
    using value_type = T;

    HugePageAllocator() = default;
    template <typename U>
    HugePageAllocator(const HugePageAllocator<U>&) {}

    T* allocate(size_t n) {
        const size_t bytes = n * sizeof(T);
        if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes));
        void* p = mmap(nullptr, rounded(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        madvise(p, rounded(bytes), MADV_HUGEPAGE);
        return static_cast<T*>(p);
    }

    void deallocate(T* p, size_t n) {
        const size_t bytes = n * sizeof(T);
        if (bytes < kHugePage) {
            ::operator delete(p);
            return;
        }
        munmap(p, rounded(bytes));
    }

    template <typename U>
    bool operator==(const HugePageAllocator<U>&) const {
        return true;
    }

private:
    static size_t rounded(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }
};

}  // namespace mbox::nat

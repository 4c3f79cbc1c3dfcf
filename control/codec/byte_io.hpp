// Big-endian reading and writing for the IKE codecs (ISAKMP for IKEv1, RFC 2408; IKEv2,
// RFC 7296): both lay their messages out as network-order integers, byte strings and
// 16-bit lengths that cover what they head. Standard library only, so that
// scripts/fuzz.sh can build the codecs with clang and libFuzzer outside meson.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <utility>
#include <vector>

namespace mbox::codec {

// Reads from a span. Each parser checks the bytes it needs against remaining() first;
// take() aborts rather than reading past the end should a parser ever forget (the
// fuzz harnesses turn that into a finding, never a silent overread).
class Reader {
public:
    explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    size_t remaining() const { return bytes_.size() - pos_; }
    size_t position() const { return pos_; }
    bool empty() const { return remaining() == 0; }

    std::span<const uint8_t> take(size_t n) {
        if (n > remaining()) std::abort();
        auto part = bytes_.subspan(pos_, n);
        pos_ += n;
        return part;
    }
    void skip(size_t n) { take(n); }
    uint8_t u8() { return take(1)[0]; }
    uint16_t u16() {
        auto b = take(2);
        return static_cast<uint16_t>(b[0] << 8 | b[1]);
    }
    uint32_t u32() { return uint32_t{u16()} << 16 | u16(); }
    uint64_t u64() { return uint64_t{u32()} << 32 | u32(); }
    std::vector<uint8_t> bytes(size_t n) {
        auto b = take(n);
        return {b.begin(), b.end()};
    }
    std::vector<uint8_t> rest() { return bytes(remaining()); }

private:
    std::span<const uint8_t> bytes_;
    size_t pos_ = 0;
};

class Writer {
public:
    void u8(uint8_t v) { out_.push_back(v); }
    void u16(uint16_t v) {
        u8(static_cast<uint8_t>(v >> 8));
        u8(static_cast<uint8_t>(v));
    }
    void u32(uint32_t v) {
        u16(static_cast<uint16_t>(v >> 16));
        u16(static_cast<uint16_t>(v));
    }
    void u64(uint64_t v) {
        u32(static_cast<uint32_t>(v >> 32));
        u32(static_cast<uint32_t>(v));
    }
    void zeros(size_t n) { out_.insert(out_.end(), n, 0); }
    void bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
    size_t size() const { return out_.size(); }

    // Two octets, a 16-bit length and what `body()` writes, the length covering all of
    // it: the opening of every payload, proposal and transform in both IKE versions.
    // The caller keeps a payload within 65535 bytes.
    template <typename Body>
    void framed(uint8_t first, uint8_t second, Body&& body) {
        size_t start = size();
        u8(first);
        u8(second);
        u16(0);
        std::forward<Body>(body)();
        auto length = static_cast<uint16_t>(size() - start);
        out_[start + 2] = static_cast<uint8_t>(length >> 8);
        out_[start + 3] = static_cast<uint8_t>(length);
    }
    // The 32-bit length at `at` becomes the size of everything written.
    void patch_length32(size_t at) {
        auto length = static_cast<uint32_t>(out_.size());
        for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<uint8_t>(length >> (24 - 8 * i));
    }
    std::vector<uint8_t> release() { return std::move(out_); }

private:
    std::vector<uint8_t> out_;
};

// A 32-bit number (an SPI, a message ID) as its four big-endian bytes, and back from
// exactly four.
inline std::vector<uint8_t> be32(uint32_t v) {
    return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
            static_cast<uint8_t>(v)};
}
inline uint32_t read_be32(std::span<const uint8_t> b) { return Reader(b).u32(); }

}  // namespace mbox::codec

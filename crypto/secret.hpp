// Secret bytes held by the control thread (PSKs, IKE keys, DH shared secrets, KEYMAT):
// a byte buffer that wipes itself whenever its memory is given up, on destruction,
// on assignment and when it grows. Never formatted, never logged: it has no
// conversion to text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/secure_memory.hpp"

namespace mbox::crypto {

class SecretBytes {
public:
    SecretBytes() = default;
    explicit SecretBytes(size_t size) : bytes_(size) {}
    explicit SecretBytes(std::span<const uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {}
    explicit SecretBytes(std::string_view text)
        : bytes_(reinterpret_cast<const uint8_t*>(text.data()),
                 reinterpret_cast<const uint8_t*>(text.data()) + text.size()) {}
    SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}
    SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
    SecretBytes& operator=(const SecretBytes& other) {
        if (this != &other) {
            wipe();
            bytes_ = other.bytes_;
        }
        return *this;
    }
    SecretBytes& operator=(SecretBytes&& other) noexcept {
        if (this != &other) {
            wipe();
            bytes_ = std::move(other.bytes_);
            other.bytes_.clear();
        }
        return *this;
    }
    ~SecretBytes() { wipe(); }

    uint8_t* data() { return bytes_.data(); }
    const uint8_t* data() const { return bytes_.data(); }
    size_t size() const { return bytes_.size(); }
    bool empty() const { return bytes_.empty(); }
    uint8_t& operator[](size_t i) { return bytes_[i]; }
    uint8_t operator[](size_t i) const { return bytes_[i]; }
    std::span<const uint8_t> span() const { return bytes_; }
    std::span<uint8_t> span() { return bytes_; }
    operator std::span<const uint8_t>() const { return bytes_; }

    // The first `n` bytes of this secret, and the `n` after `offset`: for cutting
    // prf+ output into keys.
    SecretBytes slice(size_t offset, size_t n) const {
        return SecretBytes(std::span<const uint8_t>(bytes_).subspan(offset, n));
    }

    // Appends without leaving a copy behind in memory the vector gives up.
    void append(std::span<const uint8_t> more) {
        if (bytes_.size() + more.size() > bytes_.capacity()) {
            std::vector<uint8_t> grown;
            grown.reserve(2 * (bytes_.size() + more.size()));
            grown.assign(bytes_.begin(), bytes_.end());
            wipe();
            bytes_ = std::move(grown);
        }
        bytes_.insert(bytes_.end(), more.begin(), more.end());
    }

    // Zeroes the bytes and empties the buffer. Nothing beyond size() ever held a secret:
    // the buffer only shrinks through here.
    void wipe() noexcept {
        if (!bytes_.empty()) secure_wipe(bytes_.data(), bytes_.size());
        bytes_.clear();
    }

    // Constant-time comparison (lengths are not secret).
    bool equals(std::span<const uint8_t> other) const {
        return other.size() == bytes_.size() && equal_constant_time(bytes_.data(), other.data(), other.size());
    }

private:
    std::vector<uint8_t> bytes_;
};

}  // namespace mbox::crypto

// Small conversions the exchanges share: SPIs to and from their wire form (big-endian,
// 4 bytes for ESP, 8 for IKE), Notify payloads, and the nonce length mbox sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "control/ike/codec/message.hpp"
#include "crypto/secret.hpp"

namespace mbox::ike {

// RFC 7296 §2.10: at least half the prf's key size and at least 128 bits; 256 bits
// covers every prf we offer.
inline constexpr size_t kNonceLength = 32;

inline std::vector<uint8_t> spi_bytes(uint32_t spi) {
    return {static_cast<uint8_t>(spi >> 24), static_cast<uint8_t>(spi >> 16), static_cast<uint8_t>(spi >> 8),
            static_cast<uint8_t>(spi)};
}

inline std::vector<uint8_t> spi_bytes(uint64_t spi) {
    std::vector<uint8_t> out(8);
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(spi >> (56 - 8 * i));
    return out;
}

// 0 when the field is not 4 (8) bytes long; 0 is no valid SPI.
inline uint32_t esp_spi(const std::vector<uint8_t>& b) {
    return b.size() == 4 ? uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3] : 0;
}

inline uint64_t ike_spi(const std::vector<uint8_t>& b) {
    if (b.size() != 8) return 0;
    uint64_t v = 0;
    for (uint8_t x : b) v = v << 8 | x;
    return v;
}

inline NotifyPayload notify_of(uint16_t type, std::vector<uint8_t> data = {}) {
    NotifyPayload n;
    n.type = type;
    n.data = std::move(data);
    return n;
}

inline std::vector<uint8_t> bytes_of(const crypto::SecretBytes& secret) {
    return {secret.data(), secret.data() + secret.size()};
}

}  // namespace mbox::ike

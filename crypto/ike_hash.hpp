// Plain digests IKE needs outside its prf: NAT detection (RFC 7296 §2.23, SHA-1) and
// CERTREQ's CA key hashes (§3.7, SHA-1). OpenSSL 3 EVP_Digest.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace mbox::crypto {

std::array<uint8_t, 20> sha1(std::span<const std::span<const uint8_t>> pieces);

}  // namespace mbox::crypto

// Plain digests IKE needs outside its prf: NAT detection (RFC 7296 §2.23, SHA-1),
// CERTREQ's CA key hashes (§3.7, SHA-1), and IKEv1's negotiated hash for the CBC IVs
// (RFC 2409 Appendix B). OpenSSL 3 EVP_Digest.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/ike_prf.hpp"

namespace mbox::crypto {

std::array<uint8_t, 20> sha1(std::span<const std::span<const uint8_t>> pieces);

// The hash under `prf`'s HMAC over the concatenation of `pieces`: 16, 20, 32 or 64
// bytes (prf_length). Empty only when OpenSSL cannot allocate.
std::vector<uint8_t> digest(IkePrf prf, std::span<const std::span<const uint8_t>> pieces);

}  // namespace mbox::crypto

// HMAC precomputation (RFC 2104 §4, "Implementation Note"): the hash state after one
// block of K^ipad and one of K^opad. ipsec-mb's HMAC jobs start from these states, so
// a session computes them once at SA install and no packet ever sees the raw key.
#pragma once

#include <cstdint>
#include <span>

#include <intel-ipsec-mb.h>

#include "crypto/esp_algorithms.hpp"

namespace mbox::crypto {

// Large enough for every state (SHA-512's is 64 bytes).
inline constexpr size_t kHmacStateLen = 64;

// ipsec-mb's HMAC algorithm for an ESP integrity transform; IMB_AUTH_NULL for None.
IMB_HASH_ALG imb_hash_alg(EspIntegrity integrity);

// Fills inner/outer with the states for `key`. Keys longer than the hash block must be
// hashed by the caller first (RFC 2104 §2); ESP keys never are (RFC 2403/2404/4868 fix
// the key length below the block size). Returns false for None or a key that is too
// long. Uses only the manager's stateless one-block helpers, so any thread may call it
// with any manager that is not used concurrently for jobs.
bool compute_hmac_pads(IMB_MGR& mgr, EspIntegrity integrity, std::span<const uint8_t> key,
                       std::span<uint8_t, kHmacStateLen> inner,
                       std::span<uint8_t, kHmacStateLen> outer);

}  // namespace mbox::crypto

// Diffie-Hellman for IKE on OpenSSL 3 (EVP_PKEY): the groups of the IANA "Transform
// Type 4" registry that mbox offers. MODP 1, 2, 5 (RFC 2409, 3526), 14-18 (RFC 3526),
// ECP 19-21 (RFC 5903), Curve25519 31 (RFC 8031).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crypto/secret.hpp"

namespace mbox::crypto {

bool is_supported_ike_dh_group(uint16_t group);
// Bytes of the KE payload's key exchange data for `group` (MODP: the prime's length;
// ECP: twice the field length; 31: 32). 0 for an unsupported group.
size_t ike_dh_public_length(uint16_t group);
// "MODP-2048", "ECP-256", "Curve25519": for logs and show commands.
std::string ike_dh_group_name(uint16_t group);

// One side's ephemeral key pair. Private material lives in OpenSSL's EVP_PKEY (freed
// with EVP_PKEY_free, which clears it) and is never exposed.
class DhKeyPair {
public:
    // A fresh key pair from OpenSSL's RNG. nullptr and `error` for an unsupported group
    // or an OpenSSL failure.
    static std::unique_ptr<DhKeyPair> generate(uint16_t group, std::string& error);
    // A key pair from a known private value, for known-answer tests (RFC 5903 §8,
    // RFC 7748 §6.1): MODP the exponent and ECP the scalar, big-endian; X25519 the
    // 32-byte scalar as RFC 7748 writes it.
    static std::unique_ptr<DhKeyPair> from_private(uint16_t group, std::span<const uint8_t> private_value,
                                                   std::string& error);
    ~DhKeyPair();
    DhKeyPair(const DhKeyPair&) = delete;
    DhKeyPair& operator=(const DhKeyPair&) = delete;

    uint16_t group() const { return group_; }
    // The KE payload's data: RFC 7296 §3.4 (MODP g^x big-endian, left-padded with zeros
    // to the prime's length), RFC 5903 §7 (ECP x | y, each left-padded to the field
    // length), RFC 8031 §2 (X25519, 32 bytes).
    const std::vector<uint8_t>& public_value() const { return public_value_; }

    // g^ir from the peer's KE data: MODP left-padded to the prime's length (RFC 7296
    // §2.14), ECP the x coordinate only (RFC 5903 §7), X25519 32 bytes (RFC 8031 §2).
    // Refuses, with `error`, a peer value of the wrong length, MODP values 0, 1 and
    // >= p-1, ECP points not on the curve, and an all-zero X25519 result.
    std::optional<SecretBytes> shared_secret(std::span<const uint8_t> peer_public, std::string& error) const;

private:
    DhKeyPair() = default;
    struct Impl;
    uint16_t group_ = 0;
    std::vector<uint8_t> public_value_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mbox::crypto

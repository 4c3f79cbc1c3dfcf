// IKEv2 pseudo-random functions and key derivation on OpenSSL 3 (EVP_MAC HMAC):
// prf, prf+ (RFC 7296 §2.13), SKEYSEED and the IKE SA keys (§2.14), the rekeyed IKE
// SA's keys (§2.18), CHILD SA KEYMAT (§2.17) and the PSK form of AUTH (§2.15).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/secret.hpp"

namespace mbox::crypto {

// IKEv2 transform type 2 (PRF). IANA IDs: HMAC-MD5 1, HMAC-SHA1 2, HMAC-SHA2-256 5,
// HMAC-SHA2-512 7 (RFC 4868).
enum class IkePrf : uint8_t { HmacMd5, HmacSha1, HmacSha256, HmacSha512 };

size_t prf_length(IkePrf prf);   // output bytes: 16, 20, 32, 64
uint16_t ikev2_id(IkePrf prf);
std::string_view name(IkePrf prf);  // "PRF_HMAC_SHA2_256"-style names as strongSwan logs them
// OpenSSL's name of the hash under the HMAC ("SHA256"): IKEv1's negotiated hash.
const char* digest_name(IkePrf prf);

// prf(key, data): HMAC over the concatenation of `data`'s pieces. Keys of any length
// (HMAC hashes long keys itself, RFC 2104).
SecretBytes prf(IkePrf prf, std::span<const uint8_t> key, std::span<const std::span<const uint8_t>> data);
SecretBytes prf(IkePrf prf, std::span<const uint8_t> key, std::span<const uint8_t> data);

// prf+(K, S) = T1 | T2 | ... cut to `length`, T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 |
// S | n). `length` must be at most 255 * prf_length (the counter is one octet); more is
// a programming error and returns an empty secret.
SecretBytes prf_plus(IkePrf prf, std::span<const uint8_t> key, std::span<const uint8_t> seed, size_t length);

// The seven keys of an IKE SA (RFC 7296 §2.14), in prf+ order.
struct IkeSaKeys {
    SecretBytes sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
};

// Lengths taken from prf+ for SK_a* (the integrity algorithm's key length) and SK_e*
// (the cipher's key length); SK_d and SK_p* are prf_length(prf) each.
struct IkeKeyLengths {
    size_t integrity = 0;
    size_t encryption = 0;
};

// SKEYSEED = prf(Ni | Nr, g^ir); {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
// = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr). SPIs are written big-endian (as on the wire).
IkeSaKeys derive_ike_sa_keys(IkePrf prf, IkeKeyLengths lengths, std::span<const uint8_t> shared_secret,
                             std::span<const uint8_t> nonce_i, std::span<const uint8_t> nonce_r, uint64_t spi_i,
                             uint64_t spi_r);

// The new IKE SA of a CREATE_CHILD_SA rekey (RFC 7296 §2.18): SKEYSEED = prf_old(SK_d
// (old), g^ir (new) | Ni | Nr), then prf+ of the new SA's PRF over Ni | Nr | SPIi |
// SPIr with the new SPIs.
IkeSaKeys derive_rekeyed_ike_sa_keys(IkePrf old_prf, std::span<const uint8_t> old_sk_d, IkePrf new_prf,
                                     IkeKeyLengths lengths, std::span<const uint8_t> shared_secret,
                                     std::span<const uint8_t> nonce_i, std::span<const uint8_t> nonce_r,
                                     uint64_t spi_i, uint64_t spi_r);

// KEYMAT = prf+(SK_d, [g^ir (new)] | Ni | Nr) (RFC 7296 §2.17); `shared_secret` is empty
// without PFS. The caller cuts it: initiator-to-responder encryption key, then its
// integrity key, then the same for responder-to-initiator.
SecretBytes derive_child_keymat(IkePrf prf, std::span<const uint8_t> sk_d, std::span<const uint8_t> shared_secret,
                                std::span<const uint8_t> nonce_i, std::span<const uint8_t> nonce_r, size_t length);

// AUTH for a shared key (RFC 7296 §2.15): prf(prf(Shared Secret, "Key Pad for
// IKEv2"), <SignedOctets>).
SecretBytes psk_auth(IkePrf prf, std::span<const uint8_t> psk, std::span<const uint8_t> signed_octets);

}  // namespace mbox::crypto

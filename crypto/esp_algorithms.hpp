// ESP transforms mbox supports, with the sizes the data path needs (RFC 4303 §2,
// RFC 8221 for which of them are still recommended). Plain constants: no ipsec-mb or
// OpenSSL here, so configuration and control code can include it freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace mbox::crypto {

enum class EspCipher : uint8_t {
    Null,          // RFC 2410: integrity only (ENCR_NULL); needs an integrity algorithm
    TripleDesCbc,  // RFC 2451, 24-byte key (three independent DES keys)
    Aes128Cbc,     // RFC 3602
    Aes192Cbc,
    Aes256Cbc,
    Aes128Gcm16,   // RFC 4106, 16-byte ICV; key material = 16-byte key || 4-byte salt
    Aes256Gcm16,   // RFC 4106, key material = 32-byte key || 4-byte salt
};

enum class EspIntegrity : uint8_t {
    None,           // only with an AEAD cipher (GCM)
    HmacMd5_96,     // RFC 2403
    HmacMd5_128,    // RFC 4595 (IKEv2 AUTH_HMAC_MD5_128): untruncated HMAC-MD5
    HmacSha1_96,    // RFC 2404
    HmacSha256_128, // RFC 4868
    HmacSha512_256, // RFC 4868
};

struct EspAlgorithms {
    EspCipher cipher = EspCipher::Aes128Cbc;
    EspIntegrity integrity = EspIntegrity::HmacSha1_96;

    bool operator==(const EspAlgorithms&) const = default;
};

struct EspCipherInfo {
    std::string_view name;    // as shown by `show ipsec peer`
    uint8_t key_len;          // bytes of cipher key, salt excluded
    uint8_t salt_len;         // GCM: 4 bytes appended to the key (RFC 4106 §8.1)
    uint8_t iv_len;           // IV carried in every packet
    uint8_t block_size;       // payload + padding + trailer must be a multiple of this
    uint8_t icv_len;          // AEAD only: tag length; 0 for the others
    bool aead;
    uint16_t ikev2_id;        // IKEv2 transform type 1 ID (RFC 7296 §3.3.2, IANA)
    uint16_t ikev2_key_bits;  // value of the Key Length attribute, 0 when none is sent

    // Bytes of keying material taken from KEYMAT (RFC 7296 §2.17) for this cipher.
    constexpr uint8_t key_material_len() const { return static_cast<uint8_t>(key_len + salt_len); }
};

struct EspIntegrityInfo {
    std::string_view name;
    uint8_t key_len;       // ESP uses exactly this key length (RFC 2403/2404/4868)
    uint8_t icv_len;       // truncated output carried in the packet
    uint8_t digest_len;    // full hash output
    uint8_t block_size;    // hash block size (HMAC's B, RFC 2104)
    uint16_t ikev2_id;     // IKEv2 transform type 3 ID
};

inline constexpr uint8_t kEspMaxIvLen = 16;
inline constexpr uint8_t kEspMaxIcvLen = 32;
inline constexpr uint8_t kEspMaxBlockSize = 16;
inline constexpr uint8_t kGcmSaltLen = 4;
inline constexpr uint8_t kGcmIvLen = 8;  // explicit IV on the wire (RFC 4106 §3.1)

namespace detail {
// Indexed by the enums above: keep the order.
// ESP's payload is padded to a multiple of 4 bytes at least (RFC 4303 §2.4), so the
// "block size" of GCM (a stream mode) and of NULL is 4.
inline constexpr EspCipherInfo kCipherInfo[] = {
    {"NULL", 0, 0, 0, 4, 0, false, 11, 0},
    {"3DES-CBC", 24, 0, 8, 8, 0, false, 3, 0},
    {"AES-128-CBC", 16, 0, 16, 16, 0, false, 12, 128},
    {"AES-192-CBC", 24, 0, 16, 16, 0, false, 12, 192},
    {"AES-256-CBC", 32, 0, 16, 16, 0, false, 12, 256},
    {"AES-128-GCM-16", 16, 4, 8, 4, 16, true, 20, 128},
    {"AES-256-GCM-16", 32, 4, 8, 4, 16, true, 20, 256},
};
inline constexpr EspIntegrityInfo kIntegrityInfo[] = {
    {"NONE", 0, 0, 0, 0, 0},
    {"HMAC-MD5-96", 16, 12, 16, 64, 1},
    {"HMAC-MD5-128", 16, 16, 16, 64, 6},
    {"HMAC-SHA1-96", 20, 12, 20, 64, 2},
    {"HMAC-SHA-256-128", 32, 16, 32, 64, 12},
    {"HMAC-SHA-512-256", 64, 32, 64, 128, 14},
};
}  // namespace detail

constexpr const EspCipherInfo& info(EspCipher cipher) {
    return detail::kCipherInfo[static_cast<uint8_t>(cipher)];
}

constexpr const EspIntegrityInfo& info(EspIntegrity integrity) {
    return detail::kIntegrityInfo[static_cast<uint8_t>(integrity)];
}

constexpr std::string_view name(EspCipher cipher) { return info(cipher).name; }
constexpr std::string_view name(EspIntegrity integrity) { return info(integrity).name; }

// Length of the ICV that ends every packet of an SA with these algorithms.
constexpr uint8_t icv_len(EspAlgorithms algs) {
    return info(algs.cipher).aead ? info(algs.cipher).icv_len : info(algs.integrity).icv_len;
}

// Why a combination cannot form an SA, or an empty view when it can. AEAD ciphers carry
// their own integrity (RFC 4106 §1: no separate integrity transform); every other
// cipher needs one (RFC 8221 §5: ESP without integrity MUST NOT be used).
constexpr std::string_view validate(EspAlgorithms algs) {
    if (info(algs.cipher).aead) {
        if (algs.integrity != EspIntegrity::None)
            return "AES-GCM provides its own integrity: no integrity algorithm may be combined with it";
        return {};
    }
    if (algs.integrity == EspIntegrity::None)
        return "a non-AEAD cipher needs an integrity algorithm";
    return {};
}

static_assert(std::size(detail::kCipherInfo) == static_cast<size_t>(EspCipher::Aes256Gcm16) + 1);
static_assert(std::size(detail::kIntegrityInfo) == static_cast<size_t>(EspIntegrity::HmacSha512_256) + 1);
static_assert(info(EspCipher::Aes256Gcm16).key_material_len() == 36);
static_assert(info(EspIntegrity::HmacSha512_256).icv_len == kEspMaxIcvLen);

}  // namespace mbox::crypto

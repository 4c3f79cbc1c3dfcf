// Protection of IKEv2's Encrypted payload (SK, RFC 7296 §3.14) for one direction: a
// CBC cipher and a truncated HMAC on OpenSSL 3 (EVP_CIPHER, EVP_MAC). The framing
// (IV, padding, where the ICV sits) belongs to the IKE engine; this is the arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "crypto/secret.hpp"

namespace mbox::crypto {

// IKEv2 transform type 1 for the SK payload: ENCR_3DES 3, ENCR_AES_CBC 12 (key length
// attribute 128/192/256).
enum class IkeCipher : uint8_t { TripleDesCbc, Aes128Cbc, Aes192Cbc, Aes256Cbc };
// IKEv2 transform type 3: AUTH_HMAC_MD5_96 1, AUTH_HMAC_SHA1_96 2, AUTH_HMAC_MD5_128 6
// (RFC 4595), AUTH_HMAC_SHA2_256_128 12, AUTH_HMAC_SHA2_512_256 14 (RFC 4868).
enum class IkeIntegrity : uint8_t { HmacMd5_96, HmacMd5_128, HmacSha1_96, HmacSha256_128, HmacSha512_256 };

size_t key_length(IkeCipher cipher);        // 24, 16, 24, 32
size_t block_length(IkeCipher cipher);      // also the IV length: 8 for 3DES, 16 for AES
uint16_t ikev2_id(IkeCipher cipher);        // 3 or 12
uint16_t ikev2_key_bits(IkeCipher cipher);  // Key Length attribute: 0 (none sent) for 3DES, else 128/192/256
std::string_view name(IkeCipher cipher);    // "3DES_CBC", "AES_CBC-128", ...
size_t key_length(IkeIntegrity integrity);  // the HMAC key: 16, 16, 20, 32, 64 (RFC 7296 §2.14: the key size of the algorithm)
size_t icv_length(IkeIntegrity integrity);  // the truncated output: 12, 16, 12, 16, 32
uint16_t ikev2_id(IkeIntegrity integrity);
std::string_view name(IkeIntegrity integrity);

// CBC under `key` (key_length(cipher) bytes) without padding of its own: `in` is a
// whole number of blocks and `out` as long. false when a length is wrong or OpenSSL
// fails. SkProtection's cipher, and IKEv1's (RFC 2409 Appendix B), which has no
// integrity transform.
bool cbc_crypt(IkeCipher cipher, std::span<const uint8_t> key, std::span<const uint8_t> iv,
               std::span<const uint8_t> in, std::span<uint8_t> out, bool encrypt);

// One direction's keys (SK_ei + SK_ai, or SK_er + SK_ar).
class SkProtection {
public:
    // nullptr and `error` when a key has the wrong length or OpenSSL fails.
    static std::unique_ptr<SkProtection> create(IkeCipher cipher, IkeIntegrity integrity,
                                                std::span<const uint8_t> encryption_key,
                                                std::span<const uint8_t> integrity_key, std::string& error);
    ~SkProtection();
    SkProtection(const SkProtection&) = delete;
    SkProtection& operator=(const SkProtection&) = delete;

    IkeCipher cipher() const { return cipher_; }
    IkeIntegrity integrity() const { return integrity_; }
    size_t iv_length() const { return block_length(cipher_); }
    size_t block_size() const { return block_length(cipher_); }
    size_t icv_size() const { return icv_length(integrity_); }

    // CBC without padding of its own: `in` is a whole number of blocks (the engine
    // adds RFC 7296's padding and pad-length byte) and `out` is as long as `in`.
    // false when a length is wrong or OpenSSL fails.
    bool encrypt(std::span<const uint8_t> iv, std::span<const uint8_t> in, std::span<uint8_t> out) const;
    bool decrypt(std::span<const uint8_t> iv, std::span<const uint8_t> in, std::span<uint8_t> out) const;

    // The truncated HMAC of `data` into `icv` (icv_size() bytes).
    void sign(std::span<const uint8_t> data, std::span<uint8_t> icv) const;
    // Constant-time check of `icv` against the HMAC of `data`.
    bool verify(std::span<const uint8_t> data, std::span<const uint8_t> icv) const;

private:
    SkProtection() = default;
    IkeCipher cipher_ = IkeCipher::Aes128Cbc;
    IkeIntegrity integrity_ = IkeIntegrity::HmacSha1_96;
    SecretBytes encryption_key_;
    SecretBytes integrity_key_;
};

}  // namespace mbox::crypto

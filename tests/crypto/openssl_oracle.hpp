// An implementation independent of ipsec-mb to check every engine output against:
// OpenSSL 3 EVP ciphers and HMAC. Test code only (the data path never links OpenSSL).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/esp_algorithms.hpp"

namespace mbox::crypto::test {

using Bytes = std::vector<uint8_t>;

// Full HMAC output; hash is "md5", "sha1", "sha256" or "sha512".
Bytes openssl_hmac(std::string_view hash, std::span<const uint8_t> key, std::span<const uint8_t> data);
// Plain hash, for RFC 2104's "keys longer than B are hashed first".
Bytes openssl_digest(std::string_view hash, std::span<const uint8_t> data);
std::string_view hash_name(EspIntegrity integrity);

// CBC without padding (the ESP trailer already pads); cipher is "aes-128-cbc",
// "aes-192-cbc", "aes-256-cbc" or "des-ede3-cbc".
Bytes openssl_cbc(std::string_view cipher, std::span<const uint8_t> key, std::span<const uint8_t> iv,
                  std::span<const uint8_t> data, bool encrypt);
std::string_view cbc_name(EspCipher cipher);

struct GcmOutput {
    Bytes ciphertext;
    Bytes tag;  // 16 bytes
};
GcmOutput openssl_gcm_encrypt(std::span<const uint8_t> key, std::span<const uint8_t> nonce12,
                              std::span<const uint8_t> aad, std::span<const uint8_t> plaintext);

// AES-256-CTR keystream (128-bit big-endian counter increment).
Bytes openssl_aes256_ctr_keystream(std::span<const uint8_t> key, std::span<const uint8_t> counter, size_t len);

}  // namespace mbox::crypto::test

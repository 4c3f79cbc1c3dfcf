// Test fixtures for EspEngine: SAs with random keys, tunnel-mode ESP packets laid out
// as RFC 4303 §2 draws them (inside guard bytes that must never change), the ops that
// encrypt or decrypt them, and the bytes an independent OpenSSL computation says the
// sender must produce.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "crypto/esp_engine.hpp"
#include "crypto/esp_session.hpp"
#include "openssl_oracle.hpp"

namespace mbox::crypto::test {

// Every combination EspSession accepts: NULL, 3DES and AES-CBC with each HMAC, and
// the two GCM ciphers alone (27).
std::vector<EspAlgorithms> all_algorithm_combinations();
std::string describe(EspAlgorithms algs, bool esn);

struct TestSa {
    EspAlgorithms algs;
    bool esn = false;
    uint32_t spi = 0;
    Bytes cipher_key;     // GCM: key || salt
    Bytes integrity_key;
    std::unique_ptr<EspSession> session;

    static TestSa make(EspAlgorithms algs, bool esn, uint32_t spi, std::mt19937_64& rng);
};

struct TestPacket {
    static constexpr size_t kGuard = 16;  // 0xA5 bytes before and after the packet

    Bytes buf;
    size_t esp = kGuard;  // SPI
    size_t iv_off = 0;
    size_t cipher_off = 0;  // payload
    size_t cipher_len = 0;  // payload .. next header (0 for NULL: nothing is encrypted)
    size_t trailer_end = 0;
    size_t icv_off = 0;
    size_t icv_len = 0;
    uint64_t seq = 0;
    Bytes clear;  // payload .. next header before encryption
    // Receiver-side scratch used by decrypt_op.
    std::array<uint8_t, 12> aad{};
    std::array<uint8_t, kEspMaxIcvLen> received_icv{};

    uint8_t* at(size_t off) { return buf.data() + off; }
};

// The cleartext packet: SPI, low 32 bits of seq, IV, `inner`, RFC 4303 §2.4 padding
// (1, 2, 3, ...), pad length, next header 4; the ICV field is zero.
TestPacket build_packet(const TestSa& sa, uint64_t seq, std::span<const uint8_t> iv,
                        std::span<const uint8_t> inner);

// The whole buffer as the sender must leave it, computed with OpenSSL.
Bytes expected_encrypted(const TestSa& sa, const TestPacket& clear);

// The op encrypting `p` in place. With ESN and an HMAC, writes seq_hi into the ICV
// field first (the contract in esp_engine.hpp).
EspCryptoOp encrypt_op(const TestSa& sa, TestPacket& p);

// The op verifying and decrypting `p` in place, as a receiver builds it: GCM's AAD
// comes from the packet's header (and seq_hi with ESN); with ESN and an HMAC the
// received ICV is copied to p.received_icv and seq_hi written where it was.
EspCryptoOp decrypt_op(const TestSa& sa, TestPacket& p);

Bytes random_bytes(std::mt19937_64& rng, size_t n);

}  // namespace mbox::crypto::test

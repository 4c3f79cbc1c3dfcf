// The crypto half of one ESP SA: key schedules, HMAC pads and two ready-made ipsec-mb
// job templates (encrypt, decrypt), all computed once on the control thread when the
// SA is installed. A worker only copies a template into a job and fills in the
// per-packet pointers; it never expands a key. Key material is wiped when the session
// dies (DESIGN "keys are wiped when an SA dies").
//
// A session is immutable after create() and may be read by several workers at once;
// it must outlive every burst that uses it (the SA manager retires it after the
// workers' quiescent period).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <intel-ipsec-mb.h>

#include "crypto/esp_algorithms.hpp"
#include "crypto/hmac_pads.hpp"

namespace mbox::crypto {

class EspEngine;

class EspSession {
public:
    // cipher_key: the cipher's keying material from KEYMAT, for GCM the key followed by
    // the 4-byte salt (RFC 4106 §8.1: 20 or 36 bytes); empty for NULL.
    // integrity_key: the HMAC key (16, 20, 32 or 64 bytes); empty for GCM.
    // Returns nullptr and a message naming the algorithm and the lengths on any
    // mismatch. The caller's key buffers are not kept and may be wiped on return.
    static std::unique_ptr<EspSession> create(EspAlgorithms algorithms,
                                              std::span<const uint8_t> cipher_key,
                                              std::span<const uint8_t> integrity_key,
                                              std::string& error);
    ~EspSession();
    EspSession(const EspSession&) = delete;
    EspSession& operator=(const EspSession&) = delete;

    EspAlgorithms algorithms() const { return algorithms_; }
    uint8_t iv_len() const { return iv_len_; }
    uint8_t block_size() const { return block_size_; }
    uint8_t icv_len() const { return icv_len_; }
    bool aead() const { return aead_; }
    // False once wipe() ran: the engine then fails every operation on this session.
    bool usable() const { return usable_; }

    // Zeroes every byte of key material now (explicit_bzero, which the compiler may not
    // elide even in a destructor). The destructor calls it.
    void wipe() noexcept;

    // The bytes wipe() clears: expanded keys, HMAC pads, GCM salt. For tests.
    std::span<const uint8_t> key_material() const {
        return {reinterpret_cast<const uint8_t*>(&keys_), sizeof keys_};
    }

private:
    friend class EspEngine;
    EspSession() = default;

    struct AesCbcKeys {
        alignas(16) uint8_t encrypt[16 * 15];  // 15 round keys: AES-256's count
        alignas(16) uint8_t decrypt[16 * 15];
    };
    struct TripleDesKeys {
        alignas(16) uint64_t schedule[3][IMB_DES_KEY_SCHED_SIZE / sizeof(uint64_t)];
    };
    struct alignas(64) KeyMaterial {
        union {
            AesCbcKeys aes;
            gcm_key_data gcm;  // expanded AES key and GHASH key powers
            TripleDesKeys des3;
        } cipher;
        alignas(16) uint8_t hmac_inner[kHmacStateLen];
        alignas(16) uint8_t hmac_outer[kHmacStateLen];
        uint8_t salt[kGcmSaltLen];
    };

    const void* des3_schedules_[3] = {};  // ipsec-mb takes 3DES keys as three pointers
    KeyMaterial keys_{};
    IMB_JOB encrypt_template_{};
    IMB_JOB decrypt_template_{};
    EspAlgorithms algorithms_{};
    uint8_t iv_len_ = 0;
    uint8_t block_size_ = 0;
    uint8_t icv_len_ = 0;
    bool aead_ = false;
    bool usable_ = false;
};

}  // namespace mbox::crypto

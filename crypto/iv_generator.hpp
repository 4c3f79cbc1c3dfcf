// Where ESP IVs come from.
//
// CBC (3DES, AES-CBC): RFC 4303 §3.3.1 and RFC 3602 §3 require an IV the sender's
// adversary cannot predict; a counter, or the last ciphertext block of the previous
// packet, is not acceptable. CbcIvGenerator is a per-worker deterministic random bit
// generator built like NIST SP 800-90A's CTR_DRBG (AES-256, no derivation function):
// the output is the AES-256-CTR keystream under a secret key and counter seeded from
// getrandom(2), and after every refill the next 48 bytes of keystream replace key and
// counter, so state captured later reveals nothing about IVs already sent
// (backtracking resistance). It refills a pool of IVs with one ipsec-mb job at a time
// on the worker's own manager, so generating IVs costs a copy per packet plus one AES
// job per pool. It reseeds from the kernel every kReseedInterval refills. It is not a
// validated DRBG and is used for nothing but IVs.
//
// GCM: RFC 4106 §3.1 asks only that an IV never repeat under one key, and says a
// counter is fine. The SA's 64-bit sequence number (the ESN, or the 32-bit sequence
// number zero-extended) is unique per packet of the SA because RFC 4303 §3.3.3 forbids
// the counter to cycle (the SA is rekeyed first), and every SA has its own key. So the
// IV is the sequence number, big-endian; nothing random is needed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <intel-ipsec-mb.h>

namespace mbox::crypto {

class CbcIvGenerator {
public:
    static constexpr size_t kSeedLen = 48;         // AES-256 key || 128-bit counter block
    static constexpr size_t kPoolLen = 1024;       // 64 AES IVs or 128 3DES IVs per refill
    static constexpr uint64_t kReseedInterval = 1u << 16;  // refills between kernel reseeds

    // Fills `seed` from getrandom(2). False and a message if the kernel gives nothing.
    static bool seed_from_kernel(std::span<uint8_t, kSeedLen> seed, std::string& error);

    // `mgr` is the worker's manager (borrowed, must outlive the generator). The seed is
    // copied and may be wiped by the caller afterwards.
    CbcIvGenerator(IMB_MGR& mgr, std::span<const uint8_t, kSeedLen> seed);
    ~CbcIvGenerator();
    CbcIvGenerator(const CbcIvGenerator&) = delete;
    CbcIvGenerator& operator=(const CbcIvGenerator&) = delete;

    // Writes `len` (<= kPoolLen) unpredictable bytes to `out`. Refills the pool when it
    // runs dry, which submits one job: it must be called only while the manager has no
    // job in flight (always true between EspEngine calls). Returns false, writing
    // nothing, if that job fails; the caller drops the packet.
    [[nodiscard]] bool fill(uint8_t* out, size_t len);

    uint64_t refills() const { return refills_; }

private:
    bool refill();
    void set_key();  // expands key_ into round_keys_

    IMB_MGR& mgr_;
    alignas(16) uint8_t key_[32];
    alignas(16) uint8_t round_keys_[16 * 15];
    alignas(16) uint8_t scratch_keys_[16 * 15];  // decryption schedule, unused by CTR
    alignas(16) uint8_t counter_[16];
    alignas(64) uint8_t pool_[kPoolLen + kSeedLen];
    size_t used_ = kPoolLen;  // bytes of pool_ already handed out
    uint64_t refills_ = 0;
};

// RFC 4106 §3.1: the 8-byte GCM IV for the packet with 64-bit sequence number `seq`.
inline void gcm_iv_from_sequence(uint64_t seq, std::span<uint8_t, 8> out) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<uint8_t>(seq);
        seq >>= 8;
    }
}

}  // namespace mbox::crypto

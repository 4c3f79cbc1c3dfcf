// One worker's ESP crypto: an ipsec-mb manager (IMB_MGR) and burst functions that
// encrypt or decrypt-and-verify a span of packets with one batched submission.
//
// The engine transforms byte ranges; where they lie in the packet is the caller's
// business (the ESP encap/decap stages). For tunnel-mode ESP (RFC 4303 §2):
//
//   | SPI | seq | IV | payload ... padding | pad len | next hdr | ICV |
//   ^auth_start    ^iv ^cipher_start                              ^icv
//   CBC:  cipher = payload .. next hdr (a multiple of the block size)
//         auth   = SPI .. next hdr (+ 4 bytes of seq_hi with ESN, see below)
//   GCM:  cipher = payload .. next hdr; aad = SPI || seq (8 bytes), or
//         SPI || seq_hi || seq_lo (12 bytes) with ESN (RFC 4106 §5); auth_* unused
//   NULL: cipher_len = 0; auth as for CBC (iv unused)
//
// Extended sequence numbers with CBC + HMAC (RFC 4303 §2.2.1, §3.3.2.1): the ICV is
// computed over the ESP packet with the high 32 bits of the sequence number appended
// after the trailer, but seq_hi is not sent. No copy is needed:
//   encrypt: write seq_hi (big-endian, store_seq_hi) in the first 4 bytes of the ICV
//            field and pass auth_len = trailer end - SPI + 4. The engine writes the
//            ICV over it once the hash is complete.
//   decrypt: first copy the received ICV somewhere else (an array per burst, or 4
//            bytes further into the tailroom) and point icv at the copy; then write
//            seq_hi where the ICV began and pass auth_len + 4 as above.
// The icv pointer may therefore lie inside the auth range on encrypt (it is written
// only after hashing) but must not on decrypt.
//
// Threading: one engine per worker, used only by that worker. Sessions are shared
// read-only. No heap allocation, logging or system call in encrypt()/decrypt().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <intel-ipsec-mb.h>

#include "crypto/esp_algorithms.hpp"
#include "crypto/esp_session.hpp"
#include "crypto/iv_generator.hpp"

namespace mbox::crypto {

enum class CryptoStatus : uint8_t {
    Ok,          // transformed; on decrypt, the ICV matched and the plaintext is authentic
    AuthFailed,  // decrypt only: ICV mismatch; the cipher range was zeroed, drop the packet
    Error,       // bad arguments, unusable session or an ipsec-mb error; drop the packet
};

std::string_view to_string(CryptoStatus status);

// One packet's worth of work. Pointers refer to the caller's packet buffer.
struct EspCryptoOp {
    const EspSession* session = nullptr;
    const uint8_t* iv = nullptr;           // IV as on the wire (CBC: iv_len bytes; GCM: 8 bytes)
    uint8_t* cipher_start = nullptr;       // transformed in place
    uint32_t cipher_len = 0;               // CBC: a non-zero multiple of the block size
    const uint8_t* auth_start = nullptr;   // CBC/NULL: ESP header; must not follow cipher_start
    uint32_t auth_len = 0;                 // must cover the whole cipher range
    const uint8_t* aad = nullptr;          // GCM only
    uint32_t aad_len = 0;
    uint8_t* icv = nullptr;                // written on encrypt, read on decrypt
    CryptoStatus status = CryptoStatus::Error;  // out
};

class EspEngine {
public:
    // Jobs this engine keeps in flight at most; beyond it the oldest is flushed first.
    // Far below the manager's own queue (IMB_MAX_JOBS), and the size of the per-job
    // scratch ring.
    static constexpr unsigned kMaxInFlight = 128;
    static_assert(kMaxInFlight < IMB_MAX_JOBS, "the manager must always have room for our jobs");

    // Allocates the manager (init_mb_mgr_auto: AVX-512 where present) and seeds the
    // IV generator from the kernel. Call at worker start-up, not per packet.
    static std::unique_ptr<EspEngine> create(std::string& error);
    ~EspEngine();
    EspEngine(const EspEngine&) = delete;
    EspEngine& operator=(const EspEngine&) = delete;

    // Each op's status is set; returns how many are Ok. Encrypt-then-MAC: the ICV is
    // computed over the ciphertext and written to op.icv.
    unsigned encrypt(std::span<EspCryptoOp> ops);

    // Verifies each ICV (constant-time comparison against a tag computed into engine
    // scratch) and decrypts. Only ops with status Ok hold authentic plaintext. When
    // ipsec-mb processed an op that then fails (AuthFailed, or an Error status from
    // the library) its cipher range is zeroed, so no unauthenticated plaintext stays
    // in the buffer; ops rejected for bad arguments are not touched. Returns how many
    // are Ok.
    unsigned decrypt(std::span<EspCryptoOp> ops);

    // Unpredictable CBC IVs for this worker (iv_generator.hpp). Use between calls to
    // encrypt()/decrypt(), never inside one.
    CbcIvGenerator& ivs() { return ivs_; }

    // Times the manager handed back a job it did not owe us (more completions than
    // submissions, or none while some were owed): the symptom of ipsec-mb 1.3's burst
    // API bug. Always 0 with the job API; a worker can export it as a counter.
    uint64_t queue_anomalies() const { return queue_anomalies_; }

    IMB_ARCH arch() const { return arch_; }
    std::string_view arch_name() const;

private:
    struct alignas(64) Scratch {
        uint8_t tag[kEspMaxIcvLen];  // computed ICV on decrypt
        uint8_t nonce[16];           // GCM: salt || IV (12 bytes used)
    };

    EspEngine(IMB_MGR* mgr, IMB_ARCH arch, std::span<const uint8_t, CbcIvGenerator::kSeedLen> seed);
    template <bool Encrypt>
    unsigned run(std::span<EspCryptoOp> ops);
    template <bool Encrypt>
    unsigned complete(IMB_JOB* job);

    IMB_MGR* mgr_;
    IMB_ARCH arch_;
    unsigned in_flight_ = 0;
    uint64_t next_slot_ = 0;
    uint64_t queue_anomalies_ = 0;
    CbcIvGenerator ivs_;
    Scratch scratch_[kMaxInFlight];
};

// Big-endian store of the high 32 bits of a 64-bit sequence number, for the ESN
// contract above.
inline void store_seq_hi(uint8_t* at, uint64_t seq) {
    const uint32_t hi = static_cast<uint32_t>(seq >> 32);
    at[0] = static_cast<uint8_t>(hi >> 24);
    at[1] = static_cast<uint8_t>(hi >> 16);
    at[2] = static_cast<uint8_t>(hi >> 8);
    at[3] = static_cast<uint8_t>(hi);
}

// RFC 4106 §5 AAD for an ESP packet with SPI `spi` (host order) and 64-bit sequence
// number `seq`: 8 bytes SPI || seq_lo, or with ESN 12 bytes SPI || seq_hi || seq_lo.
// Returns the length written to `out`.
inline uint32_t make_gcm_aad(std::span<uint8_t, 12> out, uint32_t spi, uint64_t seq, bool esn) {
    auto put32 = [](uint8_t* p, uint32_t v) {
        p[0] = static_cast<uint8_t>(v >> 24);
        p[1] = static_cast<uint8_t>(v >> 16);
        p[2] = static_cast<uint8_t>(v >> 8);
        p[3] = static_cast<uint8_t>(v);
    };
    put32(out.data(), spi);
    if (esn) {
        put32(out.data() + 4, static_cast<uint32_t>(seq >> 32));
        put32(out.data() + 8, static_cast<uint32_t>(seq));
        return 12;
    }
    put32(out.data() + 4, static_cast<uint32_t>(seq));
    return 8;
}

}  // namespace mbox::crypto

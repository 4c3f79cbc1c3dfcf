#include "crypto/esp_engine.hpp"

#include <cstring>
#include <new>

#include "crypto/secure_memory.hpp"

namespace mbox::crypto {

std::string_view to_string(CryptoStatus status) {
    switch (status) {
    case CryptoStatus::Ok: return "ok";
    case CryptoStatus::AuthFailed: return "auth_failed";
    case CryptoStatus::Error: return "error";
    }
    return "?";
}

namespace {

// Rejects what ipsec-mb would reject, and what it would accept but is wrong for ESP
// (an ICV that does not cover the whole ciphertext), before anything is submitted.
bool arguments_valid(const EspCryptoOp& op) {
    const EspSession* s = op.session;
    if (s == nullptr || !s->usable() || op.icv == nullptr)
        return false;
    if (s->aead())
        return op.iv != nullptr && op.cipher_start != nullptr && (op.aad != nullptr || op.aad_len == 0);
    if (op.auth_start == nullptr)
        return false;
    if (s->algorithms().cipher == EspCipher::Null)
        return op.cipher_len == 0;
    if (op.iv == nullptr || op.cipher_start == nullptr || op.cipher_len == 0 ||
        op.cipher_len % s->block_size() != 0)
        return false;
    const auto auth = reinterpret_cast<uintptr_t>(op.auth_start);
    const auto cipher = reinterpret_cast<uintptr_t>(op.cipher_start);
    return cipher >= auth && cipher + op.cipher_len <= auth + op.auth_len;
}

}  // namespace

std::unique_ptr<EspEngine> EspEngine::create(std::string& error) {
    IMB_MGR* mgr = alloc_mb_mgr(0);
    if (mgr == nullptr) {
        error = "ipsec-mb: cannot allocate a multi-buffer manager";
        return nullptr;
    }
    IMB_ARCH arch = IMB_ARCH_NONE;
    init_mb_mgr_auto(mgr, &arch);
    if (arch == IMB_ARCH_NONE || imb_get_errno(mgr) != 0) {
        error = std::string("ipsec-mb: cannot initialise a manager: ") + imb_get_strerror(imb_get_errno(mgr));
        free_mb_mgr(mgr);
        return nullptr;
    }
    uint8_t seed[CbcIvGenerator::kSeedLen];
    if (!CbcIvGenerator::seed_from_kernel(seed, error)) {
        free_mb_mgr(mgr);
        return nullptr;
    }
    std::unique_ptr<EspEngine> engine(new (std::nothrow) EspEngine(mgr, arch, seed));
    secure_wipe(seed, sizeof seed);
    if (!engine) {
        free_mb_mgr(mgr);
        error = "out of memory for an ESP engine";
    }
    return engine;
}

EspEngine::EspEngine(IMB_MGR* mgr, IMB_ARCH arch, std::span<const uint8_t, CbcIvGenerator::kSeedLen> seed)
    : mgr_(mgr), arch_(arch), ivs_(*mgr, seed) {
    std::memset(scratch_, 0, sizeof scratch_);
}

EspEngine::~EspEngine() {
    while (IMB_FLUSH_JOB(mgr_) != nullptr) {
    }
    secure_wipe(scratch_, sizeof scratch_);
    // ivs_ is destroyed after this body; its destructor wipes only its own state and
    // does not touch the manager freed here.
    free_mb_mgr(mgr_);
}

std::string_view EspEngine::arch_name() const {
    switch (arch_) {
    case IMB_ARCH_NONE: return "none";
    case IMB_ARCH_NOAESNI: return "no-aesni";
    case IMB_ARCH_SSE: return "sse";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX512: return "avx512";
    case IMB_ARCH_NUM: break;
    }
    return "?";
}

unsigned EspEngine::encrypt(std::span<EspCryptoOp> ops) { return run<true>(ops); }
unsigned EspEngine::decrypt(std::span<EspCryptoOp> ops) { return run<false>(ops); }

template <bool Encrypt>
unsigned EspEngine::run(std::span<EspCryptoOp> ops) {
    unsigned ok = 0;
    for (EspCryptoOp& op : ops) {
        op.status = CryptoStatus::Error;
        if (!arguments_valid(op))
            continue;
        if (in_flight_ == kMaxInFlight) {
            // Our scratch ring is full: complete the oldest job before reusing its slot.
            IMB_JOB* oldest = IMB_FLUSH_JOB(mgr_);
            if (oldest != nullptr)
                ok += complete<Encrypt>(oldest);
        }
        const EspSession& s = *op.session;
        Scratch& scratch = scratch_[next_slot_++ % kMaxInFlight];

        IMB_JOB* job = IMB_GET_NEXT_JOB(mgr_);
        *job = Encrypt ? s.encrypt_template_ : s.decrypt_template_;
        job->user_data = &op;
        job->user_data2 = &scratch;
        job->auth_tag_output = Encrypt ? op.icv : scratch.tag;
        if (s.aead_) {
            // RFC 4106 §4: nonce = salt || explicit IV; the counter block's final
            // 0x00000001 is added by the library.
            std::memcpy(scratch.nonce, s.keys_.salt, kGcmSaltLen);
            std::memcpy(scratch.nonce + kGcmSaltLen, op.iv, kGcmIvLen);
            job->iv = scratch.nonce;
            job->src = op.cipher_start;
            job->dst = op.cipher_start;
            job->cipher_start_src_offset_in_bytes = 0;
            job->msg_len_to_cipher_in_bytes = op.cipher_len;
            job->hash_start_src_offset_in_bytes = 0;
            job->msg_len_to_hash_in_bytes = op.cipher_len;
            job->u.GCM.aad = op.aad;
            job->u.GCM.aad_len_in_bytes = op.aad_len;
        } else {
            job->src = op.auth_start;
            job->hash_start_src_offset_in_bytes = 0;
            job->msg_len_to_hash_in_bytes = op.auth_len;
            job->msg_len_to_cipher_in_bytes = op.cipher_len;
            if (op.cipher_len != 0) {
                job->iv = op.iv;
                job->dst = op.cipher_start;
                job->cipher_start_src_offset_in_bytes = static_cast<uint64_t>(op.cipher_start - op.auth_start);
            } else {
                job->dst = scratch.nonce;  // NULL cipher: nothing is written
                job->cipher_start_src_offset_in_bytes = 0;
            }
        }
        ++in_flight_;
        // Jobs come back in submission order: take every one that is ready now.
        IMB_JOB* done = IMB_SUBMIT_JOB(mgr_);
        while (done != nullptr) {
            ok += complete<Encrypt>(done);
            done = IMB_GET_COMPLETED_JOB(mgr_);
        }
    }
    while (in_flight_ > 0) {
        IMB_JOB* done = IMB_FLUSH_JOB(mgr_);
        if (done == nullptr) {
            // Not reached: the manager holds exactly in_flight_ jobs. If it ever does
            // not, the ops still owed keep status Error; count it and start afresh.
            ++queue_anomalies_;
            in_flight_ = 0;
            break;
        }
        ok += complete<Encrypt>(done);
    }
    return ok;
}

template <bool Encrypt>
unsigned EspEngine::complete(IMB_JOB* job) {
    if (in_flight_ == 0) {
        ++queue_anomalies_;  // a completion nobody submitted: ignore it
        return 0;
    }
    --in_flight_;
    EspCryptoOp& op = *static_cast<EspCryptoOp*>(job->user_data);
    Scratch& scratch = *static_cast<Scratch*>(job->user_data2);
    if (job->status != IMB_STATUS_COMPLETED) {
        op.status = CryptoStatus::Error;
        if (!Encrypt && op.cipher_len != 0)
            std::memset(op.cipher_start, 0, op.cipher_len);
        return 0;
    }
    if constexpr (!Encrypt) {
        if (!equal_constant_time(scratch.tag, op.icv, op.session->icv_len())) {
            op.status = CryptoStatus::AuthFailed;
            if (op.cipher_len != 0)
                std::memset(op.cipher_start, 0, op.cipher_len);
            // The computed tag is the valid ICV for the forged data: do not keep it.
            std::memset(scratch.tag, 0, sizeof scratch.tag);
            return 0;
        }
    }
    op.status = CryptoStatus::Ok;
    return 1;
}

}  // namespace mbox::crypto

#include "crypto/iv_generator.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "crypto/secure_memory.hpp"

namespace mbox::crypto {

namespace {

constexpr size_t kKeyLen = 32;

bool read_kernel_random(uint8_t* out, size_t len, unsigned flags) {
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(out + got, len - got, flags);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        got += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

bool CbcIvGenerator::seed_from_kernel(std::span<uint8_t, kSeedLen> seed, std::string& error) {
    if (read_kernel_random(seed.data(), seed.size(), 0))
        return true;
    error = std::string("getrandom: ") + std::strerror(errno);
    return false;
}

CbcIvGenerator::CbcIvGenerator(IMB_MGR& mgr, std::span<const uint8_t, kSeedLen> seed) : mgr_(mgr) {
    std::memcpy(key_, seed.data(), sizeof key_);
    std::memcpy(counter_, seed.data() + kKeyLen, sizeof counter_);
    set_key();
    std::memset(pool_, 0, sizeof pool_);
}

CbcIvGenerator::~CbcIvGenerator() {
    secure_wipe(key_, sizeof key_);
    secure_wipe(round_keys_, sizeof round_keys_);
    secure_wipe(scratch_keys_, sizeof scratch_keys_);
    secure_wipe(counter_, sizeof counter_);
    secure_wipe(pool_, sizeof pool_);
}

void CbcIvGenerator::set_key() {
    IMB_AES_KEYEXP_256(&mgr_, key_, round_keys_, scratch_keys_);
}

bool CbcIvGenerator::refill() {
    // A job of ours in the middle of someone else's burst would come back in their
    // completion loop: refuse rather than corrupt the caller's bookkeeping.
    if (IMB_QUEUE_SIZE(&mgr_) != 0)
        return false;

    if (++refills_ % kReseedInterval == 0) {
        // Fold fresh kernel entropy into key and counter. Non-blocking: if the kernel
        // has nothing right now, keep going on the current state.
        uint8_t fresh[kSeedLen];
        if (read_kernel_random(fresh, sizeof fresh, GRND_NONBLOCK)) {
            for (size_t i = 0; i < sizeof key_; ++i)
                key_[i] ^= fresh[i];
            for (size_t i = 0; i < sizeof counter_; ++i)
                counter_[i] ^= fresh[kKeyLen + i];
            set_key();
        }
        secure_wipe(fresh, sizeof fresh);
    }

    // Keystream = AES-256-CTR over zeros: kPoolLen bytes of IVs, then kSeedLen bytes
    // that become the next key and counter (CTR_DRBG's update step).
    std::memset(pool_, 0, sizeof pool_);
    IMB_JOB* job = IMB_GET_NEXT_JOB(&mgr_);
    std::memset(job, 0, sizeof *job);
    job->cipher_mode = IMB_CIPHER_CNTR;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->chain_order = IMB_ORDER_CIPHER_HASH;
    job->hash_alg = IMB_AUTH_NULL;
    job->enc_keys = round_keys_;
    job->dec_keys = round_keys_;
    job->key_len_in_bytes = IMB_KEY_256_BYTES;
    job->iv = counter_;
    job->iv_len_in_bytes = sizeof counter_;
    job->src = pool_;
    job->dst = pool_;
    job->msg_len_to_cipher_in_bytes = sizeof pool_;
    IMB_JOB* done = IMB_SUBMIT_JOB(&mgr_);
    if (done == nullptr)
        done = IMB_FLUSH_JOB(&mgr_);
    const bool ok = done == job && job->status == IMB_STATUS_COMPLETED;
    while (IMB_FLUSH_JOB(&mgr_) != nullptr) {
    }
    if (!ok) {
        secure_wipe(pool_, sizeof pool_);
        return false;
    }

    std::memcpy(key_, pool_ + kPoolLen, sizeof key_);
    std::memcpy(counter_, pool_ + kPoolLen + kKeyLen, sizeof counter_);
    secure_wipe(pool_ + kPoolLen, kSeedLen);
    set_key();
    used_ = 0;
    return true;
}

bool CbcIvGenerator::fill(uint8_t* out, size_t len) {
    if (len == 0)
        return true;  // NULL cipher: no IV (and `out` may be null)
    if (len > kPoolLen)
        return false;
    if (used_ + len > kPoolLen && !refill())
        return false;
    // IVs already handed out go on the wire in clear, so only the pool's future part
    // is secret: nothing to wipe per packet.
    std::memcpy(out, pool_ + used_, len);
    used_ += len;
    return true;
}

}  // namespace mbox::crypto

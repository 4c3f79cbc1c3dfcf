#include "crypto/esp_session.hpp"

#include <cstring>
#include <mutex>
#include <new>

#include "crypto/secure_memory.hpp"

namespace mbox::crypto {

namespace {

// Key expansion runs on the control thread with a manager of its own: the helpers used
// (key expansion, one-block hashes, GCM precomputation) keep no state in the manager,
// but a manager must never be shared with a worker that is submitting jobs.
IMB_MGR* key_setup_manager(std::string& error) {
    static IMB_MGR* mgr = [] {
        IMB_MGR* m = alloc_mb_mgr(0);
        if (m != nullptr)
            init_mb_mgr_auto(m, nullptr);
        return m;
    }();
    if (mgr == nullptr)
        error = "ipsec-mb: cannot allocate a manager for key expansion";
    return mgr;
}

// The helpers are stateless, but the control thread is not the only caller in tests
// (and the SA manager may one day install from more than one thread): serialise them.
std::mutex& key_setup_mutex() {
    static std::mutex m;
    return m;
}

std::string length_error(std::string_view what, std::string_view alg, size_t expected, size_t got) {
    std::string s;
    s.append(what).append(" for ").append(alg).append(" must be ").append(std::to_string(expected));
    s.append(" bytes, got ").append(std::to_string(got));
    return s;
}

IMB_CIPHER_MODE imb_cipher_mode(EspCipher cipher) {
    switch (cipher) {
    case EspCipher::Null: return IMB_CIPHER_NULL;
    case EspCipher::TripleDesCbc: return IMB_CIPHER_DES3;
    case EspCipher::Aes128Cbc:
    case EspCipher::Aes192Cbc:
    case EspCipher::Aes256Cbc: return IMB_CIPHER_CBC;
    case EspCipher::Aes128Gcm16:
    case EspCipher::Aes256Gcm16: return IMB_CIPHER_GCM;
    }
    return IMB_CIPHER_NULL;
}

}  // namespace

std::unique_ptr<EspSession> EspSession::create(EspAlgorithms algorithms,
                                               std::span<const uint8_t> cipher_key,
                                               std::span<const uint8_t> integrity_key,
                                               std::string& error) {
    const EspCipherInfo& ci = info(algorithms.cipher);
    const EspIntegrityInfo& ii = info(algorithms.integrity);
    if (std::string_view why = validate(algorithms); !why.empty()) {
        error.assign(why);
        return nullptr;
    }
    if (cipher_key.size() != ci.key_material_len()) {
        error = length_error(ci.aead ? "key material (key || 4-byte salt)" : "cipher key", ci.name,
                             ci.key_material_len(), cipher_key.size());
        return nullptr;
    }
    if (integrity_key.size() != ii.key_len) {
        error = length_error("integrity key", ii.name, ii.key_len, integrity_key.size());
        return nullptr;
    }
    if (algorithms.cipher == EspCipher::TripleDesCbc) {
        // K1 == K2 or K2 == K3 collapses EDE to single DES (SP 800-67 §3.1 requires
        // three distinct keys for three-key TDEA); KEYMAT never yields it by chance.
        const uint8_t* k = cipher_key.data();
        if (std::memcmp(k, k + 8, 8) == 0 || std::memcmp(k + 8, k + 16, 8) == 0) {
            error = "3DES-CBC key is degenerate: K1 == K2 or K2 == K3 reduces it to single DES";
            return nullptr;
        }
    }

    IMB_MGR* mgr = key_setup_manager(error);
    if (mgr == nullptr)
        return nullptr;

    std::unique_ptr<EspSession> s(new (std::nothrow) EspSession());
    if (!s) {
        error = "out of memory for an ESP session";
        return nullptr;
    }
    s->algorithms_ = algorithms;
    s->iv_len_ = ci.iv_len;
    s->block_size_ = ci.block_size;
    s->icv_len_ = crypto::icv_len(algorithms);
    s->aead_ = ci.aead;

    IMB_JOB& enc = s->encrypt_template_;
    enc.cipher_mode = imb_cipher_mode(algorithms.cipher);
    enc.hash_alg = ci.aead ? IMB_AUTH_AES_GMAC : imb_hash_alg(algorithms.integrity);
    enc.key_len_in_bytes = ci.key_len;
    enc.iv_len_in_bytes = ci.aead ? IMB_GCM_IV_DATA_LEN : ci.iv_len;
    enc.auth_tag_output_len_in_bytes = s->icv_len_;

    KeyMaterial& keys = s->keys_;
    {
        std::lock_guard lock(key_setup_mutex());
        switch (algorithms.cipher) {
        case EspCipher::Null:
            break;
        case EspCipher::TripleDesCbc:
            for (int i = 0; i < 3; ++i) {
                IMB_DES_KEYSCHED(mgr, keys.cipher.des3.schedule[i], cipher_key.data() + 8 * i);
                s->des3_schedules_[i] = keys.cipher.des3.schedule[i];
            }
            enc.enc_keys = enc.dec_keys = s->des3_schedules_;
            break;
        case EspCipher::Aes128Cbc:
            IMB_AES_KEYEXP_128(mgr, cipher_key.data(), keys.cipher.aes.encrypt, keys.cipher.aes.decrypt);
            break;
        case EspCipher::Aes192Cbc:
            IMB_AES_KEYEXP_192(mgr, cipher_key.data(), keys.cipher.aes.encrypt, keys.cipher.aes.decrypt);
            break;
        case EspCipher::Aes256Cbc:
            IMB_AES_KEYEXP_256(mgr, cipher_key.data(), keys.cipher.aes.encrypt, keys.cipher.aes.decrypt);
            break;
        case EspCipher::Aes128Gcm16:
            IMB_AES128_GCM_PRE(mgr, cipher_key.data(), &keys.cipher.gcm);
            break;
        case EspCipher::Aes256Gcm16:
            IMB_AES256_GCM_PRE(mgr, cipher_key.data(), &keys.cipher.gcm);
            break;
        }
        if (algorithms.integrity != EspIntegrity::None &&
            !compute_hmac_pads(*mgr, algorithms.integrity, integrity_key, keys.hmac_inner,
                               keys.hmac_outer)) {
            error = "cannot precompute HMAC pads for " + std::string(ii.name);
            return nullptr;  // ~EspSession wipes what was expanded
        }
    }
    if (ci.aead) {
        std::memcpy(keys.salt, cipher_key.data() + ci.key_len, kGcmSaltLen);
        enc.enc_keys = enc.dec_keys = &keys.cipher.gcm;
    } else if (enc.cipher_mode == IMB_CIPHER_CBC) {
        enc.enc_keys = keys.cipher.aes.encrypt;
        enc.dec_keys = keys.cipher.aes.decrypt;
    }
    if (algorithms.integrity != EspIntegrity::None) {
        enc.u.HMAC._hashed_auth_key_xor_ipad = keys.hmac_inner;
        enc.u.HMAC._hashed_auth_key_xor_opad = keys.hmac_outer;
    }

    // Encrypt-then-MAC out, verify-then-decrypt in (RFC 4303 §3.3.2, §3.4.4): the ICV
    // always covers ciphertext.
    IMB_JOB& dec = s->decrypt_template_;
    dec = enc;
    enc.cipher_direction = IMB_DIR_ENCRYPT;
    enc.chain_order = IMB_ORDER_CIPHER_HASH;
    dec.cipher_direction = IMB_DIR_DECRYPT;
    dec.chain_order = IMB_ORDER_HASH_CIPHER;

    s->usable_ = true;
    return s;
}

void EspSession::wipe() noexcept {
    usable_ = false;
    secure_wipe(&keys_, sizeof keys_);
}

EspSession::~EspSession() { wipe(); }

}  // namespace mbox::crypto

#include "openssl_oracle.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace mbox::crypto::test {

namespace {

struct CtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const EVP_MD* md(std::string_view hash) {
    if (hash == "md5") return EVP_md5();
    if (hash == "sha1") return EVP_sha1();
    if (hash == "sha256") return EVP_sha256();
    if (hash == "sha512") return EVP_sha512();
    throw std::runtime_error("unknown hash " + std::string(hash));
}

const EVP_CIPHER* cipher(std::string_view name) {
    if (name == "aes-128-cbc") return EVP_aes_128_cbc();
    if (name == "aes-192-cbc") return EVP_aes_192_cbc();
    if (name == "aes-256-cbc") return EVP_aes_256_cbc();
    if (name == "des-ede3-cbc") return EVP_des_ede3_cbc();
    throw std::runtime_error("unknown cipher " + std::string(name));
}

void check(int ok, const char* what) {
    if (ok != 1)
        throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

}  // namespace

std::string_view hash_name(EspIntegrity integrity) {
    switch (integrity) {
    case EspIntegrity::HmacMd5_96:
    case EspIntegrity::HmacMd5_128: return "md5";
    case EspIntegrity::HmacSha1_96: return "sha1";
    case EspIntegrity::HmacSha256_128: return "sha256";
    case EspIntegrity::HmacSha512_256: return "sha512";
    case EspIntegrity::None: break;
    }
    throw std::runtime_error("no hash for integrity None");
}

std::string_view cbc_name(EspCipher c) {
    switch (c) {
    case EspCipher::TripleDesCbc: return "des-ede3-cbc";
    case EspCipher::Aes128Cbc: return "aes-128-cbc";
    case EspCipher::Aes192Cbc: return "aes-192-cbc";
    case EspCipher::Aes256Cbc: return "aes-256-cbc";
    default: break;
    }
    throw std::runtime_error("not a CBC cipher");
}

Bytes openssl_hmac(std::string_view hash, std::span<const uint8_t> key, std::span<const uint8_t> data) {
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned len = 0;
    static const uint8_t kEmpty = 0;
    if (HMAC(md(hash), key.data(), static_cast<int>(key.size()), data.empty() ? &kEmpty : data.data(),
             data.size(), out.data(), &len) == nullptr)
        throw std::runtime_error("OpenSSL: HMAC failed");
    out.resize(len);
    return out;
}

Bytes openssl_digest(std::string_view hash, std::span<const uint8_t> data) {
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned len = 0;
    check(EVP_Digest(data.data(), data.size(), out.data(), &len, md(hash), nullptr), "EVP_Digest");
    out.resize(len);
    return out;
}

Bytes openssl_cbc(std::string_view name, std::span<const uint8_t> key, std::span<const uint8_t> iv,
                  std::span<const uint8_t> data, bool encrypt) {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    check(EVP_CipherInit_ex(ctx.get(), cipher(name), nullptr, key.data(), iv.data(), encrypt ? 1 : 0), "init");
    check(EVP_CIPHER_CTX_set_padding(ctx.get(), 0), "set_padding");
    Bytes out(data.size() + 32);
    int len = 0, fin = 0;
    check(EVP_CipherUpdate(ctx.get(), out.data(), &len, data.data(), static_cast<int>(data.size())), "update");
    check(EVP_CipherFinal_ex(ctx.get(), out.data() + len, &fin), "final");
    out.resize(static_cast<size_t>(len + fin));
    return out;
}

GcmOutput openssl_gcm_encrypt(std::span<const uint8_t> key, std::span<const uint8_t> nonce12,
                              std::span<const uint8_t> aad, std::span<const uint8_t> plaintext) {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    const EVP_CIPHER* c = key.size() == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    check(EVP_EncryptInit_ex(ctx.get(), c, nullptr, nullptr, nullptr), "gcm init");
    check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce12.size()), nullptr), "ivlen");
    check(EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce12.data()), "gcm key");
    int len = 0;
    if (!aad.empty())
        check(EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())), "aad");
    GcmOutput out;
    out.ciphertext.resize(plaintext.size() + 16);
    int total = 0;
    if (!plaintext.empty()) {
        check(EVP_EncryptUpdate(ctx.get(), out.ciphertext.data(), &len, plaintext.data(),
                                static_cast<int>(plaintext.size())), "gcm update");
        total = len;
    }
    check(EVP_EncryptFinal_ex(ctx.get(), out.ciphertext.data() + total, &len), "gcm final");
    out.ciphertext.resize(static_cast<size_t>(total + len));
    out.tag.resize(16);
    check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out.tag.data()), "get tag");
    return out;
}

Bytes openssl_aes256_ctr_keystream(std::span<const uint8_t> key, std::span<const uint8_t> counter, size_t len) {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    check(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, key.data(), counter.data()), "ctr init");
    Bytes zeros(len), out(len + 16);
    int n = 0, fin = 0;
    check(EVP_EncryptUpdate(ctx.get(), out.data(), &n, zeros.data(), static_cast<int>(len)), "ctr update");
    check(EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &fin), "ctr final");
    out.resize(static_cast<size_t>(n + fin));
    return out;
}

}  // namespace mbox::crypto::test

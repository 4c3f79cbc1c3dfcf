// SK payload protection on OpenSSL 3: EVP_CIPHER CBC without padding, and the integrity
// HMAC through the same EVP_MAC code as the prf (the hash is what differs).
#include "crypto/ike_sk.hpp"

#include <algorithm>

#include <openssl/evp.h>

#include "crypto/ike_prf.hpp"
#include "crypto/openssl_ptr.hpp"

namespace mbox::crypto {

namespace {

const EVP_CIPHER* evp_cipher(IkeCipher cipher) {
    switch (cipher) {
    case IkeCipher::TripleDesCbc: return EVP_des_ede3_cbc();
    case IkeCipher::Aes128Cbc: return EVP_aes_128_cbc();
    case IkeCipher::Aes192Cbc: return EVP_aes_192_cbc();
    case IkeCipher::Aes256Cbc: return EVP_aes_256_cbc();
    }
    return nullptr;
}

// The HMAC under each integrity transform is the prf of the same hash.
IkePrf hmac_of(IkeIntegrity integrity) {
    switch (integrity) {
    case IkeIntegrity::HmacMd5_96:
    case IkeIntegrity::HmacMd5_128: return IkePrf::HmacMd5;
    case IkeIntegrity::HmacSha1_96: return IkePrf::HmacSha1;
    case IkeIntegrity::HmacSha256_128: return IkePrf::HmacSha256;
    case IkeIntegrity::HmacSha512_256: return IkePrf::HmacSha512;
    }
    return IkePrf::HmacSha256;
}

}  // namespace

bool cbc_crypt(IkeCipher cipher, std::span<const uint8_t> key, std::span<const uint8_t> iv,
               std::span<const uint8_t> in, std::span<uint8_t> out, bool encrypt) {
    const size_t block = block_length(cipher);
    if (key.size() != key_length(cipher) || iv.size() != block || in.size() % block != 0 || out.size() != in.size())
        return false;
    ossl::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0, final_len = 0;
    // RFC 7296 §3.14 and RFC 2409 Appendix B: the engine pads; OpenSSL's PKCS#7 padding
    // stays off.
    return ctx && EVP_CipherInit_ex2(ctx.get(), evp_cipher(cipher), key.data(), iv.data(), encrypt ? 1 : 0,
                                     nullptr) == 1 &&
           EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
           EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) == 1 &&
           EVP_CipherFinal_ex(ctx.get(), out.data() + len, &final_len) == 1 &&
           static_cast<size_t>(len + final_len) == in.size();
}

size_t key_length(IkeCipher cipher) {
    switch (cipher) {
    case IkeCipher::TripleDesCbc: return 24;
    case IkeCipher::Aes128Cbc: return 16;
    case IkeCipher::Aes192Cbc: return 24;
    case IkeCipher::Aes256Cbc: return 32;
    }
    return 0;
}

size_t block_length(IkeCipher cipher) { return cipher == IkeCipher::TripleDesCbc ? 8 : 16; }

uint16_t ikev2_id(IkeCipher cipher) { return cipher == IkeCipher::TripleDesCbc ? 3 : 12; }

uint16_t ikev2_key_bits(IkeCipher cipher) {
    return cipher == IkeCipher::TripleDesCbc ? 0 : static_cast<uint16_t>(8 * key_length(cipher));
}

std::string_view name(IkeCipher cipher) {
    switch (cipher) {
    case IkeCipher::TripleDesCbc: return "3DES_CBC";
    case IkeCipher::Aes128Cbc: return "AES_CBC-128";
    case IkeCipher::Aes192Cbc: return "AES_CBC-192";
    case IkeCipher::Aes256Cbc: return "AES_CBC-256";
    }
    return "ENCR_UNKNOWN";
}

size_t key_length(IkeIntegrity integrity) { return prf_length(hmac_of(integrity)); }

size_t icv_length(IkeIntegrity integrity) {
    switch (integrity) {
    case IkeIntegrity::HmacMd5_96: return 12;
    case IkeIntegrity::HmacMd5_128: return 16;
    case IkeIntegrity::HmacSha1_96: return 12;
    case IkeIntegrity::HmacSha256_128: return 16;
    case IkeIntegrity::HmacSha512_256: return 32;
    }
    return 0;
}

uint16_t ikev2_id(IkeIntegrity integrity) {
    switch (integrity) {
    case IkeIntegrity::HmacMd5_96: return 1;
    case IkeIntegrity::HmacMd5_128: return 6;
    case IkeIntegrity::HmacSha1_96: return 2;
    case IkeIntegrity::HmacSha256_128: return 12;
    case IkeIntegrity::HmacSha512_256: return 14;
    }
    return 0;
}

std::string_view name(IkeIntegrity integrity) {
    switch (integrity) {
    case IkeIntegrity::HmacMd5_96: return "HMAC_MD5_96";
    case IkeIntegrity::HmacMd5_128: return "HMAC_MD5_128";
    case IkeIntegrity::HmacSha1_96: return "HMAC_SHA1_96";
    case IkeIntegrity::HmacSha256_128: return "HMAC_SHA2_256_128";
    case IkeIntegrity::HmacSha512_256: return "HMAC_SHA2_512_256";
    }
    return "AUTH_UNKNOWN";
}

std::unique_ptr<SkProtection> SkProtection::create(IkeCipher cipher, IkeIntegrity integrity,
                                                   std::span<const uint8_t> encryption_key,
                                                   std::span<const uint8_t> integrity_key, std::string& error) {
    if (encryption_key.size() != key_length(cipher)) {
        error = std::string(name(cipher)) + ": key of " + std::to_string(encryption_key.size()) + " bytes, expected " +
                std::to_string(key_length(cipher));
        return nullptr;
    }
    if (integrity_key.size() != key_length(integrity)) {
        error = std::string(name(integrity)) + ": key of " + std::to_string(integrity_key.size()) +
                " bytes, expected " + std::to_string(key_length(integrity));
        return nullptr;
    }
    std::unique_ptr<SkProtection> sk(new SkProtection());
    sk->cipher_ = cipher;
    sk->integrity_ = integrity;
    sk->encryption_key_ = SecretBytes(encryption_key);
    sk->integrity_key_ = SecretBytes(integrity_key);
    return sk;
}

SkProtection::~SkProtection() = default;

bool SkProtection::encrypt(std::span<const uint8_t> iv, std::span<const uint8_t> in, std::span<uint8_t> out) const {
    return cbc_crypt(cipher_, encryption_key_, iv, in, out, true);
}

bool SkProtection::decrypt(std::span<const uint8_t> iv, std::span<const uint8_t> in, std::span<uint8_t> out) const {
    return cbc_crypt(cipher_, encryption_key_, iv, in, out, false);
}

// RFC 7296 §3.14: the ICV is the HMAC's leftmost icv_size() bytes (RFC 2404, 4868).
void SkProtection::sign(std::span<const uint8_t> data, std::span<uint8_t> icv) const {
    const SecretBytes mac = prf(hmac_of(integrity_), integrity_key_, data);
    const size_t n = std::min(icv.size(), std::min(icv_size(), mac.size()));
    std::copy_n(mac.data(), n, icv.data());
}

bool SkProtection::verify(std::span<const uint8_t> data, std::span<const uint8_t> icv) const {
    if (icv.size() != icv_size()) return false;
    const SecretBytes mac = prf(hmac_of(integrity_), integrity_key_, data);
    return mac.size() >= icv.size() && equal_constant_time(mac.data(), icv.data(), icv.size());
}

}  // namespace mbox::crypto

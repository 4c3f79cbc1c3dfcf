// IKEv2 prf, prf+ and the key derivations of RFC 7296 on OpenSSL 3's EVP_MAC HMAC.
#include "crypto/ike_prf.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "crypto/openssl_ptr.hpp"

namespace mbox::crypto {

namespace {

// Fetched once: EVP_MAC_fetch looks the algorithm up in the provider tables.
EVP_MAC* hmac_algorithm() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

// Big-endian, as the IKE header carries it (RFC 7296 §3.1).
std::array<uint8_t, 8> spi_bytes(uint64_t spi) {
    std::array<uint8_t, 8> out{};
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<uint8_t>(spi >> (56 - 8 * i));
    return out;
}

std::vector<uint8_t> concat(std::initializer_list<std::span<const uint8_t>> pieces) {
    std::vector<uint8_t> out;
    for (auto p : pieces)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, seed).
IkeSaKeys cut_ike_sa_keys(IkePrf prf, IkeKeyLengths lengths, const SecretBytes& skeyseed,
                          std::span<const uint8_t> seed) {
    const size_t p = prf_length(prf), a = lengths.integrity, e = lengths.encryption;
    const SecretBytes km = prf_plus(prf, skeyseed, seed, 3 * p + 2 * a + 2 * e);
    if (km.empty()) return {};
    size_t at = 0;
    auto next = [&](size_t n) {
        SecretBytes key = km.slice(at, n);
        at += n;
        return key;
    };
    IkeSaKeys keys;
    keys.sk_d = next(p);
    keys.sk_ai = next(a);
    keys.sk_ar = next(a);
    keys.sk_ei = next(e);
    keys.sk_er = next(e);
    keys.sk_pi = next(p);
    keys.sk_pr = next(p);
    return keys;
}

}  // namespace

size_t prf_length(IkePrf prf) {
    switch (prf) {
    case IkePrf::HmacMd5: return 16;
    case IkePrf::HmacSha1: return 20;
    case IkePrf::HmacSha256: return 32;
    case IkePrf::HmacSha512: return 64;
    }
    return 0;
}

uint16_t ikev2_id(IkePrf prf) {
    switch (prf) {
    case IkePrf::HmacMd5: return 1;
    case IkePrf::HmacSha1: return 2;
    case IkePrf::HmacSha256: return 5;
    case IkePrf::HmacSha512: return 7;
    }
    return 0;
}

const char* digest_name(IkePrf prf) {
    switch (prf) {
    case IkePrf::HmacMd5: return "MD5";
    case IkePrf::HmacSha1: return "SHA1";
    case IkePrf::HmacSha256: return "SHA256";
    case IkePrf::HmacSha512: return "SHA512";
    }
    return "";
}

std::string_view name(IkePrf prf) {
    switch (prf) {
    case IkePrf::HmacMd5: return "PRF_HMAC_MD5";
    case IkePrf::HmacSha1: return "PRF_HMAC_SHA1";
    case IkePrf::HmacSha256: return "PRF_HMAC_SHA2_256";
    case IkePrf::HmacSha512: return "PRF_HMAC_SHA2_512";
    }
    return "PRF_UNKNOWN";
}

SecretBytes prf(IkePrf prf, std::span<const uint8_t> key, std::span<const std::span<const uint8_t>> data) {
    // EVP_MAC_init reads a null key as "keep the previous key": give an empty key a
    // real address.
    static const uint8_t kNoKey = 0;
    ossl::MacCtxPtr ctx(EVP_MAC_CTX_new(hmac_algorithm()));
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest_name(prf)), 0),
        OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_init(ctx.get(), key.empty() ? &kNoKey : key.data(), key.size(), params) != 1) return {};
    for (auto piece : data) {
        if (!piece.empty() && EVP_MAC_update(ctx.get(), piece.data(), piece.size()) != 1) return {};
    }
    SecretBytes out(prf_length(prf));
    size_t len = 0;
    if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) return {};
    return out;
}

SecretBytes prf(IkePrf p, std::span<const uint8_t> key, std::span<const uint8_t> data) {
    const std::span<const uint8_t> pieces[] = {data};
    return prf(p, key, pieces);
}

// RFC 7296 §2.13.
SecretBytes prf_plus(IkePrf p, std::span<const uint8_t> key, std::span<const uint8_t> seed, size_t length) {
    if (length > 255 * prf_length(p)) return {};
    SecretBytes out;
    SecretBytes t;  // T(n-1); empty before T1
    for (uint8_t n = 1; out.size() < length; ++n) {
        const uint8_t counter[] = {n};
        const std::span<const uint8_t> pieces[] = {t, seed, counter};
        t = prf(p, key, pieces);
        if (t.empty()) return {};
        out.append(t.span().first(std::min(t.size(), length - out.size())));
    }
    return out;
}

// RFC 7296 §2.14.
IkeSaKeys derive_ike_sa_keys(IkePrf p, IkeKeyLengths lengths, std::span<const uint8_t> shared_secret,
                             std::span<const uint8_t> nonce_i, std::span<const uint8_t> nonce_r, uint64_t spi_i,
                             uint64_t spi_r) {
    const std::vector<uint8_t> nonces = concat({nonce_i, nonce_r});
    const SecretBytes skeyseed = prf(p, nonces, shared_secret);
    const auto si = spi_bytes(spi_i), sr = spi_bytes(spi_r);
    return cut_ike_sa_keys(p, lengths, skeyseed, concat({nonce_i, nonce_r, si, sr}));
}

// RFC 7296 §2.18.
IkeSaKeys derive_rekeyed_ike_sa_keys(IkePrf old_prf, std::span<const uint8_t> old_sk_d, IkePrf new_prf,
                                     IkeKeyLengths lengths, std::span<const uint8_t> shared_secret,
                                     std::span<const uint8_t> nonce_i, std::span<const uint8_t> nonce_r,
                                     uint64_t spi_i, uint64_t spi_r) {
    const std::span<const uint8_t> pieces[] = {shared_secret, nonce_i, nonce_r};
    const SecretBytes skeyseed = prf(old_prf, old_sk_d, pieces);
    const auto si = spi_bytes(spi_i), sr = spi_bytes(spi_r);
    return cut_ike_sa_keys(new_prf, lengths, skeyseed, concat({nonce_i, nonce_r, si, sr}));
}

// RFC 7296 §2.17. The seed holds g^ir with PFS, so it is kept in a SecretBytes.
SecretBytes derive_child_keymat(IkePrf p, std::span<const uint8_t> sk_d, std::span<const uint8_t> shared_secret,
                                std::span<const uint8_t> nonce_i, std::span<const uint8_t> nonce_r, size_t length) {
    SecretBytes seed(shared_secret);
    seed.append(nonce_i);
    seed.append(nonce_r);
    return prf_plus(p, sk_d, seed, length);
}

// RFC 7296 §2.15: the pad string is the 17 ASCII octets, without a terminating NUL.
SecretBytes psk_auth(IkePrf p, std::span<const uint8_t> psk, std::span<const uint8_t> signed_octets) {
    static constexpr std::string_view kKeyPad = "Key Pad for IKEv2";
    const std::span<const uint8_t> pad(reinterpret_cast<const uint8_t*>(kKeyPad.data()), kKeyPad.size());
    const SecretBytes inner = prf(p, psk, pad);
    return prf(p, inner, signed_octets);
}

}  // namespace mbox::crypto

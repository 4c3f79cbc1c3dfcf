// IKE_AUTH signatures and X.509 on OpenSSL 3 (EVP_DigestSign/Verify, X509_STORE).
#include "crypto/ike_signature.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crypto/openssl_ptr.hpp"

namespace mbox::crypto {

namespace {

using BioPtr = std::unique_ptr<BIO, ossl::Deleter<BIO_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, ossl::Deleter<GENERAL_NAMES_free>>;

// ---- RFC 7427 Appendix A ------------------------------------------------------------

// A.1.2-A.1.4: SEQUENCE { OID 1.2.840.113549.1.1.11/12/13, NULL }.
constexpr std::array<uint8_t, 15> kSha256WithRsa = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                    0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
constexpr std::array<uint8_t, 15> kSha384WithRsa = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                    0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00};
constexpr std::array<uint8_t, 15> kSha512WithRsa = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                    0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00};
// A.3.1-A.3.3: SEQUENCE { OID 1.2.840.10045.4.3.2/3/4 } (no parameters).
constexpr std::array<uint8_t, 12> kEcdsaSha256 = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                                  0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
constexpr std::array<uint8_t, 12> kEcdsaSha384 = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                                  0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
constexpr std::array<uint8_t, 12> kEcdsaSha512 = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                                  0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
// A.4.3: SEQUENCE { OID rsassa-pss, SEQUENCE { [0] sha256, [1] mgf1(sha256), [2] 32,
// [3] 1 } }. The RFC writes out the default trailerField [3].
constexpr std::array<uint8_t, 72> kRsaPssSha256 = {
    0x30, 0x46, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x39, 0xa0, 0x0f, 0x30,
    0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a,
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
    0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20, 0xa3, 0x03, 0x02, 0x01, 0x01};
// The same parameters in strict DER, which omits the default [3] (X.690 §11.5): what
// other implementations may send.
constexpr std::array<uint8_t, 67> kRsaPssSha256NoTrailer = {
    0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f,
    0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c,
    0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09,
    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20};

constexpr SignatureScheme kAllSchemes[] = {
    SignatureScheme::RsaPkcs1Sha256, SignatureScheme::RsaPkcs1Sha384, SignatureScheme::RsaPkcs1Sha512,
    SignatureScheme::RsaPssSha256,   SignatureScheme::EcdsaSha256,    SignatureScheme::EcdsaSha384,
    SignatureScheme::EcdsaSha512};

bool same_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

const char* digest_name(SignatureHash hash) {
    switch (hash) {
    case SignatureHash::Sha1: return "SHA1";
    case SignatureHash::Sha256: return "SHA256";
    case SignatureHash::Sha384: return "SHA384";
    case SignatureHash::Sha512: return "SHA512";
    }
    return "";
}

bool is_ecdsa(SignatureScheme scheme) {
    return scheme == SignatureScheme::EcdsaSha256 || scheme == SignatureScheme::EcdsaSha384 ||
           scheme == SignatureScheme::EcdsaSha512;
}

std::string openssl_error(const std::string& what) {
    std::string text = what;
    if (unsigned long e = ERR_get_error(); e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        text += " (";
        text += buf;
        text += ")";
    }
    ERR_clear_error();
    return text;
}

// ---- PEM files ----------------------------------------------------------------------

BioPtr open_file(const std::string& path, std::string& error) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) {
        const int saved = errno;
        ERR_clear_error();
        error = "cannot open " + path + ": " + std::strerror(saved);
    }
    return bio;
}

// Never prompts on the terminal for an encrypted key's passphrase: there is none.
int no_passphrase(char*, int, int, void*) { return 0; }

template <typename T, auto I2d>
std::vector<uint8_t> to_der(const T* object) {
    const int len = I2d(object, nullptr);
    if (len <= 0) return {};
    std::vector<uint8_t> out(static_cast<size_t>(len));
    unsigned char* p = out.data();
    I2d(object, &p);
    return out;
}

// ---- signing and verifying ----------------------------------------------------------

// PKCS#1 v1.5 for method 1 and the sha*WithRSAEncryption schemes; PSS with MGF1 of the
// same hash and a salt as long as the hash for A.4.3 (its [2] saltLength 32).
bool set_rsa_padding(EVP_PKEY_CTX* pctx, bool pss) {
    if (!pss) return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
}

std::optional<std::vector<uint8_t>> sign_raw(EVP_PKEY* key, SignatureHash hash, bool pss,
                                             std::span<const uint8_t> data, std::string& error) {
    ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    size_t len = 0;
    if (!ctx || EVP_DigestSignInit_ex(ctx.get(), &pctx, digest_name(hash), nullptr, nullptr, key, nullptr) != 1 ||
        (EVP_PKEY_is_a(key, "RSA") && !set_rsa_padding(pctx, pss)) ||
        EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1) {
        error = openssl_error("cannot set up the signature");
        return std::nullopt;
    }
    std::vector<uint8_t> sig(len);
    if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1) {
        error = openssl_error("signing failed");
        return std::nullopt;
    }
    sig.resize(len);
    return sig;
}

bool verify_raw(EVP_PKEY* key, SignatureHash hash, bool pss, std::span<const uint8_t> data,
                std::span<const uint8_t> sig) {
    ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    const bool ok =
        ctx && EVP_DigestVerifyInit_ex(ctx.get(), &pctx, digest_name(hash), nullptr, nullptr, key, nullptr) == 1 &&
        (!EVP_PKEY_is_a(key, "RSA") || set_rsa_padding(pctx, pss)) &&
        EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
    ERR_clear_error();
    return ok;
}

// RSA schemes want an RSA key, ECDSA schemes an EC key.
bool key_fits(EVP_PKEY* key, SignatureScheme scheme) {
    return EVP_PKEY_is_a(key, is_ecdsa(scheme) ? "EC" : "RSA") == 1;
}

}  // namespace

// ---- RFC 7427 registry --------------------------------------------------------------

std::span<const uint8_t> algorithm_identifier(SignatureScheme scheme) {
    switch (scheme) {
    case SignatureScheme::RsaPkcs1Sha256: return kSha256WithRsa;
    case SignatureScheme::RsaPkcs1Sha384: return kSha384WithRsa;
    case SignatureScheme::RsaPkcs1Sha512: return kSha512WithRsa;
    case SignatureScheme::RsaPssSha256: return kRsaPssSha256;
    case SignatureScheme::EcdsaSha256: return kEcdsaSha256;
    case SignatureScheme::EcdsaSha384: return kEcdsaSha384;
    case SignatureScheme::EcdsaSha512: return kEcdsaSha512;
    }
    return {};
}

std::optional<SignatureScheme> scheme_from_algorithm_identifier(std::span<const uint8_t> der) {
    for (SignatureScheme s : kAllSchemes) {
        if (same_bytes(der, algorithm_identifier(s))) return s;
    }
    if (same_bytes(der, kRsaPssSha256NoTrailer)) return SignatureScheme::RsaPssSha256;
    return std::nullopt;
}

SignatureHash hash_of(SignatureScheme scheme) {
    switch (scheme) {
    case SignatureScheme::RsaPkcs1Sha256:
    case SignatureScheme::RsaPssSha256:
    case SignatureScheme::EcdsaSha256: return SignatureHash::Sha256;
    case SignatureScheme::RsaPkcs1Sha384:
    case SignatureScheme::EcdsaSha384: return SignatureHash::Sha384;
    case SignatureScheme::RsaPkcs1Sha512:
    case SignatureScheme::EcdsaSha512: return SignatureHash::Sha512;
    }
    return SignatureHash::Sha256;
}

std::string_view name(SignatureScheme scheme) {
    switch (scheme) {
    case SignatureScheme::RsaPkcs1Sha256: return "sha256WithRSAEncryption";
    case SignatureScheme::RsaPkcs1Sha384: return "sha384WithRSAEncryption";
    case SignatureScheme::RsaPkcs1Sha512: return "sha512WithRSAEncryption";
    case SignatureScheme::RsaPssSha256: return "RSASSA-PSS-SHA256";
    case SignatureScheme::EcdsaSha256: return "ecdsa-with-sha256";
    case SignatureScheme::EcdsaSha384: return "ecdsa-with-sha384";
    case SignatureScheme::EcdsaSha512: return "ecdsa-with-sha512";
    }
    return "unknown";
}

std::vector<uint8_t> encode_signature_hash_algorithms(std::span<const SignatureHash> hashes) {
    std::vector<uint8_t> out;
    for (SignatureHash h : hashes) {
        const auto id = static_cast<uint16_t>(h);
        out.push_back(static_cast<uint8_t>(id >> 8));
        out.push_back(static_cast<uint8_t>(id & 0xff));
    }
    return out;
}

std::optional<std::vector<uint16_t>> parse_signature_hash_algorithms(std::span<const uint8_t> data) {
    if (data.size() % 2 != 0) return std::nullopt;
    std::vector<uint16_t> ids;
    for (size_t i = 0; i < data.size(); i += 2)
        ids.push_back(static_cast<uint16_t>(data[i] << 8 | data[i + 1]));
    return ids;
}

// ---- Certificate --------------------------------------------------------------------

struct Certificate::Impl {
    ossl::X509Ptr x509;
};

Certificate::~Certificate() = default;

std::unique_ptr<Certificate> Certificate::load_pem_file(const std::string& path, std::string& error) {
    BioPtr bio = open_file(path, error);
    if (!bio) return nullptr;
    ossl::X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!x509) {
        error = openssl_error(path + ": not a PEM certificate");
        return nullptr;
    }
    std::unique_ptr<Certificate> cert(new Certificate());
    cert->impl_ = std::make_unique<Impl>(Impl{std::move(x509)});
    return cert;
}

std::unique_ptr<Certificate> Certificate::from_der(std::span<const uint8_t> der, std::string& error) {
    const unsigned char* p = der.data();
    ossl::X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!x509 || p != der.data() + der.size()) {
        error = openssl_error("not a DER X.509 certificate (or trailing bytes after it)");
        return nullptr;
    }
    std::unique_ptr<Certificate> cert(new Certificate());
    cert->impl_ = std::make_unique<Impl>(Impl{std::move(x509)});
    return cert;
}

std::vector<uint8_t> Certificate::der() const { return to_der<X509, i2d_X509>(impl_->x509.get()); }

std::vector<uint8_t> Certificate::subject_der() const {
    return to_der<X509_NAME, i2d_X509_NAME>(X509_get_subject_name(impl_->x509.get()));
}

std::string Certificate::subject_text() const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(impl_->x509.get()), 0, XN_FLAG_RFC2253) < 0)
        return {};
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
}

namespace {

// Calls `each` on every subjectAltName entry of `type` (GEN_DNS, GEN_IPADD).
template <typename Fn>
void for_each_san(X509* x509, int type, Fn each) {
    GeneralNamesPtr names(
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509, NID_subject_alt_name, nullptr, nullptr)));
    if (!names) return;
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
        int name_type = 0;
        const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &name_type));
        if (name_type == type && value != nullptr)
            each(std::span<const uint8_t>(ASN1_STRING_get0_data(value), static_cast<size_t>(ASN1_STRING_length(value))));
    }
}

}  // namespace

std::vector<std::string> Certificate::san_dns() const {
    std::vector<std::string> out;
    for_each_san(impl_->x509.get(), GEN_DNS,
                 [&](std::span<const uint8_t> v) { out.emplace_back(v.begin(), v.end()); });
    return out;
}

std::vector<std::vector<uint8_t>> Certificate::san_ip() const {
    std::vector<std::vector<uint8_t>> out;
    for_each_san(impl_->x509.get(), GEN_IPADD, [&](std::span<const uint8_t> v) {
        if (v.size() == 4 || v.size() == 16) out.emplace_back(v.begin(), v.end());
    });
    return out;
}

std::vector<uint8_t> Certificate::public_key_der() const {
    return to_der<EVP_PKEY, i2d_PUBKEY>(X509_get0_pubkey(impl_->x509.get()));
}

bool Certificate::is_rsa() const { return EVP_PKEY_is_a(X509_get0_pubkey(impl_->x509.get()), "RSA") == 1; }

bool Certificate::verify_issued_by(const Certificate& ca, std::string& error) const {
    ossl::X509StorePtr store(X509_STORE_new());
    ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.impl_->x509.get()) != 1 ||
        X509_STORE_CTX_init(ctx.get(), store.get(), impl_->x509.get(), nullptr) != 1 ||
        X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_ANY) != 1) {
        error = openssl_error("cannot set up the certificate check");
        return false;
    }
    if (X509_verify_cert(ctx.get()) != 1) {
        error = std::string("certificate refused: ") +
                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
        ERR_clear_error();
        return false;
    }
    return true;
}

// ---- PrivateKey ---------------------------------------------------------------------

struct PrivateKey::Impl {
    ossl::PkeyPtr key;
};

PrivateKey::~PrivateKey() = default;

std::unique_ptr<PrivateKey> PrivateKey::load_pem_file(const std::string& path, std::string& error) {
    BioPtr bio = open_file(path, error);
    if (!bio) return nullptr;
    ossl::PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (!key) {
        error = openssl_error(path + ": not a PEM private key (or an encrypted one)");
        return nullptr;
    }
    if (EVP_PKEY_is_a(key.get(), "RSA") != 1 && EVP_PKEY_is_a(key.get(), "EC") != 1) {
        error = path + ": a " + EVP_PKEY_get0_type_name(key.get()) + " key; IKE_AUTH takes RSA or ECDSA keys";
        return nullptr;
    }
    std::unique_ptr<PrivateKey> pk(new PrivateKey());
    pk->impl_ = std::make_unique<Impl>(Impl{std::move(key)});
    return pk;
}

bool PrivateKey::is_rsa() const { return EVP_PKEY_is_a(impl_->key.get(), "RSA") == 1; }

bool PrivateKey::matches(const Certificate& cert) const {
    const bool same = EVP_PKEY_eq(impl_->key.get(), X509_get0_pubkey(cert.impl_->x509.get())) == 1;
    ERR_clear_error();
    return same;
}

std::optional<std::vector<uint8_t>> PrivateKey::sign_auth(IkeAuthMethod method, SignatureScheme scheme,
                                                           std::span<const uint8_t> signed_octets,
                                                           std::string& error) const {
    EVP_PKEY* key = impl_->key.get();
    if (method == IkeAuthMethod::RsaSignature) {
        // RFC 7296 §3.8: RSASSA-PKCS1-v1_5 with SHA-1; `scheme` does not apply.
        if (!is_rsa()) {
            error = "AUTH method 1 (RSA Digital Signature) needs an RSA key";
            return std::nullopt;
        }
        return sign_raw(key, SignatureHash::Sha1, false, signed_octets, error);
    }
    if (!key_fits(key, scheme)) {
        error = std::string(name(scheme)) + " does not fit a " + EVP_PKEY_get0_type_name(key) + " key";
        return std::nullopt;
    }
    auto sig = sign_raw(key, hash_of(scheme), scheme == SignatureScheme::RsaPssSha256, signed_octets, error);
    if (!sig) return std::nullopt;
    // RFC 7427 §3: ASN.1 Length (1 octet) | AlgorithmIdentifier | Signature Value.
    const std::span<const uint8_t> alg = algorithm_identifier(scheme);
    std::vector<uint8_t> auth{static_cast<uint8_t>(alg.size())};
    auth.insert(auth.end(), alg.begin(), alg.end());
    auth.insert(auth.end(), sig->begin(), sig->end());
    return auth;
}

std::optional<std::vector<uint8_t>> PrivateKey::sign_ikev1(std::span<const uint8_t> hash, std::string& error) const {
    if (!is_rsa()) {
        error = "IKEv1 signatures need an RSA key";
        return std::nullopt;
    }
    // No signature digest set: OpenSSL pads the input itself (RSA_PKCS1_PADDING, type 1).
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->key.get(), nullptr));
    size_t len = 0;
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 || !set_rsa_padding(ctx.get(), false) ||
        EVP_PKEY_sign(ctx.get(), nullptr, &len, hash.data(), hash.size()) != 1) {
        error = openssl_error("cannot set up the signature");
        return std::nullopt;
    }
    std::vector<uint8_t> sig(len);
    if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, hash.data(), hash.size()) != 1) {
        error = openssl_error("signing failed");
        return std::nullopt;
    }
    sig.resize(len);
    return sig;
}

bool verify_ikev1(const Certificate& signer, std::span<const uint8_t> hash, std::span<const uint8_t> signature,
                  std::string& error) {
    EVP_PKEY* key = X509_get0_pubkey(signer.impl_->x509.get());
    if (key == nullptr || EVP_PKEY_is_a(key, "RSA") != 1) {
        error = "the certificate has no RSA public key";
        ERR_clear_error();
        return false;
    }
    ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    const bool ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 && set_rsa_padding(ctx.get(), false) &&
                    EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), hash.data(), hash.size()) == 1;
    ERR_clear_error();
    if (!ok) error = "bad signature";
    return ok;
}

// ---- verify_auth --------------------------------------------------------------------

bool verify_auth(const Certificate& signer, IkeAuthMethod method, std::span<const uint8_t> auth_data,
                 std::span<const uint8_t> signed_octets, std::string& error) {
    EVP_PKEY* key = X509_get0_pubkey(signer.impl_->x509.get());
    if (key == nullptr) {
        error = openssl_error("the certificate's public key cannot be read");
        return false;
    }
    if (method == IkeAuthMethod::RsaSignature) {
        if (EVP_PKEY_is_a(key, "RSA") != 1) {
            error = "AUTH method 1 (RSA Digital Signature) from a non-RSA certificate";
            return false;
        }
        if (!verify_raw(key, SignatureHash::Sha1, false, signed_octets, auth_data)) {
            error = "AUTH method 1: bad signature";
            return false;
        }
        return true;
    }
    // RFC 7427 §3: the length octet, then that many octets of AlgorithmIdentifier, then
    // at least one octet of signature.
    if (auth_data.empty() || auth_data.size() < 2u + auth_data[0]) {
        error = "AUTH method 14: shorter than its AlgorithmIdentifier length says";
        return false;
    }
    const auto scheme = scheme_from_algorithm_identifier(auth_data.subspan(1, auth_data[0]));
    if (!scheme) {
        error = "AUTH method 14: unsupported AlgorithmIdentifier";
        return false;
    }
    if (!key_fits(key, *scheme)) {
        error = std::string("AUTH method 14: ") + std::string(name(*scheme)) + " from a " +
                EVP_PKEY_get0_type_name(key) + " certificate";
        return false;
    }
    if (!verify_raw(key, hash_of(*scheme), *scheme == SignatureScheme::RsaPssSha256, signed_octets,
                    auth_data.subspan(1u + auth_data[0]))) {
        error = std::string("AUTH method 14: bad ") + std::string(name(*scheme)) + " signature";
        return false;
    }
    return true;
}

// ---- credentials --------------------------------------------------------------------

std::optional<IkeCredentials> load_credentials(const std::string& certificate_path, const std::string& key_path,
                                               std::string& error) {
    IkeCredentials creds;
    creds.certificate = Certificate::load_pem_file(certificate_path, error);
    if (!creds.certificate) return std::nullopt;
    creds.key = PrivateKey::load_pem_file(key_path, error);
    if (!creds.key) return std::nullopt;
    if (!creds.key->matches(*creds.certificate)) {
        error = key_path + ": the private key does not match the certificate " + certificate_path + " (" +
                creds.certificate->subject_text() + ")";
        return std::nullopt;
    }
    return creds;
}

}  // namespace mbox::crypto

// IKE_AUTH signatures and X.509 (crypto/ike_signature.hpp). The keys and certificates
// are made here with OpenSSL (a CA, a gateway certificate it signs, a second CA, an
// ECDSA key) and written as PEM files, so the loaders read real files:
//  * loading, and the errors for a missing file, a file that is not PEM, a key that
//    does not belong to the certificate;
//  * the DN, subjectAltName, DER and public key read back as they were written;
//  * the chain check accepts the CA's certificate and refuses another CA's, an expired
//    and a not-yet-valid one;
//  * methods 1 and 14 sign and verify; PKCS#1 v1.5 outputs equal an independent
//    EVP_DigestSign; another key, a changed bit, a malformed header are refused;
//  * RFC 7427 Appendix A's AlgorithmIdentifier bytes exactly, and §4's hash list.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crypto/ike_signature.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

using Bytes = std::vector<uint8_t>;

struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr) << value;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

struct CertSpec {
    std::string cn;
    bool ca = false;
    const char* san = nullptr;  // e.g. "DNS:gw.example.org,IP:192.0.2.1"
    long not_before = -3600;    // seconds from now
    long not_after = 86400;
};

// A v3 certificate for `key`, signed by `issuer_key` (self-signed when issuer is null).
Cert make_cert(EVP_PKEY* key, const CertSpec& spec, X509* issuer, EVP_PKEY* issuer_key) {
    static long serial = 1;
    Cert x(X509_new());
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), spec.not_before);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), spec.not_after);
    X509_set_pubkey(x.get(), key);
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("XX"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("mbox test"), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(spec.cn.c_str()),
                               -1, -1, 0);
    X509* signer = issuer != nullptr ? issuer : x.get();
    X509_set_issuer_name(x.get(), X509_get_subject_name(signer));
    add_ext(x.get(), signer, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x.get(), signer, NID_subject_key_identifier, "hash");
    if (spec.ca) add_ext(x.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (spec.san != nullptr) add_ext(x.get(), signer, NID_subject_alt_name, spec.san);
    EXPECT_GT(X509_sign(x.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()), 0);
    return x;
}

Bytes i2d_cert(X509* x) {
    Bytes out(static_cast<size_t>(i2d_X509(x, nullptr)));
    unsigned char* p = out.data();
    i2d_X509(x, &p);
    return out;
}

// What the signer under test must produce for a deterministic scheme: OpenSSL's own
// EVP_DigestSign with the default (PKCS#1 v1.5) RSA padding.
Bytes reference_pkcs1_signature(EVP_PKEY* key, const char* digest, const Bytes& data) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit_ex(ctx, nullptr, digest, nullptr, nullptr, key, nullptr);
    EVP_DigestSign(ctx, nullptr, &len, data.data(), data.size());
    Bytes sig(len);
    EVP_DigestSign(ctx, sig.data(), &len, data.data(), data.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    return sig;
}

class IkeSignature : public testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::filesystem::temp_directory_path() / ("mbox_ike_signature_" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_);
        ca_key_.reset(EVP_RSA_gen(2048));
        gw_key_.reset(EVP_RSA_gen(2048));
        other_key_.reset(EVP_RSA_gen(2048));
        ec_key_.reset(EVP_EC_gen("P-256"));
        ca_ = make_cert(ca_key_.get(), {.cn = "mbox test CA", .ca = true}, nullptr, nullptr);
        other_ca_ = make_cert(other_key_.get(), {.cn = "another CA", .ca = true}, nullptr, nullptr);
        const CertSpec gw{.cn = "gw.example.org",
                          .san = "DNS:gw.example.org,DNS:vpn.example.org,IP:192.0.2.1,IP:2001:db8::1"};
        gw_ = make_cert(gw_key_.get(), gw, ca_.get(), ca_key_.get());
        gw_by_other_ = make_cert(gw_key_.get(), gw, other_ca_.get(), other_key_.get());
        expired_ = make_cert(gw_key_.get(), {.cn = "old", .not_before = -7200, .not_after = -3600}, ca_.get(),
                             ca_key_.get());
        future_ = make_cert(gw_key_.get(), {.cn = "new", .not_before = 3600, .not_after = 7200}, ca_.get(),
                            ca_key_.get());
        ec_cert_ = make_cert(ec_key_.get(), {.cn = "ec.example.org"}, ca_.get(), ca_key_.get());
        other_cert_ = make_cert(other_key_.get(), {.cn = "other.example.org"}, ca_.get(), ca_key_.get());
        write_cert("ca.pem", ca_.get());
        write_cert("gw.pem", gw_.get());
        write_key("gw.key", gw_key_.get());
        write_key("other.key", other_key_.get());
        write_key("ec.key", ec_key_.get());
        std::ofstream(dir_ / "garbage.pem") << "this is not PEM\n";
    }
    static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

    static std::string path(const char* file) { return (dir_ / file).string(); }
    static void write_cert(const char* file, X509* x) {
        FILE* f = std::fopen(path(file).c_str(), "w");
        PEM_write_X509(f, x);
        std::fclose(f);
    }
    static void write_key(const char* file, EVP_PKEY* k) {
        FILE* f = std::fopen(path(file).c_str(), "w");
        PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(f);
    }
    static std::unique_ptr<Certificate> cert(X509* x) {
        std::string error;
        auto c = Certificate::from_der(i2d_cert(x), error);
        EXPECT_NE(c, nullptr) << error;
        return c;
    }
    static std::unique_ptr<PrivateKey> key(const char* file) {
        std::string error;
        auto k = PrivateKey::load_pem_file(path(file), error);
        EXPECT_NE(k, nullptr) << error;
        return k;
    }

    static inline std::filesystem::path dir_;
    static inline Pkey ca_key_, gw_key_, other_key_, ec_key_;
    static inline Cert ca_, other_ca_, gw_, gw_by_other_, expired_, future_, ec_cert_, other_cert_;
    const Bytes octets_ = Bytes(200, 0x5a);  // stands for RFC 7296 §2.15's signed octets
};

// ---- loading ---------------------------------------------------------------------------

TEST_F(IkeSignature, LoadsPemFilesAndSaysWhatIsWrong) {
    std::string error;
    auto creds = load_credentials(path("gw.pem"), path("gw.key"), error);
    ASSERT_TRUE(creds.has_value()) << error;
    EXPECT_TRUE(creds->key->matches(*creds->certificate));
    EXPECT_TRUE(creds->key->is_rsa());

    EXPECT_EQ(Certificate::load_pem_file(path("missing.pem"), error), nullptr);
    EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
    EXPECT_NE(error.find("missing.pem"), std::string::npos) << error;

    EXPECT_EQ(Certificate::load_pem_file(path("garbage.pem"), error), nullptr);
    EXPECT_NE(error.find("not a PEM certificate"), std::string::npos) << error;
    EXPECT_EQ(PrivateKey::load_pem_file(path("garbage.pem"), error), nullptr);
    EXPECT_NE(error.find("not a PEM private key"), std::string::npos) << error;
    EXPECT_EQ(PrivateKey::load_pem_file(path("gw.pem"), error), nullptr);  // a certificate, not a key

    error.clear();
    EXPECT_FALSE(load_credentials(path("gw.pem"), path("other.key"), error).has_value());
    EXPECT_NE(error.find("does not match"), std::string::npos) << error;
}

// ---- what IKE reads from a certificate ----------------------------------------------------

TEST_F(IkeSignature, SubjectAltNamesDerAndPublicKeyReadBack) {
    auto c = cert(gw_.get());
    ASSERT_TRUE(c);
    EXPECT_EQ(c->san_dns(), (std::vector<std::string>{"gw.example.org", "vpn.example.org"}));
    const std::vector<Bytes> ips = {{192, 0, 2, 1}, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    EXPECT_EQ(c->san_ip(), ips);
    EXPECT_EQ(c->der(), i2d_cert(gw_.get()));  // CERT payload, encoding 4

    // ID_DER_ASN1_DN: the DER Name, which OpenSSL reads back as the subject we wrote.
    const Bytes dn = c->subject_der();
    const unsigned char* p = dn.data();
    X509_NAME* name = d2i_X509_NAME(nullptr, &p, static_cast<long>(dn.size()));
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(X509_NAME_cmp(name, X509_get_subject_name(gw_.get())), 0);
    X509_NAME_free(name);
    EXPECT_EQ(c->subject_text(), "CN=gw.example.org,O=mbox test,C=XX");

    Bytes spki(static_cast<size_t>(i2d_PUBKEY(gw_key_.get(), nullptr)));
    unsigned char* q = spki.data();
    i2d_PUBKEY(gw_key_.get(), &q);
    EXPECT_EQ(c->public_key_der(), spki);

    auto no_san = cert(ca_.get());
    EXPECT_TRUE(no_san->san_dns().empty());
    EXPECT_TRUE(no_san->san_ip().empty());
}

TEST_F(IkeSignature, FromDerRefusesGarbageAndTrailingBytes) {
    std::string error;
    Bytes der = i2d_cert(gw_.get());
    der.push_back(0);
    EXPECT_EQ(Certificate::from_der(der, error), nullptr);
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(Certificate::from_der(Bytes(100, 0x30), error), nullptr);
    EXPECT_EQ(Certificate::from_der(Bytes{}, error), nullptr);
}

// ---- the chain check --------------------------------------------------------------------

TEST_F(IkeSignature, ChainCheckAcceptsOnlyTheCaAndValidDates) {
    std::string error;
    auto ca = Certificate::load_pem_file(path("ca.pem"), error);
    ASSERT_TRUE(ca) << error;
    EXPECT_TRUE(cert(gw_.get())->verify_issued_by(*ca, error)) << error;
    EXPECT_TRUE(cert(ec_cert_.get())->verify_issued_by(*ca, error)) << error;

    error.clear();
    EXPECT_FALSE(cert(gw_by_other_.get())->verify_issued_by(*ca, error));  // same subject and key, another CA
    EXPECT_FALSE(error.empty());
    error.clear();
    EXPECT_FALSE(cert(expired_.get())->verify_issued_by(*ca, error));
    EXPECT_NE(error.find("expired"), std::string::npos) << error;
    error.clear();
    EXPECT_FALSE(cert(future_.get())->verify_issued_by(*ca, error));
    EXPECT_NE(error.find("not yet valid"), std::string::npos) << error;
    // And the other CA accepts its own.
    EXPECT_TRUE(cert(gw_by_other_.get())->verify_issued_by(*cert(other_ca_.get()), error)) << error;
}

// ---- AUTH method 1 -----------------------------------------------------------------------

TEST_F(IkeSignature, Method1IsPkcs1Sha1AndRefusesOtherKeysAndChanges) {
    auto k = key("gw.key");
    auto signer = cert(gw_.get()), other = cert(other_cert_.get());
    std::string error;
    // The scheme argument does not apply to method 1.
    auto auth = k->sign_auth(IkeAuthMethod::RsaSignature, SignatureScheme::RsaPkcs1Sha512, octets_, error);
    ASSERT_TRUE(auth) << error;
    EXPECT_EQ(*auth, reference_pkcs1_signature(gw_key_.get(), "SHA1", octets_));
    EXPECT_EQ(auth->size(), 256u);
    EXPECT_TRUE(verify_auth(*signer, IkeAuthMethod::RsaSignature, *auth, octets_, error)) << error;

    EXPECT_FALSE(verify_auth(*other, IkeAuthMethod::RsaSignature, *auth, octets_, error));
    Bytes changed = octets_;
    changed[17] ^= 0x01;
    EXPECT_FALSE(verify_auth(*signer, IkeAuthMethod::RsaSignature, *auth, changed, error));
    Bytes bad = *auth;
    bad[100] ^= 0x80;
    EXPECT_FALSE(verify_auth(*signer, IkeAuthMethod::RsaSignature, bad, octets_, error));
    // A method 14 blob is not a method 1 signature.
    auto as14 = k->sign_auth(IkeAuthMethod::DigitalSignature, SignatureScheme::RsaPkcs1Sha256, octets_, error);
    EXPECT_FALSE(verify_auth(*signer, IkeAuthMethod::RsaSignature, *as14, octets_, error));

    auto ec = key("ec.key");
    EXPECT_FALSE(ec->sign_auth(IkeAuthMethod::RsaSignature, SignatureScheme::RsaPkcs1Sha256, octets_, error));
    EXPECT_NE(error.find("RSA"), std::string::npos);
}

// ---- IKEv1 SIG_I / SIG_R -------------------------------------------------------------------

TEST_F(IkeSignature, Ikev1SignatureIsTheBareHashInPkcs1Type1Padding) {
    auto k = key("gw.key");
    auto signer = cert(gw_.get()), other = cert(other_cert_.get());
    const Bytes hash(octets_.begin(), octets_.begin() + 20);  // a SHA-1-sized HASH_I
    std::string error;
    auto sig = k->sign_ikev1(hash, error);
    ASSERT_TRUE(sig) << error;
    EXPECT_EQ(sig->size(), 256u);
    // What the public key recovers is the hash itself: no DigestInfo around it.
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, gw_key_.get(), nullptr);
    ASSERT_EQ(EVP_PKEY_verify_recover_init(ctx), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
    Bytes recovered(256);
    size_t len = recovered.size();
    ASSERT_EQ(EVP_PKEY_verify_recover(ctx, recovered.data(), &len, sig->data(), sig->size()), 1);
    EVP_PKEY_CTX_free(ctx);
    recovered.resize(len);
    EXPECT_EQ(recovered, hash);

    EXPECT_TRUE(verify_ikev1(*signer, hash, *sig, error)) << error;
    EXPECT_FALSE(verify_ikev1(*other, hash, *sig, error));
    Bytes changed = hash;
    changed[3] ^= 0x01;
    EXPECT_FALSE(verify_ikev1(*signer, changed, *sig, error));
    EXPECT_EQ(error, "bad signature");
    // An IKEv2 method 1 signature (DigestInfo inside) is not an IKEv1 one over the same bytes.
    auto method1 = k->sign_auth(IkeAuthMethod::RsaSignature, SignatureScheme::RsaPkcs1Sha256, hash, error);
    EXPECT_FALSE(verify_ikev1(*signer, hash, *method1, error));

    EXPECT_FALSE(key("ec.key")->sign_ikev1(hash, error));
    EXPECT_NE(error.find("RSA"), std::string::npos);
}

// ---- AUTH method 14 ----------------------------------------------------------------------

struct SchemeCase {
    SignatureScheme scheme;
    const char* digest;  // for the deterministic PKCS#1 ones, else null
};

TEST_F(IkeSignature, Method14RoundTripsEveryRsaScheme) {
    auto k = key("gw.key");
    auto signer = cert(gw_.get()), other = cert(other_cert_.get());
    const SchemeCase cases[] = {{SignatureScheme::RsaPkcs1Sha256, "SHA256"},
                                {SignatureScheme::RsaPkcs1Sha384, "SHA384"},
                                {SignatureScheme::RsaPkcs1Sha512, "SHA512"},
                                {SignatureScheme::RsaPssSha256, nullptr}};
    for (const SchemeCase& c : cases) {
        std::string error;
        auto auth = k->sign_auth(IkeAuthMethod::DigitalSignature, c.scheme, octets_, error);
        ASSERT_TRUE(auth) << name(c.scheme) << ": " << error;
        // RFC 7427 §3: length octet | AlgorithmIdentifier | signature.
        const auto alg = algorithm_identifier(c.scheme);
        ASSERT_GT(auth->size(), 1 + alg.size());
        EXPECT_EQ((*auth)[0], alg.size());
        EXPECT_TRUE(std::equal(alg.begin(), alg.end(), auth->begin() + 1));
        const Bytes sig(auth->begin() + 1 + static_cast<long>(alg.size()), auth->end());
        if (c.digest != nullptr) {
            EXPECT_EQ(sig, reference_pkcs1_signature(gw_key_.get(), c.digest, octets_));
        }
        EXPECT_TRUE(verify_auth(*signer, IkeAuthMethod::DigitalSignature, *auth, octets_, error))
            << name(c.scheme) << ": " << error;

        EXPECT_FALSE(verify_auth(*other, IkeAuthMethod::DigitalSignature, *auth, octets_, error)) << name(c.scheme);
        Bytes bad = *auth;
        bad.back() ^= 0x01;
        EXPECT_FALSE(verify_auth(*signer, IkeAuthMethod::DigitalSignature, bad, octets_, error)) << name(c.scheme);
    }
}

TEST_F(IkeSignature, Method14PssIsWhatOpenSslVerifiesAsPssSha256Salt32) {
    auto k = key("gw.key");
    std::string error;
    auto auth = k->sign_auth(IkeAuthMethod::DigitalSignature, SignatureScheme::RsaPssSha256, octets_, error);
    ASSERT_TRUE(auth) << error;
    const Bytes sig(auth->begin() + 1 + (*auth)[0], auth->end());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestVerifyInit_ex(ctx, &pctx, "SHA256", nullptr, nullptr, gw_key_.get(), nullptr);
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
    EXPECT_EQ(EVP_DigestVerify(ctx, sig.data(), sig.size(), octets_.data(), octets_.size()), 1);
    EVP_MD_CTX_free(ctx);

    // A peer may send the strict-DER AlgorithmIdentifier without the default trailerField.
    const Bytes strict = from_hex(
        "3041"
        "06092a864886f70d01010a"
        "3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500"
        "a203020120");
    Bytes alt{static_cast<uint8_t>(strict.size())};
    alt.insert(alt.end(), strict.begin(), strict.end());
    alt.insert(alt.end(), sig.begin(), sig.end());
    EXPECT_TRUE(verify_auth(*cert(gw_.get()), IkeAuthMethod::DigitalSignature, alt, octets_, error)) << error;
}

TEST_F(IkeSignature, Method14EcdsaAndKeySchemeMismatches) {
    auto ec = key("ec.key");
    auto ec_signer = cert(ec_cert_.get()), rsa_signer = cert(gw_.get());
    std::string error;
    for (SignatureScheme s : {SignatureScheme::EcdsaSha256, SignatureScheme::EcdsaSha384, SignatureScheme::EcdsaSha512}) {
        auto auth = ec->sign_auth(IkeAuthMethod::DigitalSignature, s, octets_, error);
        ASSERT_TRUE(auth) << error;
        EXPECT_TRUE(verify_auth(*ec_signer, IkeAuthMethod::DigitalSignature, *auth, octets_, error)) << error;
        EXPECT_FALSE(verify_auth(*rsa_signer, IkeAuthMethod::DigitalSignature, *auth, octets_, error));
    }
    EXPECT_FALSE(ec->sign_auth(IkeAuthMethod::DigitalSignature, SignatureScheme::RsaPkcs1Sha256, octets_, error));
    EXPECT_FALSE(key("gw.key")->sign_auth(IkeAuthMethod::DigitalSignature, SignatureScheme::EcdsaSha256, octets_,
                                          error));
}

TEST_F(IkeSignature, Method14RefusesMalformedHeaders) {
    auto k = key("gw.key");
    auto signer = cert(gw_.get());
    std::string error;
    auto auth = *k->sign_auth(IkeAuthMethod::DigitalSignature, SignatureScheme::RsaPkcs1Sha256, octets_, error);
    EXPECT_FALSE(verify_auth(*signer, IkeAuthMethod::DigitalSignature, Bytes{}, octets_, error));
    EXPECT_FALSE(verify_auth(*signer, IkeAuthMethod::DigitalSignature, Bytes(auth.begin(), auth.begin() + 16),
                             octets_, error));  // the AlgorithmIdentifier and no signature
    Bytes too_long = auth;
    too_long[0] = 0xff;  // says more than there is
    too_long.resize(100);
    EXPECT_FALSE(verify_auth(*signer, IkeAuthMethod::DigitalSignature, too_long, octets_, error));
    // RFC 7427 A.1.1 sha1WithRSAEncryption: a valid AlgorithmIdentifier mbox does not accept.
    Bytes sha1 = auth;
    sha1[13] = 0x05;
    EXPECT_FALSE(verify_auth(*signer, IkeAuthMethod::DigitalSignature, sha1, octets_, error));
    EXPECT_NE(error.find("AlgorithmIdentifier"), std::string::npos) << error;
}

// ---- RFC 7427 registry -------------------------------------------------------------------

TEST(IkeSignatureRegistry, AlgorithmIdentifiersAreRfc7427AppendixABytes) {
    // Copied from RFC 7427 Appendix A (A.1.2-A.1.4, A.3.1-A.3.3, A.4.3).
    const std::pair<SignatureScheme, const char*> appendix_a[] = {
        {SignatureScheme::RsaPkcs1Sha256, "300d06092a864886f70d01010b0500"},
        {SignatureScheme::RsaPkcs1Sha384, "300d06092a864886f70d01010c0500"},
        {SignatureScheme::RsaPkcs1Sha512, "300d06092a864886f70d01010d0500"},
        {SignatureScheme::EcdsaSha256, "300a06082a8648ce3d040302"},
        {SignatureScheme::EcdsaSha384, "300a06082a8648ce3d040303"},
        {SignatureScheme::EcdsaSha512, "300a06082a8648ce3d040304"},
        {SignatureScheme::RsaPssSha256,
         "304606092a864886f70d01010a3039a00f300d06096086480165030402010500a11c301a06092a864886f70d010108"
         "300d06096086480165030402010500a203020120a303020101"},
    };
    for (const auto& [scheme, hex] : appendix_a) {
        const auto der = algorithm_identifier(scheme);
        EXPECT_EQ(to_hex(der.data(), der.size()), hex) << name(scheme);
        EXPECT_EQ(scheme_from_algorithm_identifier(from_hex(hex)), scheme);
    }
    // And OpenSSL reads them as the AlgorithmIdentifiers they claim to be.
    const std::pair<SignatureScheme, int> nids[] = {{SignatureScheme::RsaPkcs1Sha256, NID_sha256WithRSAEncryption},
                                                    {SignatureScheme::RsaPkcs1Sha512, NID_sha512WithRSAEncryption},
                                                    {SignatureScheme::EcdsaSha384, NID_ecdsa_with_SHA384},
                                                    {SignatureScheme::RsaPssSha256, NID_rsassaPss}};
    for (const auto& [scheme, nid] : nids) {
        const auto der = algorithm_identifier(scheme);
        const unsigned char* p = der.data();
        X509_ALGOR* alg = d2i_X509_ALGOR(nullptr, &p, static_cast<long>(der.size()));
        ASSERT_NE(alg, nullptr) << name(scheme);
        const ASN1_OBJECT* oid = nullptr;
        X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
        EXPECT_EQ(OBJ_obj2nid(oid), nid) << name(scheme);
        EXPECT_EQ(p, der.data() + der.size());
        X509_ALGOR_free(alg);
    }
    EXPECT_EQ(hash_of(SignatureScheme::RsaPssSha256), SignatureHash::Sha256);
    EXPECT_EQ(hash_of(SignatureScheme::EcdsaSha384), SignatureHash::Sha384);
    EXPECT_FALSE(scheme_from_algorithm_identifier(from_hex("300d06092a864886f70d0101050500")));  // A.1.1 SHA-1
}

TEST(IkeSignatureRegistry, SignatureHashAlgorithmsNotifyData) {
    const SignatureHash ours[] = {SignatureHash::Sha256, SignatureHash::Sha384, SignatureHash::Sha512};
    EXPECT_EQ(to_hex(encode_signature_hash_algorithms(ours)), "000200030004");  // RFC 7427 §4
    EXPECT_EQ(parse_signature_hash_algorithms(from_hex("0001000200050004")),
              (std::vector<uint16_t>{1, 2, 5, 4}));  // unknown IDs are kept
    EXPECT_EQ(parse_signature_hash_algorithms(Bytes{}), std::vector<uint16_t>{});
    EXPECT_FALSE(parse_signature_hash_algorithms(from_hex("000200")).has_value());
}

}  // namespace
}  // namespace mbox::crypto::test

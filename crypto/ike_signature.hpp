// Certificates and signatures for IKEv2 IKE_AUTH on OpenSSL 3: loading PEM credentials,
// what IKE needs out of an X.509 certificate (ID_DER_ASN1_DN, subjectAltName, the DER
// for a CERT payload of encoding 4), the chain check against a CA, the AUTH payload
// data for RSA Digital Signature (method 1, RFC 7296 §3.8) and Digital Signature
// (method 14, RFC 7427 §3), and the SIGNATURE_HASH_ALGORITHMS notify (RFC 7427 §4).
// Control path only; the AUTH octets themselves (§2.15) are built by the IKE engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mbox::crypto {

// AUTH payload methods (IANA "IKEv2 Authentication Method") that carry a signature.
enum class IkeAuthMethod : uint8_t { RsaSignature = 1, DigitalSignature = 14 };

// RFC 7427 §4 / IANA "IKEv2 Hash Algorithms": the IDs of SIGNATURE_HASH_ALGORITHMS.
enum class SignatureHash : uint16_t { Sha1 = 1, Sha256 = 2, Sha384 = 3, Sha512 = 4 };

// The signature algorithms mbox signs and verifies with method 14, each named on the
// wire by a DER AlgorithmIdentifier from RFC 7427 Appendix A.
enum class SignatureScheme : uint8_t {
    RsaPkcs1Sha256,  // A.1.2 sha256WithRSAEncryption
    RsaPkcs1Sha384,  // A.1.3 sha384WithRSAEncryption
    RsaPkcs1Sha512,  // A.1.4 sha512WithRSAEncryption
    RsaPssSha256,    // A.4.3 RSASSA-PSS, SHA-256, MGF1 with SHA-256, salt 32
    EcdsaSha256,     // A.3.1 ecdsa-with-sha256
    EcdsaSha384,     // A.3.2 ecdsa-with-sha384
    EcdsaSha512,     // A.3.3 ecdsa-with-sha512
};

// The exact DER of RFC 7427 Appendix A for `scheme`: what mbox sends.
std::span<const uint8_t> algorithm_identifier(SignatureScheme scheme);
// The scheme a peer's AlgorithmIdentifier names: Appendix A's bytes, and for RSASSA-PSS
// also the DER form that leaves out the default trailerField. nullopt for anything else.
std::optional<SignatureScheme> scheme_from_algorithm_identifier(std::span<const uint8_t> der);
SignatureHash hash_of(SignatureScheme scheme);
std::string_view name(SignatureScheme scheme);  // "sha256WithRSAEncryption", ...

// SIGNATURE_HASH_ALGORITHMS notify data (RFC 7427 §4): 2-byte big-endian hash IDs.
std::vector<uint8_t> encode_signature_hash_algorithms(std::span<const SignatureHash> hashes);
// Every ID the peer listed, known or not (it may name hashes mbox does not use); nullopt
// for data of odd length.
std::optional<std::vector<uint16_t>> parse_signature_hash_algorithms(std::span<const uint8_t> data);

class Certificate;

// IKEv1: checks a SIG payload against the hash it signs (PrivateKey::sign_ikev1).
bool verify_ikev1(const Certificate& signer, std::span<const uint8_t> hash, std::span<const uint8_t> signature,
                  std::string& error);

// Checks a peer's AUTH data against the public key of its certificate. Refuses,
// with `error`, a malformed method 14 header, an unknown AlgorithmIdentifier, a scheme
// that does not fit the key, and a bad signature.
bool verify_auth(const Certificate& signer, IkeAuthMethod method, std::span<const uint8_t> auth_data,
                 std::span<const uint8_t> signed_octets, std::string& error);

// An X.509 certificate (ours, a CA's or a peer's).
class Certificate {
public:
    // Errors name the file and say what is wrong: missing, unreadable, not PEM.
    static std::unique_ptr<Certificate> load_pem_file(const std::string& path, std::string& error);
    // A peer's certificate from a CERT payload of encoding 4 (X.509 Certificate - Signature).
    static std::unique_ptr<Certificate> from_der(std::span<const uint8_t> der, std::string& error);
    ~Certificate();
    Certificate(const Certificate&) = delete;
    Certificate& operator=(const Certificate&) = delete;

    std::vector<uint8_t> der() const;             // the CERT payload's data
    std::vector<uint8_t> subject_der() const;     // the DER Name, for ID_DER_ASN1_DN
    std::string subject_text() const;             // RFC 2253 form, for logs
    std::vector<std::string> san_dns() const;     // subjectAltName dNSName entries
    std::vector<std::vector<uint8_t>> san_ip() const;  // iPAddress entries: 4 or 16 bytes
    std::vector<uint8_t> public_key_der() const;  // SubjectPublicKeyInfo
    bool is_rsa() const;

    // The chain check: `this` signed by `ca`, both within their validity dates, any
    // purpose. false and `error` (OpenSSL's verify message) otherwise.
    bool verify_issued_by(const Certificate& ca, std::string& error) const;

private:
    struct Impl;
    friend class PrivateKey;
    friend bool verify_ikev1(const Certificate&, std::span<const uint8_t>, std::span<const uint8_t>, std::string&);
    friend bool verify_auth(const Certificate&, IkeAuthMethod, std::span<const uint8_t>, std::span<const uint8_t>,
                            std::string&);
    Certificate() = default;
    std::unique_ptr<Impl> impl_;
};

// A private key (RSA or ECDSA); the key material stays inside OpenSSL's EVP_PKEY.
class PrivateKey {
public:
    static std::unique_ptr<PrivateKey> load_pem_file(const std::string& path, std::string& error);
    ~PrivateKey();
    PrivateKey(const PrivateKey&) = delete;
    PrivateKey& operator=(const PrivateKey&) = delete;

    bool is_rsa() const;
    // true when `cert` carries this key's public half.
    bool matches(const Certificate& cert) const;

    // The AUTH payload's Authentication Data over `signed_octets` (RFC 7296 §2.15):
    // method 1 the bare PKCS#1 v1.5 SHA-1 signature (RSA keys only); method 14 the
    // 1-byte length, the scheme's AlgorithmIdentifier and the signature (RFC 7427 §3).
    // nullopt and `error` when the key does not fit the method/scheme.
    std::optional<std::vector<uint8_t>> sign_auth(IkeAuthMethod method, SignatureScheme scheme,
                                                  std::span<const uint8_t> signed_octets, std::string& error) const;
    // IKEv1's SIG_I / SIG_R (RFC 2409 §5.1): HASH_I / HASH_R signed as they are, RSA
    // with PKCS#1 v1.5 block type 1 padding and no DigestInfo around the hash (the
    // "PKCS1 without hash" form strongSwan and libreswan use). RSA keys only.
    std::optional<std::vector<uint8_t>> sign_ikev1(std::span<const uint8_t> hash, std::string& error) const;

private:
    struct Impl;
    PrivateKey() = default;
    std::unique_ptr<Impl> impl_;
};

// Our own credentials: the certificate and its key, checked to belong together.
struct IkeCredentials {
    std::unique_ptr<Certificate> certificate;
    std::unique_ptr<PrivateKey> key;
};
std::optional<IkeCredentials> load_credentials(const std::string& certificate_path, const std::string& key_path,
                                               std::string& error);

}  // namespace mbox::crypto

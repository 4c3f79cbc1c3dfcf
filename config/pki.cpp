// Checking the `ipsec pki` files with OpenSSL 3 (PEM_read_bio_X509,
// PEM_read_bio_PrivateKey, X509_check_private_key).
#include "config/pki.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace mbox::config {
namespace {

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
    void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Certificate = std::unique_ptr<X509, X509Free>;
using PrivateKey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// An encrypted key would make OpenSSL prompt on the terminal: refuse instead.
int no_password(char*, int, int, void*) { return -1; }

class PkiChecker {
public:
    explicit PkiChecker(const Pki& pki) : pki_(pki) {}

    Diagnostics run() {
        for (const PkiFile& ca : pki_.ca_certs) {
            const Certificate cert = read_certificate(ca, "ca-cert");
            if (cert && X509_check_ca(cert.get()) == 0) {
                error(ca.where, fmt::format("ipsec pki: ca-cert '{}' is not a CA certificate", name(ca)));
            }
        }
        Certificate cert = pki_.local_cert ? read_certificate(*pki_.local_cert, "local-cert") : nullptr;
        PrivateKey key = pki_.local_key ? read_private_key(*pki_.local_key) : nullptr;
        if (cert && key && X509_check_private_key(cert.get(), key.get()) != 1) {
            error(pki_.local_key->where, fmt::format("ipsec pki: local-key '{}' does not match local-cert '{}'",
                                                     name(*pki_.local_key), name(*pki_.local_cert)));
        }
        if (pki_.local_cert && !pki_.local_key) error(pki_.where, "ipsec pki: local-cert given without local-key");
        if (pki_.local_key && !pki_.local_cert) error(pki_.where, "ipsec pki: local-key given without local-cert");
        ERR_clear_error();  // what OpenSSL queued about files it refused is said above
        return std::move(diagnostics_);
    }

private:
    static std::string name(const PkiFile& file) { return resolve_pki_file(file).string(); }

    // The file as a BIO (OpenSSL reads it itself: no copy of a key is left in our
    // buffers), or nothing (reported).
    Bio open(const PkiFile& file, std::string_view kind) {
        const std::filesystem::path path = resolve_pki_file(file);
        std::error_code ignored;
        if (std::filesystem::is_directory(path, ignored)) {
            error(file.where, fmt::format("ipsec pki: cannot read {} '{}': is a directory", kind, path.string()));
            return nullptr;
        }
        errno = 0;
        Bio bio(BIO_new_file(path.c_str(), "rb"));
        if (!bio) {
            error(file.where, fmt::format("ipsec pki: cannot read {} '{}': {}", kind, path.string(),
                                          errno != 0 ? std::strerror(errno) : "cannot open"));
        }
        return bio;
    }

    Certificate read_certificate(const PkiFile& file, std::string_view kind) {
        const Bio bio = open(file, kind);
        if (!bio) return nullptr;
        Certificate cert(PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr));
        if (!cert) error(file.where, fmt::format("ipsec pki: {} '{}' holds no PEM certificate", kind, name(file)));
        return cert;
    }

    PrivateKey read_private_key(const PkiFile& file) {
        const Bio bio = open(file, "local-key");
        if (!bio) return nullptr;
        PrivateKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
        if (!key) {
            error(file.where, fmt::format("ipsec pki: local-key '{}' holds no PEM private key (an encrypted key is "
                                          "not supported)",
                                          name(file)));
        }
        return key;
    }

    void error(const SourceLocation& where, std::string message) {
        diagnostics_.push_back(Diagnostic{Severity::Error, where, std::move(message)});
    }

    const Pki& pki_;
    Diagnostics diagnostics_;
};

}  // namespace

std::filesystem::path resolve_pki_file(const PkiFile& file) {
    const std::filesystem::path written(file.file);
    if (written.is_absolute()) return written;
    return std::filesystem::path(file.where.file).parent_path() / written;
}

Diagnostics check_pki_files(const Pki& pki) {
    return PkiChecker(pki).run();
}

}  // namespace mbox::config

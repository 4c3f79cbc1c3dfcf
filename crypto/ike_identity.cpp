#include "crypto/ike_identity.hpp"

#include <memory>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "crypto/ike_hash.hpp"

namespace mbox::crypto {

namespace {

struct NameFree {
    void operator()(X509_NAME* n) const noexcept { X509_NAME_free(n); }
};
using NamePtr = std::unique_ptr<X509_NAME, NameFree>;

NamePtr parse(std::span<const uint8_t> der) {
    const unsigned char* p = der.data();
    NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size())));
    if (name && p != der.data() + der.size()) name.reset();  // trailing bytes: not one DN
    return name;
}

}  // namespace

std::optional<std::vector<uint8_t>> dn_der(std::span<const std::pair<std::string, std::string>> attributes,
                                           std::string& error) {
    NamePtr name(X509_NAME_new());
    if (!name) return error = "out of memory", std::nullopt;
    for (const auto& [type, value] : attributes) {
        const std::string field = type == "E" ? "emailAddress" : type;
        if (X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), -1, 0) != 1) {
            error = "unknown DN attribute type " + type;
            return std::nullopt;
        }
    }
    unsigned char* out = nullptr;
    const int length = i2d_X509_NAME(name.get(), &out);
    if (length <= 0) return error = "cannot encode the DN", std::nullopt;
    std::vector<uint8_t> der(out, out + length);
    OPENSSL_free(out);
    return der;
}

bool dn_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    const NamePtr x = parse(a), y = parse(b);
    return x && y && X509_NAME_cmp(x.get(), y.get()) == 0;
}

std::string dn_text(std::span<const uint8_t> der) {
    const NamePtr name = parse(der);
    if (!name) return "(bad DN)";
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    // Most significant first, ", " between: as strongSwan and the configuration write it.
    if (!bio || X509_NAME_print_ex(bio.get(), name.get(), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB & ~XN_FLAG_SPC_EQ) < 0)
        return "(bad DN)";
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(length));
}

std::vector<uint8_t> key_id(std::span<const uint8_t> public_key_der) {
    const std::span<const uint8_t> pieces[] = {public_key_der};
    const auto digest = sha1(pieces);
    return {digest.begin(), digest.end()};
}

}  // namespace mbox::crypto

#include "crypto/ike_hash.hpp"

#include <memory>

#include <openssl/evp.h>

namespace mbox::crypto {

std::array<uint8_t, 20> sha1(std::span<const std::span<const uint8_t>> pieces) {
    std::array<uint8_t, 20> out{};
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    unsigned length = 0;
    // SHA-1 cannot fail on a valid context; a failed allocation leaves zeros, which
    // never match a peer's hash (NAT is then assumed, the safe side).
    if (ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) == 1) {
        for (const auto& piece : pieces) EVP_DigestUpdate(ctx.get(), piece.data(), piece.size());
        EVP_DigestFinal_ex(ctx.get(), out.data(), &length);
    }
    return out;
}

}  // namespace mbox::crypto

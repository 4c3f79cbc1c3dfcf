#include "crypto/ike_hash.hpp"

#include <algorithm>

#include <openssl/evp.h>

#include "crypto/openssl_ptr.hpp"

namespace mbox::crypto {

std::vector<uint8_t> digest(IkePrf prf, std::span<const std::span<const uint8_t>> pieces) {
    std::vector<uint8_t> out(prf_length(prf));
    ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
    unsigned length = 0;
    // The four hashes cannot fail on a valid context.
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_get_digestbyname(digest_name(prf)), nullptr) != 1) return {};
    for (const auto& piece : pieces) EVP_DigestUpdate(ctx.get(), piece.data(), piece.size());
    EVP_DigestFinal_ex(ctx.get(), out.data(), &length);
    return out;
}

std::array<uint8_t, 20> sha1(std::span<const std::span<const uint8_t>> pieces) {
    // A failed allocation leaves zeros, which never match a peer's hash (NAT is then
    // assumed, the safe side).
    std::array<uint8_t, 20> out{};
    const std::vector<uint8_t> d = digest(IkePrf::HmacSha1, pieces);
    std::copy_n(d.begin(), std::min(d.size(), out.size()), out.begin());
    return out;
}

}  // namespace mbox::crypto

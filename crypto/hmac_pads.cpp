#include "crypto/hmac_pads.hpp"

#include <cstring>

#include "crypto/secure_memory.hpp"

namespace mbox::crypto {

IMB_HASH_ALG imb_hash_alg(EspIntegrity integrity) {
    switch (integrity) {
    case EspIntegrity::None: return IMB_AUTH_NULL;
    case EspIntegrity::HmacMd5_96:
    case EspIntegrity::HmacMd5_128: return IMB_AUTH_MD5;
    case EspIntegrity::HmacSha1_96: return IMB_AUTH_HMAC_SHA_1;
    case EspIntegrity::HmacSha256_128: return IMB_AUTH_HMAC_SHA_256;
    case EspIntegrity::HmacSha512_256: return IMB_AUTH_HMAC_SHA_512;
    }
    return IMB_AUTH_NULL;
}

namespace {

void hash_one_block(IMB_MGR& mgr, EspIntegrity integrity, const uint8_t* block, uint8_t* state) {
    switch (integrity) {
    case EspIntegrity::HmacMd5_96:
    case EspIntegrity::HmacMd5_128: IMB_MD5_ONE_BLOCK(&mgr, block, state); break;
    case EspIntegrity::HmacSha1_96: IMB_SHA1_ONE_BLOCK(&mgr, block, state); break;
    case EspIntegrity::HmacSha256_128: IMB_SHA256_ONE_BLOCK(&mgr, block, state); break;
    case EspIntegrity::HmacSha512_256: IMB_SHA512_ONE_BLOCK(&mgr, block, state); break;
    case EspIntegrity::None: break;
    }
}

}  // namespace

bool compute_hmac_pads(IMB_MGR& mgr, EspIntegrity integrity, std::span<const uint8_t> key,
                       std::span<uint8_t, kHmacStateLen> inner,
                       std::span<uint8_t, kHmacStateLen> outer) {
    const size_t block = info(integrity).block_size;
    if (integrity == EspIntegrity::None || key.size() > block)
        return false;

    // K padded with zeros to B bytes, then XORed with ipad (0x36) / opad (0x5c).
    alignas(16) uint8_t pad[IMB_SHA_512_BLOCK_SIZE];
    std::memset(pad, 0x36, block);
    for (size_t i = 0; i < key.size(); ++i)
        pad[i] ^= key[i];
    std::memset(inner.data(), 0, inner.size());
    hash_one_block(mgr, integrity, pad, inner.data());

    std::memset(pad, 0x5c, block);
    for (size_t i = 0; i < key.size(); ++i)
        pad[i] ^= key[i];
    std::memset(outer.data(), 0, outer.size());
    hash_one_block(mgr, integrity, pad, outer.data());

    secure_wipe(pad, sizeof pad);
    return true;
}

}  // namespace mbox::crypto

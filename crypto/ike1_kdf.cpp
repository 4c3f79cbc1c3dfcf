// RFC 2409's derivations, each a prf (or hash) over the concatenation the RFC writes,
// given to crypto::prf as pieces so that no secret is copied into a plain buffer.
#include "crypto/ike1_kdf.hpp"

#include <algorithm>
#include <array>

#include "crypto/ike_hash.hpp"

namespace mbox::crypto::ike1 {

namespace {

using Bytes = std::span<const uint8_t>;

// Cookies and message IDs as the ISAKMP header carries them: big-endian.
template <typename T>
std::array<uint8_t, sizeof(T)> big_endian(T v) {
    std::array<uint8_t, sizeof(T)> out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(v >> (8 * (out.size() - 1 - i)));
    return out;
}

// K1 = prf(key, first), Kn = prf(key, Kn-1 | rest), concatenated and cut to `length`:
// Appendix B's key expansion (first = 0, rest empty) and §5.5's KEYMAT (first = rest
// = the KEYMAT input).
SecretBytes expand(IkePrf p, Bytes key, Bytes first, Bytes rest, size_t length) {
    if (length > 255 * prf_length(p)) return {};
    SecretBytes out;
    SecretBytes k;  // Kn-1; empty before K1
    while (out.size() < length) {
        const Bytes pieces[] = {k, k.empty() ? first : rest};
        k = prf(p, key, pieces);
        if (k.empty()) return {};
        out.append(k.span().first(std::min(k.size(), length - out.size())));
    }
    return out;
}

std::vector<uint8_t> cut(std::vector<uint8_t> digest, size_t block_size) {
    digest.resize(std::min(digest.size(), block_size));
    return digest;
}

}  // namespace

SecretBytes skeyid_psk(IkePrf p, Bytes psk, Bytes ni_b, Bytes nr_b) {
    const Bytes pieces[] = {ni_b, nr_b};
    return prf(p, psk, pieces);
}

SecretBytes skeyid_signature(IkePrf p, Bytes ni_b, Bytes nr_b, Bytes shared_secret) {
    SecretBytes nonces(ni_b);  // prf's key: Ni_b | Nr_b
    nonces.append(nr_b);
    return prf(p, nonces, shared_secret);
}

Phase1Keys derive_phase1_keys(IkePrf p, SecretBytes skeyid, Bytes shared_secret, uint64_t cookie_i,
                              uint64_t cookie_r) {
    const auto ci = big_endian(cookie_i), cr = big_endian(cookie_r);
    const uint8_t zero[] = {0}, one[] = {1}, two[] = {2};
    Phase1Keys keys;
    const Bytes d[] = {shared_secret, ci, cr, zero};
    keys.skeyid_d = prf(p, skeyid, d);
    const Bytes a[] = {keys.skeyid_d, shared_secret, ci, cr, one};
    keys.skeyid_a = prf(p, skeyid, a);
    const Bytes e[] = {keys.skeyid_a, shared_secret, ci, cr, two};
    keys.skeyid_e = prf(p, skeyid, e);
    keys.skeyid = std::move(skeyid);
    return keys;
}

SecretBytes encryption_key(IkePrf p, Bytes skeyid_e, size_t length) {
    if (skeyid_e.size() >= length) return SecretBytes(skeyid_e.first(length));
    const uint8_t zero[] = {0};
    return expand(p, skeyid_e, zero, {}, length);
}

SecretBytes hash_i(IkePrf p, Bytes skeyid, Bytes g_xi, Bytes g_xr, uint64_t cookie_i, uint64_t cookie_r, Bytes sai_b,
                   Bytes idii_b) {
    const auto ci = big_endian(cookie_i), cr = big_endian(cookie_r);
    const Bytes pieces[] = {g_xi, g_xr, ci, cr, sai_b, idii_b};
    return prf(p, skeyid, pieces);
}

SecretBytes hash_r(IkePrf p, Bytes skeyid, Bytes g_xi, Bytes g_xr, uint64_t cookie_i, uint64_t cookie_r, Bytes sai_b,
                   Bytes idir_b) {
    const auto ci = big_endian(cookie_i), cr = big_endian(cookie_r);
    const Bytes pieces[] = {g_xr, g_xi, cr, ci, sai_b, idir_b};
    return prf(p, skeyid, pieces);
}

SecretBytes message_hash(IkePrf p, Bytes skeyid_a, uint32_t message_id, Bytes after_hash) {
    const auto mid = big_endian(message_id);
    const Bytes pieces[] = {mid, after_hash};
    return prf(p, skeyid_a, pieces);
}

SecretBytes quick_hash_2(IkePrf p, Bytes skeyid_a, uint32_t message_id, Bytes ni_b, Bytes after_hash) {
    const auto mid = big_endian(message_id);
    const Bytes pieces[] = {mid, ni_b, after_hash};
    return prf(p, skeyid_a, pieces);
}

SecretBytes quick_hash_3(IkePrf p, Bytes skeyid_a, uint32_t message_id, Bytes ni_b, Bytes nr_b) {
    const auto mid = big_endian(message_id);
    const uint8_t zero[] = {0};
    const Bytes pieces[] = {zero, mid, ni_b, nr_b};
    return prf(p, skeyid_a, pieces);
}

// The input holds g(qm)^xy with PFS, so it is kept in a SecretBytes.
SecretBytes keymat(IkePrf p, Bytes skeyid_d, Bytes shared_secret, uint8_t protocol, uint32_t spi, Bytes ni_b,
                   Bytes nr_b, size_t length) {
    const uint8_t protocol_octet[] = {protocol};
    SecretBytes seed(shared_secret);
    seed.append(protocol_octet);
    seed.append(big_endian(spi));
    seed.append(ni_b);
    seed.append(nr_b);
    return expand_keymat(p, skeyid_d, seed, length);
}

SecretBytes expand_keymat(IkePrf p, Bytes skeyid_d, Bytes seed, size_t length) {
    return expand(p, skeyid_d, seed, seed, length);
}

std::vector<uint8_t> phase1_iv(IkePrf hash, Bytes g_xi, Bytes g_xr, size_t block_size) {
    const Bytes pieces[] = {g_xi, g_xr};
    return cut(digest(hash, pieces), block_size);
}

std::vector<uint8_t> phase2_iv(IkePrf hash, Bytes last_phase1_block, uint32_t message_id, size_t block_size) {
    const auto mid = big_endian(message_id);
    const Bytes pieces[] = {last_phase1_block, mid};
    return cut(digest(hash, pieces), block_size);
}

}  // namespace mbox::crypto::ike1

// IKEv1 key derivation (RFC 2409 §5, §5.5, §5.7 and Appendix B) on the IKE
// primitives: prf is the HMAC of the negotiated hash (crypto::prf, IkePrf names the
// hash), the IVs are that hash (crypto::digest). Every key is a SecretBytes; so are the
// authentication hashes, which are compared in constant time.
//
// Byte strings follow the RFC: Ni_b and Nr_b are nonce payload bodies, g^xy the DH
// shared secret (crypto::DhKeyPair::shared_secret), g^xi and g^xr the KE payload
// bodies, cookies and message IDs big-endian as in the ISAKMP header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/ike_prf.hpp"
#include "crypto/secret.hpp"

namespace mbox::crypto::ike1 {

// ---- phase 1 keys (§5) ----

// Pre-shared keys: SKEYID = prf(pre-shared-key, Ni_b | Nr_b).
SecretBytes skeyid_psk(IkePrf prf, std::span<const uint8_t> psk, std::span<const uint8_t> ni_b,
                       std::span<const uint8_t> nr_b);
// Signatures: SKEYID = prf(Ni_b | Nr_b, g^xy).
SecretBytes skeyid_signature(IkePrf prf, std::span<const uint8_t> ni_b, std::span<const uint8_t> nr_b,
                             std::span<const uint8_t> shared_secret);

struct Phase1Keys {
    SecretBytes skeyid;
    SecretBytes skeyid_d;  // for phase 2 KEYMAT
    SecretBytes skeyid_a;  // for the phase 2 and informational HASHes
    SecretBytes skeyid_e;  // for the encryption key (encryption_key below)
};

// SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
// SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
// SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
Phase1Keys derive_phase1_keys(IkePrf prf, SecretBytes skeyid, std::span<const uint8_t> shared_secret,
                              uint64_t cookie_i, uint64_t cookie_r);

// Appendix B: the cipher's key, `length` bytes. SKEYID_e's first bytes when it is long
// enough; otherwise the first bytes of K1 | K2 | ..., K1 = prf(SKEYID_e, 0) (one zero
// octet), Kn = prf(SKEYID_e, Kn-1). At most 255 prf outputs (empty beyond: a
// programming error).
SecretBytes encryption_key(IkePrf prf, std::span<const uint8_t> skeyid_e, size_t length);

// HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
// HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
// Both take the initiator's values first; HASH_R swaps them itself. SAi_b is the body
// of the initiator's SA payload in both (the responder's choice is not covered). With
// signatures SIG_I and SIG_R sign these.
SecretBytes hash_i(IkePrf prf, std::span<const uint8_t> skeyid, std::span<const uint8_t> g_xi,
                   std::span<const uint8_t> g_xr, uint64_t cookie_i, uint64_t cookie_r, std::span<const uint8_t> sai_b,
                   std::span<const uint8_t> idii_b);
SecretBytes hash_r(IkePrf prf, std::span<const uint8_t> skeyid, std::span<const uint8_t> g_xi,
                   std::span<const uint8_t> g_xr, uint64_t cookie_i, uint64_t cookie_r, std::span<const uint8_t> sai_b,
                   std::span<const uint8_t> idir_b);

// ---- phase 2 and informational hashes (§5.5, §5.7) ----

// Quick mode HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ]) and an
// informational exchange's HASH(1) = prf(SKEYID_a, M-ID | N/D): `after_hash` is the
// message's payloads that follow the HASH payload, generic headers included
// (ike1::bytes_after in the codec).
SecretBytes message_hash(IkePrf prf, std::span<const uint8_t> skeyid_a, uint32_t message_id,
                         std::span<const uint8_t> after_hash);
// HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr ])
SecretBytes quick_hash_2(IkePrf prf, std::span<const uint8_t> skeyid_a, uint32_t message_id,
                         std::span<const uint8_t> ni_b, std::span<const uint8_t> after_hash);
// HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
SecretBytes quick_hash_3(IkePrf prf, std::span<const uint8_t> skeyid_a, uint32_t message_id,
                         std::span<const uint8_t> ni_b, std::span<const uint8_t> nr_b);

// ---- phase 2 keys (§5.5) ----

// One SA's KEYMAT, `length` bytes (encryption key then integrity key):
//   without PFS KEYMAT = prf(SKEYID_d, protocol | SPI | Ni_b | Nr_b)
//   with PFS    KEYMAT = prf(SKEYID_d, g(qm)^xy | protocol | SPI | Ni_b | Nr_b)
// expanded as K1 | K2 | ..., K1 = that prf, Kn = prf(SKEYID_d, Kn-1 | the same input).
// `shared_secret` is empty without PFS; `spi` is the SA's, chosen by its receiver.
SecretBytes keymat(IkePrf prf, std::span<const uint8_t> skeyid_d, std::span<const uint8_t> shared_secret,
                   uint8_t protocol, uint32_t spi, std::span<const uint8_t> ni_b, std::span<const uint8_t> nr_b,
                   size_t length);
// The expansion alone: K1 = prf(SKEYID_d, seed), Kn = prf(SKEYID_d, Kn-1 | seed), cut
// to `length` (at most 255 prf outputs; empty beyond).
SecretBytes expand_keymat(IkePrf prf, std::span<const uint8_t> skeyid_d, std::span<const uint8_t> seed, size_t length);

// ---- IVs (Appendix B) ----

// The first phase 1 IV: hash(g^xi | g^xr) cut to the cipher's block. Each later phase
// 1 message uses the last ciphertext block of the one before (ike1::IvChain).
std::vector<uint8_t> phase1_iv(IkePrf hash, std::span<const uint8_t> g_xi, std::span<const uint8_t> g_xr,
                               size_t block_size);
// The first IV of a quick mode or informational exchange: hash(last phase 1 CBC output
// block | M-ID) cut to the block.
std::vector<uint8_t> phase2_iv(IkePrf hash, std::span<const uint8_t> last_phase1_block, uint32_t message_id,
                               size_t block_size);

}  // namespace mbox::crypto::ike1

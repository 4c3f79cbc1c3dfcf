// IKEv2 prf, prf+ and key derivation (crypto/ike_prf.hpp):
//  * prf is HMAC: RFC 2202 and RFC 4231 known answers;
//  * SKEYSEED, prf+ and the rekey SKEYSEED: NIST CAVP IKEv2 KDF samples;
//  * every derivation also against an independent prf+ written here on OpenSSL's
//    one-shot HMAC(), for the hashes and outputs the NIST samples do not cover
//    (SHA-512, MD5, CHILD_SA KEYMAT with and without PFS).
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto/ike_prf.hpp"
#include "ike_test_bytes.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes pattern(size_t n, uint8_t start) {
    Bytes out(n);
    for (size_t i = 0; i < n; ++i)
        out[i] = static_cast<uint8_t>(start + 7 * i);
    return out;
}

// ---- the independent reference: RFC 7296 §2.13 straight on HMAC() -----------------

const EVP_MD* md_of(IkePrf p) {
    switch (p) {
    case IkePrf::HmacMd5: return EVP_md5();
    case IkePrf::HmacSha1: return EVP_sha1();
    case IkePrf::HmacSha256: return EVP_sha256();
    case IkePrf::HmacSha512: return EVP_sha512();
    }
    return nullptr;
}

Bytes ref_hmac(IkePrf p, const Bytes& key, const Bytes& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    static const unsigned char kEmpty = 0;
    HMAC(md_of(p), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()), data.data(), data.size(), out,
         &len);
    return Bytes(out, out + len);
}

Bytes ref_prf_plus(IkePrf p, const Bytes& key, const Bytes& seed, size_t length) {
    Bytes out, t;
    for (uint8_t n = 1; out.size() < length; ++n) {
        t = ref_hmac(p, key, cat({t, seed, Bytes{n}}));
        out.insert(out.end(), t.begin(), t.end());
    }
    out.resize(length);
    return out;
}

Bytes be64(uint64_t v) {
    Bytes out(8);
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
    return out;
}

uint64_t u64(const Bytes& b) {
    uint64_t v = 0;
    for (uint8_t x : b)
        v = v << 8 | x;
    return v;
}

Bytes concat_keys(const IkeSaKeys& k) {
    return cat({bytes_of(k.sk_d), bytes_of(k.sk_ai), bytes_of(k.sk_ar), bytes_of(k.sk_ei), bytes_of(k.sk_er),
                bytes_of(k.sk_pi), bytes_of(k.sk_pr)});
}

// ---- prf = HMAC ---------------------------------------------------------------------

TEST(IkePrf, HmacMatchesRfc2202AndRfc4231) {
    size_t checked = 0;
    for (const char* file : {"hmac_rfc2202.txt", "hmac_rfc4231.txt"}) {
        for (const VectorRecord& r : load_vectors(file)) {
            const SecretBytes out = prf(prf_for(r.text("hash")), r.bytes("key"), r.bytes("data"));
            // RFC 4231 case 5 and RFC 2202's digest-96 records give only a prefix.
            const char* field = r.has("digest") ? "digest" : r.has("digest128") ? "digest128" : "digest96";
            const Bytes want = r.bytes(field);
            ASSERT_GE(out.size(), want.size()) << r.where;
            EXPECT_EQ(to_hex(Bytes(out.data(), out.data() + want.size())), to_hex(want)) << r.where;
            ++checked;
        }
    }
    EXPECT_GE(checked, 20u);
}

TEST(IkePrf, PiecesAreHashedAsTheirConcatenation) {
    const Bytes key = pattern(20, 1), a = pattern(13, 2), b = pattern(70, 3), c = pattern(1, 4);
    const std::span<const uint8_t> pieces[] = {a, b, std::span<const uint8_t>{}, c};
    EXPECT_EQ(bytes_of(prf(IkePrf::HmacSha256, key, pieces)), bytes_of(prf(IkePrf::HmacSha256, key, cat({a, b, c}))));
}

TEST(IkePrf, LengthsIdsAndNames) {
    EXPECT_EQ(prf_length(IkePrf::HmacMd5), 16u);
    EXPECT_EQ(prf_length(IkePrf::HmacSha1), 20u);
    EXPECT_EQ(prf_length(IkePrf::HmacSha256), 32u);
    EXPECT_EQ(prf_length(IkePrf::HmacSha512), 64u);
    EXPECT_EQ(ikev2_id(IkePrf::HmacMd5), 1);  // RFC 7296 §3.3.2
    EXPECT_EQ(ikev2_id(IkePrf::HmacSha1), 2);
    EXPECT_EQ(ikev2_id(IkePrf::HmacSha256), 5);  // RFC 4868 §6
    EXPECT_EQ(ikev2_id(IkePrf::HmacSha512), 7);
    EXPECT_EQ(name(IkePrf::HmacSha256), "PRF_HMAC_SHA2_256");
}

// ---- NIST CAVP IKEv2 KDF ------------------------------------------------------------

TEST(IkeKdf, CavpSkeyseedDkmAndRekeySkeyseed) {
    for (const VectorRecord& r : load_vectors("ikev2_kdf_cavp.txt")) {
        const IkePrf p = prf_for(r.text("hash"));
        const Bytes ni = r.bytes("ni"), nr = r.bytes("nr"), dkm = r.bytes("dkm");
        const Bytes seed = cat({ni, nr, r.bytes("spii"), r.bytes("spir")});
        // SKEYSEED = prf(Ni | Nr, g^ir)
        EXPECT_EQ(to_hex(bytes_of(prf(p, cat({ni, nr}), r.bytes("gir")))), r.text("skeyseed")) << r.where;
        // DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
        EXPECT_EQ(to_hex(bytes_of(prf_plus(p, r.bytes("skeyseed"), seed, dkm.size()))), r.text("dkm")) << r.where;

        // The same through derive_ike_sa_keys: the seven keys are DKM cut in order.
        const size_t plen = prf_length(p);
        const IkeKeyLengths lengths{.integrity = (dkm.size() - 3 * plen - 32) / 2, .encryption = 16};
        const IkeSaKeys keys = derive_ike_sa_keys(p, lengths, r.bytes("gir"), ni, nr, u64(r.bytes("spii")),
                                                  u64(r.bytes("spir")));
        EXPECT_EQ(to_hex(concat_keys(keys)), r.text("dkm")) << r.where;
        EXPECT_EQ(keys.sk_d.size(), plen);
        EXPECT_EQ(keys.sk_ai.size(), lengths.integrity);
        EXPECT_EQ(keys.sk_ei.size(), 16u);

        // SKEYSEED(Rekey) = prf(SK_d (old), g^ir (new) | Ni | Nr); the new SA's keys are
        // prf+ of it, here with the record's SPIs standing for the new ones.
        const Bytes sk_d(dkm.begin(), dkm.begin() + static_cast<long>(plen));
        const IkeSaKeys rekeyed = derive_rekeyed_ike_sa_keys(p, sk_d, p, lengths, r.bytes("gir_new"), ni, nr,
                                                             u64(r.bytes("spii")), u64(r.bytes("spir")));
        EXPECT_EQ(concat_keys(rekeyed), ref_prf_plus(p, r.bytes("skeyseed_rekey"), seed, dkm.size())) << r.where;
    }
}

// ---- against the independent prf+ ---------------------------------------------------

class IkeKdfReference : public testing::TestWithParam<IkePrf> {};

TEST_P(IkeKdfReference, PrfPlusAtEveryBoundary) {
    const IkePrf p = GetParam();
    const size_t plen = prf_length(p);
    const Bytes key = pattern(plen, 9), seed = pattern(40, 17);
    for (size_t len : {size_t{1}, plen - 1, plen, plen + 1, 3 * plen + 5, 255 * plen}) {
        EXPECT_EQ(bytes_of(prf_plus(p, key, seed, len)), ref_prf_plus(p, key, seed, len)) << len;
    }
}

TEST_P(IkeKdfReference, PrfPlusRefusesMoreThan255Blocks) {
    const IkePrf p = GetParam();
    EXPECT_TRUE(prf_plus(p, pattern(16, 1), pattern(16, 2), 255 * prf_length(p) + 1).empty());
}

TEST_P(IkeKdfReference, IkeSaKeysRekeyAndChildKeymat) {
    const IkePrf p = GetParam();
    const size_t plen = prf_length(p);
    const Bytes gir = pattern(256, 0x31), gir_new = pattern(256, 0x77);
    const Bytes ni = pattern(32, 0x11), nr = pattern(24, 0x22);
    const uint64_t spi_i = 0x0123456789abcdefULL, spi_r = 0xfedcba9876543210ULL;
    const IkeKeyLengths lengths{.integrity = 32, .encryption = 32};
    const size_t total = 3 * plen + 2 * 32 + 2 * 32;
    const Bytes seed = cat({ni, nr, be64(spi_i), be64(spi_r)});

    const IkeSaKeys keys = derive_ike_sa_keys(p, lengths, gir, ni, nr, spi_i, spi_r);
    const Bytes skeyseed = ref_hmac(p, cat({ni, nr}), gir);
    EXPECT_EQ(concat_keys(keys), ref_prf_plus(p, skeyseed, seed, total));

    // RFC 7296 §2.18: the old SA's prf keys SKEYSEED, the new SA's prf expands it.
    const IkePrf new_prf = p == IkePrf::HmacSha512 ? IkePrf::HmacSha256 : IkePrf::HmacSha512;
    const IkeSaKeys rekeyed =
        derive_rekeyed_ike_sa_keys(p, bytes_of(keys.sk_d), new_prf, lengths, gir_new, ni, nr, spi_r, spi_i);
    const Bytes new_skeyseed = ref_hmac(p, bytes_of(keys.sk_d), cat({gir_new, ni, nr}));
    const Bytes new_seed = cat({ni, nr, be64(spi_r), be64(spi_i)});
    EXPECT_EQ(concat_keys(rekeyed), ref_prf_plus(new_prf, new_skeyseed, new_seed, 3 * prf_length(new_prf) + 128));

    // RFC 7296 §2.17: KEYMAT = prf+(SK_d, Ni | Nr), with PFS prf+(SK_d, g^ir (new) | Ni | Nr).
    EXPECT_EQ(bytes_of(derive_child_keymat(p, bytes_of(keys.sk_d), {}, ni, nr, 96)),
              ref_prf_plus(p, bytes_of(keys.sk_d), cat({ni, nr}), 96));
    EXPECT_EQ(bytes_of(derive_child_keymat(p, bytes_of(keys.sk_d), gir_new, ni, nr, 96)),
              ref_prf_plus(p, bytes_of(keys.sk_d), cat({gir_new, ni, nr}), 96));
}

TEST_P(IkeKdfReference, PskAuthIsPrfOfPrfWithTheKeyPad) {
    const IkePrf p = GetParam();
    const Bytes psk = {'s', 'e', 'c', 'r', 'e', 't'};
    const Bytes octets = pattern(300, 5);
    const std::string pad = "Key Pad for IKEv2";  // RFC 7296 §2.15, 17 octets, no NUL
    const Bytes inner = ref_hmac(p, psk, Bytes(pad.begin(), pad.end()));
    EXPECT_EQ(bytes_of(psk_auth(p, psk, octets)), ref_hmac(p, inner, octets));
    EXPECT_NE(bytes_of(psk_auth(p, Bytes{'s', 'e', 'c', 'r', 'e', 'T'}, octets)), ref_hmac(p, inner, octets));
}

INSTANTIATE_TEST_SUITE_P(AllPrfs, IkeKdfReference,
                         testing::Values(IkePrf::HmacMd5, IkePrf::HmacSha1, IkePrf::HmacSha256, IkePrf::HmacSha512),
                         [](const auto& info) { return std::string(name(info.param)); });

}  // namespace
}  // namespace mbox::crypto::test

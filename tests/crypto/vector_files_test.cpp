// The committed known-answer files must agree with an implementation that is not the
// one under test: every record is recomputed with OpenSSL. A typo in a vector file
// fails here, not as a mysterious ipsec-mb mismatch.
#include <gtest/gtest.h>

#include "openssl_oracle.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

TEST(VectorFiles, HmacRecordsMatchOpenSsl) {
    size_t checked = 0;
    for (const char* file : {"hmac_rfc2202.txt", "hmac_rfc4231.txt", "hmac_rfc4868.txt"}) {
        for (const VectorRecord& r : load_vectors(file)) {
            SCOPED_TRACE(r.where + " " + r.text("name"));
            const Bytes mac = openssl_hmac(r.text("hash"), r.bytes("key"), r.bytes("data"));
            if (r.has("digest")) {
                EXPECT_EQ(to_hex(mac), r.text("digest"));
            }
            for (const char* truncated : {"digest96", "digest128", "icv"}) {
                if (!r.has(truncated))
                    continue;
                const Bytes want = r.bytes(truncated);
                ASSERT_LE(want.size(), mac.size());
                EXPECT_EQ(to_hex(mac.data(), want.size()), to_hex(want)) << truncated;
            }
            ++checked;
        }
    }
    // RFC 2202: 7 MD5 + 7 SHA-1; RFC 4231: 7 x (SHA-256, SHA-512); RFC 4868: 4 + 4.
    EXPECT_EQ(checked, 14u + 14u + 8u);
}

TEST(VectorFiles, CbcRecordsMatchOpenSsl) {
    size_t checked = 0;
    for (const char* file : {"aes_cbc_rfc3602.txt", "aes_cbc_sp800_38a.txt", "tdes_cbc_nist.txt"}) {
        for (const VectorRecord& r : load_vectors(file)) {
            SCOPED_TRACE(r.where + " " + r.text("name"));
            const Bytes ct = openssl_cbc(r.text("cipher"), r.bytes("key"), r.bytes("iv"), r.bytes("plaintext"), true);
            EXPECT_EQ(to_hex(ct), r.text("ciphertext"));
            const Bytes pt = openssl_cbc(r.text("cipher"), r.bytes("key"), r.bytes("iv"), r.bytes("ciphertext"), false);
            EXPECT_EQ(to_hex(pt), r.text("plaintext"));
            ++checked;
        }
    }
    EXPECT_EQ(checked, 4u + 3u + 1u);
}

TEST(VectorFiles, GcmRecordsMatchOpenSsl) {
    size_t checked = 0;
    for (const VectorRecord& r : load_vectors("aes_gcm_mcgrew_viega.txt")) {
        SCOPED_TRACE(r.where + " " + r.text("name"));
        Bytes nonce = r.bytes("salt");
        const Bytes iv = r.bytes("iv");
        ASSERT_EQ(nonce.size(), 4u);
        ASSERT_EQ(iv.size(), 8u);
        nonce.insert(nonce.end(), iv.begin(), iv.end());
        const GcmOutput g = openssl_gcm_encrypt(r.bytes("key"), nonce, r.bytes("aad"), r.bytes("plaintext"));
        EXPECT_EQ(to_hex(g.ciphertext), r.text("ciphertext"));
        EXPECT_EQ(to_hex(g.tag), r.text("tag"));
        ++checked;
    }
    EXPECT_EQ(checked, 4u);
}

TEST(VectorFiles, LoaderRejectsMalformedHex) {
    EXPECT_THROW(from_hex("abc"), std::runtime_error);
    EXPECT_THROW(from_hex("zz"), std::runtime_error);
    EXPECT_EQ(to_hex(from_hex("00ff10Ab")), "00ff10ab");
}

}  // namespace
}  // namespace mbox::crypto::test

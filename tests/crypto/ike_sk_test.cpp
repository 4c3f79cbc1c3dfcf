// SK payload protection (crypto/ike_sk.hpp): CBC against RFC 3602 §4 and the NIST TDES
// example, HMAC truncations against RFC 2202 / RFC 4868 outputs cut to the ICV, and the
// checks that must refuse: a one-bit change, a wrong ICV length, wrong key lengths.
#include <gtest/gtest.h>

#include "crypto/ike_sk.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

using Bytes = std::vector<uint8_t>;

std::unique_ptr<SkProtection> make(IkeCipher c, IkeIntegrity i, const Bytes& ekey, const Bytes& akey) {
    std::string error;
    auto sk = SkProtection::create(c, i, ekey, akey, error);
    EXPECT_NE(sk, nullptr) << error;
    return sk;
}

IkeCipher cipher_for(const std::string& name) {
    if (name == "aes-128-cbc") return IkeCipher::Aes128Cbc;
    if (name == "aes-192-cbc") return IkeCipher::Aes192Cbc;
    if (name == "aes-256-cbc") return IkeCipher::Aes256Cbc;
    if (name == "des-ede3-cbc") return IkeCipher::TripleDesCbc;
    throw std::runtime_error("no IKE cipher " + name);
}

void check_cbc_file(const char* file, size_t expected_records) {
    size_t checked = 0;
    for (const VectorRecord& r : load_vectors(file)) {
        const IkeCipher c = cipher_for(r.text("cipher"));
        auto sk = make(c, IkeIntegrity::HmacSha256_128, r.bytes("key"), Bytes(32, 0x42));
        ASSERT_TRUE(sk);
        const Bytes pt = r.bytes("plaintext"), ct = r.bytes("ciphertext"), iv = r.bytes("iv");
        Bytes out(pt.size());
        ASSERT_TRUE(sk->encrypt(iv, pt, out)) << r.where;
        EXPECT_EQ(to_hex(out), to_hex(ct)) << r.where;
        ASSERT_TRUE(sk->decrypt(iv, ct, out)) << r.where;
        EXPECT_EQ(to_hex(out), to_hex(pt)) << r.where;
        ++checked;
    }
    EXPECT_EQ(checked, expected_records);
}

TEST(SkCipher, AesCbcMatchesRfc3602) { check_cbc_file("aes_cbc_rfc3602.txt", 4); }

TEST(SkCipher, TripleDesCbcMatchesTheNistExample) { check_cbc_file("tdes_cbc_nist.txt", 1); }

TEST(SkCipher, EveryCipherRoundTripsWithoutPaddingOfItsOwn) {
    for (IkeCipher c : {IkeCipher::TripleDesCbc, IkeCipher::Aes128Cbc, IkeCipher::Aes192Cbc, IkeCipher::Aes256Cbc}) {
        auto sk = make(c, IkeIntegrity::HmacSha1_96, Bytes(key_length(c), 0x5c), Bytes(20, 1));
        ASSERT_TRUE(sk);
        const Bytes iv(block_length(c), 0x33);
        Bytes pt(4 * block_length(c));
        for (size_t i = 0; i < pt.size(); ++i)
            pt[i] = static_cast<uint8_t>(i);
        Bytes ct(pt.size()), back(pt.size());
        ASSERT_TRUE(sk->encrypt(iv, pt, ct));
        EXPECT_NE(ct, pt);
        ASSERT_TRUE(sk->decrypt(iv, ct, back));
        EXPECT_EQ(back, pt) << name(c);
        // The engine's padding is all there is: a partial block or a short output is refused.
        Bytes odd(pt.size() - 1), small(pt.size() - 1);
        EXPECT_FALSE(sk->encrypt(iv, Bytes(pt.begin(), pt.end() - 1), odd));
        EXPECT_FALSE(sk->encrypt(iv, pt, small));
        EXPECT_FALSE(sk->encrypt(Bytes(iv.size() + 1, 0), pt, ct));
    }
}

// ---- integrity -----------------------------------------------------------------------

struct IntegrityFile {
    IkeIntegrity integrity;
    const char* file;
    const char* hash;
};

TEST(SkIntegrity, IcvIsTheTruncatedRfcHmac) {
    // The records whose key has the transform's key length (RFC 7296 §2.14).
    const IntegrityFile cases[] = {
        {IkeIntegrity::HmacMd5_96, "hmac_rfc2202.txt", "md5"},
        {IkeIntegrity::HmacMd5_128, "hmac_rfc2202.txt", "md5"},
        {IkeIntegrity::HmacSha1_96, "hmac_rfc2202.txt", "sha1"},
        {IkeIntegrity::HmacSha256_128, "hmac_rfc4868.txt", "sha256"},
        {IkeIntegrity::HmacSha512_256, "hmac_rfc4868.txt", "sha512"},
    };
    for (const IntegrityFile& c : cases) {
        size_t checked = 0;
        for (const VectorRecord& r : load_vectors(c.file)) {
            if (r.text("hash") != c.hash || !r.has("digest") || r.bytes("key").size() != key_length(c.integrity))
                continue;
            auto sk = make(IkeCipher::Aes128Cbc, c.integrity, Bytes(16, 0), r.bytes("key"));
            ASSERT_TRUE(sk);
            const Bytes data = r.bytes("data"), digest = r.bytes("digest");
            Bytes icv(sk->icv_size());
            sk->sign(data, icv);
            EXPECT_EQ(to_hex(icv), to_hex(Bytes(digest.begin(), digest.begin() + static_cast<long>(icv.size()))))
                << r.where << " " << name(c.integrity);
            EXPECT_TRUE(sk->verify(data, icv));
            ++checked;
        }
        EXPECT_GE(checked, 1u) << name(c.integrity);
    }
}

TEST(SkIntegrity, VerifyRefusesEveryOneBitChangeAndWrongLengths) {
    auto sk = make(IkeCipher::Aes256Cbc, IkeIntegrity::HmacSha256_128, Bytes(32, 7), Bytes(32, 9));
    ASSERT_TRUE(sk);
    Bytes data(100, 0xab), icv(sk->icv_size());
    sk->sign(data, icv);
    ASSERT_TRUE(sk->verify(data, icv));
    for (size_t bit = 0; bit < 8 * icv.size(); ++bit) {
        Bytes bad = icv;
        bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        EXPECT_FALSE(sk->verify(data, bad)) << "ICV bit " << bit;
    }
    data[42] ^= 0x10;
    EXPECT_FALSE(sk->verify(data, icv)) << "a changed message";
    data[42] ^= 0x10;
    EXPECT_FALSE(sk->verify(data, Bytes(icv.begin(), icv.end() - 1)));
    Bytes longer = icv;
    longer.push_back(0);
    EXPECT_FALSE(sk->verify(data, longer));
}

TEST(SkProtectionSetup, RefusesKeysOfTheWrongLength) {
    std::string error;
    EXPECT_EQ(SkProtection::create(IkeCipher::Aes128Cbc, IkeIntegrity::HmacSha1_96, Bytes(15, 0), Bytes(20, 0), error),
              nullptr);
    EXPECT_FALSE(error.empty());
    error.clear();
    EXPECT_EQ(SkProtection::create(IkeCipher::Aes128Cbc, IkeIntegrity::HmacSha1_96, Bytes(16, 0), Bytes(16, 0), error),
              nullptr);
    EXPECT_FALSE(error.empty());
}

TEST(SkProtectionSetup, RegistryValues) {
    EXPECT_EQ(ikev2_id(IkeCipher::TripleDesCbc), 3);
    EXPECT_EQ(ikev2_id(IkeCipher::Aes256Cbc), 12);
    EXPECT_EQ(ikev2_key_bits(IkeCipher::TripleDesCbc), 0);
    EXPECT_EQ(ikev2_key_bits(IkeCipher::Aes192Cbc), 192);
    EXPECT_EQ(block_length(IkeCipher::TripleDesCbc), 8u);
    EXPECT_EQ(ikev2_id(IkeIntegrity::HmacMd5_96), 1);
    EXPECT_EQ(ikev2_id(IkeIntegrity::HmacSha1_96), 2);
    EXPECT_EQ(ikev2_id(IkeIntegrity::HmacMd5_128), 6);
    EXPECT_EQ(ikev2_id(IkeIntegrity::HmacSha256_128), 12);
    EXPECT_EQ(ikev2_id(IkeIntegrity::HmacSha512_256), 14);
    EXPECT_EQ(key_length(IkeIntegrity::HmacSha512_256), 64u);
    EXPECT_EQ(icv_length(IkeIntegrity::HmacSha512_256), 32u);
    EXPECT_EQ(icv_length(IkeIntegrity::HmacMd5_128), 16u);
}

}  // namespace
}  // namespace mbox::crypto::test

// Cipher known answers through EspSession and EspEngine: AES-128-CBC (RFC 3602 §4),
// AES-128/192/256-CBC (NIST SP 800-38A F.2), three-key 3DES-CBC (NIST example values)
// and AES-GCM (McGrew & Viega test cases 3, 4, 15, 16 in RFC 4106 form).
#include <gtest/gtest.h>

#include <cstring>

#include "crypto/esp_engine.hpp"
#include "crypto/esp_session.hpp"
#include "openssl_oracle.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

EspCipher cbc_cipher(const std::string& name) {
    if (name == "aes-128-cbc") return EspCipher::Aes128Cbc;
    if (name == "aes-192-cbc") return EspCipher::Aes192Cbc;
    if (name == "aes-256-cbc") return EspCipher::Aes256Cbc;
    if (name == "des-ede3-cbc") return EspCipher::TripleDesCbc;
    ADD_FAILURE() << "unknown cipher " << name;
    return EspCipher::Null;
}

class CipherKnownAnswers : public ::testing::Test {
protected:
    void SetUp() override {
        std::string error;
        engine_ = EspEngine::create(error);
        ASSERT_TRUE(engine_) << error;
    }
    std::unique_ptr<EspEngine> engine_;
};

// The vector's plaintext is the cipher range of a packet-shaped buffer:
// [SPI seq][IV][plaintext][ICV], with HMAC-SHA1-96 over SPI..ciphertext.
TEST_F(CipherKnownAnswers, CbcCiphertextMatchesAndDecryptsBack) {
    const Bytes auth_key(20, 0x42);
    size_t checked = 0;
    for (const char* file : {"aes_cbc_rfc3602.txt", "aes_cbc_sp800_38a.txt", "tdes_cbc_nist.txt"}) {
        for (const VectorRecord& r : load_vectors(file)) {
            SCOPED_TRACE(r.where + " " + r.text("name"));
            const EspAlgorithms algs{cbc_cipher(r.text("cipher")), EspIntegrity::HmacSha1_96};
            std::string error;
            auto session = EspSession::create(algs, r.bytes("key"), auth_key, error);
            ASSERT_TRUE(session) << error;

            const Bytes iv = r.bytes("iv"), pt = r.bytes("plaintext"), ct = r.bytes("ciphertext");
            Bytes packet = {0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00, 0x01};
            const size_t iv_off = packet.size();
            packet.insert(packet.end(), iv.begin(), iv.end());
            const size_t ct_off = packet.size();
            packet.insert(packet.end(), pt.begin(), pt.end());
            const size_t icv_off = packet.size();
            packet.resize(icv_off + 12, 0);

            EspCryptoOp op;
            op.session = session.get();
            op.iv = packet.data() + iv_off;
            op.cipher_start = packet.data() + ct_off;
            op.cipher_len = static_cast<uint32_t>(pt.size());
            op.auth_start = packet.data();
            op.auth_len = static_cast<uint32_t>(icv_off);
            op.icv = packet.data() + icv_off;
            ASSERT_EQ(engine_->encrypt(std::span(&op, 1)), 1u) << to_string(op.status);
            EXPECT_EQ(to_hex(packet.data() + ct_off, ct.size()), to_hex(ct));
            const Bytes mac = openssl_hmac("sha1", auth_key, Bytes(packet.begin(), packet.begin() + icv_off));
            EXPECT_EQ(to_hex(packet.data() + icv_off, 12), to_hex(mac.data(), 12));

            ASSERT_EQ(engine_->decrypt(std::span(&op, 1)), 1u) << to_string(op.status);
            EXPECT_EQ(to_hex(packet.data() + ct_off, pt.size()), to_hex(pt));
            ++checked;
        }
    }
    EXPECT_EQ(checked, 8u);
}

TEST_F(CipherKnownAnswers, GcmCiphertextAndTagMatchAndDecryptBack) {
    size_t checked = 0;
    for (const VectorRecord& r : load_vectors("aes_gcm_mcgrew_viega.txt")) {
        SCOPED_TRACE(r.where + " " + r.text("name"));
        const EspCipher cipher = r.text("cipher") == "aes-128-gcm" ? EspCipher::Aes128Gcm16 : EspCipher::Aes256Gcm16;
        Bytes keymat = r.bytes("key");
        const Bytes salt = r.bytes("salt");
        keymat.insert(keymat.end(), salt.begin(), salt.end());  // RFC 4106 §8.1: key || salt
        std::string error;
        auto session = EspSession::create({cipher, EspIntegrity::None}, keymat, {}, error);
        ASSERT_TRUE(session) << error;

        const Bytes iv = r.bytes("iv"), aad = r.bytes("aad"), pt = r.bytes("plaintext");
        Bytes buf = pt;
        buf.resize(pt.size() + 16 + 8, 0xEE);
        EspCryptoOp op;
        op.session = session.get();
        op.iv = iv.data();
        op.cipher_start = buf.data();
        op.cipher_len = static_cast<uint32_t>(pt.size());
        op.aad = aad.data();
        op.aad_len = static_cast<uint32_t>(aad.size());
        op.icv = buf.data() + pt.size();
        ASSERT_EQ(engine_->encrypt(std::span(&op, 1)), 1u) << to_string(op.status);
        EXPECT_EQ(to_hex(buf.data(), pt.size()), r.text("ciphertext"));
        EXPECT_EQ(to_hex(op.icv, 16), r.text("tag"));
        for (size_t i = pt.size() + 16; i < buf.size(); ++i)
            ASSERT_EQ(buf[i], 0xEE);

        ASSERT_EQ(engine_->decrypt(std::span(&op, 1)), 1u) << to_string(op.status);
        EXPECT_EQ(to_hex(buf.data(), pt.size()), to_hex(pt));
        ++checked;
    }
    EXPECT_EQ(checked, 4u);
}

}  // namespace
}  // namespace mbox::crypto::test

// IKEv1 message encryption (crypto/ike1_cipher.hpp, RFC 2409 Appendix B): main mode's
// messages 5 and 6 under the appliance's phase 1 (3DES, MD5), with the ciphertexts
// computed by the OpenSSL command line (no published vector exists for the IV chain):
//
//   cbc() { printf %s "$4" | xxd -r -p | openssl enc -$1 -nopad -K $2 -iv $3 | xxd -p; }
//   KEY=d2d99d0aaed6973942aaf6db6cc18939971f3e829614d882   (ike1_kdf_test.cpp: from SKEYID_e)
//   IV1=6c2396afeecee0bc                                    (hash md5 $GXI$GXR, cut to 8)
//   CT5=$(cbc des-ede3-cbc $KEY $IV1 ${PT5}000000)           (45 bytes, zero padded to 48)
//   CT6=$(cbc des-ede3-cbc $KEY ${CT5: -16} $PT6)            (40 bytes, no padding)
//
// and the rules that keep the IV chain honest: a received message moves it only once
// accepted, a forged one cannot derail it, lengths that are not whole blocks are refused.
#include <gtest/gtest.h>

#include "crypto/ike1_cipher.hpp"
#include "crypto/ike1_kdf.hpp"
#include "ike_test_bytes.hpp"
#include "openssl_oracle.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

using namespace crypto::ike1;

const Bytes kKey = from_hex("d2d99d0aaed6973942aaf6db6cc18939971f3e829614d882");
const Bytes kPhase1Iv = from_hex("6c2396afeecee0bc");
// Main mode message 5 (IDii, HASH_I, a VID: 45 bytes) and message 6 (IDir, HASH_R, a VID: 40).
const Bytes kMessage5 = from_hex(
    "0800000c01000000c00002010d00001400112233445566778899aabbccddeeff00000011f0f1f2f3f4f5f6f7f8");
const Bytes kMessage6 =
    from_hex("0800000c01000000c63364010d0000140f0e0d0c0b0a0908070605040302010000000008a1b2c3d4");
const std::string kCiphertext5 =
    "4430b61fea30e8619cca13bbab21843093e96ee826a41103b5a023a57cef1c580e2661a152a11b3d14595e9aca9ae413";
const std::string kCiphertext6 = "3c93bde3ccf50b5503b7bd4c8aca4073ff9855a711a63790dab1d1a9ed25da6535a549466b5c5ab7";

std::unique_ptr<MessageCipher> triple_des() {
    std::string error;
    auto cipher = MessageCipher::create(IkeCipher::TripleDesCbc, kKey, error);
    EXPECT_NE(cipher, nullptr) << error;
    return cipher;
}

TEST(Ike1Cipher, MainModeMessagesChainTheirIvsAsTheOpenSslCommandLineDoes) {
    auto cipher = triple_des();
    ASSERT_TRUE(cipher);
    IvChain initiator(kPhase1Iv);
    const Bytes ct5 = cipher->encrypt(initiator, kMessage5);
    EXPECT_EQ(to_hex(ct5), kCiphertext5);
    // The initiator's chain now holds message 5's last block: what message 6 is under.
    EXPECT_EQ(to_hex(Bytes(initiator.iv().begin(), initiator.iv().end())), kCiphertext5.substr(kCiphertext5.size() - 16));

    IvChain responder(kPhase1Iv);
    auto pt5 = cipher->decrypt(responder, ct5);
    ASSERT_TRUE(pt5);
    // The padding comes back with the payloads: three zero bytes.
    Bytes padded5 = kMessage5;
    padded5.insert(padded5.end(), 3, 0);
    EXPECT_EQ(bytes_of(*pt5), padded5);
    responder.advance(ct5);

    const Bytes ct6 = cipher->encrypt(responder, kMessage6);  // 40 bytes: whole blocks, no padding
    EXPECT_EQ(to_hex(ct6), kCiphertext6);
    auto pt6 = cipher->decrypt(initiator, ct6);
    ASSERT_TRUE(pt6);
    EXPECT_EQ(bytes_of(*pt6), kMessage6);
    initiator.advance(ct6);

    // Both sides end phase 1 on the same block, from which quick mode's IV is derived
    // (ike1_kdf_test.cpp checks phase2_iv over this block).
    EXPECT_EQ(to_hex(Bytes(initiator.iv().begin(), initiator.iv().end())), "35a549466b5c5ab7");
    EXPECT_TRUE(std::equal(initiator.iv().begin(), initiator.iv().end(), responder.iv().begin(), responder.iv().end()));
}

TEST(Ike1Cipher, DecryptDoesNotMoveTheIvSoAForgedMessageCannotDerailIt) {
    auto cipher = triple_des();
    ASSERT_TRUE(cipher);
    IvChain sender(kPhase1Iv), receiver(kPhase1Iv);
    const Bytes real = cipher->encrypt(sender, kMessage5);
    // Garbage with the right cookies arrives first: it decrypts to garbage, its HASH
    // fails, and the exchange never calls advance().
    Bytes forged(real.size(), 0x5a);
    ASSERT_TRUE(cipher->decrypt(receiver, forged));
    auto pt = cipher->decrypt(receiver, real);
    ASSERT_TRUE(pt);
    EXPECT_EQ(Bytes(pt->data(), pt->data() + kMessage5.size()), kMessage5);
}

TEST(Ike1Cipher, QuickModeRunsOnItsOwnChainFromPhase2Iv) {
    auto cipher = triple_des();
    ASSERT_TRUE(cipher);
    const Bytes last_phase1_block = from_hex("35a549466b5c5ab7");
    IvChain quick(phase2_iv(IkePrf::HmacMd5, last_phase1_block, 0x9a4b3c2d, 8));
    const Bytes message1 = from_hex("0100001800112233445566778899aabbccddeeff0011223344");
    const Bytes iv = Bytes(quick.iv().begin(), quick.iv().end());
    EXPECT_EQ(to_hex(iv), "5f513838118b113f");
    const Bytes ct = cipher->encrypt(quick, message1);
    Bytes padded = message1;
    padded.resize(32, 0);
    EXPECT_EQ(ct, openssl_cbc("des-ede3-cbc", kKey, iv, padded, true));
    EXPECT_EQ(Bytes(quick.iv().begin(), quick.iv().end()), Bytes(ct.end() - 8, ct.end()));
}

TEST(Ike1Cipher, AesUsesSixteenByteBlocks) {
    const Bytes key(16, 0x42);
    std::string error;
    auto cipher = MessageCipher::create(IkeCipher::Aes128Cbc, key, error);
    ASSERT_TRUE(cipher) << error;
    EXPECT_EQ(cipher->block_size(), 16u);
    const Bytes iv = from_hex("2fa20c6e645f32eb2a0fa767fe0c41a2");
    IvChain chain(iv);
    const Bytes ct = cipher->encrypt(chain, kMessage5);  // 45 bytes -> 48
    Bytes padded = kMessage5;
    padded.resize(48, 0);
    EXPECT_EQ(ct, openssl_cbc("aes-128-cbc", key, iv, padded, true));
}

TEST(Ike1Cipher, LengthsThatAreNotWholeBlocksAreRefused) {
    auto cipher = triple_des();
    ASSERT_TRUE(cipher);
    IvChain chain(kPhase1Iv);
    EXPECT_FALSE(cipher->decrypt(chain, Bytes{}));
    EXPECT_FALSE(cipher->decrypt(chain, Bytes(12, 1)));
    EXPECT_TRUE(cipher->decrypt(chain, Bytes(16, 1)));
    // An IV of the wrong length (AES's for 3DES) encrypts and decrypts nothing.
    IvChain wrong(Bytes(16, 0));
    EXPECT_TRUE(cipher->encrypt(wrong, kMessage5).empty());
    EXPECT_FALSE(cipher->decrypt(wrong, Bytes(16, 1)));
    EXPECT_TRUE(cipher->encrypt(chain, Bytes{}).empty());
    // A short ciphertext does not move the chain.
    chain.advance(Bytes(4, 9));
    EXPECT_EQ(Bytes(chain.iv().begin(), chain.iv().end()), kPhase1Iv);
}

TEST(Ike1Cipher, KeysOfTheWrongLengthAreRefused) {
    std::string error;
    EXPECT_EQ(MessageCipher::create(IkeCipher::TripleDesCbc, Bytes(16, 1), error), nullptr);
    EXPECT_NE(error.find("key of 16 bytes, expected 24"), std::string::npos) << error;
    EXPECT_EQ(MessageCipher::create(IkeCipher::Aes256Cbc, Bytes(24, 1), error), nullptr);
    EXPECT_NE(MessageCipher::create(IkeCipher::Aes192Cbc, Bytes(24, 1), error), nullptr);
}

}  // namespace
}  // namespace mbox::crypto::test

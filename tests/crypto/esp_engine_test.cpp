// EspEngine on packet-shaped buffers: every algorithm combination, with and without
// extended sequence numbers, must produce exactly the bytes OpenSSL computes, decrypt
// them back, and refuse (AuthFailed, plaintext wiped) any packet with a changed bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iostream>

#include "crypto/esp_engine.hpp"
#include "esp_test_packet.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

struct Variant {
    EspAlgorithms algs;
    bool esn;
};

std::vector<Variant> variants(bool (*keep)(const Variant&)) {
    std::vector<Variant> v;
    for (EspAlgorithms a : all_algorithm_combinations()) {
        for (bool esn : {false, true}) {
            if (keep(Variant{a, esn}))
                v.push_back({a, esn});
        }
    }
    return v;
}
bool any(const Variant&) { return true; }
bool with_esn(const Variant& v) { return v.esn; }
bool gcm(const Variant& v) { return info(v.algs.cipher).aead; }

class EspEngineTest : public ::testing::TestWithParam<Variant> {
protected:
    void SetUp() override {
        std::string error;
        engine_ = EspEngine::create(error);
        ASSERT_TRUE(engine_) << error;
        sa_ = TestSa::make(GetParam().algs, GetParam().esn, 0xc0ffee01, rng_);
    }

    Bytes next_iv() {
        Bytes iv(info(sa_.algs.cipher).iv_len);
        if (sa_.session->aead()) {
            gcm_iv_from_sequence(seq_, std::span<uint8_t, 8>(iv.data(), 8));
        } else if (!iv.empty()) {
            EXPECT_TRUE(engine_->ivs().fill(iv.data(), iv.size()));
        }
        return iv;
    }

    // A packet encrypted by the engine and checked byte for byte against OpenSSL.
    TestPacket encrypted_packet(size_t inner_len) {
        const Bytes iv = next_iv();
        TestPacket p = build_packet(sa_, seq_, iv, random_bytes(rng_, inner_len));
        const Bytes want = expected_encrypted(sa_, p);
        EspCryptoOp op = encrypt_op(sa_, p);
        EXPECT_EQ(engine_->encrypt(std::span(&op, 1)), 1u);
        EXPECT_EQ(op.status, CryptoStatus::Ok);
        EXPECT_EQ(to_hex(p.buf), to_hex(want)) << "inner " << inner_len;
        seq_ += GetParam().esn ? 0x100000001ull : 1;  // ESN: exercise seq_hi too
        return p;
    }

    std::mt19937_64 rng_{1234};
    std::unique_ptr<EspEngine> engine_;
    TestSa sa_;
    uint64_t seq_ = GetParam().esn ? 0x00000003fffffff0ull : 1;
};

TEST_P(EspEngineTest, EncryptMatchesOpenSslAndDecryptsBack) {
    for (size_t inner : {0, 1, 2, 13, 14, 15, 16, 17, 31, 64, 100, 576, 1400}) {
        TestPacket p = encrypted_packet(inner);
        const Bytes guard_before(p.buf.begin(), p.buf.begin() + TestPacket::kGuard);
        EspCryptoOp op = decrypt_op(sa_, p);
        ASSERT_EQ(engine_->decrypt(std::span(&op, 1)), 1u) << "inner " << inner << ": " << to_string(op.status);
        EXPECT_EQ(to_hex(p.at(p.cipher_off), p.clear.size()), to_hex(p.clear));
        EXPECT_EQ(Bytes(p.buf.begin(), p.buf.begin() + TestPacket::kGuard), guard_before);
        EXPECT_TRUE(std::all_of(p.buf.end() - TestPacket::kGuard, p.buf.end(), [](uint8_t b) { return b == 0xA5; }));
    }
}

// Every byte the receiver authenticates: ESP header (AAD for GCM), IV, ciphertext,
// ICV. One flipped bit anywhere must fail, and leave no plaintext behind.
TEST_P(EspEngineTest, AnyChangedBitFailsAuthenticationAndWipesPlaintext) {
    const TestPacket sent = encrypted_packet(45);
    size_t tried = 0;
    for (size_t off = sent.esp; off < sent.icv_off + sent.icv_len; ++off) {
        for (uint8_t bit : {0x01, 0x80}) {
            TestPacket p = sent;
            p.buf[off] ^= bit;
            EspCryptoOp op = decrypt_op(sa_, p);
            ASSERT_EQ(engine_->decrypt(std::span(&op, 1)), 0u) << "offset " << off - sent.esp;
            ASSERT_EQ(op.status, CryptoStatus::AuthFailed) << "offset " << off - sent.esp;
            if (p.cipher_len != 0) {
                ASSERT_TRUE(std::all_of(p.at(p.cipher_off), p.at(p.cipher_off) + p.cipher_len,
                                        [](uint8_t b) { return b == 0; }))
                    << "unauthenticated plaintext left at offset " << off - sent.esp;
            }
            ++tried;
        }
    }
    EXPECT_EQ(tried, 2 * (sent.icv_off + sent.icv_len - sent.esp));

    // The untouched packet still verifies: the failures above were the flips.
    TestPacket p = sent;
    EspCryptoOp op = decrypt_op(sa_, p);
    EXPECT_EQ(engine_->decrypt(std::span(&op, 1)), 1u);
}

// With ESN the high half of the sequence number is authenticated though never sent: a
// receiver that guesses it wrong (RFC 4303 Appendix A2.2) must fail authentication.
class EspEngineEsnTest : public EspEngineTest {};

TEST_P(EspEngineEsnTest, WrongSequenceNumberHighHalfFailsAuthentication) {
    TestPacket p = encrypted_packet(60);
    p.seq += 1ull << 32;
    EspCryptoOp op = decrypt_op(sa_, p);
    EXPECT_EQ(engine_->decrypt(std::span(&op, 1)), 0u);
    EXPECT_EQ(op.status, CryptoStatus::AuthFailed);
}

// GCM's AAD given separately (ESN's 12 bytes): a changed byte of it must fail too.
class EspEngineGcmTest : public EspEngineTest {};

TEST_P(EspEngineGcmTest, ChangedAadFailsAuthentication) {
    const TestPacket sent = encrypted_packet(33);
    for (uint32_t i = 0; i < (GetParam().esn ? 12u : 8u); ++i) {
        TestPacket p = sent;
        EspCryptoOp op = decrypt_op(sa_, p);
        std::array<uint8_t, 12> aad{};
        std::memcpy(aad.data(), op.aad, op.aad_len);
        aad[i] ^= 0x40;
        op.aad = aad.data();
        EXPECT_EQ(engine_->decrypt(std::span(&op, 1)), 0u) << "AAD byte " << i;
        EXPECT_EQ(op.status, CryptoStatus::AuthFailed);
    }
}

std::string variant_name(const ::testing::TestParamInfo<Variant>& info) {
    std::string s = describe(info.param.algs, info.param.esn);
    std::replace_if(s.begin(), s.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    return s;
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, EspEngineTest, ::testing::ValuesIn(variants(any)), variant_name);
INSTANTIATE_TEST_SUITE_P(Esn, EspEngineEsnTest, ::testing::ValuesIn(variants(with_esn)), variant_name);
INSTANTIATE_TEST_SUITE_P(Gcm, EspEngineGcmTest, ::testing::ValuesIn(variants(gcm)), variant_name);

// ---- Burst behaviour --------------------------------------------------------------

class EspEngineBurst : public ::testing::Test {
protected:
    void SetUp() override {
        std::string error;
        engine_ = EspEngine::create(error);
        ASSERT_TRUE(engine_) << error;
    }
    std::mt19937_64 rng_{99};
    std::unique_ptr<EspEngine> engine_;
};

TEST_F(EspEngineBurst, InvalidOpsFailAloneAndLeaveTheirNeighboursIntact) {
    TestSa cbc = TestSa::make({EspCipher::Aes128Cbc, EspIntegrity::HmacSha256_128}, false, 1, rng_);
    TestSa gcm = TestSa::make({EspCipher::Aes128Gcm16, EspIntegrity::None}, false, 2, rng_);
    std::vector<TestPacket> packets;
    std::vector<Bytes> want;
    for (int i = 0; i < 9; ++i) {
        TestSa& sa = i % 2 ? gcm : cbc;
        Bytes iv(info(sa.algs.cipher).iv_len, static_cast<uint8_t>(i));
        packets.push_back(build_packet(sa, static_cast<uint64_t>(i + 1), iv, random_bytes(rng_, 50 + i)));
        want.push_back(expected_encrypted(sa, packets.back()));
    }
    std::vector<EspCryptoOp> ops;
    for (int i = 0; i < 9; ++i)
        ops.push_back(encrypt_op(i % 2 ? gcm : cbc, packets[static_cast<size_t>(i)]));
    // Each broken op is checked before anything reaches ipsec-mb.
    ops[0].session = nullptr;
    ops[2].cipher_len -= 1;                 // CBC: not a whole number of blocks
    ops[3].aad = nullptr;                   // GCM: AAD length without AAD
    ops[4].auth_len -= 16;                  // ICV would not cover the last block
    ops[6].cipher_start = nullptr;
    ops[8].icv = nullptr;
    EXPECT_EQ(engine_->encrypt(ops), 3u);
    for (size_t i = 0; i < ops.size(); ++i) {
        const bool good = i == 1 || i == 5 || i == 7;
        EXPECT_EQ(ops[i].status, good ? CryptoStatus::Ok : CryptoStatus::Error) << i;
        if (good) {
            EXPECT_EQ(to_hex(packets[i].buf), to_hex(want[i])) << i;
        } else {
            // Rejected ops are not touched at all.
            EXPECT_EQ(to_hex(packets[i].at(packets[i].cipher_off), packets[i].clear.size()),
                      to_hex(packets[i].clear)) << i;
        }
    }
}

// A span longer than the engine keeps in flight (kMaxInFlight) forces completions in
// the middle of the call; every packet must still come out right, in place.
TEST_F(EspEngineBurst, SpansLongerThanTheInFlightLimitAreProcessedCompletely) {
    std::vector<TestSa> sas;
    for (EspAlgorithms a : all_algorithm_combinations())
        sas.push_back(TestSa::make(a, sas.size() % 2 == 0, static_cast<uint32_t>(sas.size() + 1), rng_));
    const size_t n = 3 * EspEngine::kMaxInFlight + 17;
    std::vector<TestPacket> packets;
    std::vector<Bytes> want;
    std::vector<size_t> which;
    for (size_t i = 0; i < n; ++i) {
        const size_t s = rng_() % sas.size();
        Bytes iv(info(sas[s].algs.cipher).iv_len);
        ASSERT_TRUE(engine_->ivs().fill(iv.data(), iv.size()));
        packets.push_back(build_packet(sas[s], 1000 + i, iv, random_bytes(rng_, rng_() % 300)));
        want.push_back(expected_encrypted(sas[s], packets.back()));
        which.push_back(s);
    }
    std::vector<EspCryptoOp> ops;
    for (size_t i = 0; i < n; ++i)
        ops.push_back(encrypt_op(sas[which[i]], packets[i]));
    ASSERT_EQ(engine_->encrypt(ops), n);
    for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(to_hex(packets[i].buf), to_hex(want[i])) << i << " " << describe(sas[which[i]].algs, sas[which[i]].esn);

    ops.clear();
    for (size_t i = 0; i < n; ++i)
        ops.push_back(decrypt_op(sas[which[i]], packets[i]));
    ASSERT_EQ(engine_->decrypt(ops), n);
    for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(to_hex(packets[i].at(packets[i].cipher_off), packets[i].clear.size()), to_hex(packets[i].clear)) << i;
}

TEST_F(EspEngineBurst, EmptyBurstDoesNothing) {
    EXPECT_EQ(engine_->encrypt({}), 0u);
    EXPECT_EQ(engine_->decrypt({}), 0u);
}

TEST_F(EspEngineBurst, ManagerIsTheFastestTheCpuAllows) {
    // init_mb_mgr_auto: on this project's machines (AVX-512) the SSE/AVX2 managers run
    // 3DES thousands of times slower. Report what was picked; require at least AVX2.
    std::cout << "ipsec-mb " << imb_get_version_str() << ", manager: " << engine_->arch_name() << "\n";
    EXPECT_GE(engine_->arch(), IMB_ARCH_AVX2);
}

}  // namespace
}  // namespace mbox::crypto::test

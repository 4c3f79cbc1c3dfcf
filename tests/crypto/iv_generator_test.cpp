// IV sources: the CBC generator's output is the AES-256-CTR keystream of its state and
// moves to a new key after every refill (checked against OpenSSL), never repeats and is
// not a counter; GCM IVs are the big-endian sequence number.
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "crypto/esp_engine.hpp"
#include "crypto/iv_generator.hpp"
#include "openssl_oracle.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

struct Manager {
    IMB_MGR* mgr = alloc_mb_mgr(0);
    Manager() { init_mb_mgr_auto(mgr, nullptr); }
    ~Manager() { free_mb_mgr(mgr); }
};

constexpr size_t kKey = 32;
constexpr size_t kPool = CbcIvGenerator::kPoolLen;

TEST(CbcIvGenerator, OutputIsCtrKeystreamAndTheKeyMovesOnAfterEachRefill) {
    Manager m;
    std::array<uint8_t, CbcIvGenerator::kSeedLen> seed{};
    for (size_t i = 0; i < seed.size(); ++i)
        seed[i] = static_cast<uint8_t>(0x30 + i);
    seed[kKey + 12] = 0;  // keep the counter's low 32 bits far from wrapping
    CbcIvGenerator gen(*m.mgr, seed);

    Bytes key(seed.begin(), seed.begin() + kKey), counter(seed.begin() + kKey, seed.end());
    for (int refill = 0; refill < 3; ++refill) {
        SCOPED_TRACE("refill " + std::to_string(refill));
        // Each pool is kPoolLen bytes of keystream; the next 48 bytes of the same
        // keystream are the next key and counter (CTR_DRBG's update).
        const Bytes stream = openssl_aes256_ctr_keystream(key, counter, kPool + CbcIvGenerator::kSeedLen);
        Bytes got(kPool);
        for (size_t off = 0; off < kPool; off += 16)
            ASSERT_TRUE(gen.fill(got.data() + off, 16));
        EXPECT_EQ(to_hex(got), to_hex(stream.data(), kPool));
        key.assign(stream.begin() + kPool, stream.begin() + kPool + kKey);
        counter.assign(stream.begin() + kPool + kKey, stream.end());
    }
    EXPECT_EQ(gen.refills(), 3u);
}

TEST(CbcIvGenerator, IvsNeverRepeatAndAreNotACounter) {
    std::string error;
    auto engine = EspEngine::create(error);
    ASSERT_TRUE(engine) << error;
    std::set<Bytes> seen;
    Bytes previous(16);
    size_t consecutive = 0;
    for (int i = 0; i < 100'000; ++i) {
        Bytes iv(16);
        ASSERT_TRUE(engine->ivs().fill(iv.data(), iv.size()));
        ASSERT_TRUE(seen.insert(iv).second) << "IV repeated after " << i;
        // previous + 1 in the low byte with the rest equal would betray a counter.
        consecutive += std::memcmp(iv.data(), previous.data(), 15) == 0;
        previous = iv;
    }
    EXPECT_EQ(consecutive, 0u);
    // Roughly half of the 12.8M bits set: sigma = sqrt(12.8M)/2 ~ 1789, allow 5 sigma.
    size_t ones = 0;
    for (const Bytes& iv : seen)
        for (uint8_t b : iv)
            ones += static_cast<size_t>(__builtin_popcount(b));
    EXPECT_NEAR(static_cast<double>(ones), 6'400'000.0, 9'000.0);
}

TEST(CbcIvGenerator, TwoWorkersDrawDifferentIvs) {
    std::string error;
    auto a = EspEngine::create(error);
    auto b = EspEngine::create(error);
    ASSERT_TRUE(a && b) << error;
    Bytes x(64), y(64);
    ASSERT_TRUE(a->ivs().fill(x.data(), x.size()));
    ASSERT_TRUE(b->ivs().fill(y.data(), y.size()));
    EXPECT_NE(x, y);
}

TEST(CbcIvGenerator, RefusesToRefillWhileTheManagerHasJobsInFlight) {
    Manager m;
    std::array<uint8_t, CbcIvGenerator::kSeedLen> seed{};
    seed[0] = 1;
    CbcIvGenerator gen(*m.mgr, seed);
    // An HMAC-SHA1 job waits in a multi-buffer lane until more arrive or a flush.
    alignas(16) uint8_t pad[64] = {};
    uint8_t data[64] = {}, tag[12];
    IMB_JOB* job = IMB_GET_NEXT_JOB(m.mgr);
    std::memset(job, 0, sizeof *job);
    job->cipher_mode = IMB_CIPHER_NULL;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->chain_order = IMB_ORDER_CIPHER_HASH;
    job->hash_alg = IMB_AUTH_HMAC_SHA_1;
    job->src = data;
    job->dst = data;
    job->msg_len_to_hash_in_bytes = sizeof data;
    job->auth_tag_output = tag;
    job->auth_tag_output_len_in_bytes = sizeof tag;
    job->u.HMAC._hashed_auth_key_xor_ipad = pad;
    job->u.HMAC._hashed_auth_key_xor_opad = pad;
    ASSERT_EQ(IMB_SUBMIT_JOB(m.mgr), nullptr) << "job completed at once; cannot test";
    uint8_t iv[16];
    EXPECT_FALSE(gen.fill(iv, sizeof iv));
    EXPECT_EQ(IMB_FLUSH_JOB(m.mgr), job);
    EXPECT_TRUE(gen.fill(iv, sizeof iv));
    EXPECT_FALSE(gen.fill(iv, CbcIvGenerator::kPoolLen + 1));
}

TEST(GcmIv, IsTheBigEndianSequenceNumber) {
    std::array<uint8_t, 8> iv{};
    gcm_iv_from_sequence(0x0102030405060708ull, iv);
    EXPECT_EQ(to_hex(iv.data(), iv.size()), "0102030405060708");
    gcm_iv_from_sequence(1, iv);
    EXPECT_EQ(to_hex(iv.data(), iv.size()), "0000000000000001");
}

TEST(GcmAad, IsSpiAndSequenceNumberPerRfc4106Section5) {
    std::array<uint8_t, 12> aad{};
    EXPECT_EQ(make_gcm_aad(aad, 0x4a2cbfe3, 0x0000000100000002ull, false), 8u);
    EXPECT_EQ(to_hex(aad.data(), 8), "4a2cbfe300000002");
    EXPECT_EQ(make_gcm_aad(aad, 0x4a2cbfe3, 0x0000000100000002ull, true), 12u);
    EXPECT_EQ(to_hex(aad.data(), 12), "4a2cbfe30000000100000002");
    uint8_t hi[4];
    store_seq_hi(hi, 0xa1b2c3d4'00000005ull);
    EXPECT_EQ(to_hex(hi, 4), "a1b2c3d4");
}

}  // namespace
}  // namespace mbox::crypto::test

// The proof that ipsec-mb 1.3's queue cannot corrupt traffic through EspEngine: 100,000
// packets in bursts of 32 - many times the manager's 256-job queue, so it wraps
// hundreds of times - over SAs of every algorithm combination, with and without ESN,
// interleaved at random and with random sizes. Every encrypted packet is compared byte
// for byte with OpenSSL's result, every packet is decrypted back and compared with
// what was sent, and tampered or invalid packets mixed into the decrypt bursts must
// fail alone. (ipsec-mb 1.3's burst API can hand back more jobs than were submitted
// once the queue wraps; the engine uses the job API, and this test would see it.)
#include <gtest/gtest.h>

#include <cstring>
#include <iostream>

#include "crypto/esp_engine.hpp"
#include "esp_test_packet.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

constexpr size_t kPackets = 100'000;
constexpr size_t kBurst = 32;

// Mostly small and large packets, like IMIX, plus every length in between now and then.
size_t inner_length(std::mt19937_64& rng) {
    switch (rng() % 12) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: return 20 + rng() % 24;   // ~40-byte IP packets
    case 7: case 8: case 9: return 560 + rng() % 40;
    case 10: return 1300 + rng() % 120;
    default: return rng() % 1420;
    }
}

bool same(const Bytes& a, const uint8_t* b, size_t n) { return a.size() == n && std::memcmp(a.data(), b, n) == 0; }

TEST(EspEngineStress, HundredThousandPacketsAcrossTheQueueWrapAreAllCorrect) {
    std::string error;
    auto engine = EspEngine::create(error);
    ASSERT_TRUE(engine) << error;
    std::mt19937_64 rng(20240229);

    std::vector<TestSa> sas;
    for (int copy = 0; copy < 2; ++copy) {
        for (EspAlgorithms a : all_algorithm_combinations()) {
            for (bool esn : {false, true})
                sas.push_back(TestSa::make(a, esn, 0x100 + static_cast<uint32_t>(sas.size()), rng));
        }
    }
    std::vector<uint64_t> next_seq(sas.size());
    for (size_t i = 0; i < sas.size(); ++i)
        next_seq[i] = sas[i].esn ? 0xfffffff0ull + i : 1;  // ESN SAs cross the 2^32 boundary

    size_t encrypted = 0, decrypted = 0, tampered = 0, invalid = 0;
    std::vector<TestPacket> packets(kBurst);
    std::vector<size_t> sa_of(kBurst);
    std::vector<Bytes> want(kBurst);
    std::vector<EspCryptoOp> ops(kBurst);
    std::vector<int> fate(kBurst);  // 0 intact, 1 tampered, 2 invalid op

    for (size_t done = 0; done < kPackets; done += kBurst) {
        // --- encrypt one burst -----------------------------------------------------
        for (size_t i = 0; i < kBurst; ++i) {
            const size_t s = rng() % sas.size();
            TestSa& sa = sas[s];
            const uint64_t seq = next_seq[s]++;
            Bytes iv(info(sa.algs.cipher).iv_len);
            if (sa.session->aead()) {
                gcm_iv_from_sequence(seq, std::span<uint8_t, 8>(iv.data(), 8));
            } else if (!iv.empty()) {
                ASSERT_TRUE(engine->ivs().fill(iv.data(), iv.size()));
            }
            packets[i] = build_packet(sa, seq, iv, random_bytes(rng, inner_length(rng)));
            want[i] = expected_encrypted(sa, packets[i]);
            sa_of[i] = s;
            ops[i] = encrypt_op(sa, packets[i]);
        }
        ASSERT_EQ(engine->encrypt(ops), kBurst) << "burst at packet " << done;
        for (size_t i = 0; i < kBurst; ++i) {
            ASSERT_EQ(ops[i].status, CryptoStatus::Ok);
            ASSERT_TRUE(same(want[i], packets[i].buf.data(), packets[i].buf.size()))
                << "packet " << done + i << " (" << describe(sas[sa_of[i]].algs, sas[sa_of[i]].esn)
                << ") differs from OpenSSL:\n got  " << to_hex(packets[i].buf) << "\n want " << to_hex(want[i]);
        }
        encrypted += kBurst;

        // --- decrypt it back, with a few packets damaged on the way --------------
        for (size_t i = 0; i < kBurst; ++i) {
            const uint64_t r = rng() % 64;
            fate[i] = r < 3 ? 1 : r < 4 ? 2 : 0;
            TestPacket& p = packets[i];
            if (fate[i] == 1)
                p.buf[p.esp + rng() % (p.icv_off + p.icv_len - p.esp)] ^= static_cast<uint8_t>(1u << (rng() % 8));
            ops[i] = decrypt_op(sas[sa_of[i]], p);
            if (fate[i] == 2)
                ops[i].icv = nullptr;
        }
        size_t expect_ok = 0;
        for (int f : fate)
            expect_ok += f == 0;
        ASSERT_EQ(engine->decrypt(ops), expect_ok) << "burst at packet " << done;
        for (size_t i = 0; i < kBurst; ++i) {
            const TestPacket& p = packets[i];
            switch (fate[i]) {
            case 0:
                ASSERT_EQ(ops[i].status, CryptoStatus::Ok) << "packet " << done + i;
                ASSERT_TRUE(same(p.clear, p.buf.data() + p.cipher_off, p.clear.size()))
                    << "packet " << done + i << " did not decrypt to what was sent";
                ++decrypted;
                break;
            case 1:
                ASSERT_EQ(ops[i].status, CryptoStatus::AuthFailed) << "packet " << done + i;
                ++tampered;
                break;
            default:
                ASSERT_EQ(ops[i].status, CryptoStatus::Error) << "packet " << done + i;
                ++invalid;
            }
        }
    }
    EXPECT_EQ(engine->queue_anomalies(), 0u);
    EXPECT_EQ(encrypted, kPackets);
    EXPECT_EQ(decrypted + tampered + invalid, kPackets);
    EXPECT_GT(tampered, 0u);
    EXPECT_GT(invalid, 0u);
    // The manager's queue (IMB_MAX_JOBS jobs) wrapped many times over.
    EXPECT_GT(2 * kPackets / IMB_MAX_JOBS, 500u);
    std::cout << encrypted << " encrypted, " << decrypted << " decrypted, " << tampered << " tampered, "
              << invalid << " invalid, over " << sas.size() << " SAs\n";
}

}  // namespace
}  // namespace mbox::crypto::test

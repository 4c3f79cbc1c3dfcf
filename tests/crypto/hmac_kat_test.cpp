// HMAC known answers (RFC 2202, RFC 4231, RFC 4868) through mbox's HMAC pad
// precomputation and ipsec-mb, and - for the keys ESP actually uses (16, 20, 32 and 64
// bytes) - through EspSession and EspEngine with the truncations of RFC 2403, 2404 and
// 4868.
#include <gtest/gtest.h>

#include <cstring>

#include "crypto/esp_engine.hpp"
#include "crypto/esp_session.hpp"
#include "crypto/hmac_pads.hpp"
#include "openssl_oracle.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

const char* const kHmacFiles[] = {"hmac_rfc2202.txt", "hmac_rfc4231.txt", "hmac_rfc4868.txt"};

// The ESP integrity algorithms built on each hash.
std::vector<EspIntegrity> integrities_for(const std::string& hash) {
    if (hash == "md5") return {EspIntegrity::HmacMd5_96, EspIntegrity::HmacMd5_128};
    if (hash == "sha1") return {EspIntegrity::HmacSha1_96};
    if (hash == "sha256") return {EspIntegrity::HmacSha256_128};
    if (hash == "sha512") return {EspIntegrity::HmacSha512_256};
    ADD_FAILURE() << "unknown hash " << hash;
    return {};
}

// What the record says the HMAC starts with: the full digest where the RFC gives it,
// otherwise its truncation.
Bytes expected_prefix(const VectorRecord& r) {
    for (const char* f : {"digest", "digest128", "digest96", "icv"}) {
        if (r.has(f))
            return r.bytes(f);
    }
    ADD_FAILURE() << r.where << ": no digest";
    return {};
}

struct Manager {
    IMB_MGR* mgr = alloc_mb_mgr(0);
    Manager() { init_mb_mgr_auto(mgr, nullptr); }
    ~Manager() { free_mb_mgr(mgr); }
};

// One hash-only job (NULL cipher) from precomputed pads; tag_len bytes of output,
// followed in `out` by guard bytes that must survive.
Bytes ipsec_mb_hmac(IMB_MGR* mgr, EspIntegrity integrity, const uint8_t* inner, const uint8_t* outer,
                    const Bytes& data, size_t tag_len) {
    Bytes out(tag_len + 16, 0xEE);
    IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
    std::memset(job, 0, sizeof *job);
    job->cipher_mode = IMB_CIPHER_NULL;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->chain_order = IMB_ORDER_CIPHER_HASH;
    job->hash_alg = imb_hash_alg(integrity);
    job->src = data.data();
    job->dst = out.data() + tag_len + 8;  // nothing is ciphered
    job->msg_len_to_hash_in_bytes = data.size();
    job->auth_tag_output = out.data();
    job->auth_tag_output_len_in_bytes = tag_len;
    job->u.HMAC._hashed_auth_key_xor_ipad = inner;
    job->u.HMAC._hashed_auth_key_xor_opad = outer;
    IMB_JOB* done = IMB_SUBMIT_JOB(mgr);
    if (done == nullptr)
        done = IMB_FLUSH_JOB(mgr);
    EXPECT_EQ(done, job);
    EXPECT_EQ(done->status, IMB_STATUS_COMPLETED) << imb_get_strerror(imb_get_errno(mgr));
    for (size_t i = tag_len; i < out.size(); ++i)
        EXPECT_EQ(out[i], 0xEE) << "ipsec-mb wrote past a " << tag_len << "-byte tag";
    out.resize(tag_len);
    return out;
}

TEST(HmacKnownAnswers, PadsAndIpsecMbMatchEveryRecord) {
    Manager m;
    size_t checked = 0;
    for (const char* file : kHmacFiles) {
        for (const VectorRecord& r : load_vectors(file)) {
            SCOPED_TRACE(r.where + " " + r.text("name"));
            const std::string hash = r.text("hash");
            Bytes key = r.bytes("key");
            const Bytes data = r.bytes("data");
            const Bytes want = expected_prefix(r);
            for (EspIntegrity integrity : integrities_for(hash)) {
                const EspIntegrityInfo& ii = info(integrity);
                // RFC 2104 §2: a key longer than the block is replaced by its hash.
                const Bytes k = key.size() > ii.block_size ? openssl_digest(hash, key) : key;
                alignas(16) uint8_t inner[kHmacStateLen], outer[kHmacStateLen];
                ASSERT_TRUE(compute_hmac_pads(*m.mgr, integrity, k, inner, outer));
                // Full output, then the truncation ESP sends: the latter must be the
                // leftmost bytes of the former (RFC 2104 §5).
                const Bytes full = ipsec_mb_hmac(m.mgr, integrity, inner, outer, data, ii.digest_len);
                ASSERT_GE(full.size(), want.size());
                EXPECT_EQ(to_hex(full.data(), want.size()), to_hex(want));
                const Bytes icv = ipsec_mb_hmac(m.mgr, integrity, inner, outer, data, ii.icv_len);
                EXPECT_EQ(to_hex(icv), to_hex(full.data(), ii.icv_len)) << name(integrity);
                ++checked;
            }
        }
    }
    // RFC 2202 MD5 twice (96, 128) + SHA-1; RFC 4231 and RFC 4868 once each.
    EXPECT_EQ(checked, 14u + 7u + 14u + 8u);
}

TEST(HmacKnownAnswers, PadsRejectKeysLongerThanTheBlock) {
    Manager m;
    alignas(16) uint8_t inner[kHmacStateLen], outer[kHmacStateLen];
    const Bytes long_key(65, 0xaa);
    EXPECT_FALSE(compute_hmac_pads(*m.mgr, EspIntegrity::HmacSha1_96, long_key, inner, outer));
    EXPECT_FALSE(compute_hmac_pads(*m.mgr, EspIntegrity::None, Bytes(16, 1), inner, outer));
    EXPECT_TRUE(compute_hmac_pads(*m.mgr, EspIntegrity::HmacSha512_256, Bytes(128, 1), inner, outer));
}

// The vectors whose key has the length ESP uses go through the real data path: an
// ESP-NULL session (RFC 2410) so the ICV is the HMAC of exactly the vector's data.
TEST(HmacKnownAnswers, EngineProducesAndVerifiesTruncatedIcvs) {
    std::string error;
    auto engine = EspEngine::create(error);
    ASSERT_TRUE(engine) << error;
    size_t checked = 0;
    for (const char* file : kHmacFiles) {
        for (const VectorRecord& r : load_vectors(file)) {
            const Bytes key = r.bytes("key");
            const Bytes want = expected_prefix(r);
            for (EspIntegrity integrity : integrities_for(r.text("hash"))) {
                const EspIntegrityInfo& ii = info(integrity);
                if (key.size() != ii.key_len || want.size() < ii.icv_len)
                    continue;
                SCOPED_TRACE(r.where + " " + r.text("name") + " " + std::string(ii.name));
                auto session = EspSession::create({EspCipher::Null, integrity}, {}, key, error);
                ASSERT_TRUE(session) << error;

                Bytes packet = r.bytes("data");
                const size_t data_len = packet.size();
                packet.resize(data_len + ii.icv_len + 8, 0xEE);
                EspCryptoOp op;
                op.session = session.get();
                op.auth_start = packet.data();
                op.auth_len = static_cast<uint32_t>(data_len);
                op.icv = packet.data() + data_len;
                ASSERT_EQ(engine->encrypt(std::span(&op, 1)), 1u);
                EXPECT_EQ(op.status, CryptoStatus::Ok);
                EXPECT_EQ(to_hex(op.icv, ii.icv_len), to_hex(want.data(), ii.icv_len));
                for (size_t i = data_len + ii.icv_len; i < packet.size(); ++i)
                    ASSERT_EQ(packet[i], 0xEE) << "ICV overran its field";

                EspCryptoOp verify = op;
                ASSERT_EQ(engine->decrypt(std::span(&verify, 1)), 1u);
                EXPECT_EQ(verify.status, CryptoStatus::Ok);
                packet[data_len + ii.icv_len - 1] ^= 0x01;  // last ICV bit
                EXPECT_EQ(engine->decrypt(std::span(&verify, 1)), 0u);
                EXPECT_EQ(verify.status, CryptoStatus::AuthFailed);
                ++checked;
            }
        }
    }
    // RFC 2202 test_case 1, 3, 5 (16-byte MD5 keys x 2 truncations, 20-byte SHA-1
    // keys) and RFC 4868 AUTH256-1..4, AUTH512-1..4.
    EXPECT_EQ(checked, 6u + 3u + 8u);
}

}  // namespace
}  // namespace mbox::crypto::test

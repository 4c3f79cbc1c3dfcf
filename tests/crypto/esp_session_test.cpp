// EspSession: key lengths and algorithm combinations checked at SA install with
// messages an operator can act on; key material wiped by wipe() and by the destructor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "crypto/esp_engine.hpp"
#include "crypto/esp_session.hpp"
#include "esp_test_packet.hpp"

// --- Observing the destructor's wipe without undefined behaviour -------------------
// EspSession is over-aligned (alignas(64) key material), so `delete` goes through the
// aligned deallocation functions. This binary replaces them (a replacement the
// standard allows, [replacement.functions]); while a session's address is armed, the
// replacement copies the key-material bytes out of the storage after the destructor
// ran and before the memory is released. That is exactly when a plain memset would be
// removed as a dead store, so it proves explicit_bzero did its job.
namespace {
const void* g_armed = nullptr;
size_t g_key_offset = 0;
size_t g_key_len = 0;
std::vector<uint8_t>* g_captured = nullptr;

void capture_if_armed(void* p) {
    if (p != nullptr && p == g_armed) {
        const auto* bytes = static_cast<const uint8_t*>(p) + g_key_offset;
        g_captured->assign(bytes, bytes + g_key_len);
        g_armed = nullptr;
    }
}

void* aligned_allocate(std::size_t size, std::align_val_t al) {
    const std::size_t a = static_cast<std::size_t>(al);
    void* p = std::aligned_alloc(a, (size + a - 1) / a * a);
    return p;
}
}  // namespace

void* operator new(std::size_t size, std::align_val_t al) {
    if (void* p = aligned_allocate(size, al))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t al) { return operator new(size, al); }
void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
    return aligned_allocate(size, al);
}
void* operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
    return aligned_allocate(size, al);
}
void operator delete(void* p, std::align_val_t) noexcept {
    capture_if_armed(p);
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    capture_if_armed(p);
    std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    capture_if_armed(p);
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace mbox::crypto::test {
namespace {

std::unique_ptr<EspSession> create(EspAlgorithms algs, size_t cipher_len, size_t integrity_len, std::string& error) {
    return EspSession::create(algs, Bytes(cipher_len, 0x11), Bytes(integrity_len, 0x22), error);
}

TEST(EspSession, EveryCombinationInstallsWithItsKeyLengths) {
    std::mt19937_64 rng(3);
    for (EspAlgorithms algs : all_algorithm_combinations()) {
        std::string error;
        auto s = EspSession::create(algs, random_bytes(rng, info(algs.cipher).key_material_len()),
                                    random_bytes(rng, info(algs.integrity).key_len), error);
        ASSERT_TRUE(s) << describe(algs, false) << ": " << error;
        EXPECT_TRUE(s->usable());
        EXPECT_EQ(s->icv_len(), icv_len(algs));
        EXPECT_EQ(s->iv_len(), info(algs.cipher).iv_len);
    }
}

TEST(EspSession, WrongCipherKeyLengthIsRejectedWithLengths) {
    std::string error;
    EXPECT_FALSE(create({EspCipher::Aes128Cbc, EspIntegrity::HmacSha1_96}, 15, 20, error));
    EXPECT_EQ(error, "cipher key for AES-128-CBC must be 16 bytes, got 15");
    EXPECT_FALSE(create({EspCipher::Aes256Cbc, EspIntegrity::HmacSha1_96}, 16, 20, error));
    EXPECT_EQ(error, "cipher key for AES-256-CBC must be 32 bytes, got 16");
    EXPECT_FALSE(create({EspCipher::TripleDesCbc, EspIntegrity::HmacMd5_96}, 16, 16, error));
    EXPECT_EQ(error, "cipher key for 3DES-CBC must be 24 bytes, got 16");
    EXPECT_FALSE(create({EspCipher::Null, EspIntegrity::HmacMd5_96}, 16, 16, error));
    EXPECT_EQ(error, "cipher key for NULL must be 0 bytes, got 16");
}

TEST(EspSession, GcmNeedsKeyAndSaltTogether) {
    std::string error;
    EXPECT_FALSE(create({EspCipher::Aes128Gcm16, EspIntegrity::None}, 16, 0, error));
    EXPECT_EQ(error, "key material (key || 4-byte salt) for AES-128-GCM-16 must be 20 bytes, got 16");
    EXPECT_FALSE(create({EspCipher::Aes256Gcm16, EspIntegrity::None}, 32, 0, error));
    EXPECT_EQ(error, "key material (key || 4-byte salt) for AES-256-GCM-16 must be 36 bytes, got 32");
    EXPECT_TRUE(create({EspCipher::Aes256Gcm16, EspIntegrity::None}, 36, 0, error)) << error;
}

TEST(EspSession, WrongIntegrityKeyLengthIsRejectedWithLengths) {
    struct Case {
        EspIntegrity integrity;
        size_t bad_len;
        const char* message;
    } cases[] = {
        {EspIntegrity::HmacMd5_96, 20, "integrity key for HMAC-MD5-96 must be 16 bytes, got 20"},
        {EspIntegrity::HmacMd5_128, 15, "integrity key for HMAC-MD5-128 must be 16 bytes, got 15"},
        {EspIntegrity::HmacSha1_96, 16, "integrity key for HMAC-SHA1-96 must be 20 bytes, got 16"},
        {EspIntegrity::HmacSha256_128, 20, "integrity key for HMAC-SHA-256-128 must be 32 bytes, got 20"},
        {EspIntegrity::HmacSha512_256, 32, "integrity key for HMAC-SHA-512-256 must be 64 bytes, got 32"},
    };
    for (const Case& c : cases) {
        std::string error;
        EXPECT_FALSE(create({EspCipher::Aes128Cbc, c.integrity}, 16, c.bad_len, error));
        EXPECT_EQ(error, c.message);
    }
}

TEST(EspSession, InvalidCombinationsAreRejected) {
    std::string error;
    EXPECT_FALSE(create({EspCipher::Aes128Gcm16, EspIntegrity::HmacSha1_96}, 20, 20, error));
    EXPECT_EQ(error, "AES-GCM provides its own integrity: no integrity algorithm may be combined with it");
    EXPECT_FALSE(create({EspCipher::Aes128Cbc, EspIntegrity::None}, 16, 0, error));
    EXPECT_EQ(error, "a non-AEAD cipher needs an integrity algorithm");
    EXPECT_FALSE(create({EspCipher::Null, EspIntegrity::None}, 0, 0, error));
}

TEST(EspSession, DegenerateTripleDesKeysAreRejected) {
    std::string error;
    Bytes key(24);
    for (size_t i = 0; i < 24; ++i)
        key[i] = static_cast<uint8_t>(i);
    std::memcpy(key.data() + 8, key.data(), 8);  // K1 == K2
    EXPECT_FALSE(EspSession::create({EspCipher::TripleDesCbc, EspIntegrity::HmacSha1_96}, key, Bytes(20), error));
    EXPECT_EQ(error, "3DES-CBC key is degenerate: K1 == K2 or K2 == K3 reduces it to single DES");
}

TEST(EspSession, WipeZeroesKeyMaterialAndDisablesTheSession) {
    std::string error;
    auto engine = EspEngine::create(error);
    ASSERT_TRUE(engine) << error;
    std::mt19937_64 rng(7);
    for (EspAlgorithms algs : all_algorithm_combinations()) {
        SCOPED_TRACE(describe(algs, false));
        TestSa sa = TestSa::make(algs, false, 0x1000, rng);
        const auto km = sa.session->key_material();
        ASSERT_TRUE(std::any_of(km.begin(), km.end(), [](uint8_t b) { return b != 0; }));

        Bytes iv = random_bytes(rng, info(algs.cipher).iv_len);
        TestPacket p = build_packet(sa, 1, iv, Bytes(40, 0x61));
        EspCryptoOp op = encrypt_op(sa, p);
        sa.session->wipe();
        EXPECT_TRUE(std::all_of(km.begin(), km.end(), [](uint8_t b) { return b == 0; }));
        EXPECT_FALSE(sa.session->usable());
        // A wiped session must not be used to produce packets with a zero key.
        EXPECT_EQ(engine->encrypt(std::span(&op, 1)), 0u);
        EXPECT_EQ(op.status, CryptoStatus::Error);
    }
}

TEST(EspSession, DestructorWipesKeyMaterialBeforeTheMemoryIsFreed) {
    for (EspAlgorithms algs : {EspAlgorithms{EspCipher::Aes256Cbc, EspIntegrity::HmacSha512_256},
                               EspAlgorithms{EspCipher::Aes256Gcm16, EspIntegrity::None},
                               EspAlgorithms{EspCipher::TripleDesCbc, EspIntegrity::HmacMd5_96}}) {
        SCOPED_TRACE(describe(algs, false));
        std::mt19937_64 rng(11);
        TestSa sa = TestSa::make(algs, false, 1, rng);
        const auto km = sa.session->key_material();
        ASSERT_TRUE(std::any_of(km.begin(), km.end(), [](uint8_t b) { return b != 0; }));
        std::vector<uint8_t> captured;
        g_captured = &captured;
        g_key_offset = static_cast<size_t>(km.data() - reinterpret_cast<const uint8_t*>(sa.session.get()));
        g_key_len = km.size();
        g_armed = sa.session.get();
        sa.session.reset();
        g_captured = nullptr;
        ASSERT_EQ(g_armed, nullptr) << "the session was not freed through aligned operator delete";
        ASSERT_EQ(captured.size(), km.size());
        EXPECT_TRUE(std::all_of(captured.begin(), captured.end(), [](uint8_t b) { return b == 0; }))
            << "key material left in freed memory";
    }
}

}  // namespace
}  // namespace mbox::crypto::test

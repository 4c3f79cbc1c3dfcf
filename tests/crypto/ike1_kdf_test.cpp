// IKEv1 key derivation (crypto/ike1_kdf.hpp):
//  * SKEYID (pre-shared key and signature forms) and SKEYID_d/a/e: NIST's IKEv1 KDF
//    vectors (vectors/ikev1_kdf.txt names their sources);
//  * Appendix B's key expansion and §5.5's KEYMAT expansion: NSS's vectors;
//  * HASH_I/HASH_R, quick mode's HASH(1)/(2)/(3), KEYMAT with and without PFS and the
//    IVs, for which no published vectors exist: values computed with the OpenSSL
//    command line (the commands are beside each value), and every derivation also
//    against HMAC and digests computed here from the RFC's formulas.
#include <gtest/gtest.h>

#include "crypto/ike1_kdf.hpp"
#include "ike_test_bytes.hpp"
#include "openssl_oracle.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

using namespace crypto::ike1;

std::string hex(const SecretBytes& s) { return to_hex(s.data(), s.size()); }

uint64_t u64(const Bytes& b) {
    uint64_t v = 0;
    for (uint8_t x : b) v = v << 8 | x;
    return v;
}

// ---- NIST and NSS known answers ---------------------------------------------------------

TEST(Ike1Kdf, SkeyidAndItsThreeKeysMatchTheNistVectors) {
    size_t skeyids = 0, derived = 0;
    for (const VectorRecord& r : load_vectors("ikev1_kdf.txt")) {
        const std::string kind = r.text("kind");
        if (kind != "psk" && kind != "signature") continue;
        SCOPED_TRACE(r.where + " " + r.text("name"));
        const IkePrf p = prf_for(r.text("hash"));
        SecretBytes skeyid = kind == "psk" ? skeyid_psk(p, r.bytes("psk"), r.bytes("ni"), r.bytes("nr"))
                                           : skeyid_signature(p, r.bytes("ni"), r.bytes("nr"), r.bytes("gxy"));
        EXPECT_EQ(hex(skeyid), r.text("skeyid"));
        ++skeyids;
        if (!r.has("skeyid_d")) continue;
        const Phase1Keys keys =
            derive_phase1_keys(p, std::move(skeyid), r.bytes("gxy"), u64(r.bytes("cky_i")), u64(r.bytes("cky_r")));
        EXPECT_EQ(hex(keys.skeyid), r.text("skeyid"));
        EXPECT_EQ(hex(keys.skeyid_d), r.text("skeyid_d"));
        EXPECT_EQ(hex(keys.skeyid_a), r.text("skeyid_a"));
        EXPECT_EQ(hex(keys.skeyid_e), r.text("skeyid_e"));
        ++derived;
    }
    // ACVP: PSK and DSA x SHA-1, SHA-256, SHA-512; CAVS samples: PSK and DSA x SHA-1, SHA-256.
    EXPECT_EQ(skeyids, 10u);
    EXPECT_EQ(derived, 8u);
}

TEST(Ike1Kdf, KeyAndKeymatExpansionsMatchNss) {
    size_t keys = 0, keymats = 0;
    for (const VectorRecord& r : load_vectors("ikev1_kdf.txt")) {
        const std::string kind = r.text("kind");
        if (kind != "appendix-b" && kind != "keymat") continue;
        SCOPED_TRACE(r.where + " " + r.text("name"));
        const IkePrf p = prf_for(r.text("hash"));
        const size_t length = r.bytes("output").size();
        const SecretBytes out = kind == "keymat" ? expand_keymat(p, r.bytes("key"), r.bytes("seed"), length)
                                                 : encryption_key(p, r.bytes("key"), length);
        EXPECT_EQ(hex(out), r.text("output"));
        ++(kind == "keymat" ? keymats : keys);
    }
    EXPECT_EQ(keys, 4u);
    EXPECT_EQ(keymats, 4u);
}

// ---- the appliance's phase 1 (HMAC-MD5) worked through by the OpenSSL command line ------
//
// hmac() { printf %s "$2" | xxd -r -p | openssl dgst -$1 -mac HMAC -macopt hexkey:$3 -r; }
// hash() { printf %s "$2" | xxd -r -p | openssl dgst -$1 -r; }

const Bytes kSkeyid = from_hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
const Bytes kSkeyidD = from_hex("d0d1d2d3d4d5d6d7d8d9dadbdcdddedf");
const Bytes kSkeyidA = from_hex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
const Bytes kSkeyidE = from_hex("e0e1e2e3e4e5e6e7e8e9eaebecedeeef");
const Bytes kGxi = from_hex("6769786931323334353637383940414243444546474849505152535455565758");
const Bytes kGxr = from_hex("6778723031323334353637383940414243444546474849505152535455565799");
constexpr uint64_t kCookieI = 0x0123456789abcdefULL;
constexpr uint64_t kCookieR = 0xfedcba9876543210ULL;
// The body of an SA payload with one KEY_IKE transform (3DES, MD5, PSK, MODP-1024, 3600 s).
const Bytes kSaiB = from_hex(
    "00000001000000010000002c01010001000000240101000080010005800200018003000180040002800b0001000c000400000e10");
const Bytes kIdiiB = from_hex("01000000c0000201");  // ID_IPV4_ADDR 192.0.2.1
const Bytes kIdirB = from_hex("01000000c6336401");  // ID_IPV4_ADDR 198.51.100.1
const Bytes kNi = from_hex("4e4e4e4e4e4e4e4e0102030405060708");
const Bytes kNr = from_hex("52525252525252520807060504030201");
constexpr uint32_t kMessageId = 0x9a4b3c2d;
// What follows HASH in quick mode's first and second messages (the payloads' bytes).
const Bytes kAfter1 = from_hex("0a00001400000001000000010000000c0103000000000000");
const Bytes kAfter2 = from_hex("0a00001400000001000000010000000c010300000000000000000014aabbccdd");
const Bytes kGqm = from_hex("7071727374757677787970717273747576777879707172737475767778797071");

TEST(Ike1Kdf, HashIAndHashRMatchTheOpenSslCommandLine) {
    // hmac md5 $GXI$GXR$CKYI$CKYR$SAI_B$IDII_B $SKEYID
    EXPECT_EQ(hex(hash_i(IkePrf::HmacMd5, kSkeyid, kGxi, kGxr, kCookieI, kCookieR, kSaiB, kIdiiB)),
              "f1f30e23d05535eb35989f08c97d3f9e");
    // hmac md5 $GXR$GXI$CKYR$CKYI$SAI_B$IDIR_B $SKEYID: the responder's values first.
    EXPECT_EQ(hex(hash_r(IkePrf::HmacMd5, kSkeyid, kGxi, kGxr, kCookieI, kCookieR, kSaiB, kIdirB)),
              "54770612dc875c5a7837d42454a56968");
}

TEST(Ike1Kdf, QuickModeHashesMatchTheOpenSslCommandLine) {
    // hmac md5 $MID$AFTER1 $SKEYID_A
    EXPECT_EQ(hex(message_hash(IkePrf::HmacMd5, kSkeyidA, kMessageId, kAfter1)), "be1359705046ec93aa6c4b8d50fb1bb4");
    // hmac md5 $MID$NI$AFTER2 $SKEYID_A
    EXPECT_EQ(hex(quick_hash_2(IkePrf::HmacMd5, kSkeyidA, kMessageId, kNi, kAfter2)),
              "d419959a10384e8c9f0c8f0372892a4e");
    // hmac md5 00$MID$NI$NR $SKEYID_A
    EXPECT_EQ(hex(quick_hash_3(IkePrf::HmacMd5, kSkeyidA, kMessageId, kNi, kNr)), "0e6cb1a2781ca6ad0871042b08a3b062");
}

TEST(Ike1Kdf, KeymatWithAndWithoutPfsMatchesTheOpenSslCommandLine) {
    // ESP (3), SPI c0ffee01, 36 bytes (AES-128 and HMAC-SHA1 keys): three HMAC-MD5 blocks.
    // SEED=03c0ffee01$NI$NR; K1=$(hmac md5 $SEED $SKEYID_D); K2=$(hmac md5 $K1$SEED ...); K3 ...
    EXPECT_EQ(hex(keymat(IkePrf::HmacMd5, kSkeyidD, {}, 3, 0xc0ffee01, kNi, kNr, 36)),
              "9f18149d8f45fece73838e3c78773cb0731a2248c073f6f89b066b183261c8e1693e2db4");
    // The same with SEED=$GQM$SEED.
    EXPECT_EQ(hex(keymat(IkePrf::HmacMd5, kSkeyidD, kGqm, 3, 0xc0ffee01, kNi, kNr, 36)),
              "a9d2b6c39557e30feda20cc0abcc42ae329aea909fb9f7736d343bb46e842ceee2a3d52e");
}

TEST(Ike1Kdf, TripleDesKeyFromAnMd5SkeyidEIsExpanded) {
    // 24 bytes from a 16-byte SKEYID_e: K1=$(hmac md5 00 $SKEYID_E); K2=$(hmac md5 $K1 $SKEYID_E)
    EXPECT_EQ(hex(encryption_key(IkePrf::HmacMd5, kSkeyidE, 24)), "d2d99d0aaed6973942aaf6db6cc18939971f3e829614d882");
    // AES-128 needs no more than SKEYID_e holds: its first 16 bytes.
    EXPECT_EQ(hex(encryption_key(IkePrf::HmacMd5, kSkeyidE, 16)), to_hex(kSkeyidE));
}

TEST(Ike1Kdf, IvsMatchTheOpenSslCommandLine) {
    // hash md5 $GXI$GXR, cut to the 3DES block.
    EXPECT_EQ(to_hex(phase1_iv(IkePrf::HmacMd5, kGxi, kGxr, 8)), "6c2396afeecee0bc");
    // hash sha1 $GXI$GXR, cut to the AES block.
    EXPECT_EQ(to_hex(phase1_iv(IkePrf::HmacSha1, kGxi, kGxr, 16)), "2fa20c6e645f32eb2a0fa767fe0c41a2");
    // The last block of main mode's message 6 (ike1_cipher_test.cpp), then M-ID:
    // hash md5 ${LAST}9a4b3c2d, and for an informational exchange hash md5 ${LAST}11223344.
    const Bytes last = from_hex("35a549466b5c5ab7");
    EXPECT_EQ(to_hex(phase2_iv(IkePrf::HmacMd5, last, kMessageId, 8)), "5f513838118b113f");
    EXPECT_EQ(to_hex(phase2_iv(IkePrf::HmacMd5, last, 0x11223344, 8)), "adb817caf66eccf0");
}

// ---- every derivation against the RFC's formula on HMAC() and EVP_Digest() here ----------

Bytes be(uint64_t v, size_t n) {
    Bytes out(n);
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
    return out;
}

class Ike1KdfFormula : public ::testing::TestWithParam<IkePrf> {
protected:
    Bytes hmac(const Bytes& key, const Bytes& data) const { return openssl_hmac(hash_name(GetParam()), key, data); }
};

TEST_P(Ike1KdfFormula, Phase1) {
    const IkePrf p = GetParam();
    const Bytes psk = from_hex("4c65746d65696e3939");  // "Letmein99"
    const Bytes skeyid = hmac(psk, cat({kNi, kNr}));
    EXPECT_EQ(bytes_of(skeyid_psk(p, psk, kNi, kNr)), skeyid);
    EXPECT_EQ(bytes_of(skeyid_signature(p, kNi, kNr, kGqm)), hmac(cat({kNi, kNr}), kGqm));

    const Bytes cookies = cat({be(kCookieI, 8), be(kCookieR, 8)});
    const Phase1Keys keys = derive_phase1_keys(p, SecretBytes(skeyid), kGqm, kCookieI, kCookieR);
    const Bytes d = hmac(skeyid, cat({kGqm, cookies, {0}}));
    const Bytes a = hmac(skeyid, cat({d, kGqm, cookies, {1}}));
    const Bytes e = hmac(skeyid, cat({a, kGqm, cookies, {2}}));
    EXPECT_EQ(bytes_of(keys.skeyid_d), d);
    EXPECT_EQ(bytes_of(keys.skeyid_a), a);
    EXPECT_EQ(bytes_of(keys.skeyid_e), e);

    EXPECT_EQ(bytes_of(hash_i(p, skeyid, kGxi, kGxr, kCookieI, kCookieR, kSaiB, kIdiiB)),
              hmac(skeyid, cat({kGxi, kGxr, cookies, kSaiB, kIdiiB})));
    EXPECT_EQ(bytes_of(hash_r(p, skeyid, kGxi, kGxr, kCookieI, kCookieR, kSaiB, kIdirB)),
              hmac(skeyid, cat({kGxr, kGxi, be(kCookieR, 8), be(kCookieI, 8), kSaiB, kIdirB})));

    // Appendix B for a 3DES key: expanded for MD5 only; the others hold 24 bytes.
    const Bytes k1 = hmac(e, {0});
    const Bytes expanded = cat({k1, hmac(e, k1)});
    const Bytes want = e.size() >= 24 ? Bytes(e.begin(), e.begin() + 24) : Bytes(expanded.begin(), expanded.begin() + 24);
    EXPECT_EQ(bytes_of(encryption_key(p, e, 24)), want);
}

TEST_P(Ike1KdfFormula, Phase2) {
    const IkePrf p = GetParam();
    const Bytes mid = be(kMessageId, 4);
    EXPECT_EQ(bytes_of(message_hash(p, kSkeyidA, kMessageId, kAfter1)), hmac(kSkeyidA, cat({mid, kAfter1})));
    EXPECT_EQ(bytes_of(quick_hash_2(p, kSkeyidA, kMessageId, kNi, kAfter2)), hmac(kSkeyidA, cat({mid, kNi, kAfter2})));
    EXPECT_EQ(bytes_of(quick_hash_3(p, kSkeyidA, kMessageId, kNi, kNr)), hmac(kSkeyidA, cat({{0}, mid, kNi, kNr})));

    // KEYMAT for AES-256 + HMAC-SHA-512 (96 bytes): two to six prf blocks.
    for (const Bytes& g : {Bytes{}, kGqm}) {
        const Bytes seed = cat({g, {3}, be(0xc0ffee01, 4), kNi, kNr});
        Bytes want, k;
        while (want.size() < 96) {
            k = hmac(kSkeyidD, cat({k, seed}));
            want.insert(want.end(), k.begin(), k.end());
        }
        want.resize(96);
        EXPECT_EQ(bytes_of(keymat(p, kSkeyidD, g, 3, 0xc0ffee01, kNi, kNr, 96)), want) << "PFS " << !g.empty();
    }

    const Bytes digest = openssl_digest(hash_name(p), cat({kGxi, kGxr}));
    EXPECT_EQ(phase1_iv(p, kGxi, kGxr, 16), Bytes(digest.begin(), digest.begin() + 16));
    const Bytes block = from_hex("00112233445566778899aabbccddeeff");
    const Bytes digest2 = openssl_digest(hash_name(p), cat({block, mid}));
    EXPECT_EQ(phase2_iv(p, block, kMessageId, 16), Bytes(digest2.begin(), digest2.begin() + 16));
}

INSTANTIATE_TEST_SUITE_P(EveryHash, Ike1KdfFormula,
                         ::testing::Values(IkePrf::HmacMd5, IkePrf::HmacSha1, IkePrf::HmacSha256, IkePrf::HmacSha512),
                         [](const auto& info) { return std::string(hash_name(info.param)); });

// ---- what must differ -------------------------------------------------------------------

TEST(Ike1Kdf, KeymatDependsOnTheSpiSoEachDirectionHasItsOwnKeys) {
    const SecretBytes inbound = keymat(IkePrf::HmacSha1, kSkeyidD, {}, 3, 0x11111111, kNi, kNr, 36);
    const SecretBytes outbound = keymat(IkePrf::HmacSha1, kSkeyidD, {}, 3, 0x22222222, kNi, kNr, 36);
    EXPECT_EQ(inbound.size(), 36u);
    EXPECT_NE(bytes_of(inbound), bytes_of(outbound));
    EXPECT_NE(bytes_of(keymat(IkePrf::HmacSha1, kSkeyidD, {}, 2, 0x11111111, kNi, kNr, 36)), bytes_of(inbound));
}

TEST(Ike1Kdf, EachPhase2ExchangeHasItsOwnIv) {
    const Bytes block = from_hex("0102030405060708");
    EXPECT_NE(phase2_iv(IkePrf::HmacSha1, block, 1, 8), phase2_iv(IkePrf::HmacSha1, block, 2, 8));
    EXPECT_EQ(phase2_iv(IkePrf::HmacSha1, block, 1, 8).size(), 8u);
}

TEST(Ike1Kdf, ExpansionsRefuseMoreThan255Blocks) {
    EXPECT_TRUE(encryption_key(IkePrf::HmacMd5, kSkeyidE, 255 * 16 + 1).empty());
    EXPECT_EQ(encryption_key(IkePrf::HmacMd5, kSkeyidE, 255 * 16).size(), 255u * 16);
    EXPECT_TRUE(expand_keymat(IkePrf::HmacMd5, kSkeyidD, kNi, 255 * 16 + 1).empty());
}

}  // namespace
}  // namespace mbox::crypto::test

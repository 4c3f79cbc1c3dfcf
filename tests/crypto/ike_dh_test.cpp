// IKE Diffie-Hellman (crypto/ike_dh.hpp):
//  * ECP 19-21 against RFC 5903 §8 and X25519 against RFC 7748 §6.1 (both sides);
//  * MODP 1, 2, 5, 14-18: both sides agree, the KE value is g^x mod p computed here
//    with BN_mod_exp over OpenSSL's copies of the RFC 2409/3526 primes, padded to the
//    prime's length;
//  * the peer values RFC 7296 / RFC 6989 say to refuse are refused.
#include <gtest/gtest.h>

#include <openssl/bn.h>

#include "crypto/ike_dh.hpp"
#include "ike_test_bytes.hpp"
#include "vector_file.hpp"

namespace mbox::crypto::test {
namespace {

using Bytes = std::vector<uint8_t>;

std::unique_ptr<DhKeyPair> generate(uint16_t group) {
    std::string error;
    auto pair = DhKeyPair::generate(group, error);
    EXPECT_NE(pair, nullptr) << error;
    return pair;
}

std::unique_ptr<DhKeyPair> from_private(uint16_t group, const Bytes& value) {
    std::string error;
    auto pair = DhKeyPair::from_private(group, value, error);
    EXPECT_NE(pair, nullptr) << error;
    return pair;
}

Bytes shared(const DhKeyPair& own, const Bytes& peer) {
    std::string error;
    auto secret = own.shared_secret(peer, error);
    EXPECT_TRUE(secret.has_value()) << error;
    return secret ? bytes_of(*secret) : Bytes{};
}

// true when the peer value is refused, with an error saying why.
bool refused(const DhKeyPair& own, const Bytes& peer) {
    std::string error;
    const auto secret = own.shared_secret(peer, error);
    return !secret.has_value() && !error.empty();
}

// ---- MODP ---------------------------------------------------------------------------

struct BnFree {
    void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

// The RFC's prime, from OpenSSL's table of RFC 2409 / RFC 3526 constants.
Bn rfc_prime(uint16_t group) {
    switch (group) {
    case 1: return Bn(BN_get_rfc2409_prime_768(nullptr));
    case 2: return Bn(BN_get_rfc2409_prime_1024(nullptr));
    case 5: return Bn(BN_get_rfc3526_prime_1536(nullptr));
    case 14: return Bn(BN_get_rfc3526_prime_2048(nullptr));
    case 15: return Bn(BN_get_rfc3526_prime_3072(nullptr));
    case 16: return Bn(BN_get_rfc3526_prime_4096(nullptr));
    case 17: return Bn(BN_get_rfc3526_prime_6144(nullptr));
    case 18: return Bn(BN_get_rfc3526_prime_8192(nullptr));
    }
    return nullptr;
}

Bytes padded(const BIGNUM* v, size_t len) {
    Bytes out(len);
    EXPECT_GE(BN_bn2binpad(v, out.data(), static_cast<int>(len)), 0);
    return out;
}

Bytes expected_public(const BIGNUM* p, const Bytes& x) {
    Bn g(BN_new()), e(BN_bin2bn(x.data(), static_cast<int>(x.size()), nullptr)), y(BN_new());
    BN_CTX* ctx = BN_CTX_new();
    BN_set_word(g.get(), 2);
    BN_mod_exp(y.get(), g.get(), e.get(), p, ctx);
    BN_CTX_free(ctx);
    return padded(y.get(), static_cast<size_t>(BN_num_bytes(p)));
}

class ModpGroup : public testing::TestWithParam<uint16_t> {};

TEST_P(ModpGroup, BothSidesAgreeOnAPrimeLengthSecret) {
    const uint16_t group = GetParam();
    const Bn p = rfc_prime(group);
    const size_t plen = static_cast<size_t>(BN_num_bytes(p.get()));
    EXPECT_EQ(ike_dh_public_length(group), plen);
    auto a = generate(group), b = generate(group);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->public_value().size(), plen);
    EXPECT_NE(a->public_value(), b->public_value());
    const Bytes ab = shared(*a, b->public_value()), ba = shared(*b, a->public_value());
    EXPECT_EQ(ab.size(), plen);
    EXPECT_EQ(ab, ba);
}

TEST_P(ModpGroup, PublicValueIsTwoToTheXModTheRfcPrime) {
    const uint16_t group = GetParam();
    const Bn p = rfc_prime(group);
    // An exponent with leading zero bytes, and a short one whose g^x is short too and
    // must come out left-padded (RFC 7296 §3.4).
    for (const Bytes& x : {Bytes{0x00, 0x00, 0x5a, 0x17, 0xc3, 0x99, 0x01, 0x42, 0x77, 0x10, 0xfe, 0x2b, 0x63, 0x88},
                           Bytes{0x07}}) {
        auto pair = from_private(group, x);
        ASSERT_TRUE(pair);
        EXPECT_EQ(pair->public_value(), expected_public(p.get(), x));
    }
    // And the secret of two known exponents is g^(xy) mod p.
    auto a = from_private(group, Bytes{0x03}), b = from_private(group, Bytes{0x05});
    ASSERT_TRUE(a && b);
    EXPECT_EQ(shared(*a, b->public_value()), expected_public(p.get(), Bytes{0x0f}));
}

TEST_P(ModpGroup, RefusesZeroOnePMinusOneAndWrongLengths) {
    const uint16_t group = GetParam();
    const Bn p = rfc_prime(group);
    const size_t plen = static_cast<size_t>(BN_num_bytes(p.get()));
    auto own = generate(group);
    ASSERT_TRUE(own);
    Bn p_minus_1(BN_dup(p.get()));
    BN_sub_word(p_minus_1.get(), 1);
    EXPECT_TRUE(refused(*own, Bytes(plen, 0)));
    EXPECT_TRUE(refused(*own, padded(BN_value_one(), plen)));
    EXPECT_TRUE(refused(*own, padded(p_minus_1.get(), plen)));
    EXPECT_TRUE(refused(*own, padded(p.get(), plen)));
    EXPECT_TRUE(refused(*own, Bytes(plen, 0xff)));  // > p
    Bytes good = own->public_value();
    EXPECT_TRUE(refused(*own, Bytes(good.begin() + 1, good.end())));
    good.push_back(0);
    EXPECT_TRUE(refused(*own, good));
    EXPECT_TRUE(refused(*own, Bytes{}));
}

INSTANTIATE_TEST_SUITE_P(AllModp, ModpGroup, testing::Values(1, 2, 5, 14, 15, 16, 17, 18),
                         [](const auto& info) { return "group" + std::to_string(info.param); });

// ---- ECP: RFC 5903 §8 ----------------------------------------------------------------

Bytes cat(const Bytes& a, const Bytes& b) {
    Bytes out = a;
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

TEST(EcpGroups, Rfc5903KnownAnswersFromBothSides) {
    size_t checked = 0;
    for (const VectorRecord& r : load_vectors("ecdh_rfc5903.txt")) {
        const auto group = static_cast<uint16_t>(std::stoi(r.text("group")));
        const Bytes gi = cat(r.bytes("gix"), r.bytes("giy")), gr = cat(r.bytes("grx"), r.bytes("gry"));
        auto i = from_private(group, r.bytes("i")), rr = from_private(group, r.bytes("r"));
        ASSERT_TRUE(i && rr) << r.where;
        EXPECT_EQ(ike_dh_public_length(group), gi.size()) << r.where;
        EXPECT_EQ(to_hex(i->public_value()), to_hex(gi)) << r.where;
        EXPECT_EQ(to_hex(rr->public_value()), to_hex(gr)) << r.where;
        // RFC 5903 §7: the shared secret is the x coordinate alone.
        EXPECT_EQ(to_hex(shared(*i, gr)), to_hex(r.bytes("girx"))) << r.where;
        EXPECT_EQ(to_hex(shared(*rr, gi)), to_hex(r.bytes("girx"))) << r.where;
        ++checked;
    }
    EXPECT_EQ(checked, 3u);
}

TEST(EcpGroups, RefusePointsOffTheCurveAndWrongLengths) {
    for (const VectorRecord& r : load_vectors("ecdh_rfc5903.txt")) {
        const auto group = static_cast<uint16_t>(std::stoi(r.text("group")));
        auto i = from_private(group, r.bytes("i"));
        ASSERT_TRUE(i);
        Bytes gr = cat(r.bytes("grx"), r.bytes("gry"));
        Bytes off_curve = gr;
        off_curve.back() ^= 1;  // same x, y + or - 1: not on the curve
        EXPECT_TRUE(refused(*i, off_curve)) << r.where;
        EXPECT_TRUE(refused(*i, Bytes(gr.size(), 0))) << r.where;  // (0, 0) is not a point
        Bytes tagged{0x04};  // SEC1's uncompressed form is not RFC 5903's
        tagged.insert(tagged.end(), gr.begin(), gr.end());
        EXPECT_TRUE(refused(*i, tagged)) << r.where;
        EXPECT_TRUE(refused(*i, Bytes(gr.begin(), gr.begin() + static_cast<long>(gr.size() / 2)))) << r.where;
    }
}

TEST(EcpGroups, FreshKeysAgree) {
    for (uint16_t group : {19, 20, 21}) {
        auto a = generate(group), b = generate(group);
        ASSERT_TRUE(a && b);
        EXPECT_EQ(a->public_value().size(), ike_dh_public_length(group));
        EXPECT_EQ(shared(*a, b->public_value()), shared(*b, a->public_value())) << group;
    }
}

// ---- X25519: RFC 7748 §6.1 -----------------------------------------------------------

TEST(Curve25519, Rfc7748KnownAnswerFromBothSides) {
    const VectorRecord r = load_vectors("x25519_rfc7748.txt").at(0);
    auto alice = from_private(31, r.bytes("alice_private")), bob = from_private(31, r.bytes("bob_private"));
    ASSERT_TRUE(alice && bob);
    EXPECT_EQ(to_hex(alice->public_value()), r.text("alice_public"));
    EXPECT_EQ(to_hex(bob->public_value()), r.text("bob_public"));
    EXPECT_EQ(to_hex(shared(*alice, r.bytes("bob_public"))), r.text("shared"));
    EXPECT_EQ(to_hex(shared(*bob, r.bytes("alice_public"))), r.text("shared"));
}

TEST(Curve25519, RefusesALowOrderPointAndWrongLengths) {
    auto own = generate(31);
    ASSERT_TRUE(own);
    EXPECT_TRUE(refused(*own, Bytes(32, 0)));  // u = 0: the all-zero result of RFC 7748 §6.1
    Bytes one(32, 0);
    one[0] = 1;  // u = 1, order 1 as well
    EXPECT_TRUE(refused(*own, one));
    EXPECT_TRUE(refused(*own, Bytes(31, 9)));
    EXPECT_TRUE(refused(*own, Bytes(33, 9)));
    auto other = generate(31);
    ASSERT_TRUE(other);
    EXPECT_EQ(shared(*own, other->public_value()), shared(*other, own->public_value()));
}

// ---- the registry --------------------------------------------------------------------

TEST(IkeDhGroups, RegistryLengthsNamesAndUnsupportedGroups) {
    EXPECT_EQ(ike_dh_public_length(19), 64u);
    EXPECT_EQ(ike_dh_public_length(20), 96u);
    EXPECT_EQ(ike_dh_public_length(21), 132u);
    EXPECT_EQ(ike_dh_public_length(31), 32u);
    EXPECT_EQ(ike_dh_public_length(14), 256u);
    EXPECT_EQ(ike_dh_group_name(14), "MODP-2048");
    EXPECT_EQ(ike_dh_group_name(19), "ECP-256");
    EXPECT_EQ(ike_dh_group_name(31), "Curve25519");
    for (uint16_t unsupported : {0, 3, 4, 22, 24, 30, 32}) {
        EXPECT_FALSE(is_supported_ike_dh_group(unsupported));
        EXPECT_EQ(ike_dh_public_length(unsupported), 0u);
        std::string error;
        EXPECT_EQ(DhKeyPair::generate(unsupported, error), nullptr);
        EXPECT_FALSE(error.empty());
    }
    std::string error;
    EXPECT_EQ(DhKeyPair::from_private(31, Bytes(31, 1), error), nullptr);
}

}  // namespace
}  // namespace mbox::crypto::test

// The ISAKMP codec (IKEv1) against RFC 2408 §3, RFC 2407 §4 and RFC 3947: messages
// written out byte by byte from the RFCs' diagrams (not produced by the serializer),
// their round trips, every truncation, every length field off by one, the two forms
// of data attributes, and what RFC 2408 §5 says to do with unknown payload types.
#include "control/ike1/codec/message.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "codec_wire.hpp"

namespace mbox::ike1 {
namespace {

using codec::test::from_hex;
using codec::test::refusal;
using codec::test::Wire;
using codec::test::with_field_changed;

// Opaque values: what matters is the framing around them.
const std::string kNatTVendorId = "4a131c81070358455c5728f20e95452f";  // MD5("RFC 3947")
const std::string kDpdVendorId = "afcad71368a1f1c96b8696fc77570100";   // RFC 3706 §4
const std::string kHash = "000102030405060708090a0b0c0d0e0f10111213";  // 20: HMAC-SHA1
const std::string kNonce = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";          // 16
const std::string kCookies = "0123456789abcdef fedcba9876543210";

std::string hex_pattern(size_t n, unsigned start) {
    static const char kDigits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        unsigned b = (start + 7 * i) & 0xff;
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}
const std::string kKeData = hex_pattern(128, 0x21);  // MODP-1024 g^x

// ---- main mode's first message (RFC 2409 §5: HDR, SA, plus the usual VIDs) ----

Wire main_mode_wire() {
    Wire w;
    // §3.1 header: CKY-I, CKY-R 0, next SA(1), version 1.0, Identity Protection(2), no flags
    w.raw("0123456789abcdef 0000000000000000").raw("01 10 02 00").raw("00000000").length("000000a0");
    // §3.4 SA, next VID(13): DOI IPsec, SIT_IDENTITY_ONLY
    w.raw("0d 00").length("005c").raw("00000001 00000001");
    // §3.5 proposal 1, last: PROTO_ISAKMP, SPI size 0, 2 transforms
    w.raw("00 00").length("0050").raw("01 01").length("00").length("02");
    // §3.6 transform 1, more(3): KEY_IKE; 3DES, MD5, PSK, MODP-1024, seconds, 3600 (all basic)
    w.raw("03 00").length("0020").raw("01 01 0000");
    w.raw("8001 0005 8002 0001 8003 0001 8004 0002 800b 0001 800c 0e10");
    // transform 2, last: KEY_IKE; AES 256 bits, SHA, PSK, MODP-1024, seconds, and 86400
    // in the variable form (it needs more than two octets)
    w.raw("00 00").length("0028").raw("02 01 0000");
    w.raw("8001 0007 800e 0100 8002 0002 8003 0001 8004 0002 800b 0001");
    w.raw("000c").length("0004").raw("00015180");
    // §3.16 VID, next VID: RFC 3947 NAT-T
    w.raw("0d 00").length("0014").raw(kNatTVendorId);
    // VID, last: RFC 3706 DPD
    w.raw("00 00").length("0014").raw(kDpdVendorId);
    return w;
}

Header main_mode_header() {
    Header h;
    h.cookie_i = 0x0123456789abcdefULL;
    h.exchange = ExchangeType::IdentityProtection;
    return h;
}

std::vector<Payload> main_mode_payloads() {
    Transform t1{1, phase1::kKeyIke,
                 {basic_attribute(phase1::kEncryptionAlgorithm, phase1::kTripleDesCbc),
                  basic_attribute(phase1::kHashAlgorithm, phase1::kMd5),
                  basic_attribute(phase1::kAuthenticationMethod, phase1::kPreSharedKey),
                  basic_attribute(phase1::kGroupDescription, 2), basic_attribute(phase1::kLifeType, phase1::kSeconds),
                  number_attribute(phase1::kLifeDuration, 3600)}};
    Transform t2{2, phase1::kKeyIke,
                 {basic_attribute(phase1::kEncryptionAlgorithm, phase1::kAesCbc),
                  basic_attribute(phase1::kKeyLength, 256), basic_attribute(phase1::kHashAlgorithm, phase1::kSha),
                  basic_attribute(phase1::kAuthenticationMethod, phase1::kPreSharedKey),
                  basic_attribute(phase1::kGroupDescription, 2), basic_attribute(phase1::kLifeType, phase1::kSeconds),
                  number_attribute(phase1::kLifeDuration, 86400)}};
    return {SaPayload{{Proposal{1, ProtocolId::Isakmp, {}, {t1, t2}}}}, VendorIdPayload{from_hex(kNatTVendorId)},
            VendorIdPayload{from_hex(kDpdVendorId)}};
}

// ---- quick mode's first message, decrypted (RFC 2409 §5.5: HASH(1), SA, Ni, KE, IDci,
// IDcr), then the padding up to an AES block ----

constexpr size_t kQuickChainLength = 296;

Wire quick_mode_wire() {
    Wire w;
    // §3.11 HASH(1), next SA
    w.raw("01 00").length("0018").raw(kHash);
    // SA, next NONCE(10)
    w.raw("0a 00").length("0058").raw("00000001 00000001");
    // proposal 1, last: PROTO_IPSEC_ESP, SPI size 4, 2 transforms, SPI c0ffee01
    w.raw("00 00").length("004c").raw("01 03").length("04").length("02").raw("c0ffee01");
    // transform 1, more: ESP_AES; seconds, 3600 in the variable form, UDP-Encapsulated-Tunnel
    // (RFC 3947), HMAC-SHA, 128 bits, MODP-1024
    w.raw("03 00").length("0024").raw("01 0c 0000");
    w.raw("8001 0001").raw("0002").length("0004").raw("00000e10");
    w.raw("8004 0003 8005 0002 8006 0080 8003 0002");
    // transform 2, last: ESP_3DES; seconds, 3600 basic, the draft's UDP tunnel (61443), HMAC-MD5
    w.raw("00 00").length("001c").raw("02 03 0000");
    w.raw("8001 0001 8002 0e10 8004 f003 8005 0001 8003 0002");
    // §3.13 NONCE, next KE(4)
    w.raw("04 00").length("0014").raw(kNonce);
    // §3.7 KE, next ID(5)
    w.raw("05 00").length("0084").raw(kKeData);
    // §3.8 IDci, next ID: ID_IPV4_ADDR_SUBNET 10.1.0.0/24, any protocol, any port
    w.raw("05 00").length("0010").raw("04 00 0000 0a010000 ffffff00");
    // IDcr, last: ID_IPV4_ADDR_SUBNET 10.2.0.0/24, TCP port 443
    w.raw("00 00").length("0010").raw("04 06 01bb 0a020000 ffffff00");
    return w;
}

std::vector<uint8_t> quick_mode_body() {  // what decryption returns: the chain and its padding
    auto bytes = quick_mode_wire().bytes;
    bytes.insert(bytes.end(), 8, 0);
    return bytes;
}

std::vector<Payload> quick_mode_payloads() {
    Transform aes{1, ipsec::kEspAes,
                  {basic_attribute(ipsec::kSaLifeType, phase1::kSeconds),
                   variable_attribute(ipsec::kSaLifeDuration, {0x00, 0x00, 0x0e, 0x10}),
                   basic_attribute(ipsec::kEncapsulationMode, ipsec::kUdpEncapsulatedTunnel),
                   basic_attribute(ipsec::kAuthenticationAlgorithm, ipsec::kHmacSha),
                   basic_attribute(ipsec::kKeyLength, 128), basic_attribute(ipsec::kGroupDescription, 2)}};
    Transform des{2, ipsec::kEsp3des,
                  {basic_attribute(ipsec::kSaLifeType, phase1::kSeconds), basic_attribute(ipsec::kSaLifeDuration, 3600),
                   basic_attribute(ipsec::kEncapsulationMode, ipsec::kUdpEncapsulatedTunnelDraft),
                   basic_attribute(ipsec::kAuthenticationAlgorithm, ipsec::kHmacMd5),
                   basic_attribute(ipsec::kGroupDescription, 2)}};
    return {HashPayload{from_hex(kHash)},
            SaPayload{{Proposal{1, ProtocolId::Esp, {0xc0, 0xff, 0xee, 0x01}, {aes, des}}}},
            NoncePayload{from_hex(kNonce)},
            KePayload{from_hex(kKeData)},
            IdPayload{IdType::Ipv4Subnet, 0, 0, {10, 1, 0, 0, 255, 255, 255, 0}},
            IdPayload{IdType::Ipv4Subnet, 6, 443, {10, 2, 0, 0, 255, 255, 255, 0}}};
}

// ---- helpers ----

template <typename T>
uint16_t notification(const std::variant<T, ParseError>& result) {
    const auto* e = std::get_if<ParseError>(&result);
    return e ? e->notify : 0;
}

template <typename T>
bool refused(const std::variant<T, ParseError>& result) {
    return std::holds_alternative<ParseError>(result);
}

Message parsed(const std::variant<Message, ParseError>& result) {
    if (const auto* e = std::get_if<ParseError>(&result)) {
        ADD_FAILURE() << "refused: " << e->reason;
        return {};
    }
    return std::get<Message>(result);
}

// A plaintext informational message around `payloads_hex` (generic headers included),
// the header's Next Payload `first` and its length right.
std::vector<uint8_t> message_with(uint8_t first, const std::vector<uint8_t>& payloads, uint8_t flags = 0) {
    auto bytes = from_hex("0123456789abcdef fedcba9876543210 00 10 05 00 00000000 00000000");
    bytes[16] = first;
    bytes[19] = flags;
    bytes.insert(bytes.end(), payloads.begin(), payloads.end());
    auto length = static_cast<uint32_t>(bytes.size());
    for (int i = 0; i < 4; ++i) bytes[24 + i] = static_cast<uint8_t>(length >> (24 - 8 * i));
    return bytes;
}

// A lone payload (or proposal, or transform) as hex: Next Payload `next`, RESERVED, the
// length from the body.
std::string framed(std::string_view next, std::string_view body_hex, unsigned reserved = 0) {
    char head[32];
    std::snprintf(head, sizeof head, "%.2s %02x %04zx ", next.data(), reserved, from_hex(body_hex).size() + 4);
    return head + std::string(body_hex);
}

std::variant<Message, ParseError> parse_one(uint8_t type, std::string_view body_hex) {
    return parse_message(message_with(type, from_hex(framed("00", body_hex))));
}

template <typename T>
T only(const std::variant<Message, ParseError>& result) {
    const auto payloads = parsed(result).chain.payloads;
    if (payloads.size() != 1 || !std::holds_alternative<T>(payloads[0])) {
        ADD_FAILURE() << "not one payload of the kind asked for";
        return T{};
    }
    return std::get<T>(payloads[0]);
}

// An SA payload's body around proposal substructures written in hex.
std::variant<Message, ParseError> sa_with(std::string_view proposals_hex) {
    return parse_one(uint8_t(PayloadType::SecurityAssociation), "00000001 00000001 " + std::string(proposals_hex));
}
// One proposal (`protocol`, SPI) with one transform holding `attributes_hex`.
std::string proposal_with(std::string_view protocol_and_spi_size, std::string_view spi, std::string_view attributes) {
    return framed("00", std::string("01 ") + std::string(protocol_and_spi_size) + " 01 " + std::string(spi) +
                            framed("00", "01 03 0000 " + std::string(attributes)));
}

// ---- round trips, byte for byte ----

TEST(Ike1Codec, MainModeMessageSerializesToTheRfcLayoutByteForByte) {
    auto expected = main_mode_wire().bytes;
    ASSERT_EQ(expected.size(), 160u);
    EXPECT_EQ(serialize_message(main_mode_header(), main_mode_payloads()), expected);
}

TEST(Ike1Codec, MainModeMessageParsesToTheSamePayloadsAndBack) {
    auto wire = main_mode_wire().bytes;
    Message m = parsed(parse_message(wire));
    Header header = main_mode_header();
    header.next_payload = PayloadType::SecurityAssociation;
    header.length = 160;
    EXPECT_EQ(m.header, header);
    EXPECT_FALSE(m.header.encrypted());
    EXPECT_TRUE(m.encrypted.empty());
    EXPECT_EQ(m.chain.payloads, main_mode_payloads());
    EXPECT_EQ(m.chain.extents, (std::vector<Extent>{{28, 92}, {120, 20}, {140, 20}}));
    EXPECT_EQ(m.chain.end, 160u);
    EXPECT_EQ(serialize_message(m.header, m.chain.payloads), wire);
    // SAi_b for HASH_I and HASH_R (RFC 2409 §5): the SA payload's body as received.
    auto sai_b = body_of(wire, m.chain, 0);
    EXPECT_EQ(std::vector<uint8_t>(sai_b.begin(), sai_b.end()), std::vector<uint8_t>(wire.begin() + 32, wire.begin() + 120));
}

TEST(Ike1Codec, QuickModeChainSerializesToTheRfcLayoutByteForByte) {
    auto expected = quick_mode_wire().bytes;
    ASSERT_EQ(expected.size(), kQuickChainLength);
    EXPECT_EQ(serialize_payloads(quick_mode_payloads()), expected);
}

TEST(Ike1Codec, QuickModeBodyParsesWithItsPaddingLeftAfterTheChain) {
    auto body = quick_mode_body();
    auto result = parse_payloads(PayloadType::Hash, body);
    ASSERT_FALSE(refused(result)) << refusal(result);
    const Chain& chain = std::get<Chain>(result);
    EXPECT_EQ(chain.payloads, quick_mode_payloads());
    EXPECT_EQ(chain.end, kQuickChainLength);
    // HASH(1) covers what follows the HASH payload, without the padding (RFC 2409 §5.5).
    auto covered = bytes_after(body, chain, 0);
    auto after_hash = quick_mode_payloads();
    after_hash.erase(after_hash.begin());
    EXPECT_EQ(std::vector<uint8_t>(covered.begin(), covered.end()), serialize_payloads(after_hash));
    auto nonce = body_of(body, chain, 2);
    EXPECT_EQ(std::vector<uint8_t>(nonce.begin(), nonce.end()), from_hex(kNonce));
    EXPECT_TRUE(bytes_after(body, chain, 6).empty());
    EXPECT_TRUE(body_of(body, chain, 6).empty());
    // Whatever fills the padding, the chain is the same (RFC 2409 Appendix B pads with
    // zeros; some peers write the pad length last).
    body.back() = 7;
    EXPECT_EQ(std::get<Chain>(parse_payloads(PayloadType::Hash, body)).payloads, quick_mode_payloads());
}

TEST(Ike1Codec, EncryptedMessageCarriesItsCiphertextAsBytes) {
    Header h = main_mode_header();
    h.cookie_r = 0xfedcba9876543210ULL;
    h.exchange = ExchangeType::Quick;
    h.message_id = 0x9a4b3c2d;
    h.next_payload = PayloadType::Hash;  // the first payload inside the ciphertext
    h.flags = header_flags::kCommit;
    auto ciphertext = from_hex(hex_pattern(48, 3));
    auto bytes = serialize_encrypted(h, ciphertext);
    auto expected = from_hex(kCookies + "08 10 20 03 9a4b3c2d 0000004c" + hex_pattern(48, 3));
    EXPECT_EQ(bytes, expected);
    Message m = parsed(parse_message(bytes));
    EXPECT_TRUE(m.header.encrypted());
    EXPECT_EQ(m.header.flags, header_flags::kEncryption | header_flags::kCommit);
    EXPECT_EQ(m.header.next_payload, PayloadType::Hash);
    EXPECT_EQ(m.encrypted, ciphertext);
    EXPECT_TRUE(m.chain.payloads.empty());
    // serialize_message never sets E: it writes the payloads in the clear.
    EXPECT_FALSE(parsed(parse_message(serialize_message(m.header, {}))).header.encrypted());
}

TEST(Ike1Codec, DpdAndDeleteBodiesAreByteExact) {
    // RFC 3706 §5: N(R-U-THERE), DOI IPsec, PROTO_ISAKMP, SPI = the cookies, data = sequence.
    auto dpd = from_hex("0b 00 0018" + kHash + "00 00 0020 00000001 01 10 8d28" + kCookies + "0000002a");
    std::vector<Payload> dpd_payloads{
        HashPayload{from_hex(kHash)},
        NotificationPayload{uint8_t(ProtocolId::Isakmp), from_hex(kCookies), notify::kRUThere, {0, 0, 0, 42}}};
    EXPECT_EQ(serialize_payloads(dpd_payloads), dpd);
    EXPECT_EQ(std::get<Chain>(parse_payloads(PayloadType::Hash, dpd)).payloads, dpd_payloads);

    // §3.15: two ESP SAs, then the ISAKMP SA (SPI size 16: its cookies).
    auto del = from_hex("0c 00 0018" + kHash + "0c 00 0014 00000001 03 04 0002 c0ffee01 c0ffee02" +
                        "00 00 001c 00000001 01 10 0001" + kCookies);
    std::vector<Payload> del_payloads{HashPayload{from_hex(kHash)},
                                      DeletePayload{ProtocolId::Esp, {{0xc0, 0xff, 0xee, 1}, {0xc0, 0xff, 0xee, 2}}},
                                      DeletePayload{ProtocolId::Isakmp, {from_hex(kCookies)}}};
    EXPECT_EQ(serialize_payloads(del_payloads), del);
    EXPECT_EQ(std::get<Chain>(parse_payloads(PayloadType::Hash, del)).payloads, del_payloads);
}

TEST(Ike1Codec, EveryOtherPayloadKindRoundTrips) {
    std::vector<Payload> payloads{
        IdPayload{IdType::Fqdn, 17, 500, {'g', 'w'}},
        IdPayload{IdType::UserFqdn, 0, 0, {'a', '@', 'b'}},
        IdPayload{IdType::DerAsn1Dn, 0, 0, {0x30, 0x00}},
        IdPayload{IdType::Ipv4Address, 0, 0, {192, 0, 2, 1}},
        IdPayload{IdType::Ipv4Range, 0, 0, {10, 0, 0, 1, 10, 0, 0, 9}},
        IdPayload{IdType::Ipv6Address, 0, 0, std::vector<uint8_t>(16, 0x20)},
        IdPayload{IdType::Ipv6Subnet, 0, 0, std::vector<uint8_t>(32, 0xff)},
        IdPayload{IdType::KeyId, 0, 0, {1}},
        CertPayload{kCertEncodingX509Signature, {0x30, 0x82}},
        CertRequestPayload{kCertEncodingX509Signature, {}},
        CertRequestPayload{kCertEncodingX509Signature, {0x30, 0x00}},
        SignaturePayload{std::vector<uint8_t>(128, 0x5a)},
        NatDiscoveryPayload{from_hex(kHash)},
        NatOriginalAddressPayload{IdType::Ipv4Address, {192, 168, 7, 2}},
        NatOriginalAddressPayload{IdType::Ipv6Address, std::vector<uint8_t>(16, 1)},
        NotificationPayload{uint8_t(ProtocolId::Esp), {1, 2, 3, 4}, notify::kResponderLifetime,
                            from_hex("8001 0001 0002 0004 00000e10")},
        NotificationPayload{uint8_t(ProtocolId::Isakmp), from_hex(kCookies), notify::kInitialContact, {}},
        NotificationPayload{0, {}, notify::kNoProposalChosen, {}},
        VendorIdPayload{{}},
        PrivatePayload{130, {1, 2, 3}},  // the draft NAT-D
        SaPayload{{Proposal{1, ProtocolId::Esp, {1, 2, 3, 4}, {Transform{1, ipsec::kEspAes, {}}}},
                   Proposal{1, ProtocolId::Ah, {5, 6, 7, 8}, {Transform{1, 3, {}}}},  // ESP and AH together
                   Proposal{2, ProtocolId::Ipcomp, {0, 1}, {Transform{1, 2, {}}}},
                   Proposal{3, ProtocolId::Isakmp, std::vector<uint8_t>(16, 9), {Transform{1, phase1::kKeyIke, {}}}}}},
    };
    auto bytes = serialize_payloads(payloads);
    auto result = parse_payloads(PayloadType::Identification, bytes);
    ASSERT_FALSE(refused(result)) << refusal(result);
    EXPECT_EQ(std::get<Chain>(result).payloads, payloads);
    EXPECT_EQ(std::get<Chain>(result).end, bytes.size());
    const auto& chain = std::get<Chain>(result).payloads;
    EXPECT_NE(find_notification(chain, notify::kInitialContact), nullptr);
    EXPECT_EQ(find_notification(chain, notify::kRUThere), nullptr);
    ASSERT_NE(find_payload<NatOriginalAddressPayload>(chain), nullptr);
    EXPECT_EQ(payload_type(chain[19]), PayloadType(130));
}

TEST(Ike1Codec, ParseHeaderReadsTheFieldsAndNeedsOnly28Bytes) {
    auto wire = main_mode_wire().bytes;
    auto header = parse_header(std::span(wire).first(28));
    ASSERT_TRUE(header);
    EXPECT_EQ(header->cookie_i, 0x0123456789abcdefULL);
    EXPECT_EQ(header->cookie_r, 0u);
    EXPECT_EQ(header->exchange, ExchangeType::IdentityProtection);
    EXPECT_EQ(header->length, 160u);
    EXPECT_FALSE(parse_header(std::span(wire).first(27)));
}

// ---- lengths that lie ----

TEST(Ike1Codec, EveryPrefixOfAValidMessageIsRefused) {
    auto wire = main_mode_wire().bytes;
    for (size_t n = 0; n < wire.size(); ++n) {
        std::vector<uint8_t> prefix(wire.begin(), wire.begin() + n);
        EXPECT_TRUE(refused(parse_message(prefix))) << "prefix " << n;
        // And with the header length made to agree, so that the payload walk must notice.
        if (n >= 28) {
            for (int i = 0; i < 4; ++i) prefix[24 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
            EXPECT_TRUE(refused(parse_message(prefix))) << "prefix " << n;
        }
    }
}

TEST(Ike1Codec, EveryPrefixOfADecryptedChainIsRefused) {
    auto wire = quick_mode_wire().bytes;
    for (size_t n = 0; n < wire.size(); ++n)
        EXPECT_TRUE(refused(parse_payloads(PayloadType::Hash, std::span(wire.data(), n)))) << "prefix " << n;
}

TEST(Ike1Codec, EveryLengthAndCountFieldOffByOneIsRefused) {
    Wire w = main_mode_wire();
    ASSERT_EQ(w.lengths.size(), 10u);
    for (auto field : w.lengths)
        for (int delta : {+1, -1})
            EXPECT_TRUE(refused(parse_message(with_field_changed(w.bytes, field, delta))))
                << "offset " << field.offset << " delta " << delta;
}

TEST(Ike1Codec, EveryLengthAndCountFieldOffByOneInADecryptedChainIsRefused) {
    // With the padding after it: a payload that grows into the padding is refused too.
    Wire w = quick_mode_wire();
    w.bytes = quick_mode_body();
    ASSERT_EQ(w.lengths.size(), 12u);
    for (auto field : w.lengths)
        for (int delta : {+1, -1})
            EXPECT_TRUE(refused(parse_payloads(PayloadType::Hash, with_field_changed(w.bytes, field, delta))))
                << "offset " << field.offset << " delta " << delta;
}

// Whatever a single byte is changed to, the parser stays within the datagram (ASan
// runs prove it) and anything it accepts serializes back to what it read.
TEST(Ike1Codec, EverySingleByteValueAtEveryOffsetIsHandled) {
    for (const auto& wire : {main_mode_wire().bytes, message_with(8, quick_mode_wire().bytes)}) {
        for (size_t offset = 0; offset < wire.size(); ++offset)
            for (int value = 0; value < 256; ++value) {
                auto bytes = wire;
                bytes[offset] = static_cast<uint8_t>(value);
                auto result = parse_message(bytes);
                if (const auto* m = std::get_if<Message>(&result)) {
                    if (m->header.encrypted()) continue;
                    auto again = parse_message(serialize_message(m->header, m->chain.payloads));
                    ASSERT_FALSE(refused(again)) << offset << "=" << value << ": " << refusal(again);
                    EXPECT_EQ(std::get<Message>(again).chain.payloads, m->chain.payloads) << offset << "=" << value;
                }
            }
    }
}

// ---- the header (RFC 2408 §5.2) ----

TEST(Ike1Codec, HeaderVersionFlagsAndLengthAreCheckedWithTheirNotifications) {
    auto wire = main_mode_wire().bytes;
    auto changed = [&](size_t offset, uint8_t value) {
        auto bytes = wire;
        bytes[offset] = value;
        return parse_message(bytes);
    };
    EXPECT_EQ(notification(changed(17, 0x20)), notify::kInvalidMajorVersion);  // IKEv2 is someone else's
    EXPECT_NE(refusal(changed(17, 0x20)).find("major version 2"), std::string::npos);
    EXPECT_EQ(notification(changed(17, 0x11)), notify::kInvalidMinorVersion);
    EXPECT_EQ(notification(changed(19, 0x08)), notify::kInvalidFlags);
    EXPECT_FALSE(refused(changed(19, header_flags::kCommit | header_flags::kAuthenticationOnly)));
    auto longer = wire;
    longer.push_back(0);
    EXPECT_EQ(notification(parse_message(longer)), notify::kUnequalPayloadLengths);
    EXPECT_NE(refusal(parse_message(longer)).find("length 160 but the datagram has 161"), std::string::npos);
    // E set with nothing after the header.
    auto empty = from_hex(kCookies + "08 10 05 01 00000001 0000001c");
    EXPECT_NE(refusal(parse_message(empty)).find("no ciphertext"), std::string::npos);
}

TEST(Ike1Codec, MessagesAboveTheMaximumAreRefused) {
    std::vector<uint8_t> big(kMaxMessageLength + 1, 0);
    auto head = from_hex(kCookies + "0d 10 02 00 00000000 00010000");
    std::copy(head.begin(), head.end(), big.begin());
    EXPECT_TRUE(refused(parse_message(big)));
}

// ---- payload types (RFC 2408 §3.1, §5.3) ----

TEST(Ike1Codec, ReservedAndSubstructureTypesAreInvalidPayloadTypes) {
    // §5.3: "Check the Next Payload field to confirm it is valid"; otherwise discard
    // the message and (may) send INVALID-PAYLOAD-TYPE.
    for (uint8_t type : {uint8_t{2}, uint8_t{3}, uint8_t{14}, uint8_t{19}, uint8_t{22}, uint8_t{127}}) {
        auto result = parse_message(message_with(type, from_hex(framed("00", "aabb"))));
        EXPECT_EQ(notification(result), notify::kInvalidPayloadType) << int(type);
        EXPECT_NE(refusal(result).find("payload type " + std::to_string(type)), std::string::npos) << refusal(result);
    }
    // Named by a payload's Next Payload in the middle of a chain, likewise.
    auto chain = from_hex(framed("0e", kNatTVendorId) + framed("00", "aabb"));
    EXPECT_EQ(notification(parse_message(message_with(13, chain))), notify::kInvalidPayloadType);
    EXPECT_EQ(notification(parse_payloads(PayloadType::VendorId, chain)), notify::kInvalidPayloadType);
}

TEST(Ike1Codec, PrivateUsePayloadsAreKeptForTheExchangeToJudge) {
    for (uint8_t type : {uint8_t{128}, uint8_t{130}, uint8_t{131}, uint8_t{255}}) {
        auto bytes = message_with(type, from_hex(framed("00", "010203")));
        auto p = only<PrivatePayload>(parse_message(bytes));
        EXPECT_EQ(p.type, type);
        EXPECT_EQ(p.body, (std::vector<uint8_t>{1, 2, 3}));
        EXPECT_EQ(serialize_message(parsed(parse_message(bytes)).header, parsed(parse_message(bytes)).chain.payloads),
                  bytes);
    }
}

TEST(Ike1Codec, ReservedOctetOfEveryGenericHeaderMustBeZero) {
    // §5.3 step 2: PAYLOAD-MALFORMED. Payloads, proposals and transforms alike.
    auto vid = parse_message(message_with(13, from_hex(framed("00", kNatTVendorId, 1))));
    EXPECT_EQ(notification(vid), notify::kPayloadMalformed);
    EXPECT_NE(refusal(vid).find("VID: RESERVED 1"), std::string::npos) << refusal(vid);
    auto proposal = sa_with(framed("00", "01 01 00 01" + framed("00", "01 01 0000"), 0x80));
    EXPECT_NE(refusal(proposal).find("proposal 1: RESERVED 128"), std::string::npos) << refusal(proposal);
    auto transform = sa_with(framed("00", "01 01 00 01" + framed("00", "01 01 0000", 2)));
    EXPECT_NE(refusal(transform).find("transform 1: RESERVED 2"), std::string::npos) << refusal(transform);
    // RESERVED2 inside a transform is not a generic header's: ignored.
    EXPECT_FALSE(refused(sa_with(framed("00", "01 01 00 01" + framed("00", "01 01 ffff")))));
}

TEST(Ike1Codec, PayloadLengthBelowFourAndBytesAfterTheLastPayloadAreRefused) {
    EXPECT_NE(refusal(parse_message(message_with(13, from_hex("00 00 0003 00")))).find("length 3 below 4"),
              std::string::npos);
    EXPECT_NE(refusal(parse_message(message_with(13, from_hex("00 00 0004 00")))).find("1 bytes after the last payload"),
              std::string::npos);
}

// ---- data attributes (RFC 2408 §3.3, RFC 2409 Appendix A, RFC 2407 §4.5) ----

TEST(Ike1Codec, BasicAttributesInTheVariableFormAreRefused) {
    // Phase 1: Encryption Algorithm is basic; Life Duration is variable and may take either form.
    auto phase1 = [](std::string_view attributes) { return sa_with(proposal_with("01 00", "", attributes)); };
    EXPECT_EQ(notification(phase1("0001 0002 0005")), notify::kBadProposalSyntax);
    EXPECT_NE(refusal(phase1("0001 0002 0005")).find("type 1 is basic but in the variable form"), std::string::npos);
    EXPECT_FALSE(refused(phase1("800c 0e10")));
    EXPECT_FALSE(refused(phase1("000c 0004 00015180")));
    EXPECT_FALSE(refused(phase1("000c 0008 0000000000015180")));
    // An unknown (private) attribute may take either form: the exchange judges it.
    EXPECT_FALSE(refused(phase1("7fff 0003 aabbcc")));
    // IPsec: Encapsulation Mode is basic; SA Life Duration variable.
    auto esp = [](std::string_view attributes) { return sa_with(proposal_with("03 04", "11223344", attributes)); };
    EXPECT_EQ(notification(esp("0004 0002 0001")), notify::kBadProposalSyntax);
    EXPECT_FALSE(refused(esp("0002 0004 00000e10")));
    EXPECT_FALSE(refused(esp("8002 0e10")));
    // Types that are basic for one table and variable for the other: phase 1's 2 (Hash
    // Algorithm) is IPsec's 2 (SA Life Duration).
    EXPECT_TRUE(refused(phase1("0002 0002 0001")));
    EXPECT_FALSE(refused(esp("0002 0002 0001")));
}

TEST(Ike1Codec, AttributeLengthsAreCheckedAgainstTheTransform) {
    auto phase1 = [](std::string_view attributes) { return sa_with(proposal_with("01 00", "", attributes)); };
    EXPECT_NE(refusal(phase1("000c 0005 00015180")).find("length 5 beyond the 4 bytes left"), std::string::npos)
        << refusal(phase1("000c 0005 00015180"));
    EXPECT_NE(refusal(phase1("8001")).find("attribute 1: truncated: 2 bytes"), std::string::npos);
    EXPECT_NE(refusal(phase1("8001 0005 80")).find("attribute 2: truncated: 1 bytes"), std::string::npos);
}

TEST(Ike1Codec, AttributeValuesReadTheSameInBothForms) {
    EXPECT_EQ(basic_attribute(12, 3600).number(), 3600u);
    EXPECT_EQ(variable_attribute(12, {0x00, 0x01, 0x51, 0x80}).number(), 86400u);
    EXPECT_EQ(variable_attribute(12, {0x01}).number(), 1u);
    EXPECT_EQ(variable_attribute(12, std::vector<uint8_t>(8, 0xff)).number(), UINT64_MAX);
    EXPECT_FALSE(variable_attribute(12, std::vector<uint8_t>(9, 0)).number());
    EXPECT_FALSE(variable_attribute(12, {}).number());
    EXPECT_TRUE(number_attribute(12, 65535).basic());
    EXPECT_FALSE(number_attribute(12, 65536).basic());
    EXPECT_EQ(number_attribute(12, 65536).number(), 65536u);
    Transform t{1, phase1::kKeyIke, {basic_attribute(1, 5), number_attribute(12, 86400)}};
    ASSERT_NE(t.find(12), nullptr);
    EXPECT_EQ(t.find(12)->number(), 86400u);
    EXPECT_EQ(t.find(14), nullptr);
}

// ---- SA, proposals, transforms (RFC 2408 §3.4-3.6, §5.5; RFC 2407 §4.2) ----

TEST(Ike1Codec, SaOfAnotherDoiOrSituationIsRefusedWithItsNotification) {
    auto sa = [](std::string_view doi_and_situation) {
        return parse_one(1, std::string(doi_and_situation) + proposal_with("01 00", "", ""));
    };
    EXPECT_FALSE(refused(sa("00000001 00000001")));
    EXPECT_EQ(notification(sa("00000002 00000001")), notify::kDoiNotSupported);
    EXPECT_EQ(notification(sa("00000000 00000001")), notify::kDoiNotSupported);
    EXPECT_EQ(notification(sa("00000001 00000002")), notify::kSituationNotSupported);
    EXPECT_NE(refusal(parse_one(1, "00000001 00000001")).find("SA: no proposal"), std::string::npos);
    EXPECT_NE(refusal(parse_one(1, "00000001 000000")).find("SA: body 7 bytes"), std::string::npos);
}

TEST(Ike1Codec, ProposalProtocolAndSpiSizeMustAgree) {
    EXPECT_FALSE(refused(sa_with(proposal_with("03 04", "11223344", ""))));
    EXPECT_FALSE(refused(sa_with(proposal_with("02 04", "11223344", ""))));
    EXPECT_FALSE(refused(sa_with(proposal_with("04 02", "1122", ""))));
    EXPECT_FALSE(refused(sa_with(proposal_with("01 10", kCookies, ""))));
    EXPECT_EQ(notification(sa_with(proposal_with("03 08", "1122334455667788", ""))), notify::kInvalidSpi);
    EXPECT_EQ(notification(sa_with(proposal_with("01 04", "11223344", ""))), notify::kInvalidSpi);
    EXPECT_EQ(notification(sa_with(proposal_with("05 04", "11223344", ""))), notify::kInvalidProtocolId);
    EXPECT_NE(refusal(sa_with(proposal_with("05 04", "11223344", ""))).find("proposal 1: protocol 5"),
              std::string::npos);
}

TEST(Ike1Codec, ProposalNumbersNeverDecreaseAndEqualNumbersGoTogether) {
    auto two = [](const char* first, const char* second) {
        return sa_with(framed("02", std::string(first) + " 03 04 01 11223344" + framed("00", "01 0c 0000")) +
                       framed("00", std::string(second) + " 02 04 01 55667788" + framed("00", "01 03 0000")));
    };
    EXPECT_FALSE(refused(two("01", "02")));
    ASSERT_EQ(only<SaPayload>(two("01", "01")).proposals.size(), 2u);
    EXPECT_EQ(notification(two("02", "01")), notify::kBadProposalSyntax);
    EXPECT_NE(refusal(two("02", "01")).find("proposal 2: number 1 after 2"), std::string::npos);
}

TEST(Ike1Codec, SubstructuresChainOnlyToTheirOwnKind) {
    auto sa = [](const char* proposal_next, const char* transform_next) {
        return sa_with(framed(proposal_next, "01 01 00 01" + framed(transform_next, "01 01 0000")));
    };
    EXPECT_FALSE(refused(sa("00", "00")));
    EXPECT_NE(refusal(sa("02", "00")).find("marked not last"), std::string::npos);
    EXPECT_NE(refusal(sa("00", "03")).find("marked not last"), std::string::npos);
    EXPECT_NE(refusal(sa("03", "00")).find("Next Payload 3, not 0 or 2"), std::string::npos);
    EXPECT_NE(refusal(sa("00", "0d")).find("Next Payload 13, not 0 or 3"), std::string::npos);
}

TEST(Ike1Codec, TransformCountMustMatchTheTransforms) {
    auto sa = [](const char* count) { return sa_with(framed("00", std::string("01 01 00 ") + count + framed("00", "01 01 0000"))); };
    EXPECT_FALSE(refused(sa("01")));
    EXPECT_NE(refusal(sa("02")).find("transform count 2 but 1"), std::string::npos);
    EXPECT_NE(refusal(sa("00")).find("transform count 0 but 1"), std::string::npos);
}

// ---- the other payloads' own formats ----

TEST(Ike1Codec, IdentificationDataHasTheLengthItsTypeFixes) {
    auto id = [](std::string_view body) { return parse_one(5, body); };
    struct Case {
        const char* type;
        size_t length;
    };
    for (Case c : {Case{"01", 4}, Case{"04", 8}, Case{"07", 8}, Case{"05", 16}, Case{"06", 32}, Case{"08", 32}}) {
        EXPECT_FALSE(refused(id(std::string(c.type) + "000000" + hex_pattern(c.length, 1)))) << c.type;
        for (size_t wrong : {c.length - 1, c.length + 1}) {
            auto result = id(std::string(c.type) + "000000" + hex_pattern(wrong, 1));
            EXPECT_EQ(notification(result), notify::kInvalidIdInformation) << c.type << " " << wrong;
        }
    }
    EXPECT_EQ(notification(id("02 000000")), notify::kInvalidIdInformation);  // FQDN of no characters
    EXPECT_NE(refusal(id("01 0000")).find("ID: body 3 bytes"), std::string::npos);
    auto quick = only<IdPayload>(id("04 11 01f4 0a000000 ff000000"));
    EXPECT_EQ(quick.protocol, 17);
    EXPECT_EQ(quick.port, 500);
}

TEST(Ike1Codec, NonceOf8To256BytesOnly) {
    auto nonce = [](size_t n) { return parse_one(10, hex_pattern(n, 9)); };
    EXPECT_NE(refusal(nonce(7)).find("NONCE: length 7 below 8"), std::string::npos);
    EXPECT_NE(refusal(nonce(257)).find("NONCE: length 257 above 256"), std::string::npos);
    EXPECT_EQ(only<NoncePayload>(nonce(8)).data.size(), 8u);
    EXPECT_EQ(only<NoncePayload>(nonce(256)).data.size(), 256u);
}

TEST(Ike1Codec, NotificationDoiAndSpiSize) {
    auto n = [](std::string_view body) { return parse_one(11, body); };
    EXPECT_FALSE(refused(n("00000000 01 00 000e")));  // DOI 0 (ISAKMP) is read too
    EXPECT_EQ(notification(n("00000003 01 00 000e")), notify::kDoiNotSupported);
    EXPECT_EQ(only<NotificationPayload>(n("00000001 01 10 8d28" + kCookies + "00000001")).spi, from_hex(kCookies));
    EXPECT_EQ(notification(n("00000001 01 11 8d28" + kCookies + "00")), notify::kInvalidSpi);
    EXPECT_NE(refusal(n("00000001 03 04 6000 112233")).find("SPI size 4 beyond the 3 bytes left"), std::string::npos);
    EXPECT_NE(refusal(n("00000001 03 04 60")).find("N: body 7 bytes"), std::string::npos);
}

TEST(Ike1Codec, DeleteSpisHaveTheProtocolsSizeAndFillThePayload) {
    auto d = [](std::string_view body) { return parse_one(12, body); };
    EXPECT_EQ(only<DeletePayload>(d("00000001 03 04 0001 11223344")).spis.size(), 1u);
    EXPECT_EQ(only<DeletePayload>(d("00000001 04 02 0002 1122 3344")).spis.size(), 2u);
    EXPECT_EQ(notification(d("00000001 03 10 0001" + kCookies)), notify::kInvalidSpi);
    EXPECT_EQ(notification(d("00000001 01 04 0001 11223344")), notify::kInvalidSpi);
    EXPECT_EQ(notification(d("00000001 06 04 0001 11223344")), notify::kInvalidProtocolId);
    EXPECT_NE(refusal(d("00000001 03 04 0000")).find("no SPI"), std::string::npos);
    EXPECT_NE(refusal(d("00000001 03 04 0002 11223344")).find("2 SPIs of 4 bytes in 4 bytes"), std::string::npos);
    EXPECT_NE(refusal(d("00000001 03 04 0001 1122334455")).find("1 SPIs of 4 bytes in 5 bytes"), std::string::npos);
}

TEST(Ike1Codec, NatOriginalAddressIsAnIpv4OrIpv6Address) {
    auto oa = [](std::string_view body) { return parse_one(21, body); };
    EXPECT_EQ(only<NatOriginalAddressPayload>(oa("01 000000 c0a80702")).address, (std::vector<uint8_t>{192, 168, 7, 2}));
    EXPECT_FALSE(refused(oa("05 000000" + hex_pattern(16, 0))));
    EXPECT_NE(refusal(oa("01 000000 c0a8070201")).find("5 address bytes for ID type 1"), std::string::npos);
    EXPECT_NE(refusal(oa("02 000000 c0a80702")).find("ID type 2, not an address"), std::string::npos);
}

TEST(Ike1Codec, OpaquePayloadsMayNotBeEmptyButAVendorIdMay) {
    for (uint8_t type : {uint8_t{4}, uint8_t{8}, uint8_t{9}, uint8_t{20}})
        EXPECT_NE(refusal(parse_one(type, "")).find("no data"), std::string::npos) << int(type);
    EXPECT_NE(refusal(parse_one(6, "")).find("CERT: no encoding octet"), std::string::npos);
    EXPECT_NE(refusal(parse_one(7, "")).find("CR: no type octet"), std::string::npos);
    EXPECT_TRUE(only<VendorIdPayload>(parse_one(13, "")).data.empty());
}

// ---- what a message can make us hold ----

TEST(Ike1Codec, PayloadsProposalsAndAttributesAreBounded) {
    auto chain = [](size_t n) {
        std::vector<uint8_t> vids;
        for (size_t i = 0; i < n; ++i) vids.insert(vids.end(), {uint8_t(i + 1 < n ? 13 : 0), 0, 0, 5, 0xaa});
        return parse_message(message_with(13, vids));
    };
    EXPECT_EQ(parsed(chain(kMaxPayloads)).chain.payloads.size(), kMaxPayloads);
    EXPECT_NE(refusal(chain(kMaxPayloads + 1)).find("more than 64 payloads"), std::string::npos);

    auto attributes = [](size_t n) {
        std::string hex;
        for (size_t i = 0; i < n; ++i) hex += "7f00 0000 ";
        return sa_with(proposal_with("01 00", "", hex));
    };
    EXPECT_FALSE(refused(attributes(kMaxAttributes)));
    EXPECT_NE(refusal(attributes(kMaxAttributes + 1)).find("more than 32 attributes"), std::string::npos);

    auto proposals = [](size_t n) {
        std::string hex;
        for (size_t i = 0; i < n; ++i)
            hex += framed(i + 1 < n ? "02" : "00", "01 03 04 01 11223344" + framed("00", "01 0c 0000"));
        return sa_with(hex);
    };
    EXPECT_FALSE(refused(proposals(kMaxProposals)));
    EXPECT_NE(refusal(proposals(kMaxProposals + 1)).find("more than 64 proposals"), std::string::npos);
}

// Writes the messages above as the fuzz seed corpus when MBOX_IKE1_SEED_DIR is set
// (scripts/fuzz.sh's corpus: tests/fuzz/corpus/ike1_codec/).
TEST(Ike1CodecSeeds, WrittenWhenAsked) {
    const char* dir = std::getenv("MBOX_IKE1_SEED_DIR");
    if (!dir) GTEST_SKIP() << "MBOX_IKE1_SEED_DIR not set";
    auto write = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
        std::ofstream out(std::string(dir) + "/" + name, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        ASSERT_TRUE(out.good()) << name;
    };
    write("main_mode_1", main_mode_wire().bytes);
    write("quick_mode_cleartext", message_with(8, quick_mode_wire().bytes));
    Header h = main_mode_header();
    h.exchange = ExchangeType::Quick;
    h.next_payload = PayloadType::Hash;
    write("quick_mode_encrypted", serialize_encrypted(h, from_hex(hex_pattern(48, 3))));
    std::vector<Payload> others{IdPayload{IdType::Fqdn, 17, 500, {'g', 'w'}},
                                NatDiscoveryPayload{from_hex(kHash)},
                                NatOriginalAddressPayload{IdType::Ipv4Address, {192, 168, 7, 2}},
                                NotificationPayload{1, from_hex(kCookies), notify::kRUThere, {0, 0, 0, 1}},
                                DeletePayload{ProtocolId::Esp, {{1, 2, 3, 4}}},
                                CertRequestPayload{kCertEncodingX509Signature, {}},
                                PrivatePayload{130, {1}}};
    write("other_payloads", serialize_message(main_mode_header(), others));
    // The harness's second half reads the first byte as the first payload type.
    auto body = quick_mode_body();
    body.insert(body.begin(), uint8_t(PayloadType::Hash));
    write("quick_mode_decrypted_body", body);
}

}  // namespace
}  // namespace mbox::ike1

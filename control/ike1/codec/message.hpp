// The ISAKMP message codec for IKEv1: the header and payloads of RFC 2408 §3 with the
// IPsec DOI of RFC 2407 §4, RFC 2409's attributes, the NAT-T payloads of RFC 3947 §3-4
// and the DPD notifications of RFC 3706. Parsed with exact length checks against the
// bytes received, serialized byte for byte; no exchange logic and no cryptography.
// When the header's E flag is set, everything after the header is ciphertext: the
// codec carries it as bytes, and the exchange decrypts it and parses the payloads with
// parse_payloads() from the header's Next Payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace mbox::ike1 {

inline constexpr size_t kHeaderLength = 28;
inline constexpr size_t kGenericPayloadHeaderLength = 4;
inline constexpr size_t kMaxMessageLength = 65535;
// What a peer's message can make us hold. A phase 1 SA lists every combination as a
// transform (strongSwan's default offers a few dozen), within the one-octet count.
inline constexpr size_t kMaxPayloads = 64;
inline constexpr size_t kMaxProposals = 64;
inline constexpr size_t kMaxAttributes = 32;  // per transform

// RFC 2408 §3.1 and RFC 2409 §5-5.5. Other values survive a parse (the exchange
// answers UNSUPPORTED-EXCHANGE-TYPE).
enum class ExchangeType : uint8_t {
    IdentityProtection = 2,  // main mode
    Aggressive = 4,
    Informational = 5,
    Quick = 32,
};

// RFC 2408 §3.1, RFC 3947 §3.2 and §4.2. Proposal (2) and Transform (3) only occur
// inside an SA payload.
enum class PayloadType : uint8_t {
    None = 0,
    SecurityAssociation = 1,
    Proposal = 2,
    Transform = 3,
    KeyExchange = 4,
    Identification = 5,
    Certificate = 6,
    CertificateRequest = 7,
    Hash = 8,
    Signature = 9,
    Nonce = 10,
    Notification = 11,
    Delete = 12,
    VendorId = 13,
    NatDiscovery = 20,
    NatOriginalAddress = 21,
};
// RFC 2408 §3.1: 128-255 are for private use between consenting parties (the draft
// NAT-T payloads 130 and 131 among them); 14-127 are reserved.
inline constexpr uint8_t kFirstPrivatePayloadType = 128;

namespace header_flags {
inline constexpr uint8_t kEncryption = 0x01;      // E: the payloads are encrypted
inline constexpr uint8_t kCommit = 0x02;          // C: RFC 2408 §3.1 key exchange synchronisation
inline constexpr uint8_t kAuthenticationOnly = 0x04;  // A
inline constexpr uint8_t kDefined = 0x07;
}  // namespace header_flags

struct Header {
    uint64_t cookie_i = 0;  // host order; on the wire big-endian
    uint64_t cookie_r = 0;
    // Filled in by serialize_message from the first payload; for an encrypted message
    // the type of the first payload inside the ciphertext, set by the caller.
    PayloadType next_payload = PayloadType::None;
    uint8_t major_version = 1;
    uint8_t minor_version = 0;
    ExchangeType exchange = ExchangeType::IdentityProtection;
    uint8_t flags = 0;
    uint32_t message_id = 0;
    uint32_t length = 0;  // filled in by serialize_*; checked by parse_message

    bool encrypted() const { return (flags & header_flags::kEncryption) != 0; }
    bool operator==(const Header&) const = default;
};

// ---- SA (RFC 2408 §3.4-3.6, RFC 2407 §4.2, §4.4, §4.5) ----

inline constexpr uint32_t kDoiIsakmp = 0;
inline constexpr uint32_t kDoiIpsec = 1;
inline constexpr uint32_t kSituationIdentityOnly = 1;  // RFC 2407 §4.2: SIT_IDENTITY_ONLY

// RFC 2407 §4.4.1.
enum class ProtocolId : uint8_t { Isakmp = 1, Ah = 2, Esp = 3, Ipcomp = 4 };

// A data attribute (RFC 2408 §3.3): AF=1 is the basic (TV) form with a 16-bit value,
// AF=0 the variable (TLV) form. RFC 2409 Appendix A: "Attributes described as basic
// MUST NOT be encoded as variable. Variable length attributes MAY be encoded as basic
// attributes if their value can fit into two octets."
struct Attribute {
    uint16_t type = 0;  // without the AF bit
    std::variant<uint16_t, std::vector<uint8_t>> value;

    bool basic() const { return std::holds_alternative<uint16_t>(value); }
    // The value as a number: the basic form, or a variable one of 1 to 8 octets
    // (big-endian). nullopt for an empty or longer variable value.
    std::optional<uint64_t> number() const;
    bool operator==(const Attribute&) const = default;
};
Attribute basic_attribute(uint16_t type, uint16_t value);
Attribute variable_attribute(uint16_t type, std::vector<uint8_t> value);
// A variable-class number (SA lifetimes): basic when it fits in two octets, otherwise
// the variable form in four.
Attribute number_attribute(uint16_t type, uint32_t value);

// Phase 1 attributes, transform KEY_IKE (RFC 2409 Appendix A; RFC 3602, RFC 4868).
namespace phase1 {
inline constexpr uint8_t kKeyIke = 1;  // the only ISAKMP transform ID
inline constexpr uint16_t kEncryptionAlgorithm = 1;
inline constexpr uint16_t kHashAlgorithm = 2;
inline constexpr uint16_t kAuthenticationMethod = 3;
inline constexpr uint16_t kGroupDescription = 4;
inline constexpr uint16_t kGroupType = 5;
inline constexpr uint16_t kLifeType = 11;
inline constexpr uint16_t kLifeDuration = 12;  // variable
inline constexpr uint16_t kPrf = 13;
inline constexpr uint16_t kKeyLength = 14;
inline constexpr uint16_t kFieldSize = 15;
// Encryption Algorithm values
inline constexpr uint16_t kDesCbc = 1;
inline constexpr uint16_t kTripleDesCbc = 5;
inline constexpr uint16_t kAesCbc = 7;
// Hash Algorithm values
inline constexpr uint16_t kMd5 = 1;
inline constexpr uint16_t kSha = 2;
inline constexpr uint16_t kSha2_256 = 4;
inline constexpr uint16_t kSha2_384 = 5;
inline constexpr uint16_t kSha2_512 = 6;
// Authentication Method values
inline constexpr uint16_t kPreSharedKey = 1;
inline constexpr uint16_t kDssSignatures = 2;
inline constexpr uint16_t kRsaSignatures = 3;
// Life Type values (also the IPsec SA Life Type's)
inline constexpr uint16_t kSeconds = 1;
inline constexpr uint16_t kKilobytes = 2;
}  // namespace phase1

// IPsec SA attributes and transform IDs (RFC 2407 §4.4.4, §4.5; RFC 3947 §5.2; RFC 4868).
namespace ipsec {
inline constexpr uint16_t kSaLifeType = 1;
inline constexpr uint16_t kSaLifeDuration = 2;  // variable
inline constexpr uint16_t kGroupDescription = 3;
inline constexpr uint16_t kEncapsulationMode = 4;
inline constexpr uint16_t kAuthenticationAlgorithm = 5;
inline constexpr uint16_t kKeyLength = 6;
inline constexpr uint16_t kKeyRounds = 7;
// Encapsulation Mode values: RFC 3947's, and the draft's that peers still send.
inline constexpr uint16_t kTunnel = 1;
inline constexpr uint16_t kTransport = 2;
inline constexpr uint16_t kUdpEncapsulatedTunnel = 3;
inline constexpr uint16_t kUdpEncapsulatedTransport = 4;
inline constexpr uint16_t kUdpEncapsulatedTunnelDraft = 61443;
inline constexpr uint16_t kUdpEncapsulatedTransportDraft = 61444;
// Authentication Algorithm values
inline constexpr uint16_t kHmacMd5 = 1;
inline constexpr uint16_t kHmacSha = 2;
inline constexpr uint16_t kHmacSha2_256 = 5;
inline constexpr uint16_t kHmacSha2_384 = 6;
inline constexpr uint16_t kHmacSha2_512 = 7;
// ESP transform IDs
inline constexpr uint8_t kEsp3des = 3;
inline constexpr uint8_t kEspNull = 11;
inline constexpr uint8_t kEspAes = 12;
}  // namespace ipsec

struct Transform {
    uint8_t number = 1;
    uint8_t id = 0;  // KEY_IKE for ISAKMP, ESP_AES etc. for ESP
    std::vector<Attribute> attributes;

    const Attribute* find(uint16_t type) const;
    bool operator==(const Transform&) const = default;
};

// Proposals with the same number are one offer taken together (ESP and AH, say);
// different numbers are alternatives (RFC 2408 §4.2).
struct Proposal {
    uint8_t number = 1;
    ProtocolId protocol = ProtocolId::Isakmp;
    std::vector<uint8_t> spi;  // ISAKMP 0 (or 16), AH/ESP 4, IPCOMP 2 or 4 bytes
    std::vector<Transform> transforms;
    bool operator==(const Proposal&) const = default;
};

// DOI IPsec and SIT_IDENTITY_ONLY are the only ones parsed or written.
struct SaPayload {
    std::vector<Proposal> proposals;
    bool operator==(const SaPayload&) const = default;
};

// ---- ID (§3.8, RFC 2407 §4.6.2), CERT, CR (§3.9, §3.10) ----

// RFC 2407 §4.6.2.1.
enum class IdType : uint8_t {
    Ipv4Address = 1,
    Fqdn = 2,
    UserFqdn = 3,
    Ipv4Subnet = 4,
    Ipv6Address = 5,
    Ipv6Subnet = 6,
    Ipv4Range = 7,
    Ipv6Range = 8,
    DerAsn1Dn = 9,
    DerAsn1Gn = 10,
    KeyId = 11,
};

// Phase 1 identities leave protocol and port 0 (or UDP 500, RFC 2407 §4.6.2); quick
// mode's IDci/IDcr carry the traffic they protect: addresses, subnets as address |
// mask, ranges as first | last, network order.
struct IdPayload {
    IdType type = IdType::Ipv4Address;  // any octet value survives a round trip
    uint8_t protocol = 0;
    uint16_t port = 0;
    std::vector<uint8_t> data;
    bool operator==(const IdPayload&) const = default;
};

inline constexpr uint8_t kCertEncodingX509Signature = 4;  // RFC 2408 §3.9
struct CertPayload {
    uint8_t encoding = kCertEncodingX509Signature;
    std::vector<uint8_t> data;
    bool operator==(const CertPayload&) const = default;
};
struct CertRequestPayload {
    uint8_t type = kCertEncodingX509Signature;
    std::vector<uint8_t> authority;  // a CA's DER distinguished name, or empty for any
    bool operator==(const CertRequestPayload&) const = default;
};

// ---- KE, HASH, SIG, NONCE, VID, NAT-D (§3.7, §3.11-3.13, §3.16; RFC 3947 §3.2) ----

// The payloads that are one value: KE's g^x, HASH, SIG, the nonce, a vendor ID, and
// NAT-D's HASH(CKY-I | CKY-R | IP | Port) in the negotiated hash. Only a VID may be
// empty.
template <PayloadType kType>
struct OpaquePayload {
    std::vector<uint8_t> data;
    bool operator==(const OpaquePayload&) const = default;
};
using KePayload = OpaquePayload<PayloadType::KeyExchange>;
using HashPayload = OpaquePayload<PayloadType::Hash>;
using SignaturePayload = OpaquePayload<PayloadType::Signature>;
using NoncePayload = OpaquePayload<PayloadType::Nonce>;
using VendorIdPayload = OpaquePayload<PayloadType::VendorId>;
using NatDiscoveryPayload = OpaquePayload<PayloadType::NatDiscovery>;
// RFC 2409 §5: "The length of nonce payload MUST be between 8 and 256 bytes inclusive."
inline constexpr size_t kMinNonceLength = 8;
inline constexpr size_t kMaxNonceLength = 256;

// ---- Notification (§3.14, RFC 2407 §4.6.3, RFC 3706 §5) ----

namespace notify {
// Errors (RFC 2408 §3.14.1)
inline constexpr uint16_t kInvalidPayloadType = 1;
inline constexpr uint16_t kDoiNotSupported = 2;
inline constexpr uint16_t kSituationNotSupported = 3;
inline constexpr uint16_t kInvalidCookie = 4;
inline constexpr uint16_t kInvalidMajorVersion = 5;
inline constexpr uint16_t kInvalidMinorVersion = 6;
inline constexpr uint16_t kInvalidExchangeType = 7;
inline constexpr uint16_t kInvalidFlags = 8;
inline constexpr uint16_t kInvalidMessageId = 9;
inline constexpr uint16_t kInvalidProtocolId = 10;
inline constexpr uint16_t kInvalidSpi = 11;
inline constexpr uint16_t kInvalidTransformId = 12;
inline constexpr uint16_t kAttributesNotSupported = 13;
inline constexpr uint16_t kNoProposalChosen = 14;
inline constexpr uint16_t kBadProposalSyntax = 15;
inline constexpr uint16_t kPayloadMalformed = 16;
inline constexpr uint16_t kInvalidKeyInformation = 17;
inline constexpr uint16_t kInvalidIdInformation = 18;
inline constexpr uint16_t kInvalidCertEncoding = 19;
inline constexpr uint16_t kInvalidCertificate = 20;
inline constexpr uint16_t kCertTypeUnsupported = 21;
inline constexpr uint16_t kInvalidCertAuthority = 22;
inline constexpr uint16_t kInvalidHashInformation = 23;
inline constexpr uint16_t kAuthenticationFailed = 24;
inline constexpr uint16_t kInvalidSignature = 25;
inline constexpr uint16_t kUnsupportedExchangeType = 29;
inline constexpr uint16_t kUnequalPayloadLengths = 30;
// Status
inline constexpr uint16_t kResponderLifetime = 24576;  // RFC 2407 §4.6.3.1
inline constexpr uint16_t kReplayStatus = 24577;
inline constexpr uint16_t kInitialContact = 24578;
inline constexpr uint16_t kRUThere = 36136;  // RFC 3706 §5
inline constexpr uint16_t kRUThereAck = 36137;
}  // namespace notify

// The DOI is read as 0 (ISAKMP) or 1 (IPsec) and written as 1, as for Delete.
struct NotificationPayload {
    uint8_t protocol = static_cast<uint8_t>(ProtocolId::Isakmp);
    std::vector<uint8_t> spi;  // 0-16 bytes: for ISAKMP often the two cookies (DPD)
    uint16_t type = 0;
    std::vector<uint8_t> data;  // DPD: the 4-byte sequence number
    bool operator==(const NotificationPayload&) const = default;
};

// ---- Delete (§3.15) ----

// SPIs of the protocol's size: 16 (the cookie pair) for ISAKMP, 4 for AH and ESP, 2 for
// IPCOMP. The serializer writes each as given; the caller gives that size.
size_t delete_spi_size(ProtocolId protocol);
struct DeletePayload {
    ProtocolId protocol = ProtocolId::Esp;
    std::vector<std::vector<uint8_t>> spis;
    bool operator==(const DeletePayload&) const = default;
};

// ---- NAT-OA (RFC 3947 §5.2) ----

struct NatOriginalAddressPayload {
    IdType type = IdType::Ipv4Address;  // ID_IPV4_ADDR or ID_IPV6_ADDR only
    std::vector<uint8_t> address;       // 4 or 16 bytes
    bool operator==(const NatOriginalAddressPayload&) const = default;
};

// A private-use payload (types 128-255), kept whole: the exchange knows whether it
// agreed on one with the peer (RFC 2408 §3.1).
struct PrivatePayload {
    uint8_t type = kFirstPrivatePayloadType;
    std::vector<uint8_t> body;
    bool operator==(const PrivatePayload&) const = default;
};

using Payload = std::variant<SaPayload, KePayload, IdPayload, CertPayload, CertRequestPayload, HashPayload,
                             SignaturePayload, NoncePayload, NotificationPayload, DeletePayload, VendorIdPayload,
                             NatDiscoveryPayload, NatOriginalAddressPayload, PrivatePayload>;

PayloadType payload_type(const Payload& payload);  // PrivatePayload: its own type octet

// Where a parsed payload's bytes are in what was parsed: its generic header at
// `offset`, `length` bytes with it. For the hashes over payloads as received (SAi_b,
// IDii_b: RFC 2409 §5; quick mode and informational HASH: §5.5, §5.7).
struct Extent {
    size_t offset = 0;
    size_t length = 0;
    bool operator==(const Extent&) const = default;
};

// A payload chain: the payloads in wire order, each one's extent, and where the chain
// ends (in a decrypted body the padding follows, RFC 2409 Appendix B).
struct Chain {
    std::vector<Payload> payloads;
    std::vector<Extent> extents;
    size_t end = 0;
};

struct Message {
    Header header;
    Chain chain;                     // empty when the E flag is set
    std::vector<uint8_t> encrypted;  // the bytes after the header when the E flag is set
};

// Why a message or payload chain was refused: a short reason that names the payload
// and the field ("NONCE: length 7 below 8"), and the RFC 2408 §3.14.1 notification a
// peer may be sent for it (§5.1-5.15 name it for each check).
struct ParseError {
    std::string reason;
    uint16_t notify = notify::kPayloadMalformed;
};

// The header alone (28 bytes): to demultiplex by cookies and version before anything
// else is read. Checks only that 28 bytes are there.
std::optional<Header> parse_header(std::span<const uint8_t> datagram);

// A whole ISAKMP message (the UDP payload, without the non-ESP marker). Checks, in the
// order of RFC 2408 §5.2: major version 1 and minor 0, only the E, C and A flags; the
// header length equals the datagram length (at most kMaxMessageLength). Without E: the
// payload chain, every generic header's RESERVED zero (§5.3), every length >= 4 and
// within what remains, each payload's own format exactly, and the chain ending at the
// message end. With E: a non-empty body, kept as bytes.
std::variant<Message, ParseError> parse_message(std::span<const uint8_t> datagram);

// The chain inside a decrypted body, starting with `first` (the header's Next
// Payload). The same checks, except that bytes may follow the last payload: the
// padding up to the cipher's block (RFC 2409 Appendix B); Chain::end says where it
// starts.
std::variant<Chain, ParseError> parse_payloads(PayloadType first, std::span<const uint8_t> bytes);

// The bytes of `bytes` (what `chain` was parsed from) after payload `index`, up to the
// chain's end: what quick mode's HASH(1) and HASH(2) and an informational HASH cover
// (RFC 2409 §5.5, §5.7) when the HASH payload is payload `index`.
std::span<const uint8_t> bytes_after(std::span<const uint8_t> bytes, const Chain& chain, size_t index);
// The body of payload `index` (after its generic header): SAi_b, IDii_b, Ni_b.
std::span<const uint8_t> body_of(std::span<const uint8_t> bytes, const Chain& chain, size_t index);

// The payloads, each with its generic header, Next Payload linking them and the last
// one None: the plaintext of an encrypted message before padding, or the part of one
// a HASH covers.
std::vector<uint8_t> serialize_payloads(const std::vector<Payload>& payloads);

// A list of SA attributes outside a transform: the data of a RESPONDER-LIFETIME
// notification (RFC 2407 §4.6.3.1), read with the IPsec DOI's attribute classes.
std::vector<uint8_t> serialize_attributes(const std::vector<Attribute>& attributes);
std::variant<std::vector<Attribute>, ParseError> parse_ipsec_attributes(std::span<const uint8_t> bytes);
// One payload's body as serialize_payloads writes it, without its generic header: the
// SAi_b and IDii_b/IDir_b of our own payloads (RFC 2409 §5).
std::vector<uint8_t> serialize_body(const Payload& payload);
// Header (E flag clear, next_payload and length filled in) then the chain.
std::vector<uint8_t> serialize_message(const Header& header, const std::vector<Payload>& payloads);
// Header (E flag set, next_payload as given, length filled in) then the ciphertext.
std::vector<uint8_t> serialize_encrypted(const Header& header, std::span<const uint8_t> ciphertext);

// The first payload of a kind, or nullptr.
template <typename T>
const T* find_payload(const std::vector<Payload>& payloads) {
    for (const auto& p : payloads)
        if (const T* t = std::get_if<T>(&p)) return t;
    return nullptr;
}
const NotificationPayload* find_notification(const std::vector<Payload>& payloads, uint16_t type);
// Whether a VID payload carries exactly `id`.
bool has_vendor_id(const std::vector<Payload>& payloads, std::span<const uint8_t> id);

}  // namespace mbox::ike1

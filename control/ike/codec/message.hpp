// The IKEv2 message codec (RFC 7296 §3): the header and every payload mbox reads or
// writes, parsed with exact length checks against the bytes received and serialized
// byte for byte. No exchange logic and no cryptography: the Encrypted payload (SK) is
// carried as its raw body (IV | ciphertext | ICV); the engine decrypts it and parses
// the inner chain with parse_payloads().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace mbox::ike {

inline constexpr size_t kHeaderLength = 28;
inline constexpr size_t kGenericPayloadHeaderLength = 4;
// RFC 7296 §2: at least 1280 bytes must be accepted; nothing we are sent may make us
// hold more than this (IKE_AUTH with a certificate chain fits easily).
inline constexpr size_t kMaxMessageLength = 65535;

enum class ExchangeType : uint8_t {
    IkeSaInit = 34,
    IkeAuth = 35,
    CreateChildSa = 36,
    Informational = 37,
};

enum class PayloadType : uint8_t {
    None = 0,
    SecurityAssociation = 33,
    KeyExchange = 34,
    IdInitiator = 35,
    IdResponder = 36,
    Certificate = 37,
    CertificateRequest = 38,
    Authentication = 39,
    Nonce = 40,
    Notify = 41,
    Delete = 42,
    VendorId = 43,
    TsInitiator = 44,
    TsResponder = 45,
    Encrypted = 46,
    Configuration = 47,
    Eap = 48,
};

namespace header_flags {
inline constexpr uint8_t kInitiator = 0x08;  // I: sent by the original initiator of the IKE SA
inline constexpr uint8_t kVersion = 0x10;    // V: we never set it
inline constexpr uint8_t kResponse = 0x20;   // R: this message is a response
}  // namespace header_flags

struct Header {
    uint64_t spi_i = 0;  // host order; on the wire big-endian
    uint64_t spi_r = 0;
    PayloadType next_payload = PayloadType::None;  // filled in by serialize_message
    uint8_t major_version = 2;
    uint8_t minor_version = 0;
    ExchangeType exchange = ExchangeType::IkeSaInit;
    uint8_t flags = 0;
    uint32_t message_id = 0;
    uint32_t length = 0;  // filled in by serialize_message; checked by parse_message

    bool is_response() const { return (flags & header_flags::kResponse) != 0; }
    bool from_initiator() const { return (flags & header_flags::kInitiator) != 0; }
    bool operator==(const Header&) const = default;
};

// ---- SA payload (§3.3) ----
enum class ProtocolId : uint8_t { Ike = 1, Ah = 2, Esp = 3 };
enum class TransformType : uint8_t { Encryption = 1, Prf = 2, Integrity = 3, DhGroup = 4, Esn = 5 };
inline constexpr uint16_t kKeyLengthAttribute = 14;  // the only attribute RFC 7296 defines (TV form)

struct Transform {
    TransformType type = TransformType::Encryption;
    uint16_t id = 0;
    std::optional<uint16_t> key_length;  // the Key Length attribute, in bits
    // Attributes other than Key Length make the transform unusable (§3.3.6: an
    // unrecognised attribute means the transform is to be rejected); the parser keeps
    // their presence here rather than failing the message.
    bool has_unknown_attributes = false;

    bool operator==(const Transform&) const = default;
};

struct Proposal {
    uint8_t number = 1;
    ProtocolId protocol = ProtocolId::Ike;
    std::vector<uint8_t> spi;  // 0 bytes (IKE_SA_INIT), 8 (IKE rekey), 4 (ESP/AH)
    std::vector<Transform> transforms;

    bool operator==(const Proposal&) const = default;
};

struct SaPayload {
    std::vector<Proposal> proposals;
    bool operator==(const SaPayload&) const = default;
};

// ---- KE (§3.4) ----
struct KePayload {
    uint16_t group = 0;
    std::vector<uint8_t> data;
    bool operator==(const KePayload&) const = default;
};

// ---- IDi / IDr (§3.5) ----
enum class IdType : uint8_t { Ipv4Address = 1, Fqdn = 2, Rfc822 = 3, Ipv6Address = 5, DerAsn1Dn = 9, KeyId = 11 };
struct IdPayload {
    IdType type = IdType::Ipv4Address;  // any octet value survives a round trip
    std::vector<uint8_t> data;
    bool operator==(const IdPayload&) const = default;
};

// ---- CERT / CERTREQ (§3.6, §3.7) ----
inline constexpr uint8_t kCertEncodingX509Signature = 4;
struct CertPayload {
    uint8_t encoding = kCertEncodingX509Signature;
    std::vector<uint8_t> data;
    bool operator==(const CertPayload&) const = default;
};
struct CertReqPayload {
    uint8_t encoding = kCertEncodingX509Signature;
    std::vector<uint8_t> data;  // SHA-1 hashes of trusted CAs' public keys, 20 bytes each
    bool operator==(const CertReqPayload&) const = default;
};

// ---- AUTH (§3.8) ----
enum class AuthMethod : uint8_t { RsaSignature = 1, SharedKey = 2, DssSignature = 3, DigitalSignature = 14 };
struct AuthPayload {
    AuthMethod method = AuthMethod::SharedKey;
    std::vector<uint8_t> data;
    bool operator==(const AuthPayload&) const = default;
};

// ---- Ni / Nr (§3.9): 16 to 256 bytes (checked by the parser) ----
struct NoncePayload {
    std::vector<uint8_t> data;
    bool operator==(const NoncePayload&) const = default;
};

// ---- Notify (§3.10) ----
namespace notify {
// Errors
inline constexpr uint16_t kUnsupportedCriticalPayload = 1;
inline constexpr uint16_t kInvalidIkeSpi = 4;
inline constexpr uint16_t kInvalidMajorVersion = 5;
inline constexpr uint16_t kInvalidSyntax = 7;
inline constexpr uint16_t kInvalidMessageId = 9;
inline constexpr uint16_t kInvalidSpi = 11;
inline constexpr uint16_t kNoProposalChosen = 14;
inline constexpr uint16_t kInvalidKePayload = 17;
inline constexpr uint16_t kAuthenticationFailed = 24;
inline constexpr uint16_t kSinglePairRequired = 34;
inline constexpr uint16_t kNoAdditionalSas = 35;
inline constexpr uint16_t kInternalAddressFailure = 36;
inline constexpr uint16_t kFailedCpRequired = 37;
inline constexpr uint16_t kTsUnacceptable = 38;
inline constexpr uint16_t kInvalidSelectors = 39;
inline constexpr uint16_t kTemporaryFailure = 43;
inline constexpr uint16_t kChildSaNotFound = 44;
// Status
inline constexpr uint16_t kInitialContact = 16384;
inline constexpr uint16_t kSetWindowSize = 16385;
inline constexpr uint16_t kAdditionalTsPossible = 16386;
inline constexpr uint16_t kIpcompSupported = 16387;
inline constexpr uint16_t kNatDetectionSourceIp = 16388;
inline constexpr uint16_t kNatDetectionDestinationIp = 16389;
inline constexpr uint16_t kCookie = 16390;
inline constexpr uint16_t kUseTransportMode = 16391;
inline constexpr uint16_t kRekeySa = 16393;
inline constexpr uint16_t kEspTfcPaddingNotSupported = 16394;
inline constexpr uint16_t kNonFirstFragmentsAlso = 16395;
inline constexpr uint16_t kMobikeSupported = 16396;
inline constexpr uint16_t kMultipleAuthSupported = 16404;
inline constexpr uint16_t kIkev2FragmentationSupported = 16430;
inline constexpr uint16_t kSignatureHashAlgorithms = 16431;
// Types below this are errors (§3.10.1).
inline constexpr uint16_t kFirstStatusType = 16384;
}  // namespace notify

struct NotifyPayload {
    uint8_t protocol = 0;        // 0 for notifications about the IKE SA, else ProtocolId
    std::vector<uint8_t> spi;    // 0 or 4 bytes (8 for the IKE SA in rare cases)
    uint16_t type = 0;
    std::vector<uint8_t> data;

    bool is_error() const { return type < notify::kFirstStatusType; }
    bool operator==(const NotifyPayload&) const = default;
};

// ---- Delete (§3.11) ----
struct DeletePayload {
    ProtocolId protocol = ProtocolId::Esp;
    // IKE: SPI size 0 and no SPIs. ESP/AH: 4-byte SPIs, big-endian on the wire.
    std::vector<uint32_t> spis;
    bool operator==(const DeletePayload&) const = default;
};

// ---- Vendor ID (§3.12) ----
struct VendorIdPayload {
    std::vector<uint8_t> data;
    bool operator==(const VendorIdPayload&) const = default;
};

// ---- TSi / TSr (§3.13) ----
enum class TsType : uint8_t { Ipv4AddressRange = 7, Ipv6AddressRange = 8 };
struct TrafficSelector {
    TsType type = TsType::Ipv4AddressRange;
    uint8_t ip_protocol = 0;     // 0: any
    uint16_t start_port = 0;
    uint16_t end_port = 65535;
    std::vector<uint8_t> start_address;  // 4 bytes (type 7) or 16 (type 8), network order
    std::vector<uint8_t> end_address;
    bool operator==(const TrafficSelector&) const = default;
};
struct TsPayload {
    std::vector<TrafficSelector> selectors;
    bool operator==(const TsPayload&) const = default;
};

// ---- Encrypted (§3.14) ----
struct EncryptedPayload {
    PayloadType first_inner = PayloadType::None;  // the generic header's Next Payload
    std::vector<uint8_t> body;                    // IV | encrypted (inner payloads, padding, pad length) | ICV
    bool operator==(const EncryptedPayload&) const = default;
};

// ---- Configuration (§3.15) ----
struct ConfigAttribute {
    uint16_t type = 0;  // the reserved bit is dropped
    std::vector<uint8_t> value;
    bool operator==(const ConfigAttribute&) const = default;
};
struct ConfigurationPayload {
    uint8_t cfg_type = 1;  // CFG_REQUEST 1, CFG_REPLY 2, CFG_SET 3, CFG_ACK 4
    std::vector<ConfigAttribute> attributes;
    bool operator==(const ConfigurationPayload&) const = default;
};

// A payload type we do not interpret (EAP, private use, unknown). `critical` is the
// generic header's C bit: the engine answers UNSUPPORTED_CRITICAL_PAYLOAD for it.
struct UnknownPayload {
    uint8_t type = 0;
    bool critical = false;
    std::vector<uint8_t> body;
    bool operator==(const UnknownPayload&) const = default;
};

// IDi and IDr (and TSi and TSr) share a format: the variant tells them apart.
struct IdInitiator : IdPayload {};
struct IdResponder : IdPayload {};
struct TsInitiator : TsPayload {};
struct TsResponder : TsPayload {};

using Payload = std::variant<SaPayload, KePayload, IdInitiator, IdResponder, CertPayload, CertReqPayload,
                             AuthPayload, NoncePayload, NotifyPayload, DeletePayload, VendorIdPayload,
                             TsInitiator, TsResponder, EncryptedPayload, ConfigurationPayload, UnknownPayload>;

PayloadType payload_type(const Payload& payload);  // UnknownPayload: its own type octet

struct Message {
    Header header;
    std::vector<Payload> payloads;  // in wire order; an Encrypted payload, when present, is last
};

// Why a message or payload chain was refused: a short reason that names the payload
// and the field ("Nonce: length 12 below 16"), for the counters' log line.
struct ParseError {
    std::string reason;
};

// The header alone (28 bytes): for demultiplexing by SPI before anything else is read.
// Checks only that 28 bytes are there; version and length are checked by parse_message.
std::optional<Header> parse_header(std::span<const uint8_t> datagram);

// A whole IKE message (the UDP payload, without the non-ESP marker). Checks: the header
// length field equals the datagram length and is within kMaxMessageLength; major
// version 2; every payload length >= 4 and within what remains; each payload's own
// format (fixed parts, inner lengths, counts) exactly, with no bytes left over; the
// chain ends at the message end; an Encrypted payload is the last. The reserved bits
// are ignored on receipt (§3.2).
std::variant<Message, ParseError> parse_message(std::span<const uint8_t> datagram);

// The payload chain inside a decrypted Encrypted payload, starting with `first`.
std::variant<std::vector<Payload>, ParseError> parse_payloads(PayloadType first, std::span<const uint8_t> bytes);

// The chain of payloads, each with its generic header, Next Payload fields linking
// them (the last one None; an Encrypted payload's own Next Payload is its
// first_inner). For the inside of an Encrypted payload.
std::vector<uint8_t> serialize_payloads(const std::vector<Payload>& payloads);
// Header (next_payload and length filled in from `payloads`) then the chain.
std::vector<uint8_t> serialize_message(const Header& header, const std::vector<Payload>& payloads);

// Convenience for exchange code: the first payload of a kind, or every one of them.
template <typename T>
const T* find_payload(const std::vector<Payload>& payloads) {
    for (const auto& p : payloads)
        if (const T* t = std::get_if<T>(&p)) return t;
    return nullptr;
}
const NotifyPayload* find_notify(const std::vector<Payload>& payloads, uint16_t type);

}  // namespace mbox::ike

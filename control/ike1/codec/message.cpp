// The ISAKMP codec (RFC 2408 §3, RFC 2407 §4, RFC 3947). Every length on the wire is
// checked against the bytes actually received before anything inside it is read; the
// parse of each payload consumes its body exactly, so a payload that leaves bytes over
// is as malformed as one that runs short.
#include "control/ike1/codec/message.hpp"

#include <algorithm>
#include <utility>

#include "control/codec/byte_io.hpp"

namespace mbox::ike1 {

namespace {

using codec::Reader;
using codec::Writer;

template <typename T>
using Parsed = std::variant<T, ParseError>;

ParseError error(std::string reason, uint16_t notify = notify::kPayloadMalformed) {
    return ParseError{std::move(reason), notify};
}
std::string str(size_t n) { return std::to_string(n); }

// Prefixes a nested refusal with where it happened, keeping its notification.
ParseError within(const std::string& where, ParseError e) { return error(where + e.reason, e.notify); }

// RFC 2408 §3.3: AF=1 is the basic (TV) form, the value in the length field.
constexpr uint16_t kAttributeFormatBit = 0x8000;
constexpr size_t kProposalFixedLength = 8;
constexpr size_t kTransformFixedLength = 8;
constexpr size_t kDoiAndSituationLength = 8;
constexpr size_t kNotificationFixedLength = 8;
constexpr size_t kDeleteFixedLength = 8;
constexpr size_t kCookiePairLength = 16;

std::string payload_name(uint8_t type) {
    switch (static_cast<PayloadType>(type)) {
    case PayloadType::SecurityAssociation: return "SA";
    case PayloadType::KeyExchange: return "KE";
    case PayloadType::Identification: return "ID";
    case PayloadType::Certificate: return "CERT";
    case PayloadType::CertificateRequest: return "CR";
    case PayloadType::Hash: return "HASH";
    case PayloadType::Signature: return "SIG";
    case PayloadType::Nonce: return "NONCE";
    case PayloadType::Notification: return "N";
    case PayloadType::Delete: return "D";
    case PayloadType::VendorId: return "VID";
    case PayloadType::NatDiscovery: return "NAT-D";
    case PayloadType::NatOriginalAddress: return "NAT-OA";
    default: return "payload type " + str(type);
    }
}

// §3.1: the types a chain may name. Proposal and Transform live inside SA only.
bool valid_chain_type(uint8_t type) {
    switch (static_cast<PayloadType>(type)) {
    case PayloadType::SecurityAssociation:
    case PayloadType::KeyExchange:
    case PayloadType::Identification:
    case PayloadType::Certificate:
    case PayloadType::CertificateRequest:
    case PayloadType::Hash:
    case PayloadType::Signature:
    case PayloadType::Nonce:
    case PayloadType::Notification:
    case PayloadType::Delete:
    case PayloadType::VendorId:
    case PayloadType::NatDiscovery:
    case PayloadType::NatOriginalAddress: return true;
    default: return type >= kFirstPrivatePayloadType;
    }
}

// The four octets that open every payload, proposal and transform: Next Payload,
// RESERVED, Payload Length. §5.3: a RESERVED other than zero makes the message one to
// discard (PAYLOAD-MALFORMED).
struct GenericHeader {
    uint8_t next = 0;
    std::span<const uint8_t> body;
};

Parsed<GenericHeader> next_generic_header(Reader& reader, size_t fixed_length) {
    if (reader.remaining() < fixed_length)
        return error(str(reader.remaining()) + " bytes left, below the " + str(fixed_length) + "-byte fixed part");
    GenericHeader header;
    header.next = reader.u8();
    uint8_t reserved = reader.u8();
    size_t length = reader.u16();
    if (reserved != 0) return error("RESERVED " + str(reserved) + ", not 0");
    if (length < fixed_length) return error("length " + str(length) + " below " + str(fixed_length));
    if (length - 4 > reader.remaining())
        return error("length " + str(length) + " beyond the " + str(reader.remaining() + 4) + " bytes left");
    header.body = reader.take(length - 4);
    return header;
}

// ---- SA (§3.4-3.6) ----

// Proposals and transforms chain like payloads, but only to their own kind: Next
// Payload is `more` (Proposal 2, Transform 3) before another one and 0 on the last,
// which must end the enclosing payload.
Parsed<std::span<const uint8_t>> next_substructure(Reader& reader, PayloadType more, size_t fixed_length) {
    auto header = next_generic_header(reader, fixed_length);
    if (auto* e = std::get_if<ParseError>(&header)) return *e;
    auto [next, body] = std::get<GenericHeader>(header);
    if (next != uint8_t(PayloadType::None) && next != uint8_t(more))
        return error("Next Payload " + str(next) + ", not 0 or " + str(uint8_t(more)));
    bool last = next == uint8_t(PayloadType::None);
    if (last && !reader.empty()) return error("marked last but " + str(reader.remaining()) + " bytes follow");
    if (!last && reader.empty()) return error("marked not last but nothing follows");
    return body;
}

// RFC 2409 Appendix A and RFC 2407 §4.5 (with RFC 3168's ECN Tunnel and RFC 4304's
// Extended Sequence Number): the attributes of the basic class, which may not take the
// variable form.
bool basic_class(ProtocolId protocol, uint16_t type) {
    if (protocol == ProtocolId::Isakmp) {
        switch (type) {
        case phase1::kEncryptionAlgorithm:
        case phase1::kHashAlgorithm:
        case phase1::kAuthenticationMethod:
        case phase1::kGroupDescription:
        case phase1::kGroupType:
        case phase1::kLifeType:
        case phase1::kPrf:
        case phase1::kKeyLength:
        case phase1::kFieldSize: return true;
        default: return false;
        }
    }
    switch (type) {
    case ipsec::kSaLifeType:
    case ipsec::kGroupDescription:
    case ipsec::kEncapsulationMode:
    case ipsec::kAuthenticationAlgorithm:
    case ipsec::kKeyLength:
    case ipsec::kKeyRounds:
    case 8:   // Compress Dictionary Size
    case 10:  // ECN Tunnel
    case 11:  // Extended (64-bit) Sequence Number
        return true;
    default: return false;
    }
}

Parsed<std::vector<Attribute>> parse_attributes(Reader& reader, ProtocolId protocol) {
    std::vector<Attribute> attributes;
    while (!reader.empty()) {
        std::string where = "attribute " + str(attributes.size() + 1) + ": ";
        if (attributes.size() == kMaxAttributes) return error("more than " + str(kMaxAttributes) + " attributes");
        if (reader.remaining() < 4) return error(where + "truncated: " + str(reader.remaining()) + " bytes");
        uint16_t format_and_type = reader.u16();
        uint16_t length_or_value = reader.u16();
        Attribute attribute;
        attribute.type = format_and_type & ~kAttributeFormatBit;
        if ((format_and_type & kAttributeFormatBit) != 0) {
            attribute.value = length_or_value;
        } else {
            if (length_or_value > reader.remaining())
                return error(where + "type " + str(attribute.type) + " length " + str(length_or_value) +
                             " beyond the " + str(reader.remaining()) + " bytes left");
            if (basic_class(protocol, attribute.type))
                return error(where + "type " + str(attribute.type) + " is basic but in the variable form",
                             notify::kBadProposalSyntax);
            attribute.value = reader.bytes(length_or_value);
        }
        attributes.push_back(std::move(attribute));
    }
    return attributes;
}

Parsed<Transform> parse_transform(std::span<const uint8_t> body, ProtocolId protocol) {
    Reader reader(body);
    Transform transform;
    transform.number = reader.u8();
    transform.id = reader.u8();
    reader.skip(2);  // RESERVED2
    auto attributes = parse_attributes(reader, protocol);
    if (auto* e = std::get_if<ParseError>(&attributes)) return *e;
    transform.attributes = std::get<std::vector<Attribute>>(std::move(attributes));
    return transform;
}

// RFC 2408 §2.4 and §3.5, RFC 2407 §4.4.1: the SPI sizes each protocol has. ISAKMP's
// SPI is the cookie pair in the header, so its proposal carries none or a copy.
bool valid_proposal_spi_size(ProtocolId protocol, size_t size) {
    switch (protocol) {
    case ProtocolId::Isakmp: return size == 0 || size == kCookiePairLength;
    case ProtocolId::Ah:
    case ProtocolId::Esp: return size == 4;
    case ProtocolId::Ipcomp: return size == 2 || size == 4;  // RFC 3173 §4.1: the CPI
    }
    return false;
}

bool valid_protocol(uint8_t protocol) {
    return protocol >= uint8_t(ProtocolId::Isakmp) && protocol <= uint8_t(ProtocolId::Ipcomp);
}

Parsed<Proposal> parse_proposal(std::span<const uint8_t> body) {
    Reader reader(body);
    Proposal proposal;
    proposal.number = reader.u8();
    uint8_t protocol = reader.u8();
    size_t spi_size = reader.u8();
    size_t transform_count = reader.u8();
    if (!valid_protocol(protocol)) return error("protocol " + str(protocol), notify::kInvalidProtocolId);
    proposal.protocol = static_cast<ProtocolId>(protocol);
    if (!valid_proposal_spi_size(proposal.protocol, spi_size))
        return error("SPI size " + str(spi_size) + " for protocol " + str(protocol), notify::kInvalidSpi);
    if (spi_size > reader.remaining())
        return error("SPI size " + str(spi_size) + " beyond the " + str(reader.remaining()) + " bytes left");
    proposal.spi = reader.bytes(spi_size);
    while (!reader.empty()) {
        std::string where = "transform " + str(proposal.transforms.size() + 1) + ": ";
        auto sub = next_substructure(reader, PayloadType::Transform, kTransformFixedLength);
        if (auto* e = std::get_if<ParseError>(&sub)) return within(where, *e);
        auto transform = parse_transform(std::get<std::span<const uint8_t>>(sub), proposal.protocol);
        if (auto* e = std::get_if<ParseError>(&transform)) return within(where, *e);
        proposal.transforms.push_back(std::get<Transform>(std::move(transform)));
    }
    if (proposal.transforms.size() != transform_count)
        return error("transform count " + str(transform_count) + " but " + str(proposal.transforms.size()) +
                     " transforms");
    return proposal;
}

Parsed<SaPayload> parse_sa(std::span<const uint8_t> body) {
    if (body.size() < kDoiAndSituationLength)
        return error("body " + str(body.size()) + " bytes, below DOI and situation");
    Reader reader(body);
    uint32_t doi = reader.u32();
    uint32_t situation = reader.u32();
    if (doi != kDoiIpsec) return error("DOI " + str(doi), notify::kDoiNotSupported);
    // RFC 2407 §4.2: SIT_SECRECY and SIT_INTEGRITY add labelled-domain fields nobody sends.
    if (situation != kSituationIdentityOnly) return error("situation " + str(situation), notify::kSituationNotSupported);
    if (reader.empty()) return error("no proposal");
    SaPayload sa;
    while (!reader.empty()) {
        std::string where = "proposal " + str(sa.proposals.size() + 1) + ": ";
        if (sa.proposals.size() == kMaxProposals) return error("more than " + str(kMaxProposals) + " proposals");
        auto sub = next_substructure(reader, PayloadType::Proposal, kProposalFixedLength);
        if (auto* e = std::get_if<ParseError>(&sub)) return within(where, *e);
        auto proposal = parse_proposal(std::get<std::span<const uint8_t>>(sub));
        if (auto* e = std::get_if<ParseError>(&proposal)) return within(where, *e);
        // §4.2: "the proposal numbers MUST be monotonically increasing"; equal numbers
        // join two protocols into one offer.
        auto& p = std::get<Proposal>(proposal);
        if (!sa.proposals.empty() && p.number < sa.proposals.back().number)
            return error(where + "number " + str(p.number) + " after " + str(sa.proposals.back().number),
                         notify::kBadProposalSyntax);
        sa.proposals.push_back(std::move(p));
    }
    return sa;
}

// ---- the other payloads (§3.7-3.16, RFC 3947) ----

// RFC 2407 §4.6.2.2-4.6.2.12: the identification data's length where the type fixes it.
std::optional<size_t> id_data_length(IdType type) {
    switch (type) {
    case IdType::Ipv4Address: return 4;
    case IdType::Ipv4Subnet:
    case IdType::Ipv4Range: return 8;
    case IdType::Ipv6Address: return 16;
    case IdType::Ipv6Subnet:
    case IdType::Ipv6Range: return 32;
    default: return std::nullopt;
    }
}

Parsed<IdPayload> parse_id(std::span<const uint8_t> body) {
    if (body.size() < 4) return error("body " + str(body.size()) + " bytes, below the 4-byte fixed part");
    Reader reader(body);
    IdPayload id;
    id.type = static_cast<IdType>(reader.u8());
    id.protocol = reader.u8();
    id.port = reader.u16();
    id.data = reader.rest();
    auto expected = id_data_length(id.type);
    if (expected && id.data.size() != *expected)
        return error("type " + str(uint8_t(id.type)) + " with " + str(id.data.size()) + " bytes of data, not " +
                         str(*expected),
                     notify::kInvalidIdInformation);
    if (id.data.empty()) return error("type " + str(uint8_t(id.type)) + " with no data", notify::kInvalidIdInformation);
    return id;
}

// CERT (§3.9) and CR (§3.10): one octet (the encoding, or the type asked for), then the
// certificate or the authority's name.
template <typename T>
Parsed<Payload> octet_then_rest(std::span<const uint8_t> body, const char* octet) {
    if (body.empty()) return error(std::string("no ") + octet + " octet");
    return Payload{T{body[0], {body.begin() + 1, body.end()}}};
}

Parsed<NoncePayload> parse_nonce(std::span<const uint8_t> body) {
    if (body.size() < kMinNonceLength) return error("length " + str(body.size()) + " below " + str(kMinNonceLength));
    if (body.size() > kMaxNonceLength) return error("length " + str(body.size()) + " above " + str(kMaxNonceLength));
    return NoncePayload{{body.begin(), body.end()}};
}

// §3.14 and §3.15 open with the DOI: 0 for ISAKMP, 1 for the IPsec DOI.
std::optional<ParseError> check_doi(uint32_t doi) {
    if (doi != kDoiIsakmp && doi != kDoiIpsec) return error("DOI " + str(doi), notify::kDoiNotSupported);
    return std::nullopt;
}

// §3.14: DOI, Protocol-ID, SPI Size, Notify Message Type, SPI, data. "In the case of
// ISAKMP ... the SPI Size is irrelevant and MAY be from zero (0) to sixteen (16)."
Parsed<NotificationPayload> parse_notification(std::span<const uint8_t> body) {
    if (body.size() < kNotificationFixedLength)
        return error("body " + str(body.size()) + " bytes, below the 8-byte fixed part");
    Reader reader(body);
    if (auto e = check_doi(reader.u32())) return *e;
    NotificationPayload n;
    n.protocol = reader.u8();
    size_t spi_size = reader.u8();
    n.type = reader.u16();
    if (spi_size > kCookiePairLength) return error("SPI size " + str(spi_size), notify::kInvalidSpi);
    if (spi_size > reader.remaining())
        return error("SPI size " + str(spi_size) + " beyond the " + str(reader.remaining()) + " bytes left");
    n.spi = reader.bytes(spi_size);
    n.data = reader.rest();
    return n;
}

// §3.15: DOI, Protocol-Id, SPI Size, # of SPIs, then the SPIs filling the rest exactly.
Parsed<DeletePayload> parse_delete(std::span<const uint8_t> body) {
    if (body.size() < kDeleteFixedLength) return error("body " + str(body.size()) + " bytes, below the 8-byte fixed part");
    Reader reader(body);
    if (auto e = check_doi(reader.u32())) return *e;
    uint8_t protocol = reader.u8();
    size_t spi_size = reader.u8();
    size_t count = reader.u16();
    if (!valid_protocol(protocol)) return error("protocol " + str(protocol), notify::kInvalidProtocolId);
    DeletePayload del;
    del.protocol = static_cast<ProtocolId>(protocol);
    if (spi_size != delete_spi_size(del.protocol))
        return error("SPI size " + str(spi_size) + " for protocol " + str(protocol), notify::kInvalidSpi);
    if (count == 0) return error("no SPI");
    if (count * spi_size != reader.remaining())
        return error(str(count) + " SPIs of " + str(spi_size) + " bytes in " + str(reader.remaining()) + " bytes");
    for (size_t i = 0; i < count; ++i) del.spis.push_back(reader.bytes(spi_size));
    return del;
}

// RFC 3947 §5.2: ID Type (ID_IPV4_ADDR or ID_IPV6_ADDR), three octets RESERVED, the
// address.
Parsed<NatOriginalAddressPayload> parse_nat_oa(std::span<const uint8_t> body) {
    if (body.size() < 4) return error("body " + str(body.size()) + " bytes, below the 4-byte fixed part");
    Reader reader(body);
    NatOriginalAddressPayload oa;
    oa.type = static_cast<IdType>(reader.u8());
    reader.skip(3);
    oa.address = reader.rest();
    size_t expected = oa.type == IdType::Ipv4Address ? 4 : oa.type == IdType::Ipv6Address ? 16 : 0;
    if (expected == 0) return error("ID type " + str(uint8_t(oa.type)) + ", not an address");
    if (oa.address.size() != expected)
        return error(str(oa.address.size()) + " address bytes for ID type " + str(uint8_t(oa.type)));
    return oa;
}

template <typename T>
Parsed<Payload> as_payload(Parsed<T> parsed) {
    if (auto* e = std::get_if<ParseError>(&parsed)) return std::move(*e);
    return Payload{std::get<T>(std::move(parsed))};
}

// KE, HASH, SIG and NAT-D, which may not be empty, and VID.
template <typename T>
Parsed<Payload> opaque(std::span<const uint8_t> body, bool may_be_empty = false) {
    if (body.empty() && !may_be_empty) return error("no data");
    return Payload{T{{body.begin(), body.end()}}};
}

Parsed<Payload> parse_body(uint8_t type, std::span<const uint8_t> body) {
    switch (static_cast<PayloadType>(type)) {
    case PayloadType::SecurityAssociation: return as_payload(parse_sa(body));
    case PayloadType::KeyExchange: return opaque<KePayload>(body);
    case PayloadType::Identification: return as_payload(parse_id(body));
    case PayloadType::Certificate: return octet_then_rest<CertPayload>(body, "encoding");
    case PayloadType::CertificateRequest: return octet_then_rest<CertRequestPayload>(body, "type");
    case PayloadType::Hash: return opaque<HashPayload>(body);
    case PayloadType::Signature: return opaque<SignaturePayload>(body);
    case PayloadType::Nonce: return as_payload(parse_nonce(body));
    case PayloadType::Notification: return as_payload(parse_notification(body));
    case PayloadType::Delete: return as_payload(parse_delete(body));
    case PayloadType::VendorId: return opaque<VendorIdPayload>(body, true);
    case PayloadType::NatDiscovery: return opaque<NatDiscoveryPayload>(body);
    case PayloadType::NatOriginalAddress: return as_payload(parse_nat_oa(body));
    default: return Payload{PrivatePayload{type, {body.begin(), body.end()}}};  // valid_chain_type said so
    }
}

// Walks the chain in `bytes` from offset `start` and type `first` until a Next Payload
// of None. §5.3 step 1: a Next Payload that names no payload type discards the message
// (INVALID-PAYLOAD-TYPE); it is checked before the payload it names is read.
Parsed<Chain> parse_chain(uint8_t first, std::span<const uint8_t> bytes, size_t start, bool padding_may_follow) {
    Chain chain;
    Reader reader(bytes);
    reader.skip(start);
    for (uint8_t type = first; type != uint8_t(PayloadType::None);) {
        std::string where = payload_name(type) + ": ";
        if (!valid_chain_type(type)) return error(where + "not a payload type here", notify::kInvalidPayloadType);
        if (chain.payloads.size() == kMaxPayloads) return error("more than " + str(kMaxPayloads) + " payloads");
        size_t offset = reader.position();
        auto header = next_generic_header(reader, kGenericPayloadHeaderLength);
        if (auto* e = std::get_if<ParseError>(&header)) return within(where, *e);
        auto [next, body] = std::get<GenericHeader>(header);
        auto payload = parse_body(type, body);
        if (auto* e = std::get_if<ParseError>(&payload)) return within(where, *e);
        chain.payloads.push_back(std::get<Payload>(std::move(payload)));
        chain.extents.push_back({offset, reader.position() - offset});
        type = next;
    }
    chain.end = reader.position();
    if (!padding_may_follow && !reader.empty())
        return error(str(reader.remaining()) + " bytes after the last payload");
    return chain;
}

// ---- serialization ----

void put_attribute(Writer& w, const Attribute& a) {
    if (const auto* value = std::get_if<uint16_t>(&a.value)) {
        w.u16(kAttributeFormatBit | a.type);
        w.u16(*value);
    } else {
        const auto& bytes = std::get<std::vector<uint8_t>>(a.value);
        w.u16(a.type & ~kAttributeFormatBit);
        w.u16(static_cast<uint16_t>(bytes.size()));
        w.bytes(bytes);
    }
}

void put_transform(Writer& w, const Transform& t, bool last) {
    w.framed(uint8_t(last ? PayloadType::None : PayloadType::Transform), 0, [&] {
        w.u8(t.number);
        w.u8(t.id);
        w.u16(0);
        for (const auto& a : t.attributes) put_attribute(w, a);
    });
}

void put_proposal(Writer& w, const Proposal& p, bool last) {
    w.framed(uint8_t(last ? PayloadType::None : PayloadType::Proposal), 0, [&] {
        w.u8(p.number);
        w.u8(static_cast<uint8_t>(p.protocol));
        w.u8(static_cast<uint8_t>(p.spi.size()));
        w.u8(static_cast<uint8_t>(p.transforms.size()));
        w.bytes(p.spi);
        for (size_t i = 0; i < p.transforms.size(); ++i)
            put_transform(w, p.transforms[i], i + 1 == p.transforms.size());
    });
}

void put_body(Writer& w, const SaPayload& sa) {
    w.u32(kDoiIpsec);
    w.u32(kSituationIdentityOnly);
    for (size_t i = 0; i < sa.proposals.size(); ++i) put_proposal(w, sa.proposals[i], i + 1 == sa.proposals.size());
}
template <PayloadType kType>
void put_body(Writer& w, const OpaquePayload<kType>& p) {
    w.bytes(p.data);
}
void put_body(Writer& w, const IdPayload& id) {
    w.u8(static_cast<uint8_t>(id.type));
    w.u8(id.protocol);
    w.u16(id.port);
    w.bytes(id.data);
}
void put_body(Writer& w, const CertPayload& cert) {
    w.u8(cert.encoding);
    w.bytes(cert.data);
}
void put_body(Writer& w, const CertRequestPayload& request) {
    w.u8(request.type);
    w.bytes(request.authority);
}
void put_body(Writer& w, const NotificationPayload& n) {
    w.u32(kDoiIpsec);
    w.u8(n.protocol);
    w.u8(static_cast<uint8_t>(n.spi.size()));
    w.u16(n.type);
    w.bytes(n.spi);
    w.bytes(n.data);
}
void put_body(Writer& w, const DeletePayload& d) {
    w.u32(kDoiIpsec);
    w.u8(static_cast<uint8_t>(d.protocol));
    w.u8(static_cast<uint8_t>(delete_spi_size(d.protocol)));
    w.u16(static_cast<uint16_t>(d.spis.size()));
    for (const auto& spi : d.spis) w.bytes(spi);
}
void put_body(Writer& w, const NatOriginalAddressPayload& oa) {
    w.u8(static_cast<uint8_t>(oa.type));
    w.zeros(3);
    w.bytes(oa.address);
}
void put_body(Writer& w, const PrivatePayload& p) { w.bytes(p.body); }

void put_chain(Writer& w, const std::vector<Payload>& payloads) {
    for (size_t i = 0; i < payloads.size(); ++i) {
        auto next = i + 1 < payloads.size() ? payload_type(payloads[i + 1]) : PayloadType::None;
        w.framed(static_cast<uint8_t>(next), 0,
                 [&] { std::visit([&](const auto& body) { put_body(w, body); }, payloads[i]); });
    }
}

// §3.1: Initiator Cookie, Responder Cookie, Next Payload, MjVer|MnVer, Exchange Type,
// Flags, Message ID, Length (patched by the caller).
void put_header(Writer& w, const Header& header, PayloadType next, uint8_t flags) {
    w.u64(header.cookie_i);
    w.u64(header.cookie_r);
    w.u8(static_cast<uint8_t>(next));
    w.u8(static_cast<uint8_t>(header.major_version << 4 | (header.minor_version & 0x0f)));
    w.u8(static_cast<uint8_t>(header.exchange));
    w.u8(flags);
    w.u32(header.message_id);
    w.u32(0);
}
constexpr size_t kLengthOffset = 24;

// payload_type(): the type a payload is written with.
struct TypeOf {
    template <PayloadType kType>
    PayloadType operator()(const OpaquePayload<kType>&) const { return kType; }
    PayloadType operator()(const SaPayload&) const { return PayloadType::SecurityAssociation; }
    PayloadType operator()(const IdPayload&) const { return PayloadType::Identification; }
    PayloadType operator()(const CertPayload&) const { return PayloadType::Certificate; }
    PayloadType operator()(const CertRequestPayload&) const { return PayloadType::CertificateRequest; }
    PayloadType operator()(const NotificationPayload&) const { return PayloadType::Notification; }
    PayloadType operator()(const DeletePayload&) const { return PayloadType::Delete; }
    PayloadType operator()(const NatOriginalAddressPayload&) const { return PayloadType::NatOriginalAddress; }
    PayloadType operator()(const PrivatePayload& p) const { return static_cast<PayloadType>(p.type); }
};

}  // namespace

std::optional<uint64_t> Attribute::number() const {
    if (const auto* v = std::get_if<uint16_t>(&value)) return *v;
    const auto& bytes = std::get<std::vector<uint8_t>>(value);
    if (bytes.empty() || bytes.size() > 8) return std::nullopt;
    uint64_t n = 0;
    for (uint8_t b : bytes) n = n << 8 | b;
    return n;
}

Attribute basic_attribute(uint16_t type, uint16_t value) { return Attribute{type, value}; }

Attribute variable_attribute(uint16_t type, std::vector<uint8_t> value) { return Attribute{type, std::move(value)}; }

Attribute number_attribute(uint16_t type, uint32_t value) {
    if (value <= 0xffff) return basic_attribute(type, static_cast<uint16_t>(value));
    return variable_attribute(type, {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
                                     static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)});
}

const Attribute* Transform::find(uint16_t type) const {
    for (const auto& a : attributes)
        if (a.type == type) return &a;
    return nullptr;
}

size_t delete_spi_size(ProtocolId protocol) {
    switch (protocol) {
    case ProtocolId::Isakmp: return kCookiePairLength;
    case ProtocolId::Ah:
    case ProtocolId::Esp: return 4;
    case ProtocolId::Ipcomp: return 2;
    }
    return 0;
}

PayloadType payload_type(const Payload& payload) { return std::visit(TypeOf{}, payload); }

std::optional<Header> parse_header(std::span<const uint8_t> datagram) {
    if (datagram.size() < kHeaderLength) return std::nullopt;
    Reader reader(datagram.first(kHeaderLength));
    Header header;
    header.cookie_i = reader.u64();
    header.cookie_r = reader.u64();
    header.next_payload = static_cast<PayloadType>(reader.u8());
    uint8_t version = reader.u8();
    header.major_version = version >> 4;
    header.minor_version = version & 0x0f;
    header.exchange = static_cast<ExchangeType>(reader.u8());
    header.flags = reader.u8();
    header.message_id = reader.u32();
    header.length = reader.u32();
    return header;
}

std::variant<Message, ParseError> parse_message(std::span<const uint8_t> datagram) {
    auto header = parse_header(datagram);
    if (!header) return error("header: " + str(datagram.size()) + " bytes, below 28");
    // §5.2 steps 3-5: version, then flags. An IKEv2 message (major 2) is told apart here.
    if (header->major_version != 1)
        return error("header: major version " + str(header->major_version) + ", not 1", notify::kInvalidMajorVersion);
    if (header->minor_version != 0)
        return error("header: minor version " + str(header->minor_version) + ", not 0", notify::kInvalidMinorVersion);
    if ((header->flags & ~header_flags::kDefined) != 0)
        return error("header: flags " + str(header->flags) + " beyond E, C and A", notify::kInvalidFlags);
    if (datagram.size() > kMaxMessageLength)
        return error("header: length " + str(datagram.size()) + " above " + str(kMaxMessageLength));
    // The length includes an encrypted message's padding (RFC 2409 Appendix B).
    if (header->length != datagram.size())
        return error("header: length " + str(header->length) + " but the datagram has " + str(datagram.size()) +
                         " bytes",
                     notify::kUnequalPayloadLengths);
    Message message{*header, {}, {}};
    if (header->encrypted()) {
        if (datagram.size() == kHeaderLength) return error("header: E flag set but no ciphertext follows");
        auto body = datagram.subspan(kHeaderLength);
        message.encrypted.assign(body.begin(), body.end());
        return message;
    }
    auto chain = parse_chain(static_cast<uint8_t>(header->next_payload), datagram, kHeaderLength, false);
    if (auto* e = std::get_if<ParseError>(&chain)) return std::move(*e);
    message.chain = std::get<Chain>(std::move(chain));
    return message;
}

std::variant<Chain, ParseError> parse_payloads(PayloadType first, std::span<const uint8_t> bytes) {
    return parse_chain(static_cast<uint8_t>(first), bytes, 0, true);
}

std::span<const uint8_t> bytes_after(std::span<const uint8_t> bytes, const Chain& chain, size_t index) {
    if (index >= chain.extents.size() || chain.end > bytes.size()) return {};
    size_t from = chain.extents[index].offset + chain.extents[index].length;
    return bytes.subspan(from, chain.end - from);
}

std::span<const uint8_t> body_of(std::span<const uint8_t> bytes, const Chain& chain, size_t index) {
    if (index >= chain.extents.size()) return {};
    const Extent& e = chain.extents[index];
    if (e.offset + e.length > bytes.size()) return {};
    return bytes.subspan(e.offset + kGenericPayloadHeaderLength, e.length - kGenericPayloadHeaderLength);
}

std::vector<uint8_t> serialize_attributes(const std::vector<Attribute>& attributes) {
    Writer w;
    for (const Attribute& a : attributes) put_attribute(w, a);
    return w.release();
}

std::variant<std::vector<Attribute>, ParseError> parse_ipsec_attributes(std::span<const uint8_t> bytes) {
    Reader reader(bytes);
    return parse_attributes(reader, ProtocolId::Esp);
}

std::vector<uint8_t> serialize_payloads(const std::vector<Payload>& payloads) {
    Writer w;
    put_chain(w, payloads);
    return w.release();
}

std::vector<uint8_t> serialize_body(const Payload& payload) {
    auto bytes = serialize_payloads({payload});
    bytes.erase(bytes.begin(), bytes.begin() + kGenericPayloadHeaderLength);
    return bytes;
}

std::vector<uint8_t> serialize_message(const Header& header, const std::vector<Payload>& payloads) {
    Writer w;
    auto first = payloads.empty() ? PayloadType::None : payload_type(payloads.front());
    put_header(w, header, first, header.flags & ~header_flags::kEncryption);
    put_chain(w, payloads);
    w.patch_length32(kLengthOffset);
    return w.release();
}

std::vector<uint8_t> serialize_encrypted(const Header& header, std::span<const uint8_t> ciphertext) {
    Writer w;
    put_header(w, header, header.next_payload, header.flags | header_flags::kEncryption);
    w.bytes(ciphertext);
    w.patch_length32(kLengthOffset);
    return w.release();
}

bool has_vendor_id(const std::vector<Payload>& payloads, std::span<const uint8_t> id) {
    return std::any_of(payloads.begin(), payloads.end(), [&](const Payload& p) {
        const auto* vid = std::get_if<VendorIdPayload>(&p);
        return vid != nullptr && std::equal(vid->data.begin(), vid->data.end(), id.begin(), id.end());
    });
}

const NotificationPayload* find_notification(const std::vector<Payload>& payloads, uint16_t type) {
    for (const auto& p : payloads)
        if (const auto* n = std::get_if<NotificationPayload>(&p); n && n->type == type) return n;
    return nullptr;
}

}  // namespace mbox::ike1

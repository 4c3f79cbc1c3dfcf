// The IKEv2 codec (RFC 7296 §3). Every length on the wire is checked against the bytes
// actually received before anything inside it is read; the parse of each payload
// consumes its body exactly, so a payload that leaves bytes over is as malformed as one
// that runs short.
#include "control/ike/codec/message.hpp"

#include <cstdlib>
#include <string_view>
#include <type_traits>
#include <utility>

#include "control/codec/byte_io.hpp"

namespace mbox::ike {

namespace {

template <typename T>
using Parsed = std::variant<T, ParseError>;

ParseError error(std::string reason) { return ParseError{std::move(reason)}; }
std::string str(size_t n) { return std::to_string(n); }

// §3.2: the generic payload header's C bit.
constexpr uint8_t kCriticalBit = 0x80;
// §3.3.5: AF=1 is the TV form (value in the length field), AF=0 the TLV form.
constexpr uint16_t kAttributeFormatBit = 0x8000;
// §3.15.1: the R bit above the Configuration attribute type.
constexpr uint16_t kConfigAttributeTypeMask = 0x7fff;
// §3.3.1 / §3.3.2: the "Last Substruc" values.
constexpr uint8_t kLastSubstructure = 0;
constexpr uint8_t kMoreProposals = 2;
constexpr uint8_t kMoreTransforms = 3;
constexpr size_t kProposalFixedLength = 8;
constexpr size_t kTransformFixedLength = 8;
constexpr size_t kSelectorFixedLength = 8;
// §3.9: "Nonce Data ... MUST be between 16 and 256 octets, inclusive".
constexpr size_t kMinNonceLength = 16;
constexpr size_t kMaxNonceLength = 256;

using codec::Reader;
using codec::Writer;

// Names for the reasons in ParseError ("Nonce: length 12 below 16").
std::string payload_name(uint8_t type) {
    switch (static_cast<PayloadType>(type)) {
    case PayloadType::SecurityAssociation: return "SA";
    case PayloadType::KeyExchange: return "KE";
    case PayloadType::IdInitiator: return "IDi";
    case PayloadType::IdResponder: return "IDr";
    case PayloadType::Certificate: return "CERT";
    case PayloadType::CertificateRequest: return "CERTREQ";
    case PayloadType::Authentication: return "AUTH";
    case PayloadType::Nonce: return "Nonce";
    case PayloadType::Notify: return "Notify";
    case PayloadType::Delete: return "Delete";
    case PayloadType::VendorId: return "Vendor ID";
    case PayloadType::TsInitiator: return "TSi";
    case PayloadType::TsResponder: return "TSr";
    case PayloadType::Encrypted: return "SK";
    case PayloadType::Configuration: return "CP";
    default: return "payload type " + str(type);
    }
}

// ---- SA (§3.3) ----

// Proposals (§3.3.1) and transforms (§3.3.2) open with the same four octets: Last
// Substruc (0 for the last one, `more` otherwise), reserved, and the length of the whole
// substructure. Returns that substructure, its length checked against what is left and
// its Last Substruc against whether anything follows it.
struct Substructure {
    std::span<const uint8_t> bytes;  // including the 4-octet opening
    bool last = false;
};

Parsed<Substructure> next_substructure(Reader& reader, uint8_t more, size_t fixed_length) {
    if (reader.remaining() < fixed_length)
        return error(str(reader.remaining()) + " bytes left, below the " + str(fixed_length) + "-byte fixed part");
    auto head = reader.take(4);
    uint8_t last_substruc = head[0];
    size_t length = static_cast<size_t>(head[2] << 8 | head[3]);
    if (length < fixed_length) return error("length " + str(length) + " below " + str(fixed_length));
    if (length - 4 > reader.remaining())
        return error("length " + str(length) + " beyond the " + str(reader.remaining() + 4) + " bytes left");
    if (last_substruc != kLastSubstructure && last_substruc != more)
        return error("Last Substruc " + str(last_substruc) + ", not 0 or " + str(more));
    auto rest = reader.take(length - 4);
    bool last = last_substruc == kLastSubstructure;
    if (last && !reader.empty()) return error("marked last but " + str(reader.remaining()) + " bytes follow");
    if (!last && reader.empty()) return error("marked not last but nothing follows");
    return Substructure{{head.data(), length}, last};
}

// §3.3.5: Key Length (14) is the one attribute defined, and only in TV form; any other
// attribute makes the transform one we must not select (§3.3.6), which the exchange
// code learns from has_unknown_attributes.
std::optional<ParseError> parse_attributes(Reader& reader, Transform& transform) {
    while (!reader.empty()) {
        if (reader.remaining() < 4) return error("attribute truncated: " + str(reader.remaining()) + " bytes");
        uint16_t format_and_type = reader.u16();
        uint16_t length_or_value = reader.u16();
        uint16_t type = format_and_type & ~kAttributeFormatBit;
        bool tv = (format_and_type & kAttributeFormatBit) != 0;
        if (!tv) {
            if (length_or_value > reader.remaining())
                return error("attribute " + str(type) + " length " + str(length_or_value) + " beyond the " +
                             str(reader.remaining()) + " bytes left");
            reader.skip(length_or_value);
            if (type == kKeyLengthAttribute) return error("Key Length attribute in TLV form");
            transform.has_unknown_attributes = true;
        } else if (type == kKeyLengthAttribute) {
            if (transform.key_length) return error("Key Length attribute twice");
            transform.key_length = length_or_value;
        } else {
            transform.has_unknown_attributes = true;
        }
    }
    return std::nullopt;
}

Parsed<Transform> parse_transform(std::span<const uint8_t> bytes) {
    Reader reader(bytes);
    reader.skip(4);  // Last Substruc, reserved, length: checked by next_substructure
    Transform transform;
    transform.type = static_cast<TransformType>(reader.u8());
    reader.skip(1);
    transform.id = reader.u16();
    if (auto e = parse_attributes(reader, transform)) return *e;
    return transform;
}

// §3.3.1: "SPI Size ... For an initial IKE SA negotiation, this field MUST be zero ...
// During subsequent negotiations, it is equal to the size, in octets, of the SPI of the
// corresponding protocol (8 for IKE, 4 for ESP and AH)."
bool valid_proposal_spi_size(ProtocolId protocol, size_t size) {
    return protocol == ProtocolId::Ike ? (size == 0 || size == 8) : size == 4;
}

bool valid_protocol(uint8_t protocol) {
    return protocol == uint8_t(ProtocolId::Ike) || protocol == uint8_t(ProtocolId::Ah) ||
           protocol == uint8_t(ProtocolId::Esp);
}

Parsed<Proposal> parse_proposal(std::span<const uint8_t> bytes) {
    Reader reader(bytes);
    reader.skip(4);  // checked by next_substructure
    Proposal proposal;
    proposal.number = reader.u8();
    uint8_t protocol = reader.u8();
    size_t spi_size = reader.u8();
    size_t transform_count = reader.u8();
    if (!valid_protocol(protocol)) return error("protocol " + str(protocol));
    proposal.protocol = static_cast<ProtocolId>(protocol);
    if (!valid_proposal_spi_size(proposal.protocol, spi_size))
        return error("SPI size " + str(spi_size) + " for protocol " + str(protocol));
    if (spi_size > reader.remaining())
        return error("SPI size " + str(spi_size) + " beyond the " + str(reader.remaining()) + " bytes left");
    proposal.spi = reader.bytes(spi_size);
    while (!reader.empty()) {
        std::string where = "transform " + str(proposal.transforms.size() + 1) + ": ";
        auto sub = next_substructure(reader, kMoreTransforms, kTransformFixedLength);
        if (auto* e = std::get_if<ParseError>(&sub)) return error(where + e->reason);
        auto transform = parse_transform(std::get<Substructure>(sub).bytes);
        if (auto* e = std::get_if<ParseError>(&transform)) return error(where + e->reason);
        proposal.transforms.push_back(std::get<Transform>(std::move(transform)));
    }
    if (proposal.transforms.size() != transform_count)
        return error("transform count " + str(transform_count) + " but " + str(proposal.transforms.size()) +
                     " transforms");
    return proposal;
}

Parsed<SaPayload> parse_sa(std::span<const uint8_t> body) {
    Reader reader(body);
    SaPayload sa;
    if (reader.empty()) return error("no proposal");
    while (!reader.empty()) {
        std::string where = "proposal " + str(sa.proposals.size() + 1) + ": ";
        auto sub = next_substructure(reader, kMoreProposals, kProposalFixedLength);
        if (auto* e = std::get_if<ParseError>(&sub)) return error(where + e->reason);
        auto proposal = parse_proposal(std::get<Substructure>(sub).bytes);
        if (auto* e = std::get_if<ParseError>(&proposal)) return error(where + e->reason);
        // §3.3.1: each proposal's number is one more than the previous one's. (The
        // first is 1 in a request; a reply repeats the number of the one it chose.)
        auto& p = std::get<Proposal>(proposal);
        uint8_t expected = sa.proposals.empty() ? p.number : uint8_t(sa.proposals.back().number + 1);
        if (p.number == 0 || p.number != expected) return error(where + "number " + str(p.number));
        sa.proposals.push_back(std::move(p));
    }
    return sa;
}

// ---- the payloads with a small fixed part (§3.4 - §3.12) ----

Parsed<KePayload> parse_ke(std::span<const uint8_t> body) {
    if (body.size() < 4) return error("body " + str(body.size()) + " bytes, below the 4-byte fixed part");
    Reader reader(body);
    KePayload ke;
    ke.group = reader.u16();
    reader.skip(2);
    ke.data = reader.rest();
    return ke;
}

template <typename Id>
Parsed<Id> parse_id(std::span<const uint8_t> body) {
    if (body.size() < 4) return error("body " + str(body.size()) + " bytes, below the 4-byte fixed part");
    Reader reader(body);
    Id id;
    id.type = static_cast<IdType>(reader.u8());
    reader.skip(3);
    id.data = reader.rest();
    return id;
}

template <typename Cert>
Parsed<Cert> parse_cert(std::span<const uint8_t> body) {
    if (body.empty()) return error("no encoding octet");
    Reader reader(body);
    Cert cert;
    cert.encoding = reader.u8();
    cert.data = reader.rest();
    return cert;
}

Parsed<AuthPayload> parse_auth(std::span<const uint8_t> body) {
    if (body.size() < 4) return error("body " + str(body.size()) + " bytes, below the 4-byte fixed part");
    Reader reader(body);
    AuthPayload auth;
    auth.method = static_cast<AuthMethod>(reader.u8());
    reader.skip(3);
    auth.data = reader.rest();
    return auth;
}

Parsed<NoncePayload> parse_nonce(std::span<const uint8_t> body) {
    if (body.size() < kMinNonceLength) return error("length " + str(body.size()) + " below 16");
    if (body.size() > kMaxNonceLength) return error("length " + str(body.size()) + " above 256");
    return NoncePayload{{body.begin(), body.end()}};
}

// §3.10: Protocol ID, SPI Size, Notify Message Type, SPI, data.
Parsed<NotifyPayload> parse_notify(std::span<const uint8_t> body) {
    if (body.size() < 4) return error("body " + str(body.size()) + " bytes, below the 4-byte fixed part");
    Reader reader(body);
    NotifyPayload notify;
    notify.protocol = reader.u8();
    size_t spi_size = reader.u8();
    notify.type = reader.u16();
    if (spi_size != 0 && spi_size != 4 && spi_size != 8) return error("SPI size " + str(spi_size));
    if (spi_size > reader.remaining())
        return error("SPI size " + str(spi_size) + " beyond the " + str(reader.remaining()) + " bytes left");
    notify.spi = reader.bytes(spi_size);
    notify.data = reader.rest();
    return notify;
}

// §3.11: "SPI Size ... MUST be zero for IKE (SPI is in message header) or four for AH
// and ESP"; the SPIs fill the rest of the payload exactly.
Parsed<DeletePayload> parse_delete(std::span<const uint8_t> body) {
    if (body.size() < 4) return error("body " + str(body.size()) + " bytes, below the 4-byte fixed part");
    Reader reader(body);
    uint8_t protocol = reader.u8();
    size_t spi_size = reader.u8();
    size_t count = reader.u16();
    if (!valid_protocol(protocol)) return error("protocol " + str(protocol));
    DeletePayload del;
    del.protocol = static_cast<ProtocolId>(protocol);
    size_t expected_spi_size = del.protocol == ProtocolId::Ike ? 0 : 4;
    if (spi_size != expected_spi_size) return error("SPI size " + str(spi_size) + " for protocol " + str(protocol));
    if (del.protocol == ProtocolId::Ike && count != 0) return error("IKE SA delete with " + str(count) + " SPIs");
    if (count * spi_size != reader.remaining())
        return error(str(count) + " SPIs of " + str(spi_size) + " bytes in " + str(reader.remaining()) + " bytes");
    for (size_t i = 0; i < count; ++i) del.spis.push_back(reader.u32());
    return del;
}

// ---- TSi / TSr (§3.13) ----

// §3.13.1: the selector length is fixed by the type: 16 for IPv4, 40 for IPv6.
std::optional<size_t> address_length(uint8_t ts_type) {
    if (ts_type == uint8_t(TsType::Ipv4AddressRange)) return 4;
    if (ts_type == uint8_t(TsType::Ipv6AddressRange)) return 16;
    return std::nullopt;
}

Parsed<TrafficSelector> parse_selector(Reader& reader) {
    if (reader.remaining() < kSelectorFixedLength)
        return error(str(reader.remaining()) + " bytes left, below the 8-byte fixed part");
    TrafficSelector ts;
    uint8_t type = reader.u8();
    ts.ip_protocol = reader.u8();
    size_t length = reader.u16();
    auto address = address_length(type);
    if (!address) return error("type " + str(type));
    ts.type = static_cast<TsType>(type);
    if (length != kSelectorFixedLength + 2 * *address)
        return error("length " + str(length) + " for type " + str(type));
    if (length - 4 > reader.remaining())
        return error("length " + str(length) + " beyond the " + str(reader.remaining() + 4) + " bytes left");
    ts.start_port = reader.u16();
    ts.end_port = reader.u16();
    ts.start_address = reader.bytes(*address);
    ts.end_address = reader.bytes(*address);
    return ts;
}

template <typename Ts>
Parsed<Ts> parse_ts(std::span<const uint8_t> body) {
    if (body.size() < 4) return error("body " + str(body.size()) + " bytes, below the 4-byte fixed part");
    Reader reader(body);
    size_t count = reader.u8();
    reader.skip(3);
    Ts ts;
    while (!reader.empty()) {
        auto selector = parse_selector(reader);
        if (auto* e = std::get_if<ParseError>(&selector))
            return error("selector " + str(ts.selectors.size() + 1) + ": " + e->reason);
        ts.selectors.push_back(std::get<TrafficSelector>(std::move(selector)));
    }
    if (ts.selectors.size() != count)
        return error("TS count " + str(count) + " but " + str(ts.selectors.size()) + " selectors");
    return ts;
}

// ---- CP (§3.15) ----

Parsed<ConfigurationPayload> parse_cp(std::span<const uint8_t> body) {
    if (body.size() < 4) return error("body " + str(body.size()) + " bytes, below the 4-byte fixed part");
    Reader reader(body);
    ConfigurationPayload cp;
    cp.cfg_type = reader.u8();
    reader.skip(3);
    while (!reader.empty()) {
        if (reader.remaining() < 4) return error("attribute truncated: " + str(reader.remaining()) + " bytes");
        ConfigAttribute attribute;
        attribute.type = reader.u16() & kConfigAttributeTypeMask;
        size_t length = reader.u16();
        if (length > reader.remaining())
            return error("attribute " + str(attribute.type) + " length " + str(length) + " beyond the " +
                         str(reader.remaining()) + " bytes left");
        attribute.value = reader.bytes(length);
        cp.attributes.push_back(std::move(attribute));
    }
    return cp;
}

// ---- the chain (§3.2) ----

template <typename T>
Parsed<Payload> as_payload(Parsed<T> parsed) {
    if (auto* e = std::get_if<ParseError>(&parsed)) return std::move(*e);
    return Payload{std::get<T>(std::move(parsed))};
}

// Everything but SK, whose extent and Next Payload the chain walk handles itself.
Parsed<Payload> parse_body(uint8_t type, bool critical, std::span<const uint8_t> body) {
    switch (static_cast<PayloadType>(type)) {
    case PayloadType::SecurityAssociation: return as_payload(parse_sa(body));
    case PayloadType::KeyExchange: return as_payload(parse_ke(body));
    case PayloadType::IdInitiator: return as_payload(parse_id<IdInitiator>(body));
    case PayloadType::IdResponder: return as_payload(parse_id<IdResponder>(body));
    case PayloadType::Certificate: return as_payload(parse_cert<CertPayload>(body));
    case PayloadType::CertificateRequest: return as_payload(parse_cert<CertReqPayload>(body));
    case PayloadType::Authentication: return as_payload(parse_auth(body));
    case PayloadType::Nonce: return as_payload(parse_nonce(body));
    case PayloadType::Notify: return as_payload(parse_notify(body));
    case PayloadType::Delete: return as_payload(parse_delete(body));
    case PayloadType::VendorId: return Payload{VendorIdPayload{{body.begin(), body.end()}}};
    case PayloadType::TsInitiator: return as_payload(parse_ts<TsInitiator>(body));
    case PayloadType::TsResponder: return as_payload(parse_ts<TsResponder>(body));
    case PayloadType::Configuration: return as_payload(parse_cp(body));
    default:
        // EAP and every type we do not know (§2.5): kept whole, with its C bit.
        return Payload{UnknownPayload{type, critical, {body.begin(), body.end()}}};
    }
}

// Walks the chain from `first` until a Next Payload of None, which must come exactly
// at the end of `bytes`. An Encrypted payload ends the chain too (§3.14: "the last
// payload in the message"): its Next Payload names the first inner payload instead.
Parsed<std::vector<Payload>> parse_chain(uint8_t first, std::span<const uint8_t> bytes) {
    std::vector<Payload> payloads;
    Reader reader(bytes);
    for (uint8_t type = first; type != uint8_t(PayloadType::None);) {
        std::string where = payload_name(type) + ": ";
        if (reader.remaining() < kGenericPayloadHeaderLength)
            return error(where + str(reader.remaining()) + " bytes left, below the 4-byte generic header");
        uint8_t next = reader.u8();
        bool critical = (reader.u8() & kCriticalBit) != 0;
        size_t length = reader.u16();
        if (length < kGenericPayloadHeaderLength) return error(where + "payload length " + str(length) + " below 4");
        if (length - 4 > reader.remaining())
            return error(where + "payload length " + str(length) + " beyond the " + str(reader.remaining() + 4) +
                         " bytes left");
        auto body = reader.take(length - 4);
        if (type == uint8_t(PayloadType::Encrypted)) {
            if (!reader.empty()) return error(where + "not the last payload: " + str(reader.remaining()) + " bytes follow");
            payloads.push_back(EncryptedPayload{static_cast<PayloadType>(next), {body.begin(), body.end()}});
            return payloads;
        }
        auto payload = parse_body(type, critical, body);
        if (auto* e = std::get_if<ParseError>(&payload)) return error(where + e->reason);
        payloads.push_back(std::get<Payload>(std::move(payload)));
        type = next;
    }
    if (!reader.empty()) return error(str(reader.remaining()) + " bytes after the last payload");
    return payloads;
}

// ---- serialization ----

void put_transform(Writer& w, const Transform& t, bool last) {
    w.framed(last ? kLastSubstructure : kMoreTransforms, 0, [&] {
        w.u8(static_cast<uint8_t>(t.type));
        w.u8(0);
        w.u16(t.id);
        // Unknown attributes are not kept, so none are written: we only ever send
        // transforms we chose, and §3.3.6 forbids choosing those.
        if (t.key_length) {
            w.u16(kAttributeFormatBit | kKeyLengthAttribute);
            w.u16(*t.key_length);
        }
    });
}

void put_proposal(Writer& w, const Proposal& p, bool last) {
    w.framed(last ? kLastSubstructure : kMoreProposals, 0, [&] {
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
    for (size_t i = 0; i < sa.proposals.size(); ++i) put_proposal(w, sa.proposals[i], i + 1 == sa.proposals.size());
}
void put_body(Writer& w, const KePayload& ke) {
    w.u16(ke.group);
    w.u16(0);
    w.bytes(ke.data);
}
void put_body(Writer& w, const IdPayload& id) {
    w.u8(static_cast<uint8_t>(id.type));
    w.zeros(3);
    w.bytes(id.data);
}
void put_body(Writer& w, const CertPayload& cert) {
    w.u8(cert.encoding);
    w.bytes(cert.data);
}
void put_body(Writer& w, const CertReqPayload& req) {
    w.u8(req.encoding);
    w.bytes(req.data);
}
void put_body(Writer& w, const AuthPayload& auth) {
    w.u8(static_cast<uint8_t>(auth.method));
    w.zeros(3);
    w.bytes(auth.data);
}
void put_body(Writer& w, const NoncePayload& nonce) { w.bytes(nonce.data); }
void put_body(Writer& w, const NotifyPayload& n) {
    w.u8(n.protocol);
    w.u8(static_cast<uint8_t>(n.spi.size()));
    w.u16(n.type);
    w.bytes(n.spi);
    w.bytes(n.data);
}
// §3.11: an IKE SA delete carries no SPI (it is in the header).
void put_body(Writer& w, const DeletePayload& d) {
    bool ike = d.protocol == ProtocolId::Ike;
    w.u8(static_cast<uint8_t>(d.protocol));
    w.u8(ike ? 0 : 4);
    w.u16(ike ? 0 : static_cast<uint16_t>(d.spis.size()));
    if (!ike)
        for (uint32_t spi : d.spis) w.u32(spi);
}
void put_body(Writer& w, const VendorIdPayload& v) { w.bytes(v.data); }
void put_body(Writer& w, const TsPayload& ts) {
    w.u8(static_cast<uint8_t>(ts.selectors.size()));
    w.zeros(3);
    for (const auto& s : ts.selectors) {
        w.u8(static_cast<uint8_t>(s.type));
        w.u8(s.ip_protocol);
        w.u16(static_cast<uint16_t>(kSelectorFixedLength + s.start_address.size() + s.end_address.size()));
        w.u16(s.start_port);
        w.u16(s.end_port);
        w.bytes(s.start_address);
        w.bytes(s.end_address);
    }
}
void put_body(Writer& w, const EncryptedPayload& sk) { w.bytes(sk.body); }
void put_body(Writer& w, const ConfigurationPayload& cp) {
    w.u8(cp.cfg_type);
    w.zeros(3);
    for (const auto& a : cp.attributes) {
        w.u16(a.type & kConfigAttributeTypeMask);
        w.u16(static_cast<uint16_t>(a.value.size()));
        w.bytes(a.value);
    }
}
void put_body(Writer& w, const UnknownPayload& u) { w.bytes(u.body); }

void put_chain(Writer& w, const std::vector<Payload>& payloads) {
    for (size_t i = 0; i < payloads.size(); ++i) {
        const Payload& p = payloads[i];
        auto next = i + 1 < payloads.size() ? payload_type(payloads[i + 1]) : PayloadType::None;
        if (const auto* sk = std::get_if<EncryptedPayload>(&p)) next = sk->first_inner;
        const auto* unknown = std::get_if<UnknownPayload>(&p);
        uint8_t flags = unknown && unknown->critical ? kCriticalBit : 0;
        w.framed(static_cast<uint8_t>(next), flags,
                        [&] { std::visit([&](const auto& body) { put_body(w, body); }, p); });
    }
}

}  // namespace

PayloadType payload_type(const Payload& payload) {
    struct Type {
        PayloadType operator()(const SaPayload&) const { return PayloadType::SecurityAssociation; }
        PayloadType operator()(const KePayload&) const { return PayloadType::KeyExchange; }
        PayloadType operator()(const IdInitiator&) const { return PayloadType::IdInitiator; }
        PayloadType operator()(const IdResponder&) const { return PayloadType::IdResponder; }
        PayloadType operator()(const CertPayload&) const { return PayloadType::Certificate; }
        PayloadType operator()(const CertReqPayload&) const { return PayloadType::CertificateRequest; }
        PayloadType operator()(const AuthPayload&) const { return PayloadType::Authentication; }
        PayloadType operator()(const NoncePayload&) const { return PayloadType::Nonce; }
        PayloadType operator()(const NotifyPayload&) const { return PayloadType::Notify; }
        PayloadType operator()(const DeletePayload&) const { return PayloadType::Delete; }
        PayloadType operator()(const VendorIdPayload&) const { return PayloadType::VendorId; }
        PayloadType operator()(const TsInitiator&) const { return PayloadType::TsInitiator; }
        PayloadType operator()(const TsResponder&) const { return PayloadType::TsResponder; }
        PayloadType operator()(const EncryptedPayload&) const { return PayloadType::Encrypted; }
        PayloadType operator()(const ConfigurationPayload&) const { return PayloadType::Configuration; }
        PayloadType operator()(const UnknownPayload& u) const { return static_cast<PayloadType>(u.type); }
    };
    return std::visit(Type{}, payload);
}

// §3.1: SPIs, Next Payload, MjVer|MnVer, Exchange Type, Flags, Message ID, Length.
std::optional<Header> parse_header(std::span<const uint8_t> datagram) {
    if (datagram.size() < kHeaderLength) return std::nullopt;
    Reader reader(datagram.first(kHeaderLength));
    Header header;
    header.spi_i = reader.u64();
    header.spi_r = reader.u64();
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
    // §2.5: a later major version is answered with INVALID_MAJOR_VERSION, so it is
    // reported before anything else in the message is judged.
    if (header->major_version != 2)
        return error("header: major version " + str(header->major_version) + ", not 2");
    if (header->length != datagram.size())
        return error("header: length " + str(header->length) + " but the datagram has " + str(datagram.size()) +
                     " bytes");
    if (datagram.size() > kMaxMessageLength)
        return error("header: length " + str(datagram.size()) + " above " + str(kMaxMessageLength));
    auto payloads = parse_chain(static_cast<uint8_t>(header->next_payload), datagram.subspan(kHeaderLength));
    if (auto* e = std::get_if<ParseError>(&payloads)) return std::move(*e);
    return Message{*header, std::get<std::vector<Payload>>(std::move(payloads))};
}

std::variant<std::vector<Payload>, ParseError> parse_payloads(PayloadType first, std::span<const uint8_t> bytes) {
    return parse_chain(static_cast<uint8_t>(first), bytes);
}

std::vector<uint8_t> serialize_payloads(const std::vector<Payload>& payloads) {
    Writer w;
    put_chain(w, payloads);
    return w.release();
}

std::vector<uint8_t> serialize_message(const Header& header, const std::vector<Payload>& payloads) {
    Writer w;
    w.u64(header.spi_i);
    w.u64(header.spi_r);
    w.u8(static_cast<uint8_t>(payloads.empty() ? PayloadType::None : payload_type(payloads.front())));
    w.u8(static_cast<uint8_t>(header.major_version << 4 | (header.minor_version & 0x0f)));
    w.u8(static_cast<uint8_t>(header.exchange));
    w.u8(header.flags);
    w.u32(header.message_id);
    size_t length_at = w.size();
    w.u32(0);
    put_chain(w, payloads);
    w.patch_length32(length_at);
    return w.release();
}

const NotifyPayload* find_notify(const std::vector<Payload>& payloads, uint16_t type) {
    for (const auto& p : payloads)
        if (const auto* n = std::get_if<NotifyPayload>(&p); n && n->type == type) return n;
    return nullptr;
}

}  // namespace mbox::ike

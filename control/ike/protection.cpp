#include "control/ike/protection.hpp"

#include <fmt/format.h>

#include "control/ike/ike_sa.hpp"
#include "crypto/secret.hpp"

namespace mbox::ike {

std::vector<uint8_t> seal(const crypto::SkProtection& keys, const Header& header, const std::vector<Payload>& inner,
                          std::span<const uint8_t> iv) {
    const size_t block = keys.block_size();
    // Plaintext: inner payloads | padding | pad length, a whole number of blocks.
    crypto::SecretBytes plain(std::span<const uint8_t>(serialize_payloads(inner)));
    const size_t pad = block - 1 - plain.size() % block;
    std::vector<uint8_t> tail(pad + 1, 0);
    tail.back() = static_cast<uint8_t>(pad);
    plain.append(tail);

    EncryptedPayload sk;
    sk.first_inner = inner.empty() ? PayloadType::None : payload_type(inner.front());
    sk.body.resize(iv.size() + plain.size() + keys.icv_size());
    std::copy(iv.begin(), iv.end(), sk.body.begin());
    keys.encrypt(iv, plain.span(), std::span<uint8_t>(sk.body).subspan(iv.size(), plain.size()));

    std::vector<uint8_t> out = serialize_message(header, {Payload{std::move(sk)}});
    const size_t signed_length = out.size() - keys.icv_size();
    keys.sign(std::span<const uint8_t>(out).first(signed_length), std::span<uint8_t>(out).subspan(signed_length));
    return out;
}

std::variant<std::vector<Payload>, OpenError> open(const crypto::SkProtection& keys, const Message& message,
                                                   std::span<const uint8_t> datagram) {
    const auto* sk = message.payloads.empty() ? nullptr : std::get_if<EncryptedPayload>(&message.payloads.back());
    if (sk == nullptr) return OpenError{false, "no Encrypted payload"};
    const size_t iv_length = keys.iv_length(), icv = keys.icv_size(), block = keys.block_size();
    if (sk->body.size() < iv_length + block + icv)
        return OpenError{false, fmt::format("Encrypted payload of {} bytes is too short", sk->body.size())};
    // The ICV covers the message from the header to the end of the encrypted data (§3.14);
    // the SK payload is the last, so that is the datagram minus the ICV. It is checked
    // before anything inside is looked at.
    if (datagram.size() < icv || !keys.verify(datagram.first(datagram.size() - icv), datagram.last(icv)))
        return OpenError{true, "integrity check failed"};
    const size_t encrypted = sk->body.size() - iv_length - icv;
    if (encrypted % block != 0)
        return OpenError{false, fmt::format("{} encrypted bytes are not a multiple of {}", encrypted, block)};
    const std::span<const uint8_t> body(sk->body);
    crypto::SecretBytes plain(encrypted);
    if (!keys.decrypt(body.first(iv_length), body.subspan(iv_length, encrypted), plain.span()))
        return OpenError{false, "decryption failed"};
    const size_t pad = plain[encrypted - 1];
    if (pad + 1 > encrypted) return OpenError{false, fmt::format("pad length {} exceeds the plaintext", pad)};
    auto inner = parse_payloads(sk->first_inner, plain.span().first(encrypted - pad - 1));
    if (auto* error = std::get_if<ParseError>(&inner)) return OpenError{false, "inner payloads: " + error->reason};
    return std::get<std::vector<Payload>>(std::move(inner));
}

bool set_ike_keys(IkeSa& sa, const crypto::SecretBytes& shared, const IkeSa* rekeyed, std::string& error) {
    const crypto::IkeKeyLengths lengths{crypto::key_length(sa.suite.integrity), crypto::key_length(sa.suite.cipher)};
    sa.keys = rekeyed == nullptr
                  ? crypto::derive_ike_sa_keys(sa.suite.prf, lengths, shared, sa.nonce_i, sa.nonce_r, sa.spi_i, sa.spi_r)
                  : crypto::derive_rekeyed_ike_sa_keys(rekeyed->suite.prf, rekeyed->keys.sk_d, sa.suite.prf, lengths,
                                                       shared, sa.nonce_i, sa.nonce_r, sa.spi_i, sa.spi_r);
    const bool initiator = sa.is_initiator();
    sa.outgoing = crypto::SkProtection::create(sa.suite.cipher, sa.suite.integrity,
                                               initiator ? sa.keys.sk_ei : sa.keys.sk_er,
                                               initiator ? sa.keys.sk_ai : sa.keys.sk_ar, error);
    sa.incoming = crypto::SkProtection::create(sa.suite.cipher, sa.suite.integrity,
                                               initiator ? sa.keys.sk_er : sa.keys.sk_ei,
                                               initiator ? sa.keys.sk_ar : sa.keys.sk_ai, error);
    return sa.outgoing && sa.incoming;
}

}  // namespace mbox::ike

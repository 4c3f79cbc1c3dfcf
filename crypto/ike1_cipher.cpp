// RFC 2409 Appendix B on crypto::cbc_crypt (the SK payload's CBC, OpenSSL 3).
#include "crypto/ike1_cipher.hpp"

namespace mbox::crypto::ike1 {

void IvChain::advance(std::span<const uint8_t> ciphertext) {
    if (iv_.empty() || ciphertext.size() < iv_.size()) return;
    auto last = ciphertext.last(iv_.size());
    iv_.assign(last.begin(), last.end());
}

std::unique_ptr<MessageCipher> MessageCipher::create(IkeCipher cipher, std::span<const uint8_t> key,
                                                     std::string& error) {
    if (key.size() != key_length(cipher)) {
        error = std::string(name(cipher)) + ": key of " + std::to_string(key.size()) + " bytes, expected " +
                std::to_string(key_length(cipher));
        return nullptr;
    }
    std::unique_ptr<MessageCipher> c(new MessageCipher());
    c->cipher_ = cipher;
    c->key_ = SecretBytes(key);
    return c;
}

// "Each message should be padded up to the nearest block size using null bytes": none
// when the payloads already fill whole blocks.
std::vector<uint8_t> MessageCipher::encrypt(IvChain& chain, std::span<const uint8_t> plaintext) const {
    const size_t block = block_size();
    SecretBytes padded(plaintext);
    padded.append(std::vector<uint8_t>((block - plaintext.size() % block) % block, 0));
    std::vector<uint8_t> ciphertext(padded.size());
    if (padded.empty() || !cbc_crypt(cipher_, key_, chain.iv(), padded, ciphertext, true)) return {};
    chain.advance(ciphertext);
    return ciphertext;
}

std::optional<SecretBytes> MessageCipher::decrypt(const IvChain& chain, std::span<const uint8_t> ciphertext) const {
    if (ciphertext.empty()) return std::nullopt;
    SecretBytes plaintext(ciphertext.size());
    if (!cbc_crypt(cipher_, key_, chain.iv(), ciphertext, plaintext.span(), false)) return std::nullopt;
    return plaintext;
}

}  // namespace mbox::crypto::ike1

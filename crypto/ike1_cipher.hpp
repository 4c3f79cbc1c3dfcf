// IKEv1 message encryption (RFC 2409 Appendix B): everything after the ISAKMP header
// is CBC-encrypted under the key derived from SKEYID_e (ike1::encryption_key), padded
// with zero bytes to the cipher's block, with no integrity check of its own (the
// exchanges' HASH payloads authenticate). The IV runs from message to message within
// an exchange: it starts at phase1_iv or phase2_iv (crypto/ike1_kdf.hpp) and is then
// the last ciphertext block of the message before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crypto/ike_sk.hpp"
#include "crypto/secret.hpp"

namespace mbox::crypto::ike1 {

// The IV of one exchange: phase 1 (main or aggressive mode), or one quick mode or
// informational exchange by message ID. After phase 1 its iv() is "the final phase 1
// CBC output block" that phase2_iv hashes.
class IvChain {
public:
    IvChain() = default;
    explicit IvChain(std::vector<uint8_t> iv) : iv_(std::move(iv)) {}

    std::span<const uint8_t> iv() const { return iv_; }
    // A message was sent, or a received one was accepted: its last ciphertext block is
    // the next IV. A ciphertext shorter than a block leaves the IV as it is (decrypt
    // refuses such messages).
    void advance(std::span<const uint8_t> ciphertext);

private:
    std::vector<uint8_t> iv_;
};

// One IKE SA's cipher and key; the IVs are the exchanges' (IvChain).
class MessageCipher {
public:
    // nullptr and `error` when the key is not key_length(cipher) bytes.
    static std::unique_ptr<MessageCipher> create(IkeCipher cipher, std::span<const uint8_t> key, std::string& error);

    IkeCipher cipher() const { return cipher_; }
    size_t block_size() const { return block_length(cipher_); }

    // `plaintext` (the payloads, serialize_payloads) padded with zero bytes to a whole
    // number of blocks and encrypted under chain.iv(); the chain then moves to the last
    // ciphertext block. Empty when there is no plaintext or the chain's IV is not a
    // block long.
    std::vector<uint8_t> encrypt(IvChain& chain, std::span<const uint8_t> plaintext) const;

    // The plaintext of `ciphertext` under chain.iv(), padding included (the payload
    // lengths tell where it starts). The chain does not move: the exchange calls
    // advance() once the message's HASH has verified, so that a forged message cannot
    // derail the IV of the real one. nullopt when the ciphertext is empty or not whole
    // blocks, or the IV is not a block long.
    std::optional<SecretBytes> decrypt(const IvChain& chain, std::span<const uint8_t> ciphertext) const;

private:
    MessageCipher() = default;
    IkeCipher cipher_ = IkeCipher::Aes128Cbc;
    SecretBytes key_;
};

}  // namespace mbox::crypto::ike1

// The Encrypted payload (RFC 7296 §3.14) around a message's inner payloads: padding,
// IV, CBC encryption and the ICV over the whole message on the way out; on the way in
// the ICV first (nothing inside is trusted before it verifies), then decryption,
// padding checks and the inner chain's parse.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "control/ike/codec/message.hpp"
#include "crypto/ike_sk.hpp"

namespace mbox::ike {

// `iv`: iv_length() fresh random bytes (§3.14: the IV MUST be unpredictable).
std::vector<uint8_t> seal(const crypto::SkProtection& keys, const Header& header, const std::vector<Payload>& inner,
                          std::span<const uint8_t> iv);

struct OpenError {
    bool integrity = false;  // true: the ICV did not verify; false: bad length, padding or inner chain
    std::string reason;
};

// `message` is `datagram` parsed; its last payload must be the Encrypted one.
std::variant<std::vector<Payload>, OpenError> open(const crypto::SkProtection& keys, const Message& message,
                                                   std::span<const uint8_t> datagram);

}  // namespace mbox::ike

// The IKE engine's vocabulary: endpoints, identities, the algorithm suites a peer is
// configured with, and the peer configuration the engine runs from. Built from the
// configuration model by control/ike/peer_config.cpp; the engine never reads config::.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/ipv4.hpp"
#include "control/ike/codec/message.hpp"
#include "crypto/esp_algorithms.hpp"
#include "crypto/ike_prf.hpp"
#include "crypto/ike_signature.hpp"
#include "crypto/ike_sk.hpp"
#include "crypto/secret.hpp"

namespace mbox::ike {

using Clock = std::chrono::steady_clock;

inline constexpr uint16_t kIkePort = 500;
inline constexpr uint16_t kNattPort = 4500;

struct Endpoint {
    uint32_t address = 0;  // IPv4, host order
    uint16_t port = 0;

    bool operator==(const Endpoint&) const = default;
    std::string to_string() const;
};

// An IKE identity as it travels in IDi/IDr (RFC 7296 §3.5): its type and data.
struct Identity {
    IdType type = IdType::Ipv4Address;
    std::vector<uint8_t> data;

    bool operator==(const Identity&) const = default;
    // Equality as IKE means it: DNs compared canonically (string types, case), the rest
    // byte for byte.
    bool matches(const Identity& other) const;
    std::string to_string() const;  // "192.0.2.1", "vpn.example.com", "C=SG, O=Example, CN=gw1"
    static Identity ipv4(uint32_t address);
    // An identity written in configuration: a dotted quad is ID_IPV4_ADDR, text with '@'
    // is ID_RFC822_ADDR, anything else ID_FQDN.
    static Identity from_text(const std::string& text);
};

// What one ike-policy offers: one transform of each type (RFC 7296 §3.3.2).
struct IkeSuite {
    crypto::IkeCipher cipher = crypto::IkeCipher::Aes128Cbc;
    crypto::IkeIntegrity integrity = crypto::IkeIntegrity::HmacSha1_96;
    crypto::IkePrf prf = crypto::IkePrf::HmacSha1;
    uint16_t dh_group = 14;

    bool operator==(const IkeSuite&) const = default;
    std::string to_string() const;  // "AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP-2048"
};

// What one esp-policy offers for CHILD SAs.
struct EspSuite {
    crypto::EspAlgorithms algorithms;
    std::optional<uint16_t> pfs_group;  // DH in CREATE_CHILD_SA; absent: no PFS

    bool operator==(const EspSuite&) const = default;
    std::string to_string() const;  // "AES_CBC-128/HMAC_SHA1_96/NO_EXT_SEQ" (+ "/MODP-1024")
};

enum class AuthKind : uint8_t { Psk, Rsa };

// Timings that tests shorten; the defaults are what a gateway in the field uses.
struct Timing {
    std::chrono::milliseconds retransmit_base{2000};  // first retransmission after this
    double retransmit_factor = 1.8;                    // each next one this much later
    unsigned retransmit_tries = 5;                     // then the exchange (and IKE SA) is given up
    std::chrono::seconds half_open_timeout{30};        // responder: IKE_SA_INIT done, no IKE_AUTH
    std::chrono::seconds retry_after_failure{30};      // an initiator re-initiates this much later
    std::chrono::seconds nat_keepalive{20};            // RFC 3948 §4: when behind a NAT
    std::chrono::seconds drain{5};                     // a replaced inbound SA is kept at most this long
    double rekey_margin = 0.1;                         // rekey at lifetime * (1 - margin - jitter)
    double rekey_jitter = 0.05;
};

struct PeerConfig {
    std::string name;                       // "203.0.113.2", or "any" + remote id
    std::optional<uint32_t> address;        // absent: `ipsec peer any` (responder only)
    uint32_t local_address = 0;             // our address for this peer
    bool nated = false;                     // `local ip A nated`: always use NAT-T (port 4500)
    Identity local_id;
    std::optional<Identity> remote_id;      // absent: the peer's address (ID_IPV4_ADDR)
    std::vector<Ipv4Prefix> local_nets;
    std::vector<Ipv4Prefix> remote_nets;
    IkeSuite ike;
    EspSuite esp;
    int ike_policy = 0;                     // numbers, for messages
    int esp_policy = 0;
    std::chrono::seconds ike_lifetime{28800};
    std::chrono::seconds esp_lifetime{3600};
    AuthKind auth = AuthKind::Psk;
    crypto::SecretBytes psk;
    // rsa-sig (`ipsec pki`): our certificate and key, and the CAs the peer's must chain to.
    std::shared_ptr<const crypto::Certificate> certificate;
    std::shared_ptr<const crypto::PrivateKey> private_key;
    std::vector<std::shared_ptr<const crypto::Certificate>> cas;
    std::chrono::seconds dpd{0};            // 0: no dead-peer detection
    // IKEv1 (`mode aggressive`, and every `any` peer): phase 1 in aggressive mode (RFC
    // 2409 §5.4), which we initiate and, as responder, accept. Main mode is always
    // accepted; aggressive mode only from these peers, since its second message hands
    // anyone who sends the first a hash to attack the pre-shared key with offline.
    bool aggressive = false;

    bool initiate = true;                   // false: wait for the peer (tests; responder-only peers)

    bool initiates() const { return address.has_value() && initiate; }
    // Everything that, when changed, means the peer's tunnels must be renegotiated.
    bool same_settings(const PeerConfig& other) const;
    bool same_certificates(const PeerConfig& other) const;
};

}  // namespace mbox::ike

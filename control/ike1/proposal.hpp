// IKEv1 SA payloads from the configured suites (RFC 2409 Appendix A for phase 1, RFC
// 2407 §4.5 for ESP in quick mode), the responder's choice among the peer's offers,
// the initiator's check of the answer, and descriptions for the log lines that
// explain a mismatch by naming both sides' offers.
//
// Lifetimes: the responder answers with the chosen transform exactly as offered (RFC
// 2408 §4.2: a responder does not change an offered transform's attributes) and uses
// the shorter of the peer's lifetime and ours; a longer offer is accepted, not
// refused, as strongSwan does (its IKEv1 responder applies its own, shorter, lifetime
// and rekeys before the peer would).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "control/ike/types.hpp"
#include "control/ike1/codec/message.hpp"

namespace mbox::ike1 {

// What one phase 1 transform (KEY_IKE) stands for.
struct Phase1Offer {
    ike::IkeSuite suite;  // integrity follows the hash (unused by IKEv1 itself)
    uint16_t auth_method = phase1::kPreSharedKey;
    std::chrono::seconds lifetime{0};  // 0: none given (RFC 2407 §4.5: 28800 s then)
};

// The Authentication Method attribute for the peer's `authentication` (psk, rsa-sig).
uint16_t auth_method(const ike::PeerConfig& peer);

// One transform of each kind: the phase 1 SA payload an initiator sends.
SaPayload phase1_sa(const ike::IkeSuite& suite, std::chrono::seconds lifetime, uint16_t auth_method);

// A transform's meaning; nullopt (with `why`) for algorithms or attributes we do not
// implement, so that such a transform is never chosen.
std::optional<Phase1Offer> phase1_offer(const Transform& transform, std::string& why);

struct Phase1Choice {
    Phase1Offer offer;                 // the suite both sides use
    std::chrono::seconds lifetime{0};  // what we apply
    SaPayload answer;                  // the peer's proposal with only the chosen transform
    std::string lifetime_note;         // why that lifetime, for the log
};

// The responder's choice: the first of the peer's transforms (its order of
// preference) whose suite and authentication method are ours.
std::optional<Phase1Choice> select_phase1(const SaPayload& offer, const ike::IkeSuite& ours,
                                          std::chrono::seconds our_lifetime, uint16_t auth_method);
// The initiator's check: one proposal, one transform, and it is the one we offered.
std::optional<Phase1Choice> accept_phase1(const SaPayload& answer, const ike::IkeSuite& ours,
                                          std::chrono::seconds our_lifetime, uint16_t auth_method, std::string& why);

// ---- phase 2 (ESP) ----

struct Phase2Offer {
    crypto::EspAlgorithms algorithms;
    std::optional<uint16_t> pfs_group;
    bool udp_encapsulated = false;     // encapsulation mode UDP tunnel (3, or the draft's 61443)
    std::chrono::seconds lifetime{0};  // 0: none given (RFC 2407 §4.5: 28800 s then)
    uint32_t spi = 0;                  // the sender's inbound SPI
};

// Whether `algorithms` have an IKEv1 ESP form (HMAC-MD5-128 has none).
bool has_phase2_form(const crypto::EspAlgorithms& algorithms);

// One ESP proposal with one transform, our inbound `spi`.
SaPayload phase2_sa(const ike::EspSuite& suite, std::chrono::seconds lifetime, uint32_t spi, bool udp_encapsulated);
std::optional<Phase2Offer> phase2_offer(const Proposal& proposal, const Transform& transform, std::string& why);

struct Phase2Choice {
    Phase2Offer offer;                 // algorithms, PFS and encapsulation as agreed; spi the peer's
    std::chrono::seconds lifetime{0};
    SaPayload answer;                  // for the responder: the chosen transform with our SPI
    std::string lifetime_note;
};

// The responder's choice (first acceptable transform in the peer's order). A proposal
// with AH or IPComp alongside ESP is not chosen. When our suite names a PFS
// group, the peer must offer it. `udp_encapsulated`: NAT traversal is in use,
// and the transform must say UDP-encapsulated tunnel mode (otherwise plain tunnel).
std::optional<Phase2Choice> select_phase2(const SaPayload& offer, const ike::EspSuite& ours,
                                          std::chrono::seconds our_lifetime, uint32_t our_spi, bool udp_encapsulated);
std::optional<Phase2Choice> accept_phase2(const SaPayload& answer, const ike::EspSuite& ours,
                                          std::chrono::seconds our_lifetime, bool udp_encapsulated, std::string& why);

// RFC 2407 §4.6.3.1: a responder that runs with a shorter lifetime than offered says so
// in quick mode message 2, with its own SPI. nullopt when it runs with the offered one.
std::optional<NotificationPayload> responder_lifetime(const Phase2Choice& choice, uint32_t our_spi);
// The lifetime in seconds a RESPONDER-LIFETIME notification gives; nullopt when it gives
// none in seconds (kilobytes only) or its attributes do not parse.
std::optional<std::chrono::seconds> responder_lifetime_seconds(const NotificationPayload& n);

// "3DES_CBC/MD5/MODP-1024/PSK/3600s" per transform, ", " between them: phase 1 or ESP.
std::string describe(const SaPayload& sa);

}  // namespace mbox::ike1

// The state of one ISAKMP SA (IKEv1 phase 1, RFC 2409 §5) and of the quick mode
// exchanges it runs (§5.5): cookies, keys, the Appendix B IV chains, and each
// exchange's last message for retransmission. Owned by ike1::Engine; plain data.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "control/ike/ike_sa.hpp"
#include "control/ike/types.hpp"
#include "control/ike1/proposal.hpp"
#include "crypto/ike1_cipher.hpp"
#include "crypto/ike1_kdf.hpp"
#include "crypto/ike_dh.hpp"

namespace mbox::ike1 {

using ike::Clock;
using ike::Endpoint;

enum class Phase1State : uint8_t {
    Sent1,        // initiator: SA offered
    Sent2,        // responder: SA chosen
    Sent3,        // initiator: KE and nonce sent
    Sent4,        // responder: KE and nonce sent
    Sent5,        // initiator: ID and HASH_I sent (encrypted)
    AggrSent1,    // aggressive mode initiator: SA, KE, nonce and ID sent
    AggrSent2,    // aggressive mode responder: SA, KE, nonce, ID and HASH_R sent
    Established,  // main mode message 6, or aggressive mode message 3, sent or accepted
    Dead,         // removed at the next tick
};
std::string_view to_string(Phase1State state);

// Our last message of an exchange. The initiator of a message pair sends it again on
// the timer until the peer's next message arrives (`awaiting`); the responder also
// sends it again when the message it answered (`answered`) arrives again, which is how
// IKEv1 tells a retransmission from a new message (RFC 2408 has no message counter).
struct Flight {
    std::vector<uint8_t> bytes;
    std::vector<uint8_t> answered;
    bool awaiting = false;
    unsigned sent = 0;
    Clock::time_point first_sent{};
    Clock::time_point next_send{};
};

// One quick mode exchange (either role): one phase 2 for one local-net x remote-net pair.
struct QuickMode {
    uint32_t message_id = 0;
    bool initiator = false;
    unsigned step = 1;                      // the last message sent or accepted (1-3)
    Ipv4Prefix local_net, remote_net;       // ours, theirs
    uint32_t inbound_spi = 0;               // ours, allocated
    std::optional<Phase2Choice> choice;     // agreed; offer.spi is the peer's inbound SPI
    std::unique_ptr<crypto::DhKeyPair> dh;  // PFS
    crypto::SecretBytes shared;             // g(qm)^xy
    std::vector<uint8_t> nonce_i, nonce_r;  // Ni_b, Nr_b
    crypto::ike1::IvChain iv;
    Flight flight;
    bool done = false;                      // installed (or failed): kept only to answer retransmissions
    Clock::time_point created{};
};

struct Phase1Sa {
    uint64_t serial = 0;
    bool initiator = false;
    Phase1State state = Phase1State::Sent1;
    size_t peer = 0;
    bool aggressive = false;                // phase 1 in aggressive mode (RFC 2409 §5.4)
    uint64_t cookie_i = 0, cookie_r = 0;
    Endpoint local, remote;
    std::optional<Phase1Choice> choice;
    std::unique_ptr<crypto::DhKeyPair> dh;
    std::vector<uint8_t> g_xi, g_xr;        // KE bodies
    std::vector<uint8_t> nonce_i, nonce_r;  // nonce bodies
    std::vector<uint8_t> sai_b;             // the initiator's SA payload body (HASH_I/HASH_R)
    // Aggressive mode responder: the IDii of message 1 (and its body as received), which
    // HASH_I in message 3 covers.
    IdPayload peer_id;
    std::vector<uint8_t> peer_id_b;
    crypto::SecretBytes shared;
    crypto::ike1::Phase1Keys keys;
    std::unique_ptr<crypto::ike1::MessageCipher> cipher;
    crypto::ike1::IvChain iv;               // phase 1's; after message 6 its last block
    Flight flight;
    std::string failure;                    // what the peer reported, for the give-up line
    ike::Identity remote_identity;
    std::map<uint32_t, QuickMode> quick;    // by message ID
    std::vector<ike::ChildSa> children;
    Clock::time_point created{};
    Clock::time_point established{};
    Clock::time_point expire_at{};
    Clock::time_point rekey_at{};           // a new main mode then, by an initiating peer
    bool rekey_started = false;
    // Dead-peer detection (RFC 3706).
    bool peer_dpd = false;                  // the peer sent the DPD vendor ID
    Clock::time_point last_heard{};         // a verified message or ESP from the peer
    uint64_t seen_inbound_packets = 0;
    uint32_t dpd_sequence = 0;
    bool dpd_outstanding = false;
    Clock::time_point dpd_sent{};
    // NAT traversal (RFC 3947).
    bool peer_natt = false;                 // the peer sent RFC 3947's vendor ID
    bool natt = false;                      // moved to port 4500: ESP in UDP
    bool nat_local = false;                 // a NAT in front of us (or `nated`)
    bool nat_remote = false;                // a NAT in front of the peer
    Clock::time_point next_keepalive{};

    uint64_t our_cookie() const { return initiator ? cookie_i : cookie_r; }
    // CKY-I | CKY-R: the SPI of a notification or DELETE about this ISAKMP SA.
    std::vector<uint8_t> cookies() const {
        std::vector<uint8_t> out;
        for (uint64_t c : {cookie_i, cookie_r})
            for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(c >> shift));
        return out;
    }
    crypto::IkePrf prf() const { return choice->offer.suite.prf; }
};

}  // namespace mbox::ike1

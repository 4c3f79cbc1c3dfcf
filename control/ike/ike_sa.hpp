// The state of one IKE SA and of the CHILD SAs it negotiated (RFC 7296 §2): SPIs,
// keys, message IDs, the one request in flight with its retransmission schedule, the
// cached last response, and lifetimes. Owned by the engine; plain data.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/ike/types.hpp"
#include "crypto/ike_dh.hpp"
#include "crypto/ike_prf.hpp"
#include "crypto/ike_sk.hpp"

namespace mbox::ike {

enum class Role : uint8_t { Initiator, Responder };

enum class IkeState : uint8_t {
    InitSent,      // initiator: IKE_SA_INIT request out
    InitDone,      // responder: IKE_SA_INIT answered, waiting for IKE_AUTH (half-open)
    AuthSent,      // initiator: IKE_AUTH request out
    Established,
    Deleting,      // DELETE for the IKE SA sent, waiting for its answer
    Dead,          // to be removed at the next tick
};
std::string_view to_string(IkeState state);

enum class ChildState : uint8_t {
    Installed,   // in use both ways
    Rekeying,    // a CREATE_CHILD_SA to replace it is in flight (either side's)
    Replaced,    // its successor carries the traffic; kept for draining, then deleted
    Deleting,    // DELETE sent
};

struct ChildSa {
    uint32_t inbound_spi = 0;
    uint32_t outbound_spi = 0;
    crypto::EspAlgorithms algorithms;
    std::optional<uint16_t> pfs_group;  // the group used when it was made
    std::vector<Ipv4Prefix> local_ts;
    std::vector<Ipv4Prefix> remote_ts;
    bool udp_encapsulated = false;
    ChildState state = ChildState::Installed;
    Clock::time_point established{};
    Clock::time_point rekey_at{};
    Clock::time_point expire_at{};
    Clock::time_point replaced_at{};   // Replaced: when its successor took the outbound traffic
    Clock::time_point drain_until{};   // Replaced: remove the inbound SA by then at the latest
    uint64_t drain_packets = 0;        // Replaced: inbound packets seen when the drain started
    bool outbound_active = false;      // its outbound SA carries the tunnel's traffic
    // Rekeying (§2.8.1 collisions): the lowest nonce of the exchange that made it, and
    // for a replaced SA the inbound SPI of the first SA that replaced it.
    std::vector<uint8_t> lowest_nonce;
    uint32_t successor_inbound = 0;
};

// What a request in flight was for: its answer is processed accordingly.
enum class RequestKind : uint8_t { SaInit, Auth, RekeyChild, RekeyIke, DeleteChild, DeleteIke, Liveness };

// A CHILD SA being negotiated in CREATE_CHILD_SA (either role).
struct ChildProposalState {
    uint32_t inbound_spi = 0;               // ours, allocated
    uint32_t rekeyed_inbound_spi = 0;       // the CHILD SA it replaces (ours)
    std::unique_ptr<crypto::DhKeyPair> dh;  // PFS
    crypto::SecretBytes nonce;
};

// The new IKE SA being made by a CREATE_CHILD_SA rekey.
struct IkeRekeyState {
    uint64_t new_spi = 0;                   // ours
    std::unique_ptr<crypto::DhKeyPair> dh;
    crypto::SecretBytes nonce;
};

struct PendingRequest {
    RequestKind kind = RequestKind::SaInit;
    uint32_t message_id = 0;
    std::vector<uint8_t> bytes;             // exactly what was sent, for retransmission
    Endpoint from, to;
    Clock::time_point first_sent{};
    Clock::time_point next_send{};
    unsigned sent = 0;                      // transmissions so far
    std::optional<ChildProposalState> child;
    std::optional<IkeRekeyState> ike_rekey;
    std::vector<uint32_t> delete_spis;      // DeleteChild: our inbound SPIs
};

// A request that waits until the one in flight is answered (window size 1, §2.3).
struct QueuedRequest {
    RequestKind kind = RequestKind::Liveness;
    std::vector<uint32_t> spis;             // RekeyChild: the CHILD SA's inbound SPI; DeleteChild: inbound SPIs
};

struct IkeSa {
    uint64_t serial = 0;                    // engine-local, for logs
    Role role = Role::Initiator;            // of this IKE SA (not of each exchange)
    IkeState state = IkeState::InitSent;
    size_t peer = 0;                        // index in the engine's peer list
    uint64_t spi_i = 0, spi_r = 0;
    Endpoint local, remote;
    bool natt = false;                      // floated to 4500
    bool nat_local = false;                 // we are behind a NAT (ours did not match)
    bool nat_remote = false;                // the peer is behind a NAT
    IkeSuite suite;                         // chosen
    uint16_t dh_group = 0;                  // the group of our KE (may change after INVALID_KE_PAYLOAD)
    std::unique_ptr<crypto::DhKeyPair> dh;  // until the keys are derived
    crypto::SecretBytes nonce_i, nonce_r;
    std::vector<uint8_t> cookie;            // initiator: the responder's COOKIE, echoed
    unsigned cookie_rounds = 0;             // IKE_SA_INIT retries (COOKIE, INVALID_KE_PAYLOAD), bounded
    std::vector<uint8_t> init_request;      // IKE_SA_INIT messages, signed by AUTH (§2.15)
    std::vector<uint8_t> init_response;
    crypto::IkeSaKeys keys;
    std::unique_ptr<crypto::SkProtection> outgoing, incoming;
    Identity remote_identity;               // as authenticated
    std::vector<uint16_t> peer_signature_hashes;  // its SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4)
    bool initial_contact_sent = false;
    bool rekeyed = false;
    // Both sides initiated at once and this is the duplicate that goes (the one with the
    // lower SPIi, a rule both sides apply alike): its CHILD SA carries no outbound traffic.
    bool superseded = false;                   // replaced by a rekeyed IKE SA: waits only for the DELETE

    uint32_t next_request_id = 0;           // for requests we send
    uint32_t expected_request_id = 0;       // for requests the peer sends
    std::optional<PendingRequest> pending;
    std::deque<QueuedRequest> queued;       // requests waiting for the window (one at a time)
    std::vector<uint8_t> last_response;     // for a retransmitted request (§2.1)
    uint32_t last_response_id = 0;
    bool has_last_response = false;

    std::vector<ChildSa> children;
    Clock::time_point created{};
    Clock::time_point established{};
    Clock::time_point rekey_at{};
    Clock::time_point expire_at{};
    Clock::time_point last_heard{};         // any valid message or ESP from the peer
    Clock::time_point next_keepalive{};
    uint64_t seen_inbound_packets = 0;      // ESP counted at the last liveness check

    uint64_t our_spi() const { return role == Role::Initiator ? spi_i : spi_r; }
    bool is_initiator() const { return role == Role::Initiator; }
};

// The IKE SA's seven keys (RFC 7296 §2.14; or §2.18 from `rekeyed`'s SK_d and prf when
// it is made by rekeying that SA) from its nonces, SPIs and suite, and the SK payload
// protection for its role (ours out, theirs in). false and `error` when OpenSSL refuses.
bool set_ike_keys(IkeSa& sa, const crypto::SecretBytes& shared, const IkeSa* rekeyed, std::string& error);

}  // namespace mbox::ike

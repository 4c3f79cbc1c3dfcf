// The IKEv1 engine (RFC 2409) on the control thread, beside the IKEv2 one and with the
// same shape: peers from the configuration (version-1 ike-policies), ISAKMP SAs by
// cookie, main mode with pre-shared keys (exchange_main_mode.cpp) or aggressive mode
// (exchange_aggressive_mode.cpp), quick mode with one phase 2 per local-net x remote-net
// pair as strongSwan makes them (exchange_quick_mode.cpp), retransmission, and the log
// that says why a tunnel is not up. Its only ways out are the IKEv2 engine's IkeIo and
// ChildSaInstaller, so mboxd can run both engines side by side and hand each datagram to
// one by the ISAKMP major version (0x10 here, 0x20 for IKEv2).
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/ike/dh_pool.hpp"
#include "control/ike/engine.hpp"
#include "control/ike/io.hpp"
#include "control/ike1/codec/message.hpp"
#include "control/ike1/phase1_sa.hpp"

namespace mbox::ike1 {

struct EngineOptions {
    ike::Timing timing;
    size_t max_sas = 20000;      // ISAKMP SAs, any state
    size_t dh_pool_depth = 16;   // as ike::EngineOptions
    std::chrono::microseconds dh_pool_budget{5000};
};

// Messages the engine did not act on, by reason.
enum class Drop : uint8_t {
    Malformed,           // header or payload chain does not parse
    UnsupportedVersion,  // not ISAKMP 1.0
    UnknownCookie,       // no ISAKMP SA with these cookies
    UnexpectedMessage,   // not what the exchange's state expects
    Retransmission,      // a message we already answered: our answer is sent again
    DecryptionFailed,    // not whole blocks, or no payload chain inside
    BadHash,             // a HASH payload that does not verify
    MissingPayload,      // a required payload is absent
    UnknownPeer,         // main mode from an address no peer is configured for, or
                         // aggressive mode from a peer configured for main mode
    UnknownIdentity,     // aggressive mode with an identity no peer may present
    Count
};
inline constexpr size_t kDropCount = static_cast<size_t>(Drop::Count);
std::string_view name(Drop drop);

struct EngineCounters {
    uint64_t received = 0;
    uint64_t sent = 0;
    uint64_t retransmitted = 0;
    uint64_t phase1_established = 0;
    uint64_t child_sas_installed = 0;
    ike::DhPoolCounters dh;
    std::array<uint64_t, kDropCount> drops{};
};

// "NO-PROPOSAL-CHOSEN" for the error notifications the log names; "" for others.
std::string_view notify_name(uint16_t type);

// RFC 3706 §3: what phase 1 sends to say it answers R-U-THERE.
const std::vector<uint8_t>& dpd_vendor_id();
// RFC 3947 §3.1: what phase 1 sends to say it does NAT traversal.
const std::vector<uint8_t>& natt_vendor_id();
bool offers_natt(const std::vector<Payload>& payloads);
// Whether the peer's phase 1 payloads include the DPD vendor ID.
bool offers_dpd(const std::vector<Payload>& payloads);

// Our Ni_b and Nr_b (RFC 2409 §5: 8 to 256 bytes).
inline constexpr size_t kNonceLength = 32;

class Engine {
public:
    Engine(ike::IkeIo& io, ike::ChildSaInstaller& installer, EngineOptions options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // As ike::IkeEngine: a peer whose settings did not change keeps its SAs.
    void configure(std::vector<ike::PeerConfig> peers);
    void start();
    void stop();
    bool running() const { return running_; }
    bool restart_peer(std::string_view name);

    // A datagram for us on UDP 500 (or 4500 without the non-ESP marker).
    void on_datagram(const Endpoint& local, const Endpoint& remote, std::span<const uint8_t> message);
    void tick();

    std::vector<ike::PeerStatus> status() const;
    const std::deque<ike::LogEntry>& log() const { return log_.entries(); }
    const EngineCounters& counters() const { return counters_; }
    size_t sa_count() const { return sas_.size(); }
    const std::vector<ike::PeerConfig>& peers() const { return peers_; }
    void set_log_sink(std::function<void(const ike::LogEntry&)> sink) { log_.set_sink(std::move(sink)); }

private:
    // ---- engine.cpp
    void note(size_t peer, std::string text);
    void note(const Phase1Sa& sa, std::string text);
    void drop(Drop reason, const Endpoint& from, std::string_view detail);
    Phase1Sa& new_sa(bool initiator, size_t peer, const Endpoint& local, const Endpoint& remote);
    Phase1Sa* find_sa(const Header& h, const Endpoint& remote);
    std::optional<size_t> peer_for_address(uint32_t address) const;
    std::vector<uint8_t> random_bytes(size_t n);
    void transmit(const Endpoint& from, const Endpoint& to, std::span<const uint8_t> bytes);
    // Sends `bytes` as the exchange's flight: answering `answered` (empty for the first
    // message), retransmitted on the timer when `awaiting` an answer.
    void send_flight(Phase1Sa& sa, Flight& flight, std::vector<uint8_t> bytes, std::span<const uint8_t> answered,
                     bool awaiting);
    // false: the flight gave up.
    bool retransmit(Phase1Sa& sa, Flight& flight, Clock::time_point now);
    // A message of the exchange, encrypted under `iv` (which then moves on).
    std::vector<uint8_t> seal(Phase1Sa& sa, ExchangeType exchange, uint32_t message_id, crypto::ike1::IvChain& iv,
                              const std::vector<Payload>& payloads);
    // The payloads of an encrypted message under `iv` (which does not move); nullopt
    // after a counted drop.
    std::optional<Chain> open(const Message& message, Phase1Sa& sa, const crypto::ike1::IvChain& iv,
                              crypto::SecretBytes& plaintext, const Endpoint& from);
    // The first message of a quick mode or informational exchange: decrypted under the
    // exchange's first IV (set in `iv`, RFC 2409 Appendix B), its first payload a
    // HASH(1) over the rest that verifies (§5.5, §5.7). nullopt after a counted drop.
    std::optional<Chain> open_first(Phase1Sa& sa, const Message& message, crypto::ike1::IvChain& iv,
                                    crypto::SecretBytes& plaintext, std::string_view what);
    // Unencrypted notification to the peer before phase 1 is up (RFC 2408 §5: no SA to
    // protect it yet), so that it can log why.
    void send_error(Phase1Sa& sa, uint16_t type);
    void kill(Phase1Sa& sa, std::string_view why, bool retry);
    void remove_children(Phase1Sa& sa);
    void schedule_retry(size_t peer, Clock::time_point when);
    void timers(Phase1Sa& sa, Clock::time_point now);
    // An established ISAKMP SA left without phase 2 SAs or quick modes (its own were
    // replaced and drained: our phase 1 rekey, or both sides initiating at once) while a
    // newer one of the peer's carries them: that one, else nullptr. A newer empty SA is
    // kept: it may be the peer's phase 1 rekey, whose DELETE of the old one moves the
    // phase 2 SAs over (adopt_children).
    const Phase1Sa* superseded_by(const Phase1Sa& sa, Clock::time_point now) const;

    // Phase 1 in the peer's mode: main, or aggressive (PeerConfig::aggressive).
    void initiate(size_t peer);

    // ---- exchange_main_mode.cpp
    void initiate_main(size_t peer);
    void respond_main_1(const Message& message, const Endpoint& local, const Endpoint& remote);
    void on_main_mode(Phase1Sa& sa, const Message& message);
    void on_main_2(Phase1Sa& sa, const Message& message);
    void on_key_exchange(Phase1Sa& sa, const Message& message);
    void on_main_5(Phase1Sa& sa, const Message& message);
    void on_main_6(Phase1Sa& sa, const Message& message);
    // The responder's choice among the peer's offer, and the initiator's check of the
    // answer; false after the SA was killed with the log line that names both sides'.
    bool choose_phase1(Phase1Sa& sa, const SaPayload& offer);
    bool check_phase1_answer(Phase1Sa& sa, const SaPayload& answer);
    // The peer's KE and nonce (main mode message 3 or 4, aggressive mode 1 or 2): as
    // responder first our DH key pair and nonce; then g^xy, SKEYID and the rest, the
    // cipher and the first phase 1 IV. false after the SA was killed (an unusable KE is
    // INVALID-KEY-INFORMATION to the peer).
    bool exchange_keys(Phase1Sa& sa, const KePayload& ke, const NoncePayload& nonce);
    // Phase 1 is up: its lifetimes start, and the log says with whom.
    void establish(Phase1Sa& sa);
    // Our ID payload, and its HASH_I or HASH_R.
    IdPayload our_id(const Phase1Sa& sa) const;
    // Message 5 or 6's payloads: ID and HASH (PSK), or ID, CERT and SIG (signatures);
    // nullopt when signing failed (the SA is then closed).
    std::optional<std::vector<Payload>> our_authentication(Phase1Sa& sa);
    // The peer's INITIAL-CONTACT in `sa`'s main mode: its older ISAKMP SAs (and their
    // phase 2 SAs) are gone on its side, so they go here too, without DELETEs.
    void initial_contact(Phase1Sa& sa);
    // With signatures: a CR naming each of our CAs, in message 3 or 4.
    void add_certificate_requests(const Phase1Sa& sa, std::vector<Payload>& payloads) const;
    crypto::SecretBytes auth_hash(const Phase1Sa& sa, bool of_initiator, std::span<const uint8_t> id_body) const;
    // The peer's ID and HASH in main mode message 5 or 6 (or aggressive mode message 2).
    bool authenticate(Phase1Sa& sa, const std::vector<Payload>& payloads, const Chain& chain,
                      std::span<const uint8_t> plain);
    // The peer's ID (`id_body` its body as received) and its HASH_I or HASH_R; false
    // (logged, the SA killed, and the notification sent to the peer by a main mode
    // responder or either side of aggressive mode, whose responder cannot tell
    // otherwise) when they do not authenticate it.
    bool authenticate(Phase1Sa& sa, const IdPayload& id, std::span<const uint8_t> id_body, const HashPayload& hash);
    // The same with signatures: the peer's CERT must be trusted and hold the identity,
    // its SIG verify over HASH_I or HASH_R.
    bool authenticate_signature(Phase1Sa& sa, const std::vector<Payload>& payloads, const IdPayload& id,
                                std::span<const uint8_t> id_body, const SignaturePayload& signature);
    // The identity the peer presented is `remote-id` (or its address): then it is the
    // SA's, and we follow the peer to port 4500 if it moved there.
    bool accept_identity(Phase1Sa& sa, const IdPayload& id);
    // Logs `log_line`, tells the peer `notification` where it would not know otherwise,
    // and closes the SA; false.
    bool refuse(Phase1Sa& sa, uint16_t notification, std::string_view reason, std::string log_line);
    void on_notification(Phase1Sa* sa, const Message& message, const Endpoint& remote);

    // ---- exchange_aggressive_mode.cpp
    void initiate_aggressive(size_t peer);
    void respond_aggressive_1(const Message& message, const Endpoint& local, const Endpoint& remote);
    // The peer message 1 is from: the peer with its address when that one is configured
    // for aggressive mode and presents its identity, else the `any` peer whose remote-id
    // is the identity presented. nullopt after a counted drop.
    std::optional<size_t> aggressive_peer(const IdPayload& id, const Endpoint& remote);
    void on_aggressive_mode(Phase1Sa& sa, const Message& message);
    void on_aggressive_2(Phase1Sa& sa, const Message& message);
    void on_aggressive_3(Phase1Sa& sa, const Message& message);

    // ---- nat_traversal.cpp
    // NAT-D of the peer's address and ours, when the peer does NAT traversal.
    void add_nat_discovery(const Phase1Sa& sa, std::vector<Payload>& payloads) const;
    // The peer's NAT-D against our view: NAT in front of either side; the initiator
    // then moves to port 4500.
    void check_nat(Phase1Sa& sa, const std::vector<Payload>& payloads);
    // After a message of the peer authenticated: follow it to port 4500, or to its new
    // port behind a NAT.
    void follow_peer(Phase1Sa& sa);
    void nat_keepalive(Phase1Sa& sa, Clock::time_point now);

    // ---- exchange_informational.cpp
    void send_informational(Phase1Sa& sa, Payload payload);
    // DELETE for every phase 2 SA and then the ISAKMP SA (ipsec stop, reconfiguration).
    void send_deletes(Phase1Sa& sa);
    void send_dpd(Phase1Sa& sa, uint16_t type, uint32_t sequence);
    void on_informational(Phase1Sa& sa, const Message& message);
    // The peer deleted the phase 2 SA it sends on with `outbound_spi` (ours to it),
    // whichever of its ISAKMP SAs holds it.
    void delete_child(const Phase1Sa& by, uint32_t outbound_spi);
    // Phase 2 SAs outlive their ISAKMP SA (RFC 2409 §5.5): when `sa` goes and the peer
    // has another established one, its phase 2 SAs move there. false: none moved.
    bool adopt_children(Phase1Sa& sa);
    void dead_peer_detection(Phase1Sa& sa, Clock::time_point now);
    // Phase 2 rekeying at the soft lifetime and deletion at the hard one.
    void phase2_lifetimes(Phase1Sa& sa, Clock::time_point now);

    // ---- exchange_quick_mode.cpp
    void start_quick_modes(Phase1Sa& sa);
    void start_quick(Phase1Sa& sa, const Ipv4Prefix& local_net, const Ipv4Prefix& remote_net);
    void on_quick_mode(Phase1Sa& sa, const Message& message);
    void respond_quick_1(Phase1Sa& sa, const Message& message);
    void on_quick_2(Phase1Sa& sa, QuickMode& qm, const Message& message);
    void on_quick_3(Phase1Sa& sa, QuickMode& qm, const Message& message);
    bool install(Phase1Sa& sa, QuickMode& qm);

    ike::IkeIo& io_;
    ike::ChildSaInstaller& installer_;
    EngineOptions options_;
    std::vector<ike::PeerConfig> peers_;
    std::vector<std::optional<Clock::time_point>> retry_at_;
    std::map<uint64_t, std::unique_ptr<Phase1Sa>> sas_;  // by our cookie
    bool running_ = false;
    uint64_t next_serial_ = 1;
    ike::EngineLog log_;
    EngineCounters counters_;
    // The datagram on_datagram is handling: what a flight answers, and what the
    // extents of a plaintext message (SAi_b) point into.
    std::vector<uint8_t> message_bytes_;
    Endpoint message_local_, message_remote_;
    ike::DhPool dh_pool_{options_.dh_pool_depth, counters_.dh};
};

}  // namespace mbox::ike1

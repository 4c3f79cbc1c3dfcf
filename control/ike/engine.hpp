// The IKEv2 engine (RFC 7296) on the control thread: peers from the configuration,
// IKE SAs by SPI, the four exchanges (one file each: exchange_*.cpp), retransmission,
// rekeying, dead-peer detection, and the log that says why a tunnel is not up. Its
// only ways out are IkeIo and ChildSaInstaller, so tests run two engines in one
// process with nothing but memory between them.
#pragma once

#include <array>
#include <cstdint>
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
#include "control/ike/engine_support.hpp"
#include "control/ike/ike_sa.hpp"
#include "control/ike/io.hpp"
#include "control/ike/types.hpp"

namespace mbox::ike {

struct EngineOptions {
    Timing timing;
    size_t cookie_threshold = 16;   // half-open IKE SAs above which IKE_SA_INIT needs a COOKIE (§2.6)
    size_t max_half_open = 2048;    // above this, IKE_SA_INIT is refused (counted)
    size_t max_ike_sas = 20000;
    // IKE SAs we initiate that may be under negotiation at once: `ipsec start` with many
    // peers is paced (the rest start as these complete, checked every tick) so that
    // neither the ARP hold queue nor the peers' receive buffers overflow.
    size_t max_initiating = 64;
    // DH key pairs kept ready per configured group, and the time each tick may spend
    // generating them (dh_pool.hpp).
    size_t dh_pool_depth = 16;
    std::chrono::microseconds dh_pool_budget{5000};
};

// Messages the engine did not act on, by reason (shown by `show ipsec status --json`).
enum class IkeDrop : uint8_t {
    Malformed,             // header or payload chain does not parse
    UnsupportedVersion,    // major version other than 2 (answered INVALID_MAJOR_VERSION)
    UnknownSpi,            // no IKE SA with this SPI
    UnexpectedResponse,    // a response to nothing we asked, or a stale one
    InvalidMessageId,      // a request outside the window
    Retransmission,        // a request we already answered: the cached response is sent again
    IntegrityFailed,       // the SK payload's ICV is wrong
    DecryptionFailed,      // bad padding or length after a good ICV
    MissingPayload,        // a required payload is absent
    UnexpectedExchange,    // an exchange not valid in the IKE SA's state
    UnknownPeer,           // IKE_SA_INIT from an address no peer is configured for
    HalfOpenLimit,         // IKE_SA_INIT refused: too many half-open IKE SAs
    CookieMismatch,        // IKE_SA_INIT with a wrong or missing COOKIE when one is required
    Count
};
inline constexpr size_t kIkeDropCount = static_cast<size_t>(IkeDrop::Count);
std::string_view name(IkeDrop drop);

struct EngineCounters {
    uint64_t received = 0;
    uint64_t sent = 0;
    uint64_t retransmitted = 0;
    uint64_t ike_sas_established = 0;
    uint64_t child_sas_installed = 0;
    uint64_t child_rekeys = 0;
    uint64_t ike_rekeys = 0;
    uint64_t cookies_sent = 0;
    DhPoolCounters dh;
    std::array<uint64_t, kIkeDropCount> drops{};
};

class IkeEngine {
public:
    IkeEngine(IkeIo& io, ChildSaInstaller& installer, EngineOptions options = {});
    ~IkeEngine();
    IkeEngine(const IkeEngine&) = delete;
    IkeEngine& operator=(const IkeEngine&) = delete;

    // Replaces the peer list. A peer whose settings did not change keeps its SAs and
    // its traffic; a removed or changed one is deleted (DELETE sent), and a changed or
    // new one is initiated again when the engine runs.
    void configure(std::vector<PeerConfig> peers);
    // `ipsec start`: initiate to every peer with a fixed address; answer all.
    void start();
    // `ipsec stop`: DELETE every IKE SA, remove every CHILD SA, answer no one.
    void stop();
    bool running() const { return running_; }
    // `clear ipsec peer NAME`: delete its SAs and initiate again. false: no such peer.
    bool restart_peer(std::string_view name);

    // A datagram for us on UDP 500, or on 4500 with the non-ESP marker removed.
    void on_datagram(const Endpoint& local, const Endpoint& remote, std::span<const uint8_t> message);
    // Timers: retransmissions, rekeying, expiry, DPD, keepalives, half-open expiry. Call
    // at least every 100 ms.
    void tick();

    std::vector<PeerStatus> status() const;
    const std::deque<LogEntry>& log() const { return log_.entries(); }
    const EngineCounters& counters() const { return counters_; }
    size_t ike_sa_count() const { return sas_.size(); }
    size_t half_open_count() const;
    size_t initiating_count() const;  // ours, not yet established
    const std::vector<PeerConfig>& peers() const { return peers_; }
    // Every log line also goes here (mboxd: its log on stderr).
    void set_log_sink(std::function<void(const LogEntry&)> sink) { log_.set_sink(std::move(sink)); }

private:
    // ---- engine.cpp: dispatch, sending, timers, bookkeeping
    void note(size_t peer, std::string text);
    void note(const IkeSa& sa, std::string text);
    void drop(IkeDrop reason, const Endpoint& from, std::string_view detail);
    IkeSa* find_sa(uint64_t our_spi);
    IkeSa& new_sa(Role role, size_t peer, const Endpoint& local, const Endpoint& remote);
    uint64_t new_spi();
    std::vector<uint8_t> random_bytes(size_t n);
    void send_request(IkeSa& sa, PendingRequest request);
    void start_next_request(IkeSa& sa);
    void send_response(IkeSa& sa, std::vector<uint8_t> bytes, uint32_t message_id);
    void transmit(const Endpoint& from, const Endpoint& to, std::span<const uint8_t> bytes);
    void retransmit_or_give_up(IkeSa& sa, Clock::time_point now);
    void timers(IkeSa& sa, Clock::time_point now);
    void kill(IkeSa& sa, std::string_view why, bool retry);
    void remove_children(IkeSa& sa);
    void remove_child(ChildSa& child);
    void schedule_retry(size_t peer, Clock::time_point when);
    // Initiates to the peers whose time has come, as long as fewer than max_initiating
    // of ours are negotiating. Returns true when some are still waiting.
    bool start_due_peers(Clock::time_point now);
    void delete_peer_sas(size_t peer, bool send_delete);
    void on_encrypted(IkeSa& sa, const Message& message, std::span<const uint8_t> datagram,
                      const Endpoint& local, const Endpoint& remote);
    std::optional<size_t> peer_for_address(uint32_t address) const;
    IkeSa* established_sa(size_t peer);
    bool peer_connecting(size_t peer) const;
    void update_endpoints(IkeSa& sa, const Endpoint& local, const Endpoint& remote);

    // ---- protection.cpp: the SK payload
    std::vector<uint8_t> seal(IkeSa& sa, ExchangeType exchange, bool response, uint32_t message_id,
                              const std::vector<Payload>& inner);

    // ---- exchange_ike_sa_init.cpp
    void initiate(size_t peer);
    void send_sa_init(IkeSa& sa);
    void respond_sa_init(const Message& request, std::span<const uint8_t> datagram, const Endpoint& local,
                         const Endpoint& remote);
    void on_sa_init_response(IkeSa& sa, const Message& response, std::span<const uint8_t> datagram);
    bool derive_ike_keys(IkeSa& sa, const crypto::SecretBytes& shared);
    std::vector<Payload> nat_detection(uint64_t spi_i, uint64_t spi_r, const Endpoint& source,
                                       const Endpoint& destination);
    // `spi_r`: as in the header the NAT-D payloads came with (0 in the IKE_SA_INIT request, §2.23).
    void check_nat(IkeSa& sa, const std::vector<Payload>& payloads, uint64_t spi_r, const Endpoint& local,
                   const Endpoint& remote);
    std::vector<uint8_t> cookie_for(uint64_t spi_i, std::span<const uint8_t> nonce, const Endpoint& remote);

    // ---- exchange_ike_auth.cpp
    void send_auth(IkeSa& sa);
    void respond_auth(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner);
    void on_auth_response(IkeSa& sa, PendingRequest& request, const std::vector<Payload>& inner);
    std::vector<uint8_t> auth_octets(const IkeSa& sa, bool ours, const IdPayload& id) const;
    bool verify_auth(IkeSa& sa, const IdPayload& id, const AuthPayload& auth, const std::vector<Payload>& inner);
    // CERT (and in a request CERTREQ, RFC 7296 §3.6-3.7) for an rsa-sig peer; none for PSK.
    std::vector<Payload> certificate_payloads(const PeerConfig& peer, bool request);
    std::optional<AuthPayload> make_auth(IkeSa& sa, const IdPayload& id);
    // Derives KEYMAT and installs both directions (inbound first). `we_initiated`: of the
    // exchange that made it, which decides which half of KEYMAT is inbound (§2.17).
    bool install_child(IkeSa& sa, ChildSa child, bool we_initiated, std::span<const uint8_t> nonce_i,
                       std::span<const uint8_t> nonce_r, const crypto::SecretBytes* shared,
                       std::optional<uint32_t> replaces_outbound, bool with_outbound = true);
    void establish(IkeSa& sa, const Identity& remote_identity);

    // ---- exchange_create_child_sa.cpp
    void start_child_rekey(IkeSa& sa, uint32_t inbound_spi);
    void start_ike_rekey(IkeSa& sa);
    void respond_create_child(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner);
    void on_create_child_response(IkeSa& sa, PendingRequest& request, const std::vector<Payload>& inner);
    void respond_ike_rekey(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner, const SaPayload& offer);
    IkeSa& adopt_rekeyed(IkeSa& old_sa, std::unique_ptr<IkeSa> next);
    void replace_child(IkeSa& sa, ChildSa& old, uint32_t successor_inbound);
    void start_drain(ChildSa& child);
    ChildSa* child_by_inbound(IkeSa& sa, uint32_t spi);
    ChildSa* child_by_outbound(IkeSa& sa, uint32_t spi);
    // A CHILD SA from a rekey of `old`; resolves simultaneous rekeys (§2.8.1).
    void install_rekeyed_child(IkeSa& sa, uint32_t old_inbound, ChildSa child, bool we_initiated,
                               std::span<const uint8_t> nonce_i, std::span<const uint8_t> nonce_r,
                               const crypto::SecretBytes* shared);

    // ---- exchange_informational.cpp
    void send_delete_children(IkeSa& sa, std::vector<uint32_t> inbound_spis);
    // `wait`: a proper request, answered before the IKE SA goes; otherwise sent once
    // and forgotten (ipsec stop, a superseded IKE SA).
    void send_delete_ike(IkeSa& sa, bool wait = false);
    void send_liveness(IkeSa& sa);
    void respond_informational(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner);
    void on_informational_response(IkeSa& sa, PendingRequest& request, const std::vector<Payload>& inner);
    void send_error_response(IkeSa& sa, ExchangeType exchange, uint32_t message_id, uint16_t notify_type);

    IkeIo& io_;
    ChildSaInstaller& installer_;
    EngineOptions options_;
    std::vector<PeerConfig> peers_;
    std::vector<std::optional<Clock::time_point>> retry_at_;  // per peer: when to initiate again
    std::map<uint64_t, std::unique_ptr<IkeSa>> sas_;          // by our SPI
    bool running_ = false;
    bool peers_waiting_ = false;  // paced peers wait to be initiated: check after each datagram
    uint64_t next_serial_ = 1;
    std::array<uint8_t, 32> cookie_secret_{};
    EngineLog log_;
    EngineCounters counters_;
    DhPool dh_pool_{options_.dh_pool_depth, counters_.dh};
};

}  // namespace mbox::ike

// What the IKEv2 engine (control/ike/engine.*) and the IKEv1 engine
// (control/ike1/engine.*) do alike, kept in one place: the log they keep, the
// retransmission back-off, which peers survive a reconfiguration, the DH groups to
// keep ready, a CHILD SA's line in the status, and the check of a peer's certificate.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/ike/ike_sa.hpp"
#include "control/ike/io.hpp"
#include "control/ike/types.hpp"

namespace mbox::ike {

struct LogEntry {
    std::chrono::system_clock::time_point when;
    std::string peer;
    std::string text;
};

// What `show ipsec status` / `show ipsec peer` print, per peer.
struct ChildStatus {
    uint32_t inbound_spi = 0, outbound_spi = 0;
    std::string algorithms;       // "AES_CBC-128/HMAC_SHA1_96"
    std::string pfs;              // "MODP-2048" or ""
    std::vector<Ipv4Prefix> local_ts, remote_ts;
    bool udp_encapsulated = false;
    std::string state;            // installed, rekeying, replaced, deleting
    double age = 0, rekey_in = 0, expires_in = 0;  // seconds
    SaUsage in, out;
};
struct IkeSaStatus {
    uint64_t spi_i = 0, spi_r = 0;
    bool initiator = false;
    std::string state;
    std::string suite;            // "AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP-2048"
    Endpoint local, remote;
    bool natt = false, nat_local = false, nat_remote = false;
    std::string remote_identity;
    // rekey_in < 0: this side does not rekey it (an IKEv1 ISAKMP SA of a peer that
    // does not initiate: the peer replaces it, or it expires).
    double age = 0, rekey_in = 0, expires_in = 0;
    std::vector<ChildStatus> children;
};
struct PeerStatus {
    std::string name;
    std::string state;            // "up", "connecting", "down"
    std::string version_auth;     // "IKEv2(PSK)"
    std::string esp;              // the configured ESP suite
    std::vector<Ipv4Prefix> local_nets, remote_nets;
    uint64_t tx_bytes = 0, rx_bytes = 0;
    double uptime = 0;            // seconds since the current IKE SA was established
    std::vector<IkeSaStatus> ike_sas;
};

// The last entries of an engine's log, each also handed to a sink (mboxd: stderr).
class EngineLog {
public:
    void add(std::string peer, std::string text);
    // Hostile floods must not flood the log: true for the first few of a count, then
    // for every 1000th.
    static bool worth_logging(uint64_t count) { return count <= 10 || count % 1000 == 0; }
    const std::deque<LogEntry>& entries() const { return entries_; }
    void set_sink(std::function<void(const LogEntry&)> sink) { sink_ = std::move(sink); }

private:
    std::deque<LogEntry> entries_;
    std::function<void(const LogEntry&)> sink_;
};

// When the next retransmission of a message sent `sent` times is due after the last.
Clock::duration retransmit_delay(const Timing& timing, unsigned sent);

// For each old peer, its index in `next` when it is there with the same settings
// (its SAs are kept), else nullopt.
std::vector<std::optional<size_t>> kept_peers(const std::vector<PeerConfig>& old, const std::vector<PeerConfig>& next);

// The DH groups of the peers' ike-policies and PFS groups (for the DhPool).
std::vector<uint16_t> dh_groups(const std::vector<PeerConfig>& peers);

// The peer's certificate from a CERT payload (X.509, encoding 4), trusted: it chains to
// one of `peer.cas` and vouches for the identity it `presented` (RFC 4945 §3.1: subject
// DN, or an IP or DNS subjectAltName). nullptr with `why`, a log line, otherwise.
std::unique_ptr<crypto::Certificate> trusted_certificate(const PeerConfig& peer, std::span<const uint8_t> der,
                                                         const Identity& presented, std::string& why);

// A duration in seconds, for status fields (age, rekey_in, expires_in).
double seconds(Clock::duration d);

// A CHILD SA as `show ipsec peer` shows it, with its usage from the installer.
ChildStatus child_status(const ChildSa& child, ChildSaInstaller& installer, Clock::time_point now);

}  // namespace mbox::ike

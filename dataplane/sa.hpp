// Security associations as the workers see them. The control thread builds them
// (keys expanded once into the crypto session) and hands them over through the command
// rings; from then on one worker, the SA's owner, writes its sequence number, replay
// window and counters. Others hand packets for it to the owner.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/ipv4.hpp"
#include "crypto/esp_session.hpp"
#include "dataplane/drop_reasons.hpp"
#include "dataplane/replay_window.hpp"

namespace mbox::dataplane {

struct NextHop;

struct SaCounters {
    uint64_t packets = 0;  // inner packets encapsulated / decapsulated
    uint64_t bytes = 0;    // inner bytes
    uint64_t drops[kDropReasonCount] = {};
};

// What both directions share.
struct SaCommon {
    enum class Direction : uint8_t { Inbound, Outbound };
    explicit SaCommon(Direction d) : direction(d) {}

    Direction direction;
    std::string name;                 // the tunnel it belongs to, for show commands
    uint32_t spi = 0;                 // host order
    unsigned owner = 0;               // the worker that processes this SA's packets
    bool esn = false;
    std::unique_ptr<crypto::EspSession> session;
    uint32_t local_address = 0;       // tunnel endpoints, host order
    uint32_t peer_address = 0;
    uint16_t udp_local_port = 0;      // both 0: raw ESP (IP protocol 50)
    uint16_t udp_peer_port = 0;
    std::vector<Ipv4Prefix> local_nets;
    std::vector<Ipv4Prefix> remote_nets;
    SaCounters counters;              // written by the owner only
    // TSC of the last packet the owner processed (read once per burst, not per packet);
    // set to the install time by the control thread before the SA is handed over.
    uint64_t last_used_tsc = 0;
};

struct alignas(64) OutboundSa : SaCommon {
    OutboundSa() : SaCommon(Direction::Outbound) {}
    enum class Df : uint8_t { Copy, Set, Clear };  // the outer header's DF bit (RFC 4301 §8.1)
    Df df = Df::Copy;
    uint64_t seq = 0;       // last sequence number sent (the owner writes it)
    uint16_t ip_id = 0;     // outer IPv4 identification
    // The route to the peer, looked up once per forwarding snapshot rather than per
    // packet: valid while route_serial is the worker's ForwardingState::serial (the
    // owner writes both).
    const NextHop* route = nullptr;
    uint64_t route_serial = 0;
    // Set by Dataplane::replace_outbound_sa before the OutboundSaReplace command: the SA
    // whose policies this one takes over. Compared, never dereferenced after that command.
    const OutboundSa* replaced = nullptr;
};

struct alignas(64) InboundSa : SaCommon {
    explicit InboundSa(uint32_t window, bool esn_enabled)
        : SaCommon(Direction::Inbound), replay(window, esn_enabled) {}
    ReplayWindow replay;

    // RFC 4301 §5.2: the decrypted packet must match the SA's selectors.
    bool selectors_match(uint32_t inner_src, uint32_t inner_dst) const {
        bool src_ok = false, dst_ok = false;
        for (const auto& p : remote_nets) src_ok |= p.contains(Ipv4Address{inner_src});
        for (const auto& p : local_nets) dst_ok |= p.contains(Ipv4Address{inner_dst});
        return src_ok && dst_ok;
    }
};

}  // namespace mbox::dataplane

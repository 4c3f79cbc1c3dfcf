// NAT traversal for IKEv1 (RFC 3947, RFC 3948):
//
//   1  HDR, SA, VID(RFC 3947)           -->
//                                       <--  2  HDR, SA, VID(RFC 3947)
//   3  HDR, KE, Ni, NAT-D, NAT-D        -->
//                                       <--  4  HDR, KE, Nr, NAT-D, NAT-D
//   5  HDR*#, IDii, HASH_I              -->  (from and to UDP 4500 when a NAT was seen)
//                                       <--  6  HDR*#, IDir, HASH_R
//
// Each NAT-D is HASH(CKY-I | CKY-R | IP | Port) in the negotiated hash: the first is of
// the receiver's address as the sender sees it, the second of the sender's own. When
// either does not match, a NAT is in the way: the initiator moves the exchange to port
// 4500 from message 5 on, quick mode negotiates UDP-encapsulated tunnel mode, ESP goes
// in UDP 4500, and the side behind the NAT sends keepalives. Only RFC 3947's form is
// spoken; a peer that sends just the drafts' vendor IDs is treated as one without NAT-T.
#include <algorithm>

#include <fmt/format.h>

#include "control/ike1/engine.hpp"
#include "crypto/ike_hash.hpp"

namespace mbox::ike1 {

namespace {

std::array<uint8_t, 8> be64(uint64_t v) {
    std::array<uint8_t, 8> out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
    return out;
}

std::vector<uint8_t> nat_hash(const Phase1Sa& sa, const Endpoint& e) {
    const auto ci = be64(sa.cookie_i), cr = be64(sa.cookie_r);
    const std::array<uint8_t, 6> address_port{
        static_cast<uint8_t>(e.address >> 24), static_cast<uint8_t>(e.address >> 16),
        static_cast<uint8_t>(e.address >> 8),  static_cast<uint8_t>(e.address),
        static_cast<uint8_t>(e.port >> 8),     static_cast<uint8_t>(e.port)};
    const std::span<const uint8_t> pieces[] = {ci, cr, address_port};
    return crypto::digest(sa.prf(), pieces);
}

}  // namespace

// MD5("RFC 3947").
const std::vector<uint8_t>& natt_vendor_id() {
    static const std::vector<uint8_t> id{0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
                                         0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f};
    return id;
}

bool offers_natt(const std::vector<Payload>& payloads) { return has_vendor_id(payloads, natt_vendor_id()); }

void Engine::add_nat_discovery(const Phase1Sa& sa, std::vector<Payload>& payloads) const {
    if (!sa.peer_natt) return;
    payloads.push_back(NatDiscoveryPayload{nat_hash(sa, sa.remote)});
    payloads.push_back(NatDiscoveryPayload{nat_hash(sa, sa.local)});
}

void Engine::check_nat(Phase1Sa& sa, const std::vector<Payload>& payloads) {
    if (!sa.peer_natt) {
        if (peers_[sa.peer].nated)
            note(sa, "the peer does not announce NAT traversal (RFC 3947): `nated` cannot be honoured, ESP stays raw");
        return;
    }
    std::vector<const NatDiscoveryPayload*> hashes;
    for (const auto& p : payloads)
        if (const auto* d = std::get_if<NatDiscoveryPayload>(&p)) hashes.push_back(d);
    // No NAT-D despite the vendor ID: the peer does not want to float; assume no NAT.
    if (hashes.empty()) return;
    const auto ours = nat_hash(sa, sa.local), theirs = nat_hash(sa, sa.remote);
    sa.nat_local = hashes.front()->data != ours || peers_[sa.peer].nated;
    sa.nat_remote = std::none_of(hashes.begin() + 1, hashes.end(),
                                 [&](const NatDiscoveryPayload* d) { return d->data == theirs; });
    if (!sa.nat_local && !sa.nat_remote) return;
    note(sa, fmt::format("NAT detected ({}{}{}): moving to port {}, ESP in UDP", sa.nat_local ? "in front of us" : "",
                         sa.nat_local && sa.nat_remote ? ", " : "", sa.nat_remote ? "in front of the peer" : "",
                         ike::kNattPort));
    // The initiator moves with message 5 (RFC 3947 §4); the responder follows when
    // message 5 arrives there (follow_peer).
    if (sa.initiator) {
        sa.natt = true;
        sa.local.port = ike::kNattPort;
        sa.remote.port = ike::kNattPort;
    }
}

void Engine::follow_peer(Phase1Sa& sa) {
    const Endpoint& local = message_local_;
    const Endpoint& remote = message_remote_;
    if (remote.address != sa.remote.address) return;
    if (!sa.natt && local.port == ike::kNattPort) {
        sa.natt = true;
        sa.local = local;
        sa.remote = remote;
        return;
    }
    // A NAT in front of the peer may give it another port (a rebinding): follow an
    // authenticated message's source, on the NAT-T port only (RFC 3947 §4 keeps the
    // rule of RFC 7296 §2.23 in spirit; strongSwan and libreswan do the same).
    if (sa.natt && sa.nat_remote && local.port == ike::kNattPort && remote.port != sa.remote.port) {
        note(sa, fmt::format("the peer moved from {} to {}", sa.remote.to_string(), remote.to_string()));
        sa.remote = remote;
    }
}

void Engine::nat_keepalive(Phase1Sa& sa, Clock::time_point now) {
    if (!sa.natt || !sa.nat_local || now < sa.next_keepalive) return;
    io_.send_keepalive(sa.local, sa.remote);
    sa.next_keepalive = now + options_.timing.nat_keepalive;
}

}  // namespace mbox::ike1

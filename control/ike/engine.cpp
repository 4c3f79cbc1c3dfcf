// The engine's frame: message dispatch (by exchange, role and message ID), sending and
// retransmission, timers, the log. The exchanges themselves are in exchange_*.cpp.
#include "control/ike/engine.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "control/ike/protection.hpp"

namespace mbox::ike {

namespace {

constexpr std::string_view kDropNames[] = {
    "malformed",         "unsupported_version", "unknown_spi",       "unexpected_response", "invalid_message_id",
    "retransmission",    "integrity_failed",    "decryption_failed", "missing_payload",     "unexpected_exchange",
    "unknown_peer",      "half_open_limit",     "cookie_mismatch",
};
static_assert(std::size(kDropNames) == kIkeDropCount);

}  // namespace

std::string_view name(IkeDrop drop) { return kDropNames[static_cast<size_t>(drop)]; }

std::string_view to_string(IkeState state) {
    switch (state) {
    case IkeState::InitSent: return "IKE_SA_INIT sent";
    case IkeState::InitDone: return "half-open";
    case IkeState::AuthSent: return "IKE_AUTH sent";
    case IkeState::Established: return "established";
    case IkeState::Deleting: return "deleting";
    case IkeState::Dead: return "dead";
    }
    return "?";
}

IkeEngine::IkeEngine(IkeIo& io, ChildSaInstaller& installer, EngineOptions options)
    : io_(io), installer_(installer), options_(options) {
    io_.random(cookie_secret_);
}

IkeEngine::~IkeEngine() {
    for (auto& [spi, sa] : sas_) remove_children(*sa);
    crypto::secure_wipe(cookie_secret_.data(), cookie_secret_.size());
}

// ---- log and counters

void IkeEngine::note(size_t peer, std::string text) {
    log_.add(peer < peers_.size() ? peers_[peer].name : std::string{}, std::move(text));
}

void IkeEngine::note(const IkeSa& sa, std::string text) {
    note(sa.peer, fmt::format("IKE SA #{} {:016x}_i {:016x}_r: {}", sa.serial, sa.spi_i, sa.spi_r, text));
}

void IkeEngine::drop(IkeDrop reason, const Endpoint& from, std::string_view detail) {
    ++counters_.drops[static_cast<size_t>(reason)];
    const uint64_t n = counters_.drops[static_cast<size_t>(reason)];
    if (EngineLog::worth_logging(n))
        note(SIZE_MAX, fmt::format("dropped a message from {}: {} ({}; {} so far)", from.to_string(), detail,
                                   name(reason), n));
}

size_t IkeEngine::half_open_count() const {
    return static_cast<size_t>(std::count_if(sas_.begin(), sas_.end(), [](const auto& entry) {
        return entry.second->state == IkeState::InitDone;
    }));
}

// ---- SAs

IkeSa* IkeEngine::find_sa(uint64_t our_spi) {
    auto it = sas_.find(our_spi);
    return it == sas_.end() || it->second->state == IkeState::Dead ? nullptr : it->second.get();
}

std::vector<uint8_t> IkeEngine::random_bytes(size_t n) {
    std::vector<uint8_t> out(n);
    io_.random(out);
    return out;
}

uint64_t IkeEngine::new_spi() {
    for (;;) {
        uint64_t spi = 0;
        io_.random(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&spi), sizeof spi));
        if (spi != 0 && !sas_.contains(spi)) return spi;
    }
}

IkeSa& IkeEngine::new_sa(Role role, size_t peer, const Endpoint& local, const Endpoint& remote) {
    auto sa = std::make_unique<IkeSa>();
    sa->serial = next_serial_++;
    sa->role = role;
    sa->peer = peer;
    sa->local = local;
    sa->remote = remote;
    sa->created = sa->last_heard = io_.now();
    const uint64_t spi = new_spi();
    (role == Role::Initiator ? sa->spi_i : sa->spi_r) = spi;
    IkeSa& ref = *sa;
    sas_.emplace(spi, std::move(sa));
    return ref;
}

size_t IkeEngine::initiating_count() const {
    return static_cast<size_t>(std::count_if(sas_.begin(), sas_.end(), [](const auto& entry) {
        return entry.second->state == IkeState::InitSent || entry.second->state == IkeState::AuthSent;
    }));
}

std::optional<size_t> IkeEngine::peer_for_address(uint32_t address) const {
    for (size_t i = 0; i < peers_.size(); ++i)
        if (peers_[i].address == address) return i;
    return std::nullopt;
}

IkeSa* IkeEngine::established_sa(size_t peer) {
    for (auto& [spi, sa] : sas_)
        if (sa->peer == peer && sa->state == IkeState::Established && !sa->rekeyed) return sa.get();
    return nullptr;
}

bool IkeEngine::peer_connecting(size_t peer) const {
    return std::any_of(sas_.begin(), sas_.end(), [&](const auto& entry) {
        return entry.second->peer == peer && entry.second->state != IkeState::Dead &&
               entry.second->state != IkeState::Deleting;
    });
}

void IkeEngine::remove_child(ChildSa& child) {
    if (child.outbound_spi != 0 && child.outbound_active) installer_.remove_outbound(child.outbound_spi);
    child.outbound_active = false;
    if (child.inbound_spi != 0) installer_.remove_inbound(child.inbound_spi);
    child.inbound_spi = child.outbound_spi = 0;
}

void IkeEngine::remove_children(IkeSa& sa) {
    for (auto& child : sa.children) remove_child(child);
    sa.children.clear();
    if (sa.pending && sa.pending->child && sa.pending->child->inbound_spi != 0) {
        installer_.release_spi(sa.pending->child->inbound_spi);
        sa.pending->child->inbound_spi = 0;
    }
}

void IkeEngine::kill(IkeSa& sa, std::string_view why, bool retry) {
    if (sa.state == IkeState::Dead) return;
    note(sa, fmt::format("closed: {}", why));
    remove_children(sa);
    sa.state = IkeState::Dead;
    sa.pending.reset();
    sa.queued.clear();
    if (retry && running_ && sa.peer < peers_.size() && peers_[sa.peer].initiates())
        schedule_retry(sa.peer, io_.now() + options_.timing.retry_after_failure);
}

void IkeEngine::schedule_retry(size_t peer, Clock::time_point when) {
    if (peer >= retry_at_.size()) return;
    if (!retry_at_[peer] || *retry_at_[peer] > when) retry_at_[peer] = when;
}

void IkeEngine::delete_peer_sas(size_t peer, bool send_delete) {
    for (auto& [spi, sa] : sas_) {
        if (sa->peer != peer || sa->state == IkeState::Dead) continue;
        if (send_delete && sa->state == IkeState::Established) send_delete_ike(*sa);
        kill(*sa, "deleted by configuration or operator", false);
    }
}

// ---- configuration and operator commands

void IkeEngine::configure(std::vector<PeerConfig> peers) {
    // Old peer index -> new index, for peers whose settings did not change.
    const auto kept = kept_peers(peers_, peers);
    for (size_t old = 0; old < peers_.size(); ++old) {
        if (!kept[old]) {
            note(old, "configuration removed or changed: deleting its SAs");
            delete_peer_sas(old, running_);
        }
    }
    std::vector<std::optional<Clock::time_point>> retry(peers.size());
    std::vector<bool> has_sas(peers.size(), false);
    for (auto& [spi, sa] : sas_) {
        if (sa->state == IkeState::Dead) continue;
        sa->peer = kept[sa->peer].value_or(SIZE_MAX);
        if (sa->peer != SIZE_MAX) has_sas[sa->peer] = true;
    }
    for (size_t old = 0; old < peers_.size(); ++old)
        if (kept[old]) retry[*kept[old]] = retry_at_[old];
    peers_ = std::move(peers);
    retry_at_ = std::move(retry);
    dh_pool_.set_groups(dh_groups(peers_));
    if (!running_) return;
    // New and changed peers start at the next tick, paced like `ipsec start`.
    for (size_t i = 0; i < peers_.size(); ++i)
        if (peers_[i].initiates() && !has_sas[i] && !retry_at_[i]) retry_at_[i] = io_.now();
}

void IkeEngine::start() {
    if (running_) return;
    running_ = true;
    size_t initiating = initiating_count();
    for (size_t i = 0; i < peers_.size(); ++i) {
        if (!peers_[i].initiates()) continue;
        if (initiating < options_.max_initiating) {
            initiate(i);
            ++initiating;
        } else {
            retry_at_[i] = io_.now();  // paced: started as others complete
            peers_waiting_ = true;
        }
    }
}

void IkeEngine::stop() {
    for (auto& [spi, sa] : sas_) {
        if (sa->state == IkeState::Established) send_delete_ike(*sa);
        kill(*sa, "ipsec stop", false);
    }
    sas_.clear();
    std::fill(retry_at_.begin(), retry_at_.end(), std::nullopt);
    running_ = false;
}

bool IkeEngine::restart_peer(std::string_view name) {
    for (size_t i = 0; i < peers_.size(); ++i) {
        if (peers_[i].name != name) continue;
        note(i, "restarted by the operator");
        delete_peer_sas(i, true);
        retry_at_[i].reset();
        if (running_ && peers_[i].initiates()) initiate(i);
        return true;
    }
    return false;
}

// ---- sending

void IkeEngine::transmit(const Endpoint& from, const Endpoint& to, std::span<const uint8_t> bytes) {
    ++counters_.sent;
    io_.send(from, to, bytes);
}

void IkeEngine::send_request(IkeSa& sa, PendingRequest request) {
    request.sent = 1;
    request.first_sent = io_.now();
    request.next_send = request.first_sent + options_.timing.retransmit_base;
    request.from = sa.local;
    request.to = sa.remote;
    transmit(request.from, request.to, request.bytes);
    ++sa.next_request_id;
    sa.pending = std::move(request);
}

void IkeEngine::start_next_request(IkeSa& sa) {
    while (!sa.pending && !sa.queued.empty() && sa.state == IkeState::Established) {
        QueuedRequest next = std::move(sa.queued.front());
        sa.queued.pop_front();
        switch (next.kind) {
        case RequestKind::RekeyChild:
            if (!next.spis.empty()) start_child_rekey(sa, next.spis.front());
            break;
        case RequestKind::RekeyIke: start_ike_rekey(sa); break;
        case RequestKind::DeleteChild: send_delete_children(sa, std::move(next.spis)); break;
        case RequestKind::DeleteIke: send_delete_ike(sa, true); break;
        case RequestKind::Liveness: send_liveness(sa); break;
        case RequestKind::SaInit:
        case RequestKind::Auth: break;
        }
    }
}

void IkeEngine::send_response(IkeSa& sa, std::vector<uint8_t> bytes, uint32_t message_id) {
    transmit(sa.local, sa.remote, bytes);
    sa.last_response = std::move(bytes);
    sa.last_response_id = message_id;
    sa.has_last_response = true;
    sa.expected_request_id = message_id + 1;
}

std::vector<uint8_t> IkeEngine::seal(IkeSa& sa, ExchangeType exchange, bool response, uint32_t message_id,
                                     const std::vector<Payload>& inner) {
    Header h;
    h.spi_i = sa.spi_i;
    h.spi_r = sa.spi_r;
    h.exchange = exchange;
    h.message_id = message_id;
    h.flags = static_cast<uint8_t>((sa.is_initiator() ? header_flags::kInitiator : 0) |
                                   (response ? header_flags::kResponse : 0));
    const auto iv = random_bytes(sa.outgoing->iv_length());
    return ike::seal(*sa.outgoing, h, inner, iv);
}

void IkeEngine::retransmit_or_give_up(IkeSa& sa, Clock::time_point now) {
    PendingRequest& p = *sa.pending;
    // A liveness check (`dpd N`) gives up after 3 N seconds without an answer, or the
    // usual retransmissions, whichever ends first: an operator who asks for DPD every N
    // seconds expects a dead peer to be noticed in a few times N.
    const bool liveness = p.kind == RequestKind::Liveness;
    const auto dpd = sa.peer < peers_.size() ? peers_[sa.peer].dpd : std::chrono::seconds(0);
    if (liveness && dpd.count() > 0 && now - p.first_sent >= 3 * dpd) {
        kill(sa, fmt::format("no answer to the liveness check for {} s (dead peer detected)", 3 * dpd.count()), true);
        return;
    }
    if (now < p.next_send) return;
    if (p.sent > options_.timing.retransmit_tries) {
        kill(sa, fmt::format("no answer after {} transmissions{}", p.sent, liveness ? " (dead peer detected)" : ""),
             true);
        return;
    }
    transmit(p.from, p.to, p.bytes);
    ++counters_.retransmitted;
    p.next_send = now + retransmit_delay(options_.timing, p.sent);
    ++p.sent;
}

// ---- receiving

void IkeEngine::on_datagram(const Endpoint& local, const Endpoint& remote, std::span<const uint8_t> bytes) {
    ++counters_.received;
    const auto header = parse_header(bytes);
    if (!header) return drop(IkeDrop::Malformed, remote, "shorter than an IKE header");
    if (header->major_version != 2)
        return drop(IkeDrop::UnsupportedVersion, remote, fmt::format("major version {}", header->major_version));
    if (!running_) return drop(IkeDrop::UnknownPeer, remote, "ipsec is stopped");
    auto parsed = parse_message(bytes);
    if (auto* error = std::get_if<ParseError>(&parsed)) return drop(IkeDrop::Malformed, remote, error->reason);
    const Message& message = std::get<Message>(parsed);
    const Header& h = message.header;

    if (h.exchange == ExchangeType::IkeSaInit && !h.is_response()) {
        if (h.spi_r != 0 || !h.from_initiator())
            return drop(IkeDrop::UnexpectedExchange, remote, "IKE_SA_INIT request with a responder SPI");
        respond_sa_init(message, bytes, local, remote);
    } else {
        const uint64_t ours = h.from_initiator() ? h.spi_r : h.spi_i;
        IkeSa* sa = find_sa(ours);
        if (sa == nullptr) return drop(IkeDrop::UnknownSpi, remote, fmt::format("SPI {:016x}", ours));
        if (h.from_initiator() == sa->is_initiator())
            return drop(IkeDrop::UnknownSpi, remote, "the Initiator flag does not match the IKE SA");
        if (h.exchange == ExchangeType::IkeSaInit) {
            if (sa->state != IkeState::InitSent || !sa->pending || sa->pending->message_id != h.message_id)
                return drop(IkeDrop::UnexpectedResponse, remote, "IKE_SA_INIT response out of turn");
            on_sa_init_response(*sa, message, bytes);
        } else {
            const uint64_t theirs = sa->is_initiator() ? h.spi_r : h.spi_i;
            if (theirs != (sa->is_initiator() ? sa->spi_r : sa->spi_i) || sa->state == IkeState::InitSent)
                return drop(IkeDrop::UnknownSpi, remote, "the peer's SPI does not match the IKE SA");
            on_encrypted(*sa, message, bytes, local, remote);
        }
    }
    std::erase_if(sas_, [](const auto& entry) { return entry.second->state == IkeState::Dead; });
    if (peers_waiting_ && running_) peers_waiting_ = start_due_peers(io_.now());
}

void IkeEngine::update_endpoints(IkeSa& sa, const Endpoint& local, const Endpoint& remote) {
    // The initiator floated to 4500 after IKE_SA_INIT (§2.23): follow it there.
    if (!sa.natt && local.port == kNattPort) {
        sa.natt = true;
        sa.local = local;
        sa.remote = remote;
        return;
    }
    // Behind a NAT the peer's public port can change (a NAT rebinding): follow an
    // authenticated message's source (RFC 7296 §2.23), only on the NAT-T port.
    if (sa.natt && sa.nat_remote && remote.port != 0 && !(remote == sa.remote) && remote.address == sa.remote.address) {
        note(sa, fmt::format("the peer moved from {} to {}", sa.remote.to_string(), remote.to_string()));
        sa.remote = remote;
    }
}

void IkeEngine::on_encrypted(IkeSa& sa, const Message& message, std::span<const uint8_t> datagram,
                             const Endpoint& local, const Endpoint& remote) {
    const Header& h = message.header;
    const bool response = h.is_response();
    bool retransmission = false;
    if (response) {
        if (!sa.pending || sa.pending->message_id != h.message_id)
            return drop(IkeDrop::UnexpectedResponse, remote, fmt::format("response with message ID {}", h.message_id));
    } else if (sa.has_last_response && h.message_id == sa.last_response_id) {
        retransmission = true;
    } else if (h.message_id != sa.expected_request_id) {
        return drop(IkeDrop::InvalidMessageId, remote,
                    fmt::format("request with message ID {}, expected {}", h.message_id, sa.expected_request_id));
    }
    if (!sa.incoming) return drop(IkeDrop::UnexpectedExchange, remote, "no keys yet");
    auto opened = open(*sa.incoming, message, datagram);
    if (auto* error = std::get_if<OpenError>(&opened))
        return drop(error->integrity ? IkeDrop::IntegrityFailed : IkeDrop::DecryptionFailed, remote, error->reason);
    if (retransmission) {
        // §2.1: a retransmitted request gets the same response again, nothing else.
        ++counters_.drops[static_cast<size_t>(IkeDrop::Retransmission)];
        transmit(sa.local, sa.remote, sa.last_response);
        return;
    }
    const auto& inner = std::get<std::vector<Payload>>(opened);
    sa.last_heard = io_.now();
    update_endpoints(sa, local, remote);

    if (!response) {
        for (const auto& p : inner) {
            const auto* unknown = std::get_if<UnknownPayload>(&p);
            if (unknown != nullptr && unknown->critical) {
                note(sa, fmt::format("request with an unsupported critical payload (type {})", unknown->type));
                return send_error_response(sa, h.exchange, h.message_id, notify::kUnsupportedCriticalPayload);
            }
        }
        switch (h.exchange) {
        case ExchangeType::IkeAuth:
            if (sa.is_initiator() || sa.state != IkeState::InitDone)
                return drop(IkeDrop::UnexpectedExchange, remote, "IKE_AUTH request in the wrong state");
            return respond_auth(sa, h.message_id, inner);
        case ExchangeType::CreateChildSa:
            if (sa.state != IkeState::Established && sa.state != IkeState::Deleting)
                return drop(IkeDrop::UnexpectedExchange, remote, "CREATE_CHILD_SA before the IKE SA is up");
            return respond_create_child(sa, h.message_id, inner);
        case ExchangeType::Informational:
            if (sa.state == IkeState::InitDone || sa.state == IkeState::AuthSent)
                return drop(IkeDrop::UnexpectedExchange, remote, "INFORMATIONAL before the IKE SA is up");
            return respond_informational(sa, h.message_id, inner);
        case ExchangeType::IkeSaInit: break;
        }
        return drop(IkeDrop::UnexpectedExchange, remote, "unknown exchange type");
    }

    PendingRequest request = std::move(*sa.pending);
    sa.pending.reset();
    switch (request.kind) {
    case RequestKind::Auth: on_auth_response(sa, request, inner); break;
    case RequestKind::RekeyChild:
    case RequestKind::RekeyIke: on_create_child_response(sa, request, inner); break;
    case RequestKind::DeleteChild:
    case RequestKind::DeleteIke:
    case RequestKind::Liveness: on_informational_response(sa, request, inner); break;
    case RequestKind::SaInit: break;
    }
    if (sa.state != IkeState::Dead) start_next_request(sa);
}

// ---- timers

void IkeEngine::timers(IkeSa& sa, Clock::time_point now) {
    if (sa.pending) retransmit_or_give_up(sa, now);
    if (sa.state == IkeState::Dead) return;
    if (sa.state == IkeState::InitDone && now - sa.created > options_.timing.half_open_timeout)
        return kill(sa, "half-open: no IKE_AUTH arrived", false);
    if (sa.state != IkeState::Established) return;
    if (sa.rekeyed) {
        if (now >= sa.expire_at) kill(sa, "the peer never deleted the IKE SA it rekeyed", false);
        return;
    }
    const PeerConfig* peer = sa.peer < peers_.size() ? &peers_[sa.peer] : nullptr;

    // ESP from the peer counts as hearing from it (DPD, RFC 7296 §2.4).
    uint64_t inbound = 0;
    for (auto& child : sa.children) {
        if (child.inbound_spi == 0) continue;
        inbound += installer_.inbound_usage(child.inbound_spi).packets;
    }
    if (inbound != sa.seen_inbound_packets) {
        sa.seen_inbound_packets = inbound;
        sa.last_heard = now;
    }

    std::vector<uint32_t> expired;
    for (auto& child : sa.children) {
        if (child.state == ChildState::Replaced) {
            // Make-before-break: the old inbound SA stays until its traffic stops (no
            // packet for a second) or the drain time runs out.
            const SaUsage use = installer_.inbound_usage(child.inbound_spi);
            const bool quiet = use.packets == child.drain_packets;
            child.drain_packets = use.packets;
            if (now >= child.drain_until || (quiet && now - child.replaced_at >= std::chrono::seconds(1))) {
                installer_.remove_inbound(child.inbound_spi);
                child.inbound_spi = 0;
            }
            continue;
        }
        if (now >= child.expire_at && child.state != ChildState::Deleting) {
            expired.push_back(child.inbound_spi);
            child.state = ChildState::Deleting;
            continue;
        }
        if (child.state == ChildState::Installed && now >= child.rekey_at) {
            child.state = ChildState::Rekeying;
            sa.queued.push_back({RequestKind::RekeyChild, {child.inbound_spi}});
        }
    }
    std::erase_if(sa.children, [](const ChildSa& c) { return c.inbound_spi == 0; });
    if (!expired.empty()) {
        note(sa, fmt::format("{} CHILD SA(s) reached their hard lifetime", expired.size()));
        sa.queued.push_back({RequestKind::DeleteChild, expired});
    }

    if (now >= sa.expire_at) return kill(sa, "hard lifetime reached", true);
    if (now >= sa.rekey_at && sa.rekey_at != Clock::time_point{}) {
        sa.rekey_at = Clock::time_point{};  // once
        sa.queued.push_back({RequestKind::RekeyIke, {}});
    }
    if (peer != nullptr && peer->dpd.count() > 0 && !sa.pending && sa.queued.empty() &&
        now - sa.last_heard >= peer->dpd)
        sa.queued.push_back({RequestKind::Liveness, {}});
    if (sa.natt && sa.nat_local && now >= sa.next_keepalive) {
        io_.send_keepalive(sa.local, sa.remote);
        sa.next_keepalive = now + options_.timing.nat_keepalive;
    }
    start_next_request(sa);
}

bool IkeEngine::start_due_peers(Clock::time_point now) {
    size_t initiating = initiating_count();
    bool waiting = false;
    for (size_t i = 0; i < peers_.size(); ++i) {
        if (!retry_at_[i] || now < *retry_at_[i]) continue;
        if (initiating >= options_.max_initiating) {
            waiting = true;
            continue;
        }
        retry_at_[i].reset();
        if (!peer_connecting(i)) {
            initiate(i);
            ++initiating;
        }
    }
    return waiting;
}

void IkeEngine::tick() {
    const auto now = io_.now();
    if (running_) peers_waiting_ = start_due_peers(now);
    for (auto& [spi, sa] : sas_)
        if (sa->state != IkeState::Dead) timers(*sa, now);
    std::erase_if(sas_, [](const auto& entry) { return entry.second->state == IkeState::Dead; });
    // Last, with what is left of the tick: key pairs for the next negotiations. Wall
    // time on purpose (io_.now() is the protocol's clock and may be simulated).
    if (running_) dh_pool_.refill(std::chrono::steady_clock::now() + options_.dh_pool_budget);
}

// ---- status

std::vector<PeerStatus> IkeEngine::status() const {
    const auto now = io_.now();
    std::vector<PeerStatus> out;
    for (size_t i = 0; i < peers_.size(); ++i) {
        const PeerConfig& peer = peers_[i];
        PeerStatus s;
        s.name = peer.name;
        s.state = "down";
        s.version_auth = peer.auth == AuthKind::Psk ? "IKEv2(PSK)" : "IKEv2(RSA)";
        s.esp = peer.esp.to_string();
        s.local_nets = peer.local_nets;
        s.remote_nets = peer.remote_nets;
        for (const auto& [spi, sa] : sas_) {
            if (sa->peer != i || sa->state == IkeState::Dead || sa->rekeyed) continue;
            IkeSaStatus v;
            v.spi_i = sa->spi_i;
            v.spi_r = sa->spi_r;
            v.initiator = sa->is_initiator();
            v.state = std::string(to_string(sa->state));
            v.suite = sa->state == IkeState::InitSent ? peer.ike.to_string() : sa->suite.to_string();
            v.local = sa->local;
            v.remote = sa->remote;
            v.natt = sa->natt;
            v.nat_local = sa->nat_local;
            v.nat_remote = sa->nat_remote;
            v.remote_identity = sa->remote_identity.data.empty() ? "" : sa->remote_identity.to_string();
            v.age = seconds(now - (sa->state == IkeState::Established ? sa->established : sa->created));
            if (sa->state == IkeState::Established) {
                v.rekey_in = sa->rekey_at == Clock::time_point{} ? 0 : std::max(0.0, seconds(sa->rekey_at - now));
                v.expires_in = std::max(0.0, seconds(sa->expire_at - now));
                if (s.state != "up") s.uptime = v.age;
                s.state = "up";
            } else if (s.state == "down") {
                s.state = "connecting";
            }
            for (const auto& child : sa->children) {
                ChildStatus c = child_status(child, installer_, now);
                s.rx_bytes += c.in.bytes;
                s.tx_bytes += c.out.bytes;
                v.children.push_back(std::move(c));
            }
            s.ike_sas.push_back(std::move(v));
        }
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace mbox::ike

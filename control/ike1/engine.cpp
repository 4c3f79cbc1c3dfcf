// The IKEv1 engine's frame: dispatch by cookies and exchange, flights and their
// retransmission, timers, the log, status. The exchanges are in exchange_*.cpp.
#include "control/ike1/engine.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mbox::ike1 {

namespace {

constexpr std::string_view kDropNames[] = {
    "malformed",  "unsupported_version", "unknown_cookie",  "unexpected_message", "retransmission",
    "decryption_failed", "bad_hash",      "missing_payload", "unknown_peer",     "unknown_identity",
};
static_assert(std::size(kDropNames) == kDropCount);

}  // namespace

std::string_view name(Drop drop) { return kDropNames[static_cast<size_t>(drop)]; }

std::string_view to_string(Phase1State state) {
    switch (state) {
    case Phase1State::Sent1: return "MM_SA sent";
    case Phase1State::Sent2: return "MM_SA answered";
    case Phase1State::Sent3: return "MM_KE sent";
    case Phase1State::Sent4: return "MM_KE answered";
    case Phase1State::Sent5: return "MM_AUTH sent";
    case Phase1State::AggrSent1: return "AM_SA sent";
    case Phase1State::AggrSent2: return "AM_SA answered";
    case Phase1State::Established: return "established";
    case Phase1State::Dead: return "dead";
    }
    return "?";
}

Engine::Engine(ike::IkeIo& io, ike::ChildSaInstaller& installer, EngineOptions options)
    : io_(io), installer_(installer), options_(options) {}

Engine::~Engine() {
    for (auto& [cookie, sa] : sas_) remove_children(*sa);
}

// ---- log and counters

void Engine::note(size_t peer, std::string text) {
    log_.add(peer < peers_.size() ? peers_[peer].name : std::string{}, std::move(text));
}

void Engine::note(const Phase1Sa& sa, std::string text) {
    note(sa.peer, fmt::format("ISAKMP SA #{} {:016x}_i {:016x}_r: {}", sa.serial, sa.cookie_i, sa.cookie_r, text));
}

void Engine::drop(Drop reason, const Endpoint& from, std::string_view detail) {
    const uint64_t n = ++counters_.drops[static_cast<size_t>(reason)];
    if (ike::EngineLog::worth_logging(n))
        note(SIZE_MAX, fmt::format("dropped a message from {}: {} ({}; {} so far)", from.to_string(), detail,
                                   name(reason), n));
}

// ---- SAs

std::vector<uint8_t> Engine::random_bytes(size_t n) {
    std::vector<uint8_t> out(n);
    io_.random(out);
    return out;
}

Phase1Sa& Engine::new_sa(bool initiator, size_t peer, const Endpoint& local, const Endpoint& remote) {
    auto sa = std::make_unique<Phase1Sa>();
    sa->serial = next_serial_++;
    sa->initiator = initiator;
    sa->state = initiator ? Phase1State::Sent1 : Phase1State::Sent2;
    sa->peer = peer;
    sa->local = local;
    sa->remote = remote;
    sa->created = sa->last_heard = io_.now();
    uint64_t cookie = 0;
    while (cookie == 0 || sas_.contains(cookie))
        io_.random(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&cookie), sizeof cookie));
    (initiator ? sa->cookie_i : sa->cookie_r) = cookie;
    Phase1Sa& ref = *sa;
    sas_.emplace(cookie, std::move(sa));
    return ref;
}

Phase1Sa* Engine::find_sa(const Header& h, const Endpoint& remote) {
    // Ours as initiator: our cookie is CKY-I, and CKY-R is the peer's once it answered.
    if (auto it = sas_.find(h.cookie_i); it != sas_.end() && it->second->initiator && it->second->state != Phase1State::Dead &&
                                         (it->second->cookie_r == h.cookie_r || it->second->state == Phase1State::Sent1 ||
                                          it->second->state == Phase1State::AggrSent1))
        return it->second.get();
    if (auto it = sas_.find(h.cookie_r); it != sas_.end() && !it->second->initiator &&
                                         it->second->state != Phase1State::Dead && it->second->cookie_i == h.cookie_i)
        return it->second.get();
    // A retransmitted message 1 (no CKY-R yet): the responder SA it made, if any.
    if (h.cookie_r == 0)
        for (auto& [cookie, sa] : sas_)
            if (!sa->initiator && sa->cookie_i == h.cookie_i && sa->remote == remote && sa->state != Phase1State::Dead)
                return sa.get();
    return nullptr;
}

std::optional<size_t> Engine::peer_for_address(uint32_t address) const {
    for (size_t i = 0; i < peers_.size(); ++i)
        if (peers_[i].address == address) return i;
    return std::nullopt;
}

void Engine::remove_children(Phase1Sa& sa) {
    for (auto& child : sa.children) {
        if (child.outbound_spi != 0 && child.outbound_active) installer_.remove_outbound(child.outbound_spi);
        if (child.inbound_spi != 0) installer_.remove_inbound(child.inbound_spi);
    }
    sa.children.clear();
    for (auto& [id, qm] : sa.quick)
        if (!qm.done && qm.inbound_spi != 0) installer_.release_spi(qm.inbound_spi);
    sa.quick.clear();
}

void Engine::kill(Phase1Sa& sa, std::string_view why, bool retry) {
    if (sa.state == Phase1State::Dead) return;
    note(sa, fmt::format("closed: {}", why));
    remove_children(sa);
    sa.state = Phase1State::Dead;
    if (retry && running_ && sa.peer < peers_.size() && peers_[sa.peer].initiates())
        schedule_retry(sa.peer, io_.now() + options_.timing.retry_after_failure);
}

void Engine::schedule_retry(size_t peer, Clock::time_point when) {
    if (peer >= retry_at_.size()) return;
    if (!retry_at_[peer] || *retry_at_[peer] > when) retry_at_[peer] = when;
}

// ---- configuration and operator commands

void Engine::configure(std::vector<ike::PeerConfig> peers) {
    const auto kept = ike::kept_peers(peers_, peers);
    for (size_t old = 0; old < peers_.size(); ++old) {
        if (kept[old]) continue;
        note(old, "configuration removed or changed: deleting its SAs");
        for (auto& [cookie, sa] : sas_)
            if (sa->peer == old) {
                if (running_) send_deletes(*sa);
                kill(*sa, "deleted by configuration", false);
            }
    }
    std::vector<std::optional<Clock::time_point>> retry(peers.size());
    std::vector<bool> has_sas(peers.size(), false);
    for (auto& [cookie, sa] : sas_) {
        if (sa->state == Phase1State::Dead) continue;
        sa->peer = kept[sa->peer].value_or(SIZE_MAX);
        if (sa->peer != SIZE_MAX) has_sas[sa->peer] = true;
    }
    for (size_t old = 0; old < peers_.size(); ++old)
        if (kept[old]) retry[*kept[old]] = retry_at_[old];
    peers_ = std::move(peers);
    retry_at_ = std::move(retry);
    dh_pool_.set_groups(ike::dh_groups(peers_));
    if (!running_) return;
    for (size_t i = 0; i < peers_.size(); ++i)
        if (peers_[i].initiates() && !has_sas[i] && !retry_at_[i]) retry_at_[i] = io_.now();
}

void Engine::start() {
    if (running_) return;
    running_ = true;
    for (size_t i = 0; i < peers_.size(); ++i)
        if (peers_[i].initiates()) initiate(i);
}

void Engine::stop() {
    for (auto& [cookie, sa] : sas_) {
        send_deletes(*sa);
        kill(*sa, "ipsec stop", false);
    }
    sas_.clear();
    std::fill(retry_at_.begin(), retry_at_.end(), std::nullopt);
    running_ = false;
}

bool Engine::restart_peer(std::string_view name) {
    for (size_t i = 0; i < peers_.size(); ++i) {
        if (peers_[i].name != name) continue;
        note(i, "restarted by the operator");
        for (auto& [cookie, sa] : sas_)
            if (sa->peer == i) {
                send_deletes(*sa);
                kill(*sa, "restarted by the operator", false);
            }
        retry_at_[i].reset();
        if (running_ && peers_[i].initiates()) initiate(i);
        return true;
    }
    return false;
}

void Engine::initiate(size_t peer) {
    if (peers_[peer].aggressive) return initiate_aggressive(peer);
    initiate_main(peer);
}

// ---- sending

void Engine::transmit(const Endpoint& from, const Endpoint& to, std::span<const uint8_t> bytes) {
    ++counters_.sent;
    io_.send(from, to, bytes);
}

void Engine::send_flight(Phase1Sa& sa, Flight& flight, std::vector<uint8_t> bytes, std::span<const uint8_t> answered,
                         bool awaiting) {
    flight.bytes = std::move(bytes);
    flight.answered.assign(answered.begin(), answered.end());
    flight.awaiting = awaiting;
    flight.sent = 1;
    flight.first_sent = io_.now();
    flight.next_send = flight.first_sent + options_.timing.retransmit_base;
    transmit(sa.local, sa.remote, flight.bytes);
}

bool Engine::retransmit(Phase1Sa& sa, Flight& flight, Clock::time_point now) {
    if (!flight.awaiting || now < flight.next_send) return true;
    if (flight.sent > options_.timing.retransmit_tries) return false;
    transmit(sa.local, sa.remote, flight.bytes);
    ++counters_.retransmitted;
    flight.next_send = now + ike::retransmit_delay(options_.timing, flight.sent);
    ++flight.sent;
    return true;
}

std::vector<uint8_t> Engine::seal(Phase1Sa& sa, ExchangeType exchange, uint32_t message_id, crypto::ike1::IvChain& iv,
                                  const std::vector<Payload>& payloads) {
    Header h;
    h.cookie_i = sa.cookie_i;
    h.cookie_r = sa.cookie_r;
    h.exchange = exchange;
    h.message_id = message_id;
    h.flags = header_flags::kEncryption;
    h.next_payload = payload_type(payloads.front());
    const auto ciphertext = sa.cipher->encrypt(iv, serialize_payloads(payloads));
    return serialize_encrypted(h, ciphertext);
}

std::optional<Chain> Engine::open(const Message& message, Phase1Sa& sa, const crypto::ike1::IvChain& iv,
                                  crypto::SecretBytes& plaintext, const Endpoint& from) {
    if (!message.header.encrypted() || !sa.cipher) {
        drop(Drop::UnexpectedMessage, from, "expected an encrypted message");
        return std::nullopt;
    }
    auto plain = sa.cipher->decrypt(iv, message.encrypted);
    if (!plain) {
        drop(Drop::DecryptionFailed, from, "ciphertext not whole blocks");
        return std::nullopt;
    }
    auto chain = parse_payloads(message.header.next_payload, plain->span());
    if (auto* error = std::get_if<ParseError>(&chain)) {
        // Garbage after decryption: most often a key that differs, i.e. a pre-shared
        // key that differs, in phase 1 (RFC 2409 §5: it keys SKEYID).
        drop(Drop::DecryptionFailed, from, fmt::format("no payload chain after decryption ({})", error->reason));
        return std::nullopt;
    }
    plaintext = std::move(*plain);
    return std::get<Chain>(std::move(chain));
}

std::optional<Chain> Engine::open_first(Phase1Sa& sa, const Message& message, crypto::ike1::IvChain& iv,
                                        crypto::SecretBytes& plaintext, std::string_view what) {
    const uint32_t id = message.header.message_id;
    iv = crypto::ike1::IvChain(crypto::ike1::phase2_iv(sa.prf(), sa.iv.iv(), id, sa.cipher->block_size()));
    auto chain = open(message, sa, iv, plaintext, sa.remote);
    if (!chain) return std::nullopt;
    const auto* hash = chain->payloads.empty() ? nullptr : std::get_if<HashPayload>(&chain->payloads.front());
    if (hash == nullptr) {
        drop(Drop::MissingPayload, sa.remote, fmt::format("{} without HASH first", what));
        return std::nullopt;
    }
    const auto expected = crypto::ike1::message_hash(sa.prf(), sa.keys.skeyid_a, id, bytes_after(plaintext, *chain, 0));
    if (!expected.equals(hash->data)) {
        drop(Drop::BadHash, sa.remote, fmt::format("{}: HASH(1) does not verify", what));
        return std::nullopt;
    }
    follow_peer(sa);
    return chain;
}

void Engine::send_error(Phase1Sa& sa, uint16_t type) {
    Header h;
    h.cookie_i = sa.cookie_i;
    h.cookie_r = sa.cookie_r;
    h.exchange = ExchangeType::Informational;
    NotificationPayload n;
    n.protocol = static_cast<uint8_t>(ProtocolId::Isakmp);
    n.type = type;
    n.spi = sa.cookies();
    transmit(sa.local, sa.remote, serialize_message(h, {n}));
}

// ---- receiving

void Engine::on_datagram(const Endpoint& local, const Endpoint& remote, std::span<const uint8_t> bytes) {
    ++counters_.received;
    const auto header = parse_header(bytes);
    if (!header) return drop(Drop::Malformed, remote, "shorter than an ISAKMP header");
    if (header->major_version != 1 || header->minor_version != 0)
        return drop(Drop::UnsupportedVersion, remote,
                    fmt::format("version {}.{}", header->major_version, header->minor_version));
    if (!running_) return drop(Drop::UnknownPeer, remote, "ipsec is stopped");
    auto parsed = parse_message(bytes);
    if (auto* error = std::get_if<ParseError>(&parsed)) return drop(Drop::Malformed, remote, error->reason);
    const Message& message = std::get<Message>(parsed);
    const Header& h = message.header;
    message_bytes_.assign(bytes.begin(), bytes.end());
    message_local_ = local;
    message_remote_ = remote;

    Phase1Sa* sa = find_sa(h, remote);
    if (sa != nullptr) {
        // The message our last one answered, again: our answer was lost.
        if (!sa->flight.answered.empty() && std::ranges::equal(sa->flight.answered, bytes)) {
            ++counters_.drops[static_cast<size_t>(Drop::Retransmission)];
            ++counters_.retransmitted;
            transmit(sa->local, sa->remote, sa->flight.bytes);
            return;
        }
        for (auto& [id, qm] : sa->quick)
            if (!qm.flight.answered.empty() && std::ranges::equal(qm.flight.answered, bytes)) {
                ++counters_.drops[static_cast<size_t>(Drop::Retransmission)];
                ++counters_.retransmitted;
                transmit(sa->local, sa->remote, qm.flight.bytes);
                return;
            }
    }
    switch (h.exchange) {
    case ExchangeType::IdentityProtection:
    case ExchangeType::Aggressive: {
        const bool main = h.exchange == ExchangeType::IdentityProtection;
        if (sa == nullptr && h.cookie_r == 0)
            main ? respond_main_1(message, local, remote) : respond_aggressive_1(message, local, remote);
        else if (sa == nullptr) drop(Drop::UnknownCookie, remote, fmt::format("cookies {:016x} {:016x}", h.cookie_i, h.cookie_r));
        else main ? on_main_mode(*sa, message) : on_aggressive_mode(*sa, message);
        break;
    }
    case ExchangeType::Quick:
        if (sa == nullptr) drop(Drop::UnknownCookie, remote, "quick mode for no ISAKMP SA");
        else if (sa->state != Phase1State::Established) drop(Drop::UnexpectedMessage, remote, "quick mode before phase 1");
        else on_quick_mode(*sa, message);
        break;
    case ExchangeType::Informational:
        if (sa != nullptr && sa->state == Phase1State::Established && h.encrypted()) on_informational(*sa, message);
        else on_notification(sa, message, remote);
        break;
    default: drop(Drop::UnexpectedMessage, remote, fmt::format("exchange type {}", static_cast<int>(h.exchange)));
    }
    std::erase_if(sas_, [](const auto& entry) { return entry.second->state == Phase1State::Dead; });
}

// ---- timers

void Engine::timers(Phase1Sa& sa, Clock::time_point now) {
    // What the peer told us, unauthenticated, is the likely reason for either end.
    const std::string hint = !sa.failure.empty()                ? " (" + sa.failure + ")"
                             : sa.state == Phase1State::Sent5 || sa.state == Phase1State::AggrSent2
                                 ? " (the peer never accepted our authentication)"
                                                              : std::string();
    if (!retransmit(sa, sa.flight, now))
        return kill(sa, fmt::format("no answer after {} transmissions in {}{}", sa.flight.sent, to_string(sa.state), hint),
                    true);
    if (sa.state != Phase1State::Established) {
        if (now - sa.created > options_.timing.half_open_timeout)
            kill(sa,
                 fmt::format("{} mode not complete after {} s{}", sa.aggressive ? "aggressive" : "main",
                             options_.timing.half_open_timeout.count(), hint),
                 true);
        return;
    }
    phase2_lifetimes(sa, now);
    nat_keepalive(sa, now);
    for (auto& [id, qm] : sa.quick) {
        if (qm.done) continue;
        if (!retransmit(sa, qm.flight, now)) {
            note(sa, fmt::format("quick mode {:08x} for {} === {}: no answer after {} transmissions", id,
                                 qm.local_net.to_string(), qm.remote_net.to_string(), qm.flight.sent));
            if (qm.inbound_spi != 0) installer_.release_spi(qm.inbound_spi);
            qm.done = true;
        }
    }
    // Finished exchanges are kept a while to answer a retransmitted last message.
    std::erase_if(sa.quick, [&](const auto& entry) {
        return entry.second.done && now - entry.second.created > options_.timing.half_open_timeout;
    });
    if (now >= sa.expire_at) {
        // Phase 2 SAs outlive it under its successor, if there is one (the peer's phase 1
        // rekey adopts them, as strongSwan does); the peer is told this one goes.
        const bool kept = adopt_children(sa);
        send_deletes(sa);
        return kill(sa, "hard lifetime reached", !kept);
    }
    if (const Phase1Sa* successor = superseded_by(sa, now)) {
        note(sa, fmt::format("no phase 2 SA left, and the newer ISAKMP SA #{} carries the peer's: deleted",
                             successor->serial));
        send_deletes(sa);
        return kill(sa, "superseded", false);
    }
    // Phase 1 rekeying (RFC 2409 has none of its own): a new phase 1 before expiry;
    // its quick modes take over the networks' outbound traffic when they are installed.
    if (!sa.rekey_started && now >= sa.rekey_at && sa.peer < peers_.size() && peers_[sa.peer].initiates()) {
        sa.rekey_started = true;
        note(sa, fmt::format("soft lifetime reached: a new {} mode replaces this ISAKMP SA",
                             peers_[sa.peer].aggressive ? "aggressive" : "main"));
        initiate(sa.peer);
    }
    dead_peer_detection(sa, now);
}

const Phase1Sa* Engine::superseded_by(const Phase1Sa& sa, Clock::time_point now) const {
    if (!sa.children.empty() || now - sa.established < 2 * options_.timing.drain) return nullptr;
    if (std::any_of(sa.quick.begin(), sa.quick.end(), [](const auto& entry) { return !entry.second.done; }))
        return nullptr;
    for (const auto& [cookie, other] : sas_)
        if (other.get() != &sa && other->peer == sa.peer && other->state == Phase1State::Established &&
            other->established > sa.established && !other->children.empty())
            return other.get();
    return nullptr;
}

void Engine::tick() {
    const auto now = io_.now();
    if (running_)
        for (size_t i = 0; i < peers_.size(); ++i)
            if (retry_at_[i] && now >= *retry_at_[i]) {
                retry_at_[i].reset();
                const bool busy = std::any_of(sas_.begin(), sas_.end(), [&](const auto& e) {
                    return e.second->peer == i && e.second->state != Phase1State::Dead;
                });
                if (!busy) initiate(i);
            }
    for (auto& [cookie, sa] : sas_)
        if (sa->state != Phase1State::Dead) timers(*sa, now);
    std::erase_if(sas_, [](const auto& entry) { return entry.second->state == Phase1State::Dead; });
    if (running_) dh_pool_.refill(std::chrono::steady_clock::now() + options_.dh_pool_budget);
}

// ---- status

std::vector<ike::PeerStatus> Engine::status() const {
    const auto now = io_.now();
    std::vector<ike::PeerStatus> out;
    for (size_t i = 0; i < peers_.size(); ++i) {
        const auto& peer = peers_[i];
        ike::PeerStatus s;
        s.name = peer.name;
        s.state = "down";
        s.version_auth = fmt::format("IKEv1({}{})", peer.auth == ike::AuthKind::Psk ? "PSK" : "RSA",
                                     peer.aggressive ? ", aggressive" : "");
        s.esp = peer.esp.to_string();
        s.local_nets = peer.local_nets;
        s.remote_nets = peer.remote_nets;
        for (const auto& [cookie, sa] : sas_) {
            if (sa->peer != i || sa->state == Phase1State::Dead) continue;
            ike::IkeSaStatus v;
            v.spi_i = sa->cookie_i;
            v.spi_r = sa->cookie_r;
            v.initiator = sa->initiator;
            v.state = std::string(to_string(sa->state));
            v.suite = sa->choice ? describe(sa->choice->answer) : describe(phase1_sa(peer.ike, peer.ike_lifetime, 1));
            v.local = sa->local;
            v.remote = sa->remote;
            v.remote_identity = sa->remote_identity.data.empty() ? "" : sa->remote_identity.to_string();
            v.natt = sa->natt;
            v.nat_local = sa->nat_local;
            v.nat_remote = sa->nat_remote;
            const bool up = sa->state == Phase1State::Established;
            v.age = ike::seconds(now - (up ? sa->established : sa->created));
            if (up) {
                v.expires_in = std::max(0.0, ike::seconds(sa->expire_at - now));
                v.rekey_in = !peer.initiates() ? -1.0
                             : sa->rekey_started ? 0.0
                                                 : std::max(0.0, ike::seconds(sa->rekey_at - now));
                if (s.state != "up") s.uptime = v.age;
                s.state = "up";
            } else if (s.state == "down") {
                s.state = "connecting";
            }
            for (const auto& child : sa->children) {
                ike::ChildStatus c = ike::child_status(child, installer_, now);
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

}  // namespace mbox::ike1

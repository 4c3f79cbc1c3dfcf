// Two (or more) IKE engines in one process: a fake network that queues datagrams, a
// clock moved by hand, replayable randomness, and a fake SA installer that records
// what each side installed so that tests can compare keys across the tunnel. The
// engine is a parameter (Network::add<Engine>): the IKEv2 engine by default, the IKEv1
// engine (control/ike1/engine.hpp) for its tests; both take the same IkeIo and
// ChildSaInstaller.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/ike/engine.hpp"
#include "control/ike/io.hpp"

namespace mbox::ike::test {

struct Datagram {
    Endpoint from, to;
    std::vector<uint8_t> bytes;
};

class Network;

class FakeIo final : public IkeIo {
public:
    FakeIo(Network& net, uint64_t seed) : net_(net), rng_(seed) {}
    void send(const Endpoint& local, const Endpoint& remote, std::span<const uint8_t> message) override;
    void send_keepalive(const Endpoint&, const Endpoint&) override { ++keepalives; }
    Clock::time_point now() override;
    void random(std::span<uint8_t> out) override {
        for (auto& b : out) b = static_cast<uint8_t>(rng_());
    }
    unsigned keepalives = 0;

private:
    Network& net_;
    std::mt19937_64 rng_;
};

struct InstalledSa {
    ChildSaDescription description;
    std::vector<uint8_t> encryption, integrity;
    SaUsage usage;
};

class FakeInstaller final : public ChildSaInstaller {
public:
    explicit FakeInstaller(uint32_t first_spi) : next_spi_(first_spi) {}
    std::optional<uint32_t> allocate_spi() override {
        if (exhausted) return std::nullopt;
        reserved.insert(next_spi_);
        return next_spi_++;
    }
    void release_spi(uint32_t spi) override { reserved.erase(spi); }
    bool install_inbound(const ChildSaDescription& sa, const ChildSaKeys& keys, std::string& error) override {
        if (inbound.contains(sa.spi)) return error = "duplicate inbound SPI", false;
        reserved.erase(sa.spi);
        inbound[sa.spi] = record(sa, keys);
        return true;
    }
    bool install_outbound(const ChildSaDescription& sa, const ChildSaKeys& keys, std::optional<uint32_t> replaces,
                          std::string& error) override {
        if (replaces) {
            if (!outbound.contains(*replaces)) return error = "replaced SA unknown", false;
            outbound.erase(*replaces);
            ++replacements;
        } else {
            // As the data plane: a second SA for the same networks needs `replaces`.
            for (const auto& [spi, o] : outbound)
                if (o.description.local_nets == sa.local_nets && o.description.remote_nets == sa.remote_nets)
                    return error = "duplicate outbound policy", false;
        }
        outbound[sa.spi] = record(sa, keys);
        return true;
    }
    void remove_inbound(uint32_t spi) override { inbound.erase(spi); }
    void remove_outbound(uint32_t spi) override { outbound.erase(spi); }
    SaUsage inbound_usage(uint32_t spi) override { return inbound.contains(spi) ? inbound[spi].usage : SaUsage{}; }
    SaUsage outbound_usage(uint32_t spi) override { return outbound.contains(spi) ? outbound[spi].usage : SaUsage{}; }

    std::map<uint32_t, InstalledSa> inbound, outbound;
    std::set<uint32_t> reserved;
    unsigned replacements = 0;
    bool exhausted = false;

private:
    static InstalledSa record(const ChildSaDescription& sa, const ChildSaKeys& keys) {
        InstalledSa r;
        r.description = sa;
        r.encryption.assign(keys.encryption.data(), keys.encryption.data() + keys.encryption.size());
        r.integrity.assign(keys.integrity.data(), keys.integrity.data() + keys.integrity.size());
        return r;
    }
    uint32_t next_spi_;
};

// One host on the network, whatever engine it runs.
struct Node {
    virtual ~Node() = default;
    virtual uint32_t host() const = 0;
    virtual void deliver(const Endpoint& to, const Endpoint& from, std::span<const uint8_t> bytes) = 0;
    virtual void tick() = 0;
};

template <typename Engine>
struct BasicSide final : Node {
    template <typename... Options>
    BasicSide(Network& net, uint32_t address, uint64_t seed, uint32_t first_spi, Options&&... options)
        : address(address), io(net, seed), sas(first_spi), engine(io, sas, std::forward<Options>(options)...) {}
    uint32_t host() const override { return address; }
    void deliver(const Endpoint& to, const Endpoint& from, std::span<const uint8_t> bytes) override {
        engine.on_datagram(to, from, bytes);
    }
    void tick() override { engine.tick(); }
    uint32_t address;
    FakeIo io;
    FakeInstaller sas;
    Engine engine;
};
using Side = BasicSide<IkeEngine>;

// Delivers datagrams between sides by destination address. A NAT can be put in front of
// a side: its packets leave with `public_address` and a mapped port, and answers to
// that are mapped back.
class Network {
public:
    Clock::time_point now{std::chrono::hours(1)};
    std::deque<Datagram> queue;
    std::vector<Datagram> delivered;
    // Return false to lose a datagram (it is still counted in `dropped`).
    std::function<bool(const Datagram&)> filter;
    unsigned dropped = 0;

    // `options`: the engine's options, or none for its defaults.
    template <typename Engine = IkeEngine, typename... Options>
    BasicSide<Engine>& add(uint32_t address, uint64_t seed, uint32_t first_spi, Options&&... options) {
        auto side = std::make_unique<BasicSide<Engine>>(*this, address, seed, first_spi, std::forward<Options>(options)...);
        BasicSide<Engine>& ref = *side;
        sides_.push_back(std::move(side));
        return ref;
    }
    void nat(uint32_t inside, uint32_t public_address) { nats_[inside] = public_address; }

    void send(Datagram d) {
        if (auto it = nats_.find(d.from.address); it != nats_.end()) {
            const auto key = std::make_pair(d.from.address, d.from.port);
            if (!mappings_.contains(key)) mappings_[key] = static_cast<uint16_t>(40000 + mappings_.size());
            d.from = Endpoint{it->second, mappings_[key]};
        }
        queue.push_back(std::move(d));
    }

    // Delivers until nothing is queued (at most `limit` datagrams). Returns how many.
    unsigned run(unsigned limit = 1000) {
        unsigned n = 0;
        while (!queue.empty() && n < limit) {
            Datagram d = std::move(queue.front());
            queue.pop_front();
            ++n;
            if (filter && !filter(d)) {
                ++dropped;
                continue;
            }
            Endpoint to = d.to;
            for (const auto& [key, port] : mappings_)
                if (nats_.at(key.first) == to.address && port == to.port) to = Endpoint{key.first, key.second};
            for (auto& side : sides_) {
                if (side->host() != to.address) continue;
                delivered.push_back(d);
                side->deliver(to, d.from, d.bytes);
            }
        }
        return n;
    }

    // Moves the clock in steps, ticking every engine and delivering after each step.
    void advance(std::chrono::milliseconds total, std::chrono::milliseconds step = std::chrono::milliseconds(100)) {
        for (auto t = std::chrono::milliseconds(0); t < total; t += step) {
            now += step;
            for (auto& side : sides_) side->tick();
            run();
        }
    }

private:
    std::vector<std::unique_ptr<Node>> sides_;
    std::map<uint32_t, uint32_t> nats_;
    std::map<std::pair<uint32_t, uint16_t>, uint16_t> mappings_;
};

inline void FakeIo::send(const Endpoint& local, const Endpoint& remote, std::span<const uint8_t> message) {
    net_.send(Datagram{local, remote, {message.begin(), message.end()}});
}

inline Clock::time_point FakeIo::now() { return net_.now; }

// Log checks for either engine.
template <typename Engine>
bool log_has(const Engine& engine, std::string_view text) {
    return std::any_of(engine.log().begin(), engine.log().end(),
                       [&](const LogEntry& e) { return e.text.find(text) != std::string::npos; });
}

template <typename Engine>
std::string log_text(const Engine& engine) {
    std::string out;
    for (const auto& e : engine.log()) out += e.peer + ": " + e.text + "\n";
    return out;
}

// ---- rsa-sig: certificates from tests/control/data (make-fixtures.sh); MBOX_IKE_TEST_DATA
// is that directory, set by meson for the engine tests.

#ifdef MBOX_IKE_TEST_DATA
}  // namespace mbox::ike::test

#include <gtest/gtest.h>

#include "crypto/ike_signature.hpp"

namespace mbox::ike::test {

inline std::shared_ptr<const crypto::Certificate> certificate(const std::string& name) {
    std::string error;
    auto c = crypto::Certificate::load_pem_file(std::string(MBOX_IKE_TEST_DATA) + "/" + name, error);
    EXPECT_TRUE(c) << error;
    return c;
}

inline std::shared_ptr<const crypto::PrivateKey> private_key(const std::string& name) {
    std::string error;
    auto k = crypto::PrivateKey::load_pem_file(std::string(MBOX_IKE_TEST_DATA) + "/" + name, error);
    EXPECT_TRUE(k) << error;
    return k;
}

inline void use_certificate(PeerConfig& p, const std::string& name, const std::string& ca = "../../config/data/ca.pem") {
    p.auth = AuthKind::Rsa;
    p.psk = crypto::SecretBytes();
    p.certificate = certificate(name + ".pem");
    p.private_key = private_key(name + ".key");
    p.cas = {certificate(ca)};
}
#endif

}  // namespace mbox::ike::test

// libFuzzer harness: whole datagrams fed to an IKEv1 responder (control/ike1/engine.cpp)
// that already holds two established ISAKMP SAs, one from main mode with a peer known by
// address and one from aggressive mode with an `any` peer known by its identity, each
// with its phase 2 SA. The first input byte says how the rest is sent:
//
//   bits 0-1  the source: the main mode peer, the aggressive peer, a peer by address
//             configured for aggressive mode that has no SA yet, or an unknown address
//   bit 2     UDP 4500 instead of 500
//   bit 3     the cookies of one of the responder's ISAKMP SAs written into the header
//             (bits 4-7 pick which: the two established ones, or the half-open ones
//             earlier inputs made), so that inputs reach each state's handling and the
//             decryption and HASH checks rather than stopping at the cookie lookup
//
// The fake clock moves every few inputs so that half-open SAs expire. The responder must
// never crash, and its established SAs and their phase 2 SAs must survive whatever
// arrives: only DELETE sealed with their keys could end them.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "control/ike1/engine.hpp"
#include "tests/control/ike_test_network.hpp"

namespace {

using namespace mbox;
using namespace std::chrono_literals;
using Side = ike::test::BasicSide<ike1::Engine>;

constexpr uint32_t kA = 0xc6336401;  // main mode peer
constexpr uint32_t kB = 0xcb007102;  // the responder
constexpr uint32_t kC = 0xc0000203;  // aggressive mode, `any` peer road.example.com
constexpr uint32_t kD = 0xc0000204;  // configured for aggressive mode by address, silent
constexpr uint32_t kE = 0xc0000205;  // no peer
constexpr uint32_t kSources[] = {kA, kC, kD, kE};

ike::PeerConfig peer(uint32_t local, uint32_t remote, const char* local_net, const char* remote_net) {
    ike::PeerConfig p;
    p.name = Ipv4Address{remote}.to_string();
    p.address = remote;
    p.local_address = local;
    p.local_id = ike::Identity::ipv4(local);
    p.local_nets = {*Ipv4Prefix::parse(local_net)};
    p.remote_nets = {*Ipv4Prefix::parse(remote_net)};
    p.ike = ike::IkeSuite{crypto::IkeCipher::Aes128Cbc, crypto::IkeIntegrity::HmacSha1_96, crypto::IkePrf::HmacSha1, 19};
    p.esp.algorithms = {crypto::EspCipher::Aes128Cbc, crypto::EspIntegrity::HmacSha1_96};
    // Long enough that no rekey or expiry comes within any fuzzing run's clock.
    p.ike_lifetime = p.esp_lifetime = std::chrono::seconds(1000000000);
    p.psk = crypto::SecretBytes(std::string_view("fuzz"));
    p.initiate = false;
    return p;
}

struct World {
    ike::test::Network net;
    Side* b;
    std::vector<uint64_t> established;  // the cookie CKY-I of each established ISAKMP SA
    std::vector<uint32_t> inbound;      // and the inbound SPIs of their phase 2 SAs
    unsigned inputs = 0;

    World() {
        ike1::EngineOptions options;
        options.timing.half_open_timeout = 1s;
        Side& a = net.add<ike1::Engine>(kA, 1, 0x1000, options);
        b = &net.add<ike1::Engine>(kB, 2, 0x2000, options);
        Side& c = net.add<ike1::Engine>(kC, 3, 0x3000, options);
        ike::PeerConfig pa = peer(kA, kB, "10.1.0.0/24", "10.2.0.0/24");
        pa.initiate = true;
        ike::PeerConfig pc = peer(kC, kB, "10.3.0.0/24", "10.2.0.0/24");
        pc.initiate = pc.aggressive = true;
        pc.local_id = ike::Identity::from_text("road.example.com");
        ike::PeerConfig b_any = peer(kB, 0, "10.2.0.0/24", "10.3.0.0/24");
        b_any.name = "road.example.com";
        b_any.address.reset();
        b_any.remote_id = pc.local_id;
        b_any.aggressive = true;
        ike::PeerConfig b_d = peer(kB, kD, "10.2.0.0/24", "10.4.0.0/24");
        b_d.aggressive = true;
        a.engine.configure({pa});
        b->engine.configure({peer(kB, kA, "10.2.0.0/24", "10.1.0.0/24"), b_any, b_d});
        c.engine.configure({pc});
        b->engine.start();
        a.engine.start();
        c.engine.start();
        net.run();
        for (const auto& p : b->engine.status())
            for (const auto& sa : p.ike_sas)
                if (sa.state == "established") established.push_back(sa.spi_i);
        for (const auto& [spi, sa] : b->sas.inbound) inbound.push_back(spi);
        if (established.size() != 2 || inbound.size() != 2) std::abort();
    }

    // The cookie pairs of the responder's ISAKMP SAs, established ones first.
    std::vector<std::pair<uint64_t, uint64_t>> cookies() const {
        std::vector<std::pair<uint64_t, uint64_t>> out;
        for (const auto& p : b->engine.status())
            for (const auto& sa : p.ike_sas) {
                const bool up = sa.state == "established";
                out.insert(up ? out.begin() : out.end(), {sa.spi_i, sa.spi_r});
            }
        return out;
    }

    void check() const {
        std::vector<uint64_t> up;
        for (const auto& p : b->engine.status())
            for (const auto& sa : p.ike_sas)
                if (sa.state == "established") up.push_back(sa.spi_i);
        for (uint64_t cookie : established)
            if (std::find(up.begin(), up.end(), cookie) == up.end()) std::abort();
        for (uint32_t spi : inbound)
            if (!b->sas.inbound.contains(spi)) std::abort();
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World world;
    if (size == 0) return 0;
    const uint8_t control = data[0];
    std::vector<uint8_t> message(data + 1, data + size);
    if ((control & 8) && message.size() >= 16) {
        const auto cookies = world.cookies();
        const auto [cookie_i, cookie_r] = cookies[(control >> 4) % cookies.size()];
        for (int i = 0; i < 8; ++i) {
            message[i] = static_cast<uint8_t>(cookie_i >> (56 - 8 * i));
            message[8 + i] = static_cast<uint8_t>(cookie_r >> (56 - 8 * i));
        }
    }
    const uint16_t port = (control & 4) ? ike::kNattPort : ike::kIkePort;
    world.b->engine.on_datagram(ike::Endpoint{kB, port}, ike::Endpoint{kSources[control & 3], port}, message);
    if (++world.inputs % 64 == 0) {
        world.net.now += 2s;  // past half_open_timeout: the half-open SAs of earlier inputs go
        world.b->engine.tick();
    }
    world.net.queue.clear();  // B's answers go nowhere
    world.check();
    return 0;
}

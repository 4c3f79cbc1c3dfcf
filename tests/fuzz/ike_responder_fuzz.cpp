// libFuzzer harness: whole datagrams fed to an IKE responder (control/ike/engine.cpp)
// that already holds an established IKE SA with a peer, as a hostile sender on the
// peer's address would send them. Half the inputs get the live IKE SA's SPIs written
// into their header (byte 0 decides), so that they reach the message-ID window and the
// ICV check rather than stopping at the SPI lookup. The responder must never crash,
// and its established tunnel must survive whatever arrives.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "tests/control/ike_test_network.hpp"

namespace {

using namespace mbox::ike;
using namespace mbox::ike::test;

constexpr uint32_t kA = 0xc6336401, kB = 0xcb007102;

PeerConfig peer(uint32_t local, uint32_t remote, const char* local_net, const char* remote_net) {
    PeerConfig p;
    p.name = mbox::Ipv4Address{remote}.to_string();
    p.address = remote;
    p.local_address = local;
    p.local_id = Identity::ipv4(local);
    p.local_nets = {*mbox::Ipv4Prefix::parse(local_net)};
    p.remote_nets = {*mbox::Ipv4Prefix::parse(remote_net)};
    p.ike = IkeSuite{mbox::crypto::IkeCipher::Aes128Cbc, mbox::crypto::IkeIntegrity::HmacSha1_96,
                     mbox::crypto::IkePrf::HmacSha1, 19};
    p.esp.algorithms = {mbox::crypto::EspCipher::Aes128Cbc, mbox::crypto::EspIntegrity::HmacSha1_96};
    p.psk = mbox::crypto::SecretBytes(std::string_view("fuzz"));
    return p;
}

struct World {
    Network net;
    Side* a;
    Side* b;
    uint64_t spi_i = 0, spi_r = 0;
    World() {
        EngineOptions options;
        options.cookie_threshold = 1000000;
        a = &net.add(kA, 1, 0x1000, options);
        b = &net.add(kB, 2, 0x2000, options);
        PeerConfig pa = peer(kA, kB, "10.1.0.0/24", "10.2.0.0/24");
        PeerConfig pb = peer(kB, kA, "10.2.0.0/24", "10.1.0.0/24");
        pb.initiate = false;
        a->engine.configure({pa});
        b->engine.configure({pb});
        b->engine.start();
        a->engine.start();
        net.run();
        const auto status = b->engine.status();
        if (status.empty() || status.front().ike_sas.empty()) std::abort();
        spi_i = status.front().ike_sas.front().spi_i;
        spi_r = status.front().ike_sas.front().spi_r;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World world;
    if (size == 0) return 0;
    std::vector<uint8_t> message(data + 1, data + size);
    if ((data[0] & 1) && message.size() >= 16) {
        for (int i = 0; i < 8; ++i) {
            message[i] = static_cast<uint8_t>(world.spi_i >> (56 - 8 * i));
            message[8 + i] = static_cast<uint8_t>(world.spi_r >> (56 - 8 * i));
        }
    }
    const uint16_t port = (data[0] & 2) ? kNattPort : kIkePort;
    world.b->engine.on_datagram(Endpoint{kB, port}, Endpoint{kA, port}, message);
    world.net.queue.clear();  // B's answers go nowhere
    world.b->engine.tick();
    if (world.b->sas.inbound.empty() && world.b->engine.ike_sa_count() == 0) {
        // Only a DELETE sealed with the real keys could do that: the fuzzer cannot forge one.
        std::abort();
    }
    return 0;
}

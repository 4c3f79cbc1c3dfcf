// The IKE engine's only ways out: datagrams, CHILD SA installation, the clock and
// randomness. mboxd implements them over the data plane (control/ike/dataplane_io.cpp);
// the exchange tests implement them in memory, with a clock they move by hand and
// randomness they can replay.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/ike/types.hpp"

namespace mbox::ike {

class IkeIo {
public:
    virtual ~IkeIo() = default;
    // One IKE message from `local` to `remote`. When either port is 4500 the
    // implementation prepends the non-ESP marker (RFC 3948 §2.2).
    virtual void send(const Endpoint& local, const Endpoint& remote, std::span<const uint8_t> message) = 0;
    // A NAT-T keepalive (RFC 3948 §2.3): one 0xff byte from local:4500 to remote:4500.
    virtual void send_keepalive(const Endpoint& local, const Endpoint& remote) = 0;
    virtual Clock::time_point now() = 0;
    virtual void random(std::span<uint8_t> out) = 0;
};

// Both directions of a CHILD SA as the data plane needs them. Keys are the KEYMAT
// slices (RFC 7296 §2.17); the caller wipes them.
struct ChildSaKeys {
    crypto::SecretBytes encryption;  // for GCM the key followed by the 4-byte salt
    crypto::SecretBytes integrity;   // empty for GCM
};

struct ChildSaDescription {
    std::string name;                      // the peer's name: `show ipsec sa` groups by it
    uint32_t spi = 0;                      // this direction's SPI
    crypto::EspAlgorithms algorithms;
    uint32_t local_address = 0;
    uint32_t peer_address = 0;
    uint16_t udp_local_port = 0;           // both 0: raw ESP
    uint16_t udp_peer_port = 0;
    std::vector<Ipv4Prefix> local_nets;    // the negotiated traffic selectors
    std::vector<Ipv4Prefix> remote_nets;
};

struct SaUsage {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t seq = 0;                                  // outbound: the last sequence number sent
    std::optional<Clock::time_point> last_used;        // absent: never
};

// The SA manager, seen from IKE. Inbound SPIs come from here so that they are unique
// across manual and negotiated SAs; an install either succeeds or says why.
class ChildSaInstaller {
public:
    virtual ~ChildSaInstaller() = default;
    virtual std::optional<uint32_t> allocate_spi() = 0;
    virtual void release_spi(uint32_t spi) = 0;  // reserved and never installed
    virtual bool install_inbound(const ChildSaDescription& sa, const ChildSaKeys& keys, std::string& error) = 0;
    // `replaces`: the outbound SPI this one takes over from, atomically for every
    // worker (a rekey); absent for a new tunnel.
    virtual bool install_outbound(const ChildSaDescription& sa, const ChildSaKeys& keys,
                                  std::optional<uint32_t> replaces, std::string& error) = 0;
    virtual void remove_inbound(uint32_t spi) = 0;
    virtual void remove_outbound(uint32_t spi) = 0;
    virtual SaUsage inbound_usage(uint32_t spi) = 0;
    virtual SaUsage outbound_usage(uint32_t spi) = 0;
};

}  // namespace mbox::ike

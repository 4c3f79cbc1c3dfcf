// The IKE engine's way out in mboxd: datagrams originated through the data plane
// (routed, resolved by ARP, sent by a worker: never a kernel socket, DPDK owns the
// NICs), the steady clock, and the kernel's random numbers.
#pragma once

#include "control/ike/io.hpp"
#include "dataplane/dataplane.hpp"

namespace mbox::control {

class DataplaneIkeIo final : public ike::IkeIo {
public:
    explicit DataplaneIkeIo(dataplane::Dataplane& dataplane) : dataplane_(dataplane) {}
    void send(const ike::Endpoint& local, const ike::Endpoint& remote, std::span<const uint8_t> message) override;
    void send_keepalive(const ike::Endpoint& local, const ike::Endpoint& remote) override;
    ike::Clock::time_point now() override { return ike::Clock::now(); }
    void random(std::span<uint8_t> out) override;
    uint64_t send_failures() const { return send_failures_; }

private:
    dataplane::Dataplane& dataplane_;
    uint64_t send_failures_ = 0;
};

}  // namespace mbox::control

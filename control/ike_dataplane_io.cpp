#include "control/ike_dataplane_io.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

#include "control/log.hpp"

namespace mbox::control {

void DataplaneIkeIo::send(const ike::Endpoint& local, const ike::Endpoint& remote, std::span<const uint8_t> message) {
    // RFC 3948 §2.2: on port 4500 IKE carries the non-ESP marker.
    const bool marker = local.port == ike::kNattPort || remote.port == ike::kNattPort;
    if (!dataplane_.send_udp(local.address, remote.address, local.port, remote.port, message, marker) &&
        ++send_failures_ % 100 == 1)
        log_warning("IKE: cannot send {} bytes to {} ({} send failures; too large or no packet buffer)",
                    message.size(), remote.to_string(), send_failures_);
}

void DataplaneIkeIo::send_keepalive(const ike::Endpoint& local, const ike::Endpoint& remote) {
    static constexpr uint8_t kKeepalive[] = {0xff};
    dataplane_.send_udp(local.address, remote.address, ike::kNattPort, remote.port, kKeepalive, false);
}

void DataplaneIkeIo::random(std::span<uint8_t> out) {
    size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // getrandom blocks until the pool is seeded and never fails after that; an
            // error here means the kernel cannot give randomness, and IKE cannot run.
            log_error("getrandom failed: no randomness for IKE");
            std::abort();
        }
        done += static_cast<size_t>(n);
    }
}

}  // namespace mbox::control

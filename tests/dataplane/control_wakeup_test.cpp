// The control thread's wake-up: a punt while it sleeps makes its fd readable, one
// write per sleep, none while it is awake; and under a worker thread punting as fast
// as it can, no punt is ever left waiting for a sleep to time out (a lost wake-up).
#include <gtest/gtest.h>

#include <poll.h>

#include <atomic>
#include <thread>

#include "dataplane/control_wakeup.hpp"

namespace mbox::dataplane {
namespace {

bool readable(int fd, int timeout_ms = 0) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

TEST(ControlWakeup, OnlyASleepingControlThreadIsWokenAndOnlyOnce) {
    ControlWakeup wakeup;
    ASSERT_GE(wakeup.fd(), 0);
    wakeup.notify();  // awake: nothing to do
    EXPECT_FALSE(readable(wakeup.fd()));

    wakeup.begin_wait();
    wakeup.notify();
    EXPECT_TRUE(readable(wakeup.fd()));
    uint64_t before = 0;
    wakeup.notify();  // a second punt in the same sleep writes nothing more
    ASSERT_EQ(::read(wakeup.fd(), &before, sizeof before), static_cast<ssize_t>(sizeof before));
    EXPECT_EQ(before, 1u);
    EXPECT_FALSE(readable(wakeup.fd()));

    wakeup.begin_wait();
    wakeup.notify();
    wakeup.end_wait();  // consumes the pending wake-up
    EXPECT_FALSE(readable(wakeup.fd()));
    wakeup.notify();
    EXPECT_FALSE(readable(wakeup.fd()));
}

// The handshake as the gateway runs it, against a worker that punts whenever the
// control thread has taken the previous punt. A lost wake-up shows as a sleep that
// runs into its 5 s timeout with a punt waiting.
TEST(ControlWakeup, NoPuntWaitsForASleepToTimeOut) {
    ControlWakeup wakeup;
    ASSERT_GE(wakeup.fd(), 0);
    constexpr int kPunts = 20000;
    std::atomic<int> ring{0};  // punts enqueued and not yet taken (0 or 1)
    std::atomic<bool> done{false};
    std::thread worker([&] {
        for (int i = 0; i < kPunts; ++i) {
            while (ring.load(std::memory_order_acquire) != 0) std::this_thread::yield();
            ring.store(1, std::memory_order_release);
            wakeup.notify();
        }
        done = true;
    });
    int taken = 0, timed_out = 0;
    while (taken < kPunts) {
        if (ring.load(std::memory_order_acquire) == 1) {
            ring.store(0, std::memory_order_release);
            ++taken;
            continue;
        }
        wakeup.begin_wait();
        if (ring.load(std::memory_order_acquire) == 0 && !readable(wakeup.fd(), 5000)) ++timed_out;
        wakeup.end_wait();
        if (timed_out > 0) break;
    }
    worker.join();
    EXPECT_EQ(timed_out, 0) << "a punt waited for the sleep to time out after " << taken << " punts";
    EXPECT_EQ(taken, kPunts);
}

}  // namespace
}  // namespace mbox::dataplane

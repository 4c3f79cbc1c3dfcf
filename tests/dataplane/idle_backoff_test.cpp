// The idle back-off of the workers, walked round by round:
// what a quiet loop waits, that it settles at its bound, and that work resets it.
// (The policies are what mboxd runs with; CPU use is measured by hand, see
// docs/architecture.md, never asserted on timing here.)
#include <gtest/gtest.h>

#include <vector>

#include "dataplane/worker.hpp"

namespace mbox::dataplane {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

std::vector<microseconds> idle_waits(IdleBackoff& backoff, unsigned rounds) {
    std::vector<microseconds> waits;
    for (unsigned i = 0; i < rounds; ++i) waits.push_back(backoff.after_round(false));
    return waits;
}

TEST(IdleBackoff, WorkerPollsOnThenSleepsDoublingToItsLightCapThenToItsBound) {
    IdleBackoff backoff(kWorkerIdleBackoff);
    EXPECT_EQ(idle_waits(backoff, 256), std::vector<microseconds>(256, microseconds(0))) << "256 polls without sleeping";
    const std::vector<microseconds> doubling{microseconds(1),  microseconds(2),  microseconds(4),  microseconds(8),
                                             microseconds(16), microseconds(32), microseconds(64), microseconds(128)};
    EXPECT_EQ(idle_waits(backoff, doubling.size()), doubling);
    EXPECT_EQ(idle_waits(backoff, 100), std::vector<microseconds>(100, microseconds(200)))
        << "held at 200 µs for 100 rounds: light traffic waits no longer than that";
    EXPECT_EQ(idle_waits(backoff, 3), (std::vector<microseconds>{microseconds(400), microseconds(800), microseconds(1000)}));
    EXPECT_EQ(idle_waits(backoff, 100000), std::vector<microseconds>(100000, microseconds(1000)))
        << "settled at the bound";
}

TEST(IdleBackoff, AWorkersFirstPacketOrCommandMakesItPollFlatOutAgain) {
    IdleBackoff backoff(kWorkerIdleBackoff);
    idle_waits(backoff, 10000);
    EXPECT_EQ(backoff.after_round(true), microseconds(0));
    EXPECT_EQ(idle_waits(backoff, 256), std::vector<microseconds>(256, microseconds(0)));
    EXPECT_EQ(backoff.after_round(false), microseconds(1)) << "the sleep starts small again";
}

}  // namespace
}  // namespace mbox::dataplane

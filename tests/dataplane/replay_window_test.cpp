// The anti-replay window (RFC 4303 §3.4.3) and ESN inference (RFC 4303 Appendix A2).
#include <gtest/gtest.h>

#include "dataplane/replay_window.hpp"

namespace mbox::dataplane {
namespace {

using Verdict = ReplayWindow::Verdict;

// Checks and, when fresh, accepts: what the decap stage does once the ICV verified.
Verdict receive(ReplayWindow& w, uint32_t seq_low, uint64_t* inferred = nullptr) {
    uint64_t seq = 0;
    const Verdict v = w.check(seq_low, seq);
    if (inferred != nullptr) *inferred = seq;
    if (v == Verdict::Ok) w.accept(seq);
    return v;
}

TEST(ReplayWindow, InOrderPacketsPassAndRepeatsAreReplays) {
    ReplayWindow w(64, false);
    for (uint32_t s = 1; s <= 200; ++s) ASSERT_EQ(receive(w, s), Verdict::Ok) << s;
    EXPECT_EQ(w.highest(), 200u);
    EXPECT_EQ(receive(w, 200), Verdict::Replayed);
    EXPECT_EQ(receive(w, 150), Verdict::Replayed);
}

TEST(ReplayWindow, ZeroIsNeverValid) {
    ReplayWindow w(64, false);
    EXPECT_EQ(receive(w, 0), Verdict::Zero);
}

TEST(ReplayWindow, OutOfOrderInsideTheWindowIsAcceptedOnce) {
    ReplayWindow w(1024, false);
    EXPECT_EQ(receive(w, 1000), Verdict::Ok);
    EXPECT_EQ(receive(w, 10), Verdict::Ok);  // 1000 - 10 < 1024
    EXPECT_EQ(receive(w, 10), Verdict::Replayed);
    EXPECT_EQ(receive(w, 999), Verdict::Ok);
}

TEST(ReplayWindow, LeftOfTheWindowIsTooOld) {
    ReplayWindow w(1024, false);
    EXPECT_EQ(receive(w, 2000), Verdict::Ok);
    EXPECT_EQ(receive(w, 977), Verdict::Ok);      // 2000 - 977 = 1023: the window's last slot
    EXPECT_EQ(receive(w, 976), Verdict::TooOld);  // 1024 behind
    EXPECT_EQ(receive(w, 1), Verdict::TooOld);
}

TEST(ReplayWindow, SlidingClearsStaleBitsSoOldSlotsAreFreshAgain) {
    ReplayWindow w(64, false);
    for (uint32_t s = 1; s <= 64; ++s) receive(w, s);
    // Jump far ahead: every word is reused for new numbers and must start clear.
    EXPECT_EQ(receive(w, 100000), Verdict::Ok);
    for (uint32_t s = 100000 - 63; s < 100000; ++s) ASSERT_EQ(receive(w, s), Verdict::Ok) << s;
    for (uint32_t s = 100000 - 63; s <= 100000; ++s) ASSERT_EQ(receive(w, s), Verdict::Replayed) << s;
}

TEST(ReplayWindow, WordBoundarySlideKeepsTheBitsStillInsideTheWindow) {
    ReplayWindow w(128, false);
    for (uint32_t s = 1; s <= 130; ++s) receive(w, s);
    EXPECT_EQ(receive(w, 10), Verdict::Replayed);  // 120 behind: inside, already seen
    EXPECT_EQ(receive(w, 2), Verdict::TooOld);
}

TEST(ReplayWindow, DisabledWindowAcceptsRepeats) {
    ReplayWindow w(0, false);
    EXPECT_EQ(receive(w, 5), Verdict::Ok);
    EXPECT_EQ(receive(w, 5), Verdict::Ok);
    EXPECT_EQ(receive(w, 1), Verdict::Ok);
}

TEST(ReplayWindow, EsnInfersTheHighHalfAcrossTheWrap) {
    ReplayWindow w(1024, true);
    uint64_t seq = 0;
    ASSERT_EQ(receive(w, 0xfffffff0u, &seq), Verdict::Ok);
    // Nothing before: the window spans subspaces 0xffffffff and 0; the nearest is 0.
    EXPECT_EQ(seq, 0xfffffff0u);
    ASSERT_EQ(receive(w, 0xffffffffu, &seq), Verdict::Ok);
    EXPECT_EQ(seq, 0xffffffffu);
    ASSERT_EQ(receive(w, 5, &seq), Verdict::Ok);  // wrapped: high half becomes 1
    EXPECT_EQ(seq, 0x100000005u);
    EXPECT_EQ(w.highest(), 0x100000005u);
    // A late packet from before the wrap is still inside the window, in subspace 0.
    ASSERT_EQ(receive(w, 0xfffffff5u, &seq), Verdict::Ok);
    EXPECT_EQ(seq, 0xfffffff5u);
    EXPECT_EQ(receive(w, 0xfffffff5u, &seq), Verdict::Replayed);
}

TEST(ReplayWindow, EsnWithinOneSubspaceMovesToTheNextForLowNumbers) {
    ReplayWindow w(64, true);
    uint64_t seq = 0;
    receive(w, 0x80000000u, &seq);
    EXPECT_EQ(seq, 0x80000000u);
    // Below the window's bottom: RFC 4303 A2.2 takes it as the next subspace.
    EXPECT_EQ(receive(w, 3, &seq), Verdict::Ok);
    EXPECT_EQ(seq, 0x100000003u);
}

}  // namespace
}  // namespace mbox::dataplane

// How long a polling loop waits between rounds when it finds nothing to do. A busy loop
// never waits. A quiet one keeps a short wait for a while (more work tends to follow
// work), then sleeps, doubling up to a light cap that it holds for some rounds (light
// traffic, a packet every few milliseconds, keeps the loop there), and only then grows
// to the cap. The cap sets what an idle loop costs (about one wake-up per cap; on a VM
// a wake-up costs tens of microseconds) and the most a first event after a quiet spell
// waits. Used by the workers and the control thread, each with its own policy; a plain
// value type, so tests can walk it round by round.
#pragma once

#include <algorithm>
#include <chrono>

namespace mbox::dataplane {

struct BackoffPolicy {
    unsigned patient_rounds = 0;              // idle rounds that wait only `short_wait`
    std::chrono::microseconds short_wait{};   // 0: poll again at once
    std::chrono::microseconds first_sleep{};  // then sleeps from this, doubling every round,
    std::chrono::microseconds light_cap{};    // up to this,
    unsigned light_rounds = 0;                // held for this many rounds,
    std::chrono::microseconds cap{};          // then doubling on up to this
};

class IdleBackoff {
public:
    explicit constexpr IdleBackoff(const BackoffPolicy& policy) : policy_(policy), sleep_(policy.first_sleep) {}

    // The wait before the next round, given whether this one did any work.
    constexpr std::chrono::microseconds after_round(bool worked) {
        if (worked) {
            idle_rounds_ = 0;
            rounds_at_light_cap_ = 0;
            sleep_ = policy_.first_sleep;
            return std::chrono::microseconds{0};
        }
        if (idle_rounds_ < policy_.patient_rounds) {
            ++idle_rounds_;
            return policy_.short_wait;
        }
        const std::chrono::microseconds wait = sleep_;
        if (sleep_ < policy_.light_cap) {
            sleep_ = std::min(sleep_ * 2, policy_.light_cap);
        } else {
            if (rounds_at_light_cap_ < policy_.light_rounds) ++rounds_at_light_cap_;
            if (rounds_at_light_cap_ >= policy_.light_rounds) sleep_ = std::min(sleep_ * 2, policy_.cap);
        }
        return wait;
    }

private:
    BackoffPolicy policy_;
    unsigned idle_rounds_ = 0;
    unsigned rounds_at_light_cap_ = 0;
    std::chrono::microseconds sleep_;
};

}  // namespace mbox::dataplane

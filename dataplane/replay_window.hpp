// The inbound anti-replay window (RFC 4303 §3.4.3), with extended sequence numbers
// inferred as in RFC 4303 Appendix A2. The bitmap is a ring of 64-bit words indexed by
// sequence number (RFC 6479): sliding the window clears whole words, never shifts.
//
// Use: check() before the ICV is verified (a cheap reject of replays and stale
// packets, which also yields the 64-bit number the ICV covers with ESN), accept() only
// after the ICV verified, so forged packets never move the window.
#pragma once

#include <cstdint>
#include <vector>

namespace mbox::dataplane {

class ReplayWindow {
public:
    enum class Verdict : uint8_t { Ok, Replayed, TooOld, Zero };

    // `size` packets wide (rounded up to a multiple of 64; 0 disables replay checks,
    // though 64-bit numbers are still inferred with ESN).
    ReplayWindow(uint32_t size, bool esn);

    Verdict check(uint32_t seq_low, uint64_t& seq) const;
    void accept(uint64_t seq);

    const uint64_t& highest() const { return top_; }  // a reference: the control thread reads it with read_counter
    uint32_t size() const { return size_; }

private:
    uint64_t infer(uint32_t seq_low) const;
    uint64_t& word(uint64_t seq) { return bits_[(seq >> 6) & mask_]; }
    const uint64_t& word(uint64_t seq) const { return bits_[(seq >> 6) & mask_]; }

    uint32_t size_;
    bool esn_;
    uint64_t top_ = 0;            // highest authenticated sequence number (0: none yet)
    uint64_t mask_ = 0;           // words - 1 (a power of two)
    std::vector<uint64_t> bits_;  // allocated once, on the control thread
};

}  // namespace mbox::dataplane

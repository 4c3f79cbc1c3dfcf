#include "dataplane/replay_window.hpp"

#include <bit>

namespace mbox::dataplane {

ReplayWindow::ReplayWindow(uint32_t size, bool esn) : size_(size), esn_(esn) {
    if (size_ == 0) return;
    // One spare word so the word holding `top_` never shares bits with the oldest one.
    const uint64_t words = std::bit_ceil(uint64_t{(size_ + 63) / 64} + 1);
    bits_.assign(words, 0);
    mask_ = words - 1;
}

// RFC 4303 A2.2: choose the high 32 bits that put the number nearest the window.
uint64_t ReplayWindow::infer(uint32_t seq_low) const {
    if (!esn_) return seq_low;
    const uint32_t window = size_ == 0 ? 1u << 31 : size_;
    const auto tl = static_cast<uint32_t>(top_);
    const auto th = static_cast<uint32_t>(top_ >> 32);
    const uint32_t bottom = tl - window + 1;  // modulo 2^32
    uint32_t seq_high;
    if (tl >= window - 1) {  // the window lies within one 2^32 subspace
        seq_high = seq_low >= bottom ? th : th + 1;
    } else {                 // the window spans two subspaces (none below 0 at the start)
        seq_high = seq_low >= bottom && th > 0 ? th - 1 : th;
    }
    return uint64_t{seq_high} << 32 | seq_low;
}

ReplayWindow::Verdict ReplayWindow::check(uint32_t seq_low, uint64_t& seq) const {
    seq = infer(seq_low);
    if (seq == 0) return Verdict::Zero;  // never sent (RFC 4303 §3.3.3: the first packet is 1)
    if (size_ == 0 || seq > top_) return Verdict::Ok;
    if (top_ - seq >= size_) return Verdict::TooOld;
    return (word(seq) >> (seq & 63)) & 1 ? Verdict::Replayed : Verdict::Ok;
}

void ReplayWindow::accept(uint64_t seq) {
    if (size_ == 0) {
        if (seq > top_) top_ = seq;
        return;
    }
    if (seq > top_) {
        // Clear the words the window slides over (all of them after a long jump).
        const uint64_t from = (top_ >> 6) + 1;
        const uint64_t to = seq >> 6;
        const uint64_t words = mask_ + 1;
        for (uint64_t w = from; w <= to && w - from < words; ++w) bits_[w & mask_] = 0;
        top_ = seq;
    }
    word(seq) |= uint64_t{1} << (seq & 63);
}

}  // namespace mbox::dataplane

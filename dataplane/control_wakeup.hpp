// Wakes the control thread when a worker punts while it sleeps. The control thread
// sleeps in poll(2) until its next tick or a command; a punt (ARP, IKE, a resolve
// request) would otherwise wait for that sleep to end. It announces its sleep with
// `waiting`, checks the punt rings once more, and polls fd() with the command socket;
// a worker that has enqueued a punt sees `waiting` and writes the eventfd. The worker
// pays one load per punt (rare: ARP and IKE only), and a write(2) only for the first
// punt of a sleep.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace mbox::dataplane {

class ControlWakeup {
public:
    ControlWakeup() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
    ~ControlWakeup() {
        if (fd_ >= 0) ::close(fd_);
    }
    ControlWakeup(const ControlWakeup&) = delete;
    ControlWakeup& operator=(const ControlWakeup&) = delete;

    // Readable while a wake-up is pending; -1 if eventfd failed (the control thread then
    // falls back to short sleeps).
    int fd() const { return fd_; }

    // Control thread, before it sleeps: from here on workers wake it. Then it must look
    // at the punt rings once more (a punt enqueued just before this store was not
    // announced) and skip the sleep if they hold anything.
    void begin_wait() { waiting_.store(true, std::memory_order_seq_cst); }
    // Control thread, after the sleep: no more wake-ups, and a pending one is consumed.
    void end_wait() {
        waiting_.store(false, std::memory_order_relaxed);
        uint64_t count;
        while (fd_ >= 0 && ::read(fd_, &count, sizeof count) == sizeof count) {
        }
    }

    // Worker, after enqueueing a punt. The fence orders the enqueue before the load of
    // `waiting` (x86 may otherwise let the load pass the store): with begin_wait()'s
    // seq_cst store, either the control thread sees the punt or this sees it waiting.
    void notify() {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (!waiting_.load(std::memory_order_relaxed)) return;
        if (!waiting_.exchange(false, std::memory_order_acq_rel)) return;  // another worker woke it
        const uint64_t one = 1;
        [[maybe_unused]] const auto written = ::write(fd_, &one, sizeof one);
    }

private:
    alignas(64) std::atomic<bool> waiting_{false};  // its own cache line: workers read it on every punt
    int fd_;
};

}  // namespace mbox::dataplane

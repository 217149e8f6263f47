// Lathe (private): a fixed pool of worker threads for data-parallel loops inside one render.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace lathe::detail {

/// A job's thread budget: `requested`, or every hardware thread when it is 0 (the meaning of 0 in
/// every `threads` option).
inline unsigned threadBudget(unsigned requested) {
    return requested > 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
}

/// Flushes subnormal floats to zero (FTZ) and treats subnormal inputs as zero (DAZ) on the calling
/// thread while in scope, then restores the previous mode. Reverb tails decay into subnormals,
/// which cost 10–100× per operation on x86 (../shared/reference/gpu-and-speed.md, P5); values
/// below 1.2e-38 (−758 dBFS) are far beneath any output format.
class DenormalsOff {
public:
    DenormalsOff();
    ~DenormalsOff();
    DenormalsOff(const DenormalsOff&) = delete;
    DenormalsOff& operator=(const DenormalsOff&) = delete;

private:
    unsigned m_saved = 0;
};

/// parallelFor(count, fn) runs fn(index, worker) for every index in [0, count) on the pool's
/// workers and the calling thread, and returns when all are done. `worker` is in [0, size()) and
/// identifies per-worker scratch. The first exception thrown by fn is rethrown in the caller after
/// every started index has finished. Every participating thread runs with DenormalsOff.
///
/// One parallelFor at a time per pool (the owner's thread calls it). A call is published to at
/// most `count` participants (the caller and the first count − 1 workers); the other workers see
/// it and go back to waiting, so a short loop on a many-core machine does not pay for collecting
/// every core (a worker still leaving the last call may take one of its indices: any participant
/// may run any index). Nothing is locked on the way: a call publishes its ranges and a generation number, the
/// workers claim indices by compare-and-swap and count the finished ones, and the last to finish wakes the
/// caller if it sleeps (std::atomic wait/notify, which makes no system call when nobody sleeps).
class ThreadPool {
public:
    /// `threads` = total participants including the caller (≥ 1; 1 = run inline). Throws
    /// std::bad_alloc, with no thread left running, when a worker thread cannot be created.
    explicit ThreadPool(unsigned threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    unsigned size() const noexcept { return static_cast<unsigned>(m_workers.size()) + 1; }

    void parallelFor(std::size_t count, const std::function<void(std::size_t index, unsigned worker)>& fn);

private:
    /// Wakes every worker to exit and joins it.
    void stopWorkers() noexcept;
    /// Bumps the call count in m_published with `participants` beside it (0 to stop), and wakes
    /// the workers that sleep on it.
    void publish(unsigned participants) noexcept;
    void workerLoop(unsigned worker);
    /// Claims and runs indices of the current call until none is left.
    void runIndices(unsigned worker, unsigned participants);
    /// Claims one index of participant `owner`'s range (the front for the owner, the back for
    /// another), or returns false when it is empty.
    bool claim(unsigned owner, bool front, std::size_t& index);

    std::vector<std::thread> m_workers;
    // Written by the caller before it stores the ranges (release), read by a worker only after it
    // has claimed an index (acquire): a worker that claims one reads the call that index belongs
    // to — every index of the last call has finished before the caller writes the next.
    const std::function<void(std::size_t, unsigned)>* m_fn = nullptr;
    std::size_t m_count = 0;
    std::mutex m_errorMutex;
    std::exception_ptr m_error; ///< the first exception of this call (under m_errorMutex)
    /// The indices participant w has left: [begin, end) packed as begin << 32 | end. It claims
    /// from the front; one whose own range is empty takes from the back of another's.
    struct alignas(64) Range {
        std::atomic<std::uint64_t> packed{0};
    };
    std::unique_ptr<Range[]> m_ranges;
    alignas(64) std::atomic<std::uint32_t> m_finished{0}; ///< indices of this call done
    std::atomic<bool> m_failed{false};
    /// The call last published: a count of calls (bumped once a call, and to stop) above its
    /// number of participants (the low kParticipantBits), in one word, so that a worker reads the
    /// two together. The workers spin on it briefly, then wait on it.
    alignas(64) std::atomic<std::uint32_t> m_published{0};
    std::atomic<bool> m_stop{false};

public:
    static constexpr unsigned kParticipantBits = 12;
    static constexpr unsigned kMaxThreads = (1u << kParticipantBits) - 1;
};

} // namespace lathe::detail

// Lathe (private): a fixed pool of worker threads for data-parallel loops inside one render.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace lathe::detail {

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
/// One parallelFor at a time per pool (the owner's thread calls it).
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
    void workerLoop(unsigned worker);
    /// Claims and runs indices of the current generation until none is left.
    void runIndices(unsigned worker);
    /// Claims one index of participant `owner`'s range (the front for the owner, the back for
    /// another), or returns false when it is empty.
    bool claim(unsigned owner, bool front, std::size_t& index);

    std::vector<std::thread> m_workers;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    // Set by the caller under m_mutex before a generation is published, constant during it (a
    // worker counted in m_busy may still read them; the next generation waits for m_busy = 0).
    const std::function<void(std::size_t, unsigned)>* m_fn = nullptr;
    std::size_t m_count = 0;
    std::uint64_t m_generation = 0;
    unsigned m_busy = 0; ///< workers inside runIndices (under m_mutex)
    bool m_stop = false;
    std::exception_ptr m_error; ///< the first exception of this generation (under m_mutex)
    /// The indices participant w has left: [begin, end) packed as begin << 32 | end. It claims
    /// from the front; one whose own range is empty takes from the back of another's.
    struct alignas(64) Range {
        std::atomic<std::uint64_t> packed{0};
    };
    std::unique_ptr<Range[]> m_ranges;
    std::atomic<std::size_t> m_finished{0};
    std::atomic<bool> m_failed{false};
    /// m_generation, readable without the lock: a worker spins on it briefly before sleeping.
    std::atomic<std::uint64_t> m_published{0};
};

} // namespace lathe::detail

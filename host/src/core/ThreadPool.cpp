// SPDX-License-Identifier: GPL-3.0-or-later
#include "ThreadPool.h"

#include <lathe/Error.h>

#include <cstdint>
#include <new>
#include <system_error>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define LATHE_HAVE_MXCSR 1
#endif

namespace lathe::detail {
namespace {

/// Spin-wait iterations before a worker sleeps (about 20 µs of pause instructions).
constexpr int kSpinIterations = 2000;

void spinPause() {
#if defined(LATHE_HAVE_MXCSR)
    _mm_pause();
#endif
}

} // namespace

DenormalsOff::DenormalsOff() {
#if defined(LATHE_HAVE_MXCSR)
    m_saved = _mm_getcsr();
    _mm_setcsr(m_saved | 0x8040u); // FTZ (bit 15) | DAZ (bit 6)
#endif
}

DenormalsOff::~DenormalsOff() {
#if defined(LATHE_HAVE_MXCSR)
    _mm_setcsr(m_saved);
#endif
}

ThreadPool::ThreadPool(unsigned threads) {
    const unsigned extra = threads > 1 ? threads - 1 : 0;
    m_ranges = std::make_unique<Range[]>(extra + 1);
    m_workers.reserve(extra);
    try {
        for (unsigned w = 0; w < extra; ++w) {
            m_workers.emplace_back([this, w] { workerLoop(w + 1); });
        }
    } catch (const std::system_error&) {
        // No memory for another thread's stack (an address-space limit, found on a 16-core
        // machine under `ulimit -v`): the workers already started must be stopped before the
        // members they wait on are destroyed — leaving them hung the process in the condition
        // variable's destructor. Reported as what it is, out of memory.
        stopWorkers();
        throw std::bad_alloc();
    }
}

ThreadPool::~ThreadPool() {
    stopWorkers();
}

void ThreadPool::stopWorkers() noexcept {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    for (auto& t : m_workers) {
        t.join();
    }
}

bool ThreadPool::claim(unsigned owner, bool front, std::size_t& index) {
    auto& packed = m_ranges[owner].packed;
    std::uint64_t range = packed.load(std::memory_order_relaxed);
    for (;;) {
        const std::uint64_t begin = range >> 32;
        const std::uint64_t end = range & 0xffffffffu;
        if (begin >= end) {
            return false;
        }
        const std::uint64_t next = front ? (begin + 1) << 32 | end : begin << 32 | (end - 1);
        if (packed.compare_exchange_weak(range, next, std::memory_order_relaxed)) {
            index = static_cast<std::size_t>(front ? begin : end - 1);
            return true;
        }
    }
}

void ThreadPool::runIndices(unsigned worker) {
    const unsigned participants = size();
    for (unsigned k = 0; k < participants; ++k) {
        const unsigned owner = (worker + k) % participants;
        std::size_t index = 0;
        while (claim(owner, k == 0, index)) {
            if (!m_failed.load(std::memory_order_relaxed)) {
                try {
                    (*m_fn)(index, worker);
                } catch (...) {
                    std::lock_guard lock(m_mutex);
                    if (!m_error) {
                        m_error = std::current_exception();
                    }
                    m_failed.store(true, std::memory_order_relaxed);
                }
            }
            // The last index to finish wakes the caller if it sleeps (under the lock, so the
            // wake-up cannot fall between its check and its wait).
            if (m_finished.fetch_add(1, std::memory_order_acq_rel) + 1 == m_count) {
                std::lock_guard lock(m_mutex);
                m_done.notify_all();
            }
        }
    }
}

void ThreadPool::workerLoop(unsigned worker) {
    DenormalsOff denormals;
    std::uint64_t seen = 0;
    for (;;) {
        // The stages call parallelFor in quick succession (several times a chunk): wait a few
        // microseconds for the next generation before sleeping, as a wake-up through the kernel
        // costs more than the short loops themselves.
        for (int i = 0; i < kSpinIterations && m_published.load(std::memory_order_acquire) == seen; ++i) {
            spinPause();
        }
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] { return m_stop || m_generation != seen; });
            if (m_stop) {
                return;
            }
            seen = m_generation;
            ++m_busy;
        }
        runIndices(worker);
        {
            std::lock_guard lock(m_mutex);
            --m_busy;
        }
        m_done.notify_all();
    }
}

void ThreadPool::parallelFor(std::size_t count, const std::function<void(std::size_t, unsigned)>& fn) {
    if (count == 0) {
        return;
    }
    DenormalsOff denormals;
    LATHE_EXPECTS(count < (std::size_t{1} << 32), "parallelFor takes fewer than 2^32 indices");
    if (m_workers.empty() || count == 1) {
        for (std::size_t i = 0; i < count; ++i) {
            fn(i, 0);
        }
        return;
    }
    {
        std::unique_lock lock(m_mutex);
        // A worker that joined the last generation late (after its indices were all claimed) may
        // still be leaving it: wait, so it does not read the new m_count as the old one's.
        m_done.wait(lock, [&] { return m_busy == 0; });
        m_fn = &fn;
        m_count = count;
        m_error = nullptr;
        m_failed.store(false, std::memory_order_relaxed);
        m_finished.store(0, std::memory_order_relaxed);
        // Contiguous ranges: the tiles of one participant follow each other, and successive
        // loops over the same frames give each participant the same ones, so its data stays in
        // its core's cache (interleaved tiles moved every array between the cores each loop).
        const unsigned participants = size();
        for (unsigned w = 0; w < participants; ++w) {
            const std::uint64_t begin = count * w / participants;
            const std::uint64_t end = count * (w + 1) / participants;
            m_ranges[w].packed.store(begin << 32 | end, std::memory_order_relaxed);
        }
        ++m_generation;
        m_published.store(m_generation, std::memory_order_release);
    }
    m_wake.notify_all();
    runIndices(0);
    // The workers are usually finishing their last index: wait for that without sleeping (a
    // sleep and wake-up through the kernel costs more than the wait), then sleep.
    for (int i = 0; i < kSpinIterations && m_finished.load(std::memory_order_acquire) < count; ++i) {
        spinPause();
    }
    std::exception_ptr error;
    {
        std::unique_lock lock(m_mutex);
        m_done.wait(lock, [&] { return m_finished.load(std::memory_order_acquire) >= count; });
        m_fn = nullptr;
        error = m_error;
        m_error = nullptr;
    }
    if (error) {
        std::rethrow_exception(error);
    }
}

} // namespace lathe::detail

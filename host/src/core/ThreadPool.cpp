// SPDX-License-Identifier: GPL-3.0-or-later
#include "ThreadPool.h"

#include <cstdint>

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
    m_workers.reserve(extra);
    for (unsigned w = 0; w < extra; ++w) {
        m_workers.emplace_back([this, w] { workerLoop(w + 1); });
    }
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    for (auto& t : m_workers) {
        t.join();
    }
}

void ThreadPool::runIndices(unsigned worker) {
    for (;;) {
        std::size_t index = 0;
        {
            std::lock_guard lock(m_mutex);
            if (m_next >= m_count || m_error) {
                return;
            }
            index = m_next++;
        }
        try {
            (*m_fn)(index, worker);
        } catch (...) {
            std::lock_guard lock(m_mutex);
            if (!m_error) {
                m_error = std::current_exception();
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
    if (m_workers.empty() || count == 1) {
        for (std::size_t i = 0; i < count; ++i) {
            fn(i, 0);
        }
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_fn = &fn;
        m_count = count;
        m_next = 0;
        m_error = nullptr;
        ++m_generation;
        m_published.store(m_generation, std::memory_order_release);
    }
    m_wake.notify_all();
    runIndices(0);
    std::exception_ptr error;
    {
        // Workers that woke for this generation finish their current index, then see m_next ≥ m_count.
        std::unique_lock lock(m_mutex);
        m_done.wait(lock, [&] { return m_busy == 0 && (m_next >= m_count || m_error); });
        m_fn = nullptr;
        m_count = 0;
        error = m_error;
        m_error = nullptr;
    }
    if (error) {
        std::rethrow_exception(error);
    }
}

} // namespace lathe::detail

// SPDX-License-Identifier: GPL-3.0-or-later
#include "ThreadPool.h"

#include <lathe/Error.h>

#include <algorithm>
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
    // At most kMaxThreads participants (a call's count of them shares a word with its number).
    const unsigned extra = std::clamp(threads, 1u, kMaxThreads) - 1;
    m_ranges = std::make_unique<Range[]>(extra + 1);
    m_workers.reserve(extra);
    try {
        for (unsigned w = 0; w < extra; ++w) {
            m_workers.emplace_back([this, w] { workerLoop(w + 1); });
        }
    } catch (const std::system_error&) {
        // No memory for another thread's stack (an address-space limit, found on a 16-core
        // machine under `ulimit -v`): the workers already started must be stopped before the
        // members they wait on are destroyed. Reported as what it is, out of memory.
        stopWorkers();
        throw std::bad_alloc();
    }
}

ThreadPool::~ThreadPool() {
    stopWorkers();
}

void ThreadPool::stopWorkers() noexcept {
    m_stop.store(true, std::memory_order_release);
    publish(0);
    for (auto& t : m_workers) {
        t.join();
    }
}

void ThreadPool::publish(unsigned participants) noexcept {
    const std::uint32_t calls = (m_published.load(std::memory_order_relaxed) >> kParticipantBits) + 1;
    m_published.store(calls << kParticipantBits | participants, std::memory_order_release);
    m_published.notify_all();
}

bool ThreadPool::claim(unsigned owner, bool front, std::size_t& index) {
    auto& packed = m_ranges[owner].packed;
    std::uint64_t range = packed.load(std::memory_order_acquire);
    for (;;) {
        const std::uint64_t begin = range >> 32;
        const std::uint64_t end = range & 0xffffffffu;
        if (begin >= end) {
            return false;
        }
        const std::uint64_t next = front ? (begin + 1) << 32 | end : begin << 32 | (end - 1);
        // Acquire: the call's m_fn and m_count, written before its ranges were stored.
        if (packed.compare_exchange_weak(range, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
            index = static_cast<std::size_t>(front ? begin : end - 1);
            return true;
        }
    }
}

void ThreadPool::runIndices(unsigned worker, unsigned participants) {
    for (unsigned k = 0; k < participants; ++k) {
        const unsigned owner = (worker + k) % participants;
        std::size_t index = 0;
        while (claim(owner, k == 0, index)) {
            // The call this index belongs to cannot end before it finishes: its fn and count
            // stay as they are until then.
            const auto* fn = m_fn;
            const std::size_t count = m_count;
            if (!m_failed.load(std::memory_order_relaxed)) {
                try {
                    (*fn)(index, worker);
                } catch (...) {
                    std::lock_guard lock(m_errorMutex);
                    if (!m_error) {
                        m_error = std::current_exception();
                    }
                    m_failed.store(true, std::memory_order_relaxed);
                }
            }
            // The last index to finish wakes the caller if it sleeps (no system call if not).
            if (m_finished.fetch_add(1, std::memory_order_acq_rel) + 1 == count) {
                m_finished.notify_all();
            }
        }
    }
}

void ThreadPool::workerLoop(unsigned worker) {
    DenormalsOff denormals;
    std::uint32_t seen = 0;
    for (;;) {
        // The stages call parallelFor in quick succession (several times a chunk): spin a few
        // microseconds for the next call before sleeping, as a wake-up through the kernel costs
        // more than the short loops themselves.
        std::uint32_t now = m_published.load(std::memory_order_acquire);
        for (int i = 0; i < kSpinIterations && now == seen; ++i) {
            spinPause();
            now = m_published.load(std::memory_order_acquire);
        }
        while (now == seen) {
            m_published.wait(seen, std::memory_order_acquire);
            now = m_published.load(std::memory_order_acquire);
        }
        seen = now;
        if (m_stop.load(std::memory_order_acquire)) {
            return;
        }
        const unsigned participants = now & kMaxThreads;
        if (worker < participants) {
            runIndices(worker, participants);
        }
    }
}

void ThreadPool::parallelFor(std::size_t count, const std::function<void(std::size_t, unsigned)>& fn) {
    if (count == 0) {
        return;
    }
    DenormalsOff denormals;
    LATHE_EXPECTS(count < (std::size_t{1} << 32), "parallelFor takes fewer than 2^32 indices");
    const auto participants = static_cast<unsigned>(std::min<std::size_t>(size(), count));
    if (participants == 1) {
        for (std::size_t i = 0; i < count; ++i) {
            fn(i, 0);
        }
        return;
    }
    // Every index of the last call has finished (and every range is empty): nothing reads these.
    m_fn = &fn;
    m_count = count;
    m_error = nullptr;
    m_failed.store(false, std::memory_order_relaxed);
    m_finished.store(0, std::memory_order_relaxed);
    // Contiguous ranges: the tiles of one participant follow each other, and successive loops
    // over the same frames give each participant the same ones, so its data stays in its core's
    // cache (interleaved tiles moved every array between the cores each loop). Stored with
    // release: a claim (acquire) then sees the fn and count above.
    for (unsigned w = 0; w < participants; ++w) {
        const std::uint64_t begin = count * w / participants;
        const std::uint64_t end = count * (w + 1) / participants;
        m_ranges[w].packed.store(begin << 32 | end, std::memory_order_release);
    }
    publish(participants);
    runIndices(0, participants);
    // The workers are usually finishing their last index: wait for that without sleeping (a
    // sleep and wake-up through the kernel costs more than the wait), then sleep.
    std::uint32_t finished = m_finished.load(std::memory_order_acquire);
    for (int i = 0; i < kSpinIterations && finished < count; ++i) {
        spinPause();
        finished = m_finished.load(std::memory_order_acquire);
    }
    while (finished < count) {
        m_finished.wait(finished, std::memory_order_acquire);
        finished = m_finished.load(std::memory_order_acquire);
    }
    m_fn = nullptr;
    std::exception_ptr error;
    {
        std::lock_guard lock(m_errorMutex);
        error = std::move(m_error);
        m_error = nullptr;
    }
    if (error) {
        std::rethrow_exception(error);
    }
}

} // namespace lathe::detail

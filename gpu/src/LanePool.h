// Lathe (private to gpu/src): a bounded pool of lanes.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// A lane is what one device operation uses while it runs: a stream, the events that time it, the
// buffers and plans of its kernels. CudaBackend's operations each take a lane, so operations from
// several threads (the render's stages, the meters beside it, the limiter's batches, the analyses)
// run at once on their own streams — one's copies beside another's kernels — where one lock used to
// make them take turns. The pool makes lanes as they are first needed, up to a limit (the device
// memory they hold is bounded by it); past it, an operation waits for one to come back.
// Free of CUDA, so that the host tests cover it (tests/parity/LanePoolTest.cpp).
#pragma once

#include <lathe/Error.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace lathe::gpu::detail {

/// A lane limit from the setting `name` (an environment variable's value, nullptr when unset):
/// `fallback` when unset, else a whole number from 1 to `most`; anything else is a UsageError
/// naming the setting.
inline unsigned parseLaneLimit(const char* name, const char* value, unsigned fallback, unsigned most) {
    if (value == nullptr) {
        return fallback;
    }
    const std::string text(value);
    unsigned n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > most) {
        throw UsageError(std::string(name) + " must be a whole number from 1 to " + std::to_string(most) +
                         ", not \"" + text + "\"");
    }
    return n;
}

template <typename Lane> class LanePool {
public:
    using Factory = std::function<std::unique_ptr<Lane>()>;

    /// At most `limit` lanes (at least one), each made by `make` when first needed.
    LanePool(unsigned limit, Factory make) : m_limit(std::max(1u, limit)), m_make(std::move(make)) {}
    LanePool(const LanePool&) = delete;
    LanePool& operator=(const LanePool&) = delete;

    /// A lane held by one operation; given back when it goes out of scope.
    class Held {
    public:
        Held(LanePool& pool, Lane& lane) : m_pool(pool), m_lane(lane) {}
        ~Held() { m_pool.give(m_lane); }
        Held(const Held&) = delete;
        Held& operator=(const Held&) = delete;
        Lane& operator*() const noexcept { return m_lane; }
        Lane* operator->() const noexcept { return &m_lane; }

    private:
        LanePool& m_pool;
        Lane& m_lane;
    };

    /// The lane given back last (its buffers are the likeliest to be large enough already), else a
    /// new one while fewer than the limit exist, else the first to come back. A lane that cannot be
    /// made (the factory throws: no device memory) throws here and leaves the pool as it was.
    Held take() {
        std::unique_lock lock(m_mutex);
        for (;;) {
            if (!m_free.empty()) {
                Lane& lane = *m_free.back();
                m_free.pop_back();
                return Held(*this, lane);
            }
            if (m_lanes.size() + m_making < m_limit) {
                break;
            }
            m_returned.wait(lock);
        }
        ++m_making; // made outside the lock: making one can take a while (streams, events)
        lock.unlock();
        std::unique_ptr<Lane> made;
        try {
            made = m_make();
        } catch (...) {
            lock.lock();
            --m_making;
            m_returned.notify_one(); // a waiter may make one now
            throw;
        }
        lock.lock();
        --m_making;
        Lane& lane = *made;
        m_lanes.push_back(std::move(made));
        return Held(*this, lane);
    }

    /// How many lanes exist (made, free or held).
    std::size_t made() const {
        const std::lock_guard lock(m_mutex);
        return m_lanes.size();
    }
    unsigned limit() const noexcept { return m_limit; }

private:
    void give(Lane& lane) {
        {
            const std::lock_guard lock(m_mutex);
            m_free.push_back(&lane);
        }
        m_returned.notify_one();
    }

    const unsigned m_limit;
    const Factory m_make;
    mutable std::mutex m_mutex;
    std::condition_variable m_returned;
    std::vector<std::unique_ptr<Lane>> m_lanes;
    std::vector<Lane*> m_free;
    unsigned m_making = 0;
};

} // namespace lathe::gpu::detail

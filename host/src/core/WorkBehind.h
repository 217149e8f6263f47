// Lathe (engine-private): work handed to a thread of its own, in order, a bounded queue ahead.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace lathe::detail {

/// Runs `work` on a thread of its own over the items submitted, one at a time and in order, so
/// that the submitter's next item overlaps it (a render's writing, its output statistics and
/// quantisation). At most `depth` items wait. Items are recycled: take() hands back one that has
/// been worked (or a default-constructed one), so buffers keep their capacity. An exception in
/// `work` is rethrown by the next take(), submit() or finish(); the items still queued then are
/// dropped. Destroying it drops what is queued and joins the thread (after the item in hand).
/// take(), submit() and finish() are for one submitting thread.
template <typename Item> class WorkBehind {
public:
    using Work = std::function<void(Item&)>;

    WorkBehind(std::size_t depth, Work work)
        : m_depth(depth), m_work(std::move(work)), m_thread([this] { loop(); }) {}

    ~WorkBehind() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
            m_queue.clear();
        }
        m_cv.notify_all();
        m_thread.join();
    }

    WorkBehind(const WorkBehind&) = delete;
    WorkBehind& operator=(const WorkBehind&) = delete;

    /// An item to fill: waits until fewer than `depth` wait; rethrows an error of the work.
    Item take() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_queue.size() < m_depth || m_error; });
        rethrow();
        if (m_free.empty()) {
            return Item{};
        }
        Item item = std::move(m_free.back());
        m_free.pop_back();
        return item;
    }

    void submit(Item item) {
        {
            std::lock_guard lock(m_mutex);
            rethrow();
            m_queue.push_back(std::move(item));
        }
        m_cv.notify_all();
    }

    /// Waits until every submitted item is worked; rethrows an error of the work.
    void finish() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return (m_queue.empty() && !m_busy) || m_error; });
        rethrow();
    }

    /// Seconds spent in `work` so far (final after finish()).
    double busySeconds() {
        std::lock_guard lock(m_mutex);
        return m_busySeconds;
    }

private:
    void rethrow() {
        if (m_error) {
            std::rethrow_exception(m_error);
        }
    }

    void loop() {
        for (;;) {
            Item item;
            {
                std::unique_lock lock(m_mutex);
                m_cv.wait(lock, [&] { return m_stop || !m_queue.empty(); });
                if (m_stop) {
                    return;
                }
                item = std::move(m_queue.front());
                m_queue.pop_front();
                m_busy = true;
            }
            const auto start = std::chrono::steady_clock::now();
            std::exception_ptr error;
            try {
                m_work(item);
            } catch (...) {
                error = std::current_exception();
            }
            const double spent =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            {
                std::lock_guard lock(m_mutex);
                m_busySeconds += spent;
                m_busy = false;
                if (error) {
                    m_error = error;
                    m_queue.clear();
                }
                m_free.push_back(std::move(item));
            }
            m_cv.notify_all();
        }
    }

    const std::size_t m_depth;
    const Work m_work;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Item> m_queue;
    std::vector<Item> m_free;
    bool m_busy = false;
    bool m_stop = false;
    double m_busySeconds = 0;
    std::exception_ptr m_error;
    std::thread m_thread; // last: starts after every member above exists
};

} // namespace lathe::detail

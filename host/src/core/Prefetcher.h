// Lathe (engine-private): read-ahead of an AudioSource on a worker thread.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioSource.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace lathe::detail {

/// Reads the source on a worker thread, `depth` blocks ahead of the consumer, so that decoding
/// (libsndfile's format conversion and the read syscalls) overlaps with processing and encoding.
/// Memory stays bounded: depth + 1 blocks exist at any time. A reader exception is rethrown on the
/// consumer's thread by next(); destroying the prefetcher stops and joins the worker.
class Prefetcher {
public:
    Prefetcher(AudioSource& source, Frames blockFrames, int depth)
        : m_source(source), m_blockFrames(blockFrames) {
        m_free.resize(static_cast<std::size_t>(depth));
        m_worker = std::thread([this] { run(); });
    }

    ~Prefetcher() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_changed.notify_all();
        m_worker.join();
    }

    Prefetcher(const Prefetcher&) = delete;
    Prefetcher& operator=(const Prefetcher&) = delete;

    /// Swaps the next block into `block` (whose old buffer is recycled). Returns its frame count,
    /// 0 at the end of the source.
    Frames next(AudioBuffer& block) {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [this] { return !m_ready.empty() || m_error || m_finished; });
        if (m_ready.empty()) {
            if (m_error) {
                std::rethrow_exception(m_error);
            }
            return 0;
        }
        std::swap(block, m_ready.front());
        m_free.push_back(std::move(m_ready.front()));
        m_ready.pop_front();
        lock.unlock();
        m_changed.notify_all();
        return block.frames();
    }

private:
    void run() {
        try {
            for (;;) {
                AudioBuffer buffer;
                {
                    std::unique_lock lock(m_mutex);
                    m_changed.wait(lock, [this] { return m_stop || !m_free.empty(); });
                    if (m_stop) {
                        return;
                    }
                    buffer = std::move(m_free.back());
                    m_free.pop_back();
                }
                const Frames n = m_source.read(buffer, m_blockFrames);
                {
                    std::lock_guard lock(m_mutex);
                    if (n == 0) {
                        m_finished = true;
                    } else {
                        m_ready.push_back(std::move(buffer));
                    }
                }
                m_changed.notify_all();
                if (n == 0) {
                    return;
                }
            }
        } catch (...) {
            {
                std::lock_guard lock(m_mutex);
                m_error = std::current_exception();
            }
            m_changed.notify_all();
        }
    }

    AudioSource& m_source;
    Frames m_blockFrames;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<AudioBuffer> m_ready;
    std::vector<AudioBuffer> m_free;
    bool m_stop = false;
    bool m_finished = false;
    std::exception_ptr m_error;
    std::thread m_worker;
};

} // namespace lathe::detail

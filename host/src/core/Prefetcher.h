// Lathe (engine-private): read-ahead of an AudioSource on a worker thread.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ForwardingSource.h"

#include <lathe/AudioSource.h>
#include <lathe/math/SampleStats.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
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
    /// Per-channel statistics of a block, computed on the worker thread as it is read.
    using StatsHook =
        std::function<void(const AudioBuffer& block, Frames position, std::vector<math::SampleStats>& out)>;

    /// With `stats`, every block's statistics are computed on the worker (off the consumer's
    /// thread) and handed out by next() with the block.
    Prefetcher(AudioSource& source, Frames blockFrames, int depth, StatsHook stats = {})
        : m_source(source), m_blockFrames(blockFrames), m_statsHook(std::move(stats)) {
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

    /// Swaps the next block into `block` (whose old buffer is recycled) and, with a stats hook, its
    /// statistics into `*stats`. Returns its frame count, 0 at the end of the source.
    Frames next(AudioBuffer& block, std::vector<math::SampleStats>* stats = nullptr) {
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
        if (stats != nullptr && !m_readyStats.empty()) {
            std::swap(*stats, m_readyStats.front());
        }
        if (!m_readyStats.empty()) {
            m_readyStats.pop_front();
        }
        lock.unlock();
        m_changed.notify_all();
        return block.frames();
    }

    /// Seconds the worker spent in the source's read() (decoding, for a file): final once
    /// next() has returned 0.
    double readSeconds() const {
        std::lock_guard lock(m_mutex);
        return m_readSeconds;
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
                const auto readStart = std::chrono::steady_clock::now();
                const Frames n = m_source.read(buffer, m_blockFrames);
                const double spent =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - readStart).count();
                std::vector<math::SampleStats> stats;
                if (n > 0 && m_statsHook) {
                    m_statsHook(buffer, m_position, stats);
                }
                m_position += n;
                {
                    std::lock_guard lock(m_mutex);
                    m_readSeconds += spent;
                    if (n == 0) {
                        m_finished = true;
                    } else {
                        m_ready.push_back(std::move(buffer));
                        if (m_statsHook) {
                            m_readyStats.push_back(std::move(stats));
                        }
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
    double m_readSeconds = 0; ///< under m_mutex
    StatsHook m_statsHook;
    Frames m_position = 0;                                   ///< frames read so far (the worker's)
    std::deque<std::vector<math::SampleStats>> m_readyStats; ///< with m_ready, when hooked
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<AudioBuffer> m_ready;
    std::vector<AudioBuffer> m_free;
    bool m_stop = false;
    bool m_finished = false;
    std::exception_ptr m_error;
    std::thread m_worker;
};

/// A source read ahead on a worker (Prefetcher) and delivered in whatever sizes its reader asks
/// for: what a computing consumer of a file reads through, so that the decoding overlaps its work
/// (the targeting's trial limiter pulls the intermediate through it). Reading starts at
/// construction; the frames are the source's, in order. Ask for its warnings (the source's) once
/// read() has returned 0: the worker has then stopped reading.
class ReadAheadSource final : public ForwardingSource {
public:
    ReadAheadSource(AudioSource& source, Frames blockFrames, int depth = 2)
        : ForwardingSource(source), m_prefetch(source, blockFrames, depth) {}
    Frames read(AudioBuffer& dst, Frames maxFrames) override {
        if (m_used == m_block.frames()) { // the next block
            if (m_ended || m_prefetch.next(m_block) == 0) {
                m_ended = true;
                dst.reset(m_source.channelCount(), 0);
                return 0;
            }
            m_used = 0;
        }
        const Frames n = std::min(std::max<Frames>(maxFrames, 0), m_block.frames() - m_used);
        dst.reset(m_block.channels(), n);
        dst.append(m_block, m_used, n);
        m_used += n;
        return n;
    }

private:
    Prefetcher m_prefetch;
    AudioBuffer m_block; ///< the block being delivered, from frame m_used on
    Frames m_used = 0;
    bool m_ended = false;
};

} // namespace lathe::detail

// Lathe tests: the CPU backend, noting which threads called it (a job's thread budget is checked
// with it: a budget of one thread computes on the caller's thread only).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "CpuForwardingBackend.h"

#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace lathe::test {

class ThreadNotingBackend final : public CpuForwardingBackend {
public:
    void accumulateStats(const AudioBuffer& b, Frames first, std::span<math::SampleStats> s) override {
        note(m_stats);
        CpuForwardingBackend::accumulateStats(b, first, s);
    }
    void measureLoudnessChunk(const LoudnessParams& p, const LoudnessChunk& c,
                              LoudnessRecords& out) override {
        note(m_loudness);
        CpuForwardingBackend::measureLoudnessChunk(p, c, out);
    }
    /// The threads that measured loudness chunks / took block statistics.
    std::set<std::thread::id> loudnessThreads() const { return copy(m_loudness); }
    std::set<std::thread::id> statsThreads() const { return copy(m_stats); }

private:
    void note(std::set<std::thread::id>& where) {
        std::lock_guard lock(m_mutex);
        where.insert(std::this_thread::get_id());
    }
    std::set<std::thread::id> copy(const std::set<std::thread::id>& where) const {
        std::lock_guard lock(m_mutex);
        return where;
    }

    mutable std::mutex m_mutex;
    std::set<std::thread::id> m_loudness;
    std::set<std::thread::id> m_stats;
};

} // namespace lathe::test

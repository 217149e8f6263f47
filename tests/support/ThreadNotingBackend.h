// Lathe tests: the CPU backend, noting which threads called it (a job's thread budget is checked
// with it: a budget of one thread computes on the caller's thread only).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Backend.h>
#include <lathe/LoudnessKernel.h>

#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace lathe::test {

class ThreadNotingBackend final : public Backend {
public:
    bool supports(Capability c) const override { return m_cpu->supports(c); }
    std::string_view name() const override {
        return m_cpu->name();
    } // "cpu": paths that ask, see the reference
    std::string description() const override { return m_cpu->description(); }
    void accumulateStats(const AudioBuffer& b, Frames first, std::span<math::SampleStats> s) override {
        note(m_stats);
        m_cpu->accumulateStats(b, first, s);
    }
    Frames sanitize(AudioBuffer& b) override { return m_cpu->sanitize(b); }
    Frames quantize(const AudioBuffer& b, Frames first, const math::QuantizeParams& p,
                    std::int32_t* out) override {
        return m_cpu->quantize(b, first, p, out);
    }
    void measureLoudnessChunk(const LoudnessParams& p, const LoudnessChunk& c,
                              LoudnessRecords& out) override {
        note(m_loudness);
        m_cpu->measureLoudnessChunk(p, c, out);
    }
    std::unique_ptr<Convolver> makeConvolver(const FilterMatrix& m, const ConvolverOptions& o) override {
        return m_cpu->makeConvolver(m, o);
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

    std::unique_ptr<Backend> m_cpu = makeCpuBackend();
    mutable std::mutex m_mutex;
    std::set<std::thread::id> m_loudness;
    std::set<std::thread::id> m_stats;
};

} // namespace lathe::test

// Lathe tests: a backend that hands every operation to the CPU reference, for test backends that
// change or watch one or two of them (noting threads, failing, emulating device kernels).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Backend.h>
#include <lathe/LoudnessKernel.h>

#include <memory>
#include <string>
#include <string_view>

namespace lathe::test {

class CpuForwardingBackend : public Backend {
public:
    bool supports(Capability c) const override { return m_cpu->supports(c); }
    std::string_view name() const override {
        return m_cpu->name();
    } // "cpu": paths that ask see the reference
    std::string description() const override { return m_cpu->description(); }
    void accumulateStats(const AudioBuffer& b, Frames first, std::span<math::SampleStats> s) override {
        m_cpu->accumulateStats(b, first, s);
    }
    Frames sanitize(AudioBuffer& b) override { return m_cpu->sanitize(b); }
    Frames quantize(const AudioBuffer& b, Frames first, const math::QuantizeParams& p,
                    std::int32_t* out) override {
        return m_cpu->quantize(b, first, p, out);
    }
    void measureLoudnessChunk(const LoudnessParams& p, const LoudnessChunk& c,
                              LoudnessRecords& out) override {
        m_cpu->measureLoudnessChunk(p, c, out);
    }
    std::unique_ptr<Convolver> makeConvolver(const FilterMatrix& m, const ConvolverOptions& o) override {
        return m_cpu->makeConvolver(m, o);
    }

protected:
    Backend& cpu() const { return *m_cpu; }

private:
    std::unique_ptr<Backend> m_cpu = makeCpuBackend();
};

} // namespace lathe::test

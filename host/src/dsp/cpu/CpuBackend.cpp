// SPDX-License-Identifier: GPL-3.0-or-later
// The reference backend: straight loops over the shared lathe/math functions. Kept deliberately
// plain; it is the oracle every accelerated path is tested against.
#include "../../core/Simd.h"
#include "HostLoops.h"

#include <lathe/Backend.h>
#include <lathe/Error.h>
#include <lathe/math/Quantize.h>
#include <lathe/math/SampleStats.h>

#include <bit>
#include <cstdint>
#include <thread>

namespace lathe {
namespace detail {

LATHE_TARGET_CLONES PeakBits peakBits(const float* x, Frames n) {
    // The maximum of each block of kBlock samples is a vectorised integer max; the first block
    // whose maximum beats every earlier one holds the first occurrence of the largest, which is
    // then looked for in that block alone. (A scan keeping the first strictly larger value, one
    // compare and branch per sample, was a fifth of the CPU meter's time.)
    constexpr Frames kBlock = 64;
    PeakBits p;
    Frames at = -1; // the block
    Frames i = 0;
    auto blockMax = [x](Frames from, Frames count) {
        std::uint32_t m = 0;
        for (Frames k = 0; k < count; ++k) {
            const std::uint32_t b = std::bit_cast<std::uint32_t>(x[from + k]) & 0x7fffffffu;
            m = b > m ? b : m;
        }
        return m;
    };
    for (; i + kBlock <= n; i += kBlock) {
        const std::uint32_t m = blockMax(i, kBlock);
        if (m > p.bits) {
            p.bits = m;
            at = i;
        }
    }
    if (i < n) {
        if (const std::uint32_t m = blockMax(i, n - i); m > p.bits) {
            p.bits = m;
            at = i;
        }
    }
    if (at >= 0) {
        for (Frames k = at;; ++k) {
            if ((std::bit_cast<std::uint32_t>(x[k]) & 0x7fffffffu) == p.bits) {
                p.first = k;
                break;
            }
        }
    }
    return p;
}

// Same result as math::accumulateSample over the block, but written so that the compiler can
// vectorise it: it is the hottest loop of `lathe info` and of every render
// (tests/unit/CpuBackendTest checks it against the per-sample definition).
LATHE_TARGET_CLONES math::SampleStats blockStats(const float* x, Frames n, Frames firstFrame) {
    // |x| as bits: one integer max gives the peak and says whether all are finite.
    const PeakBits peak = peakBits(x, n);
    math::SampleStats s = math::emptyStats();
    if (peak.bits >= 0x7f800000u) { // some NaN/Inf: the exact per-sample path
        for (Frames i = 0; i < n; ++i) {
            math::accumulateSample(s, x[i], firstFrame + i);
        }
        return s;
    }
    s.peakAbs = std::bit_cast<float>(peak.bits);
    if (peak.first >= 0) {
        s.peakFrame = firstFrame + peak.first;
    }
    // Independent partial sums (in double) break the dependency chain: 16 of each, so AVX-512
    // keeps two registers of 8 lanes in flight per sum (4 left the reader thread's stats at 5 %
    // of a limiter render's time, latency-bound).
    constexpr int kPartials = 16;
    double sum[kPartials] = {};
    double sq[kPartials] = {};
    Frames i = 0;
    for (; i + kPartials <= n; i += kPartials) {
        for (int k = 0; k < kPartials; ++k) {
            const double d = x[i + k];
            sum[k] += d;
            sq[k] += d * d;
        }
    }
    for (; i < n; ++i) {
        const double d = x[i];
        sum[0] += d;
        sq[0] += d * d;
    }
    for (int width = kPartials / 2; width > 0; width /= 2) { // pairwise: a fixed order
        for (int k = 0; k < width; ++k) {
            sum[k] += sum[k + width];
            sq[k] += sq[k + width];
        }
    }
    s.sum = sum[0];
    s.sumSquares = sq[0];
    s.finiteCount = n;
    return s;
}

namespace {

/// Frame-major so that the interleaved stores are sequential; the dither switch is hoisted out.
template <bool Dither>
Frames quantizeLoop(const AudioBuffer& block, Frames from, Frames count, Frames firstFrame,
                    const math::QuantizeParams& params, std::int32_t* out) {
    const int channels = block.channels();
    Frames clipped = 0;
    if (channels == 2) {
        const float* l = block.channel(0) + from;
        const float* r = block.channel(1) + from;
        for (Frames i = 0; i < count; ++i) {
            const auto frame = static_cast<std::uint64_t>(firstFrame + from + i);
            const math::QuantizedSample a = math::quantizeSampleT<Dither>(l[i], params, 0, frame);
            const math::QuantizedSample b = math::quantizeSampleT<Dither>(r[i], params, 1, frame);
            out[2 * i] = a.leftJustified;
            out[2 * i + 1] = b.leftJustified;
            clipped += (a.clipped ? 1 : 0) + (b.clipped ? 1 : 0);
        }
        return clipped;
    }
    for (Frames i = 0; i < count; ++i) {
        const auto frame = static_cast<std::uint64_t>(firstFrame + from + i);
        for (int c = 0; c < channels; ++c) {
            const math::QuantizedSample q = math::quantizeSampleT<Dither>(
                block.channel(c)[from + i], params, static_cast<std::uint32_t>(c), frame);
            out[i * channels + c] = q.leftJustified;
            clipped += q.clipped ? 1 : 0;
        }
    }
    return clipped;
}

} // namespace

Frames quantizeFrames(const AudioBuffer& block, Frames from, Frames count, Frames firstFrame,
                      const math::QuantizeParams& params, std::int32_t* out) {
    LATHE_EXPECTS(from >= 0 && count >= 0 && from + count <= block.frames(), "frames within the block");
    return params.dither ? quantizeLoop<true>(block, from, count, firstFrame, params, out)
                         : quantizeLoop<false>(block, from, count, firstFrame, params, out);
}

} // namespace detail

namespace {

class CpuBackend final : public Backend {
public:
    std::string_view name() const override { return "cpu"; }

    /// Everything but Capability::Dynamics, LimiterPass, Spectrum and ResidentTrial: on the CPU the
    /// multiband and limiter stages and the spectral analyzer compute those themselves (that code
    /// is the reference the device's is tested against), and there is no device to hold audio on.
    bool supports(Capability c) const override {
        return c != Capability::Dynamics && c != Capability::LimiterPass && c != Capability::Spectrum &&
               c != Capability::ResidentTrial;
    }

    void measureLoudnessChunk(const LoudnessParams& params, const LoudnessChunk& chunk,
                              LoudnessRecords& out) override {
        measureLoudnessChunkCpu(params, chunk, out);
    }

    std::unique_ptr<Convolver> makeConvolver(const FilterMatrix& matrix,
                                             const ConvolverOptions& options) override {
        return makeCpuConvolver(matrix, options);
    }

    std::string description() const override {
        return "CPU reference (" + std::to_string(std::max(1u, std::thread::hardware_concurrency())) +
               " hardware threads)";
    }

    void accumulateStats(const AudioBuffer& block, Frames firstFrame,
                         std::span<math::SampleStats> stats) override {
        LATHE_EXPECTS(stats.size() == static_cast<std::size_t>(block.channels()), "stats per channel");
        for (int c = 0; c < block.channels(); ++c) {
            math::SampleStats& s = stats[static_cast<std::size_t>(c)];
            s = math::combineStats(s, detail::blockStats(block.channel(c), block.frames(), firstFrame));
        }
    }

    Frames sanitize(AudioBuffer& block) override {
        Frames replaced = 0;
        for (int c = 0; c < block.channels(); ++c) {
            float* x = block.channel(c);
            for (Frames i = 0; i < block.frames(); ++i) {
                if (!math::isFiniteSample(x[i])) {
                    x[i] = 0.0f;
                    ++replaced;
                }
            }
        }
        return replaced;
    }

    Frames quantize(const AudioBuffer& block, Frames firstFrame, const math::QuantizeParams& params,
                    std::int32_t* out) override {
        return detail::quantizeFrames(block, 0, block.frames(), firstFrame, params, out);
    }
};

} // namespace

std::unique_ptr<Backend> makeCpuBackend() {
    return std::make_unique<CpuBackend>();
}

} // namespace lathe

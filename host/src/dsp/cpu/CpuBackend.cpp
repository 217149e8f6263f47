// SPDX-License-Identifier: GPL-3.0-or-later
// The reference backend: straight loops over the shared lathe/math functions. Kept deliberately
// plain; it is the oracle every accelerated path is tested against.
#include <lathe/Backend.h>
#include <lathe/Error.h>
#include <lathe/math/Quantize.h>
#include <lathe/math/SampleStats.h>

#include <thread>

namespace lathe {
namespace {

class CpuBackend final : public Backend {
public:
    std::string_view name() const override { return "cpu"; }

    std::string description() const override {
        return "CPU reference (" + std::to_string(std::max(1u, std::thread::hardware_concurrency())) +
               " hardware threads)";
    }

    void accumulateStats(const AudioBuffer& block, Frames firstFrame, std::span<math::SampleStats> stats) override {
        LATHE_EXPECTS(stats.size() == static_cast<std::size_t>(block.channels()), "stats per channel");
        for (int c = 0; c < block.channels(); ++c) {
            const float* x = block.channel(c);
            math::SampleStats& s = stats[static_cast<std::size_t>(c)];
            for (Frames i = 0; i < block.frames(); ++i) {
                math::accumulateSample(s, x[i], firstFrame + i);
            }
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
        const int channels = block.channels();
        Frames clipped = 0;
        for (int c = 0; c < channels; ++c) {
            const float* x = block.channel(c);
            for (Frames i = 0; i < block.frames(); ++i) {
                const math::QuantizedSample q = math::quantizeSample(
                    x[i], params, static_cast<std::uint32_t>(c), static_cast<std::uint64_t>(firstFrame + i));
                out[i * channels + c] = q.leftJustified;
                clipped += q.clipped ? 1 : 0;
            }
        }
        return clipped;
    }
};

} // namespace

std::unique_ptr<Backend> makeCpuBackend() { return std::make_unique<CpuBackend>(); }

} // namespace lathe

// SPDX-License-Identifier: GPL-3.0-or-later
// The CUDA backend's multiband dynamics kernels (gpu/src/MultibandKernels.cuh), compiled for the host
// with shims for CUDA's built-in variables and run serially — every thread of every launch, in the
// launchers' order — as a backend under MultibandStage, against the stage's own host code (the
// reference). This tests the kernels' indexing, scans and states on every run, GPU or not; the
// device itself (and cuFFT) is tested by BackendParity on a GPU machine. The block reductions of
// the call's statistics need __syncthreads and are computed here by plain loops instead.
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Backend.h>
#include <lathe/MultibandStage.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <vector>

namespace lathe::gpu::kernels::emulated {
struct Dim3 {
    unsigned x = 0, y = 0, z = 0;
};
// What a kernel reads of its place in the launch: set by launch() below before each thread.
Dim3 blockIdx, threadIdx, blockDim;
inline void __syncthreads() {}
} // namespace lathe::gpu::kernels::emulated

#define __global__
#define __device__
#define __shared__ static
namespace lathe::gpu::kernels {
using emulated::__syncthreads;
using emulated::blockDim;
using emulated::blockIdx;
using emulated::threadIdx;
} // namespace lathe::gpu::kernels
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function" // the reductions are not emulated
#include "MultibandKernels.cuh"
#pragma GCC diagnostic pop
#undef __global__
#undef __device__
#undef __shared__

namespace lathe {
namespace {

namespace k = gpu::kernels;

/// Runs `kernel` for every thread of a grid of blocks × threads, one after another.
template <typename Kernel> void launch(unsigned blocksX, unsigned blocksY, unsigned threads, Kernel kernel) {
    k::emulated::blockDim = {threads, 1, 1};
    for (unsigned y = 0; y < blocksY; ++y) {
        for (unsigned b = 0; b < blocksX; ++b) {
            for (unsigned t = 0; t < threads; ++t) {
                k::emulated::blockIdx = {b, y, 0};
                k::emulated::threadIdx = {t, 0, 0};
                kernel();
            }
        }
    }
}

unsigned blocks(std::int64_t n, int threads) {
    return static_cast<unsigned>((n + threads - 1) / threads);
}

/// The CPU reference for everything, and Capability::Dynamics by the emulated kernels, with the
/// same geometry, order of launches and buffers as CudaBackend::multibandDynamics.
class EmulatedKernelsBackend final : public Backend {
public:
    bool supports(Capability) const override { return true; }
    std::string_view name() const override { return "emulated"; }
    std::string description() const override { return "CUDA kernels run serially on the host"; }
    void accumulateStats(const AudioBuffer& b, Frames first, std::span<math::SampleStats> s) override {
        m_cpu->accumulateStats(b, first, s);
    }
    Frames sanitize(AudioBuffer& b) override { return m_cpu->sanitize(b); }
    Frames quantize(const AudioBuffer& b, Frames first, const math::QuantizeParams& p,
                    std::int32_t* out) override {
        return m_cpu->quantize(b, first, p, out);
    }
    std::unique_ptr<Convolver> makeConvolver(const FilterMatrix& m, const ConvolverOptions& o) override {
        return m_cpu->makeConvolver(m, o);
    }

    void multibandDynamics(const MultibandParams& params, const MultibandCall& call,
                           std::vector<BandDetectorState>& state, AudioBuffer& out,
                           MultibandCallStats& stats) override {
        const AudioBuffer& in = *call.filtered;
        const int channels = params.channels;
        const int bands = params.bands;
        const Frames frames = in.frames();
        const auto cells = static_cast<std::size_t>(channels * bands);
        const auto n = static_cast<std::size_t>(frames);
        out.reset(channels, frames);
        out.setFrames(frames);
        stats.sumGainDb.assign(cells, 0.0);
        stats.minGainDb.assign(cells, 0.0);
        stats.stepReductionDb.assign(static_cast<std::size_t>(bands), {});
        stats.firstStep = 0;
        if (frames == 0) {
            return;
        }
        std::vector<float> x(cells * n);
        for (std::size_t i = 0; i < cells; ++i) {
            std::copy_n(in.channel(static_cast<int>(i)), frames,
                        x.begin() + static_cast<std::ptrdiff_t>(i * n));
        }
        std::vector<MultibandBandParams> band = params.band;
        k::MultibandLayout m{};
        m.channels = channels;
        m.bands = bands;
        m.detectors = channels == 2 && params.link == 1.0 ? 1 : channels;
        m.frames = frames;
        m.segment = 256; // CudaBackend's kDynamicsSegmentFrames
        m.segments = (frames + m.segment - 1) / m.segment;
        m.rms = params.rms;
        m.midSide = params.midSide && channels == 2;
        m.link = params.link;
        m.aRms = params.aRms;
        m.band = band.data();
        m.x = x.data();
        std::vector<float> encoded(cells * n), bandOut(cells * n),
            sum(static_cast<std::size_t>(channels) * n);
        std::vector<double> level(cells * n), gainDb(cells * n);
        std::vector<math::MaxAffine> maps(k::multibandStartCount(m));
        std::vector<double> start(maps.size()), start2(maps.size());
        m.encoded = encoded.data();
        m.level = level.data();
        m.maps = maps.data();
        m.start = start.data();
        m.start2 = start2.data();
        m.state = state.data();
        m.gainDb = gainDb.data();
        m.bandOut = bandOut.data();
        m.out = sum.data();
        // As launchMultiband.
        const auto perChannel = static_cast<std::int64_t>(cells);
        const std::int64_t detectors = static_cast<std::int64_t>(bands) * m.detectors;
        if (m.midSide) {
            launch(blocks(frames, 256), static_cast<unsigned>(bands), 256,
                   [&] { k::encodeMidSideKernel(m); });
        }
        if (m.rms) {
            launch(blocks(perChannel * m.segments, 128), 1, 128, [&] { k::rmsComposeKernel(m); });
            launch(blocks(perChannel, 32), 1, 32, [&] { k::rmsCarryKernel(m); });
            launch(blocks(perChannel * m.segments, 128), 1, 128, [&] { k::rmsLevelKernel(m); });
        }
        launch(blocks(detectors * m.segments, 128), 1, 128, [&] { k::releaseComposeKernel(m); });
        launch(blocks(detectors, 32), 1, 32, [&] { k::detectorCarryKernel<math::MaxAffine>(m, false); });
        launch(blocks(detectors * m.segments, 128), 1, 128, [&] { k::attackComposeKernel(m); });
        launch(blocks(detectors, 32), 1, 32, [&] { k::detectorCarryKernel<math::Affine>(m, true); });
        launch(blocks(detectors * m.segments, 128), 1, 128, [&] { k::gainKernel(m); });
        launch(blocks(frames, 256), static_cast<unsigned>(channels), 256, [&] { k::sumBandsKernel(m); });
        for (int c = 0; c < channels; ++c) {
            std::copy_n(sum.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(c) * n), frames,
                        out.channel(c));
        }
        // The statistics by plain loops (what gainStatsKernel and stepReductionKernel reduce).
        for (std::size_t i = 0; i < cells; ++i) {
            if (!band[i % static_cast<std::size_t>(bands)].active) {
                continue;
            }
            const auto first = gainDb.begin() + static_cast<std::ptrdiff_t>(i * n);
            for (auto g = first; g != first + frames; ++g) {
                stats.sumGainDb[i] += *g;
            }
            stats.minGainDb[i] = *std::min_element(first, first + frames);
        }
        const Frames firstN = std::max<Frames>(0, -call.outputFrame);
        if (firstN >= frames) {
            return;
        }
        stats.firstStep = (firstN + call.outputFrame) / params.historyStep;
        const Frames lastStep = (frames - 1 + call.outputFrame) / params.historyStep;
        for (int b = 0; b < bands; ++b) {
            if (!band[static_cast<std::size_t>(b)].active) {
                continue;
            }
            for (Frames w = stats.firstStep; w <= lastStep; ++w) {
                const Frames lo = std::max(firstN, w * params.historyStep - call.outputFrame);
                const Frames hi = std::min(frames, (w + 1) * params.historyStep - call.outputFrame);
                double r = 0.0;
                for (Frames i = lo; i < hi; ++i) {
                    for (int c = 0; c < channels; ++c) {
                        const double g =
                            gainDb[static_cast<std::size_t>(c * bands + b) * n + static_cast<std::size_t>(i)];
                        r = std::max(r, band[static_cast<std::size_t>(b)].curve.makeupDb - g);
                    }
                }
                stats.stepReductionDb[static_cast<std::size_t>(b)].push_back(r);
            }
        }
    }

private:
    std::unique_ptr<Backend> m_cpu = makeCpuBackend();
};

/// A multiband stage on `backend` over `in`, in blocks of `block` frames, flushed; its report.
AudioBuffer render(Backend& backend, const MultibandSpec& spec, const test::Planar& in, SampleRate fs,
                   const ChannelLayout& layout, Frames block, nlohmann::json& report) {
    MultibandStage stage(spec, backend, ConvolverOptions{4096, 2});
    StreamFormat f;
    f.sampleRate = fs;
    f.channels = static_cast<int>(in.size());
    f.layout = layout;
    stage.prepare(f, block);
    const auto total = static_cast<Frames>(in[0].size());
    AudioBuffer all(f.channels, 0);
    AudioBuffer piece(f.channels, block);
    AudioBuffer out;
    for (Frames at = 0; at < total; at += block) {
        const Frames count = std::min(block, total - at);
        piece.setFrames(count);
        for (int c = 0; c < f.channels; ++c) {
            std::copy_n(in[static_cast<std::size_t>(c)].begin() + at, count, piece.channel(c));
        }
        stage.process(piece, out);
        all.append(out, 0, out.frames());
    }
    do {
        stage.flush(out);
        all.append(out, 0, out.frames());
    } while (out.frames() > 0);
    report = stage.report();
    return all;
}

// On the host the kernels evaluate the same expressions as the reference (no fused multiply-add
// here: -ffp-contract=off), so the scans' carried states are the only difference: the samples come
// out identical, the report's sums within double rounding.
TEST(EmulatedKernels, MultibandDynamicsEqualTheStagesHostCode) {
    struct Case {
        const char* what;
        SampleRate fs;
        int channels;
        double seconds;
        std::function<void(MultibandSpec&)> set;
    };
    const Case cases[] = {
        {"default (4 bands, peak, linked)", 48000, 2, 8.0, [](MultibandSpec&) {}},
        {"RMS, 50 % link, mid/side, every curve", 48000, 2, 5.0,
         [](MultibandSpec& s) {
             s.detector = DetectorKind::Rms;
             s.stereoLinkPercent = 50.0;
             s.midSide = true;
             s.bands[0] = {DynamicsMode::Expander, -35.0, 2.0, 6.0, 3.0, 80.0, 1.5, 12.0};
             s.bands[1] = {DynamicsMode::Compressor, -24.0, 3.0, 0.0, 1.0, 40.0, 2.0, 24.0};
             s.bands[2] = {DynamicsMode::Upward, -30.0, 2.0, 10.0, 20.0, 300.0, -1.0, 6.0};
             s.bands[3] = {DynamicsMode::Compressor, -18.0, 8.0, 4.0, 0.5, 20.0, 0.0, 3.0};
         }},
        {"mono, unlinked", 44100, 1, 4.0, [](MultibandSpec& s) { s.stereoLinkPercent = 0.0; }},
        {"5.1, 70 % link, a band bypassed", 48000, 6, 3.0,
         [](MultibandSpec& s) {
             s.stereoLinkPercent = 70.0;
             s.bands[1].bypass = true;
         }},
        {"stereo, a band soloed, unlinked", 48000, 2, 3.0,
         [](MultibandSpec& s) {
             s.stereoLinkPercent = 0.0;
             s.bands[2].solo = true;
         }},
    };
    for (const Case& c : cases) {
        MultibandSpec spec;
        c.set(spec);
        const auto frames = static_cast<Frames>(c.seconds * c.fs);
        test::Planar x;
        for (int ch = 0; ch < c.channels; ++ch) {
            std::vector<float> v = test::noise(frames, 0.5, 90 + static_cast<std::uint64_t>(ch));
            const auto tone = test::sine(220.0 * (ch + 1), 0.3, c.fs, frames);
            for (Frames i = 0; i < frames; ++i) { // 1 s sections at 0, −18, −6, −30 dB
                const double gainDb = std::array<double, 4>{0.0, -18.0, -6.0, -30.0}[(i / c.fs) % 4];
                const auto u = static_cast<std::size_t>(i);
                v[u] = static_cast<float>((v[u] + tone[u]) * std::pow(10.0, gainDb / 20.0));
            }
            x.push_back(std::move(v));
        }
        const ChannelLayout layout =
            c.channels == 6 ? parseChannelLayout("5.1") : ChannelLayout::fromConvention(c.channels);
        EmulatedKernelsBackend emulated;
        auto cpu = makeCpuBackend();
        nlohmann::json gotReport;
        nlohmann::json wantReport;
        const AudioBuffer got = render(emulated, spec, x, c.fs, layout, 30011, gotReport);
        const AudioBuffer want = render(*cpu, spec, x, c.fs, layout, 30011, wantReport);
        ASSERT_EQ(got.frames(), want.frames()) << c.what;
        ASSERT_EQ(got.channels(), want.channels()) << c.what;
        for (int ch = 0; ch < want.channels(); ++ch) {
            for (Frames i = 0; i < want.frames(); ++i) {
                ASSERT_EQ(got.channel(ch)[i], want.channel(ch)[i])
                    << c.what << ", channel " << ch << ", frame " << i;
            }
        }
        for (std::size_t b = 0; b < wantReport["bands"].size(); ++b) {
            for (const char* key : {"max_gain_reduction_db", "mean_gain_db"}) {
                EXPECT_NEAR(gotReport["bands"][b][key].get<double>(),
                            wantReport["bands"][b][key].get<double>(), test::kEmulatedReportDb)
                    << c.what << ", band " << b << ", " << key;
            }
        }
        EXPECT_EQ(gotReport["gain_reduction_history"]["bands_db"].size(),
                  wantReport["gain_reduction_history"]["bands_db"].size());
        const auto& gh = gotReport["gain_reduction_history"]["bands_db"];
        const auto& wh = wantReport["gain_reduction_history"]["bands_db"];
        for (std::size_t b = 0; b < wh.size(); ++b) {
            ASSERT_EQ(gh[b].size(), wh[b].size()) << c.what << ", band " << b;
            for (std::size_t i = 0; i < wh[b].size(); ++i) {
                EXPECT_NEAR(gh[b][i].get<double>(), wh[b][i].get<double>(), test::kEmulatedReportDb)
                    << c.what << ", band " << b << ", step " << i;
            }
        }
    }
}

} // namespace
} // namespace lathe

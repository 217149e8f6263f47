// SPDX-License-Identifier: GPL-3.0-or-later
// ResampleStage (libsoxr VHQ) against closed forms: a sine in must be the same sine out, at the same
// time, with nothing else beside it.
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/ResampleStage.h>

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace lathe {
namespace {

/// Runs the stage over `in` in blocks of `block` frames and returns the whole output.
std::vector<float> resample(const std::vector<float>& in, SampleRate from, SampleRate to,
                            Frames block = 8191) {
    ResampleStage stage(to, 1);
    stage.prepare(StreamFormat{from, 1, ChannelLayout::fromConvention(1)}, block);
    std::vector<float> out;
    AudioBuffer a;
    AudioBuffer b;
    for (Frames pos = 0; pos < static_cast<Frames>(in.size()); pos += block) {
        const Frames n = std::min<Frames>(block, static_cast<Frames>(in.size()) - pos);
        a.reset(1, n);
        a.setFrames(n);
        std::copy_n(in.data() + pos, n, a.channel(0));
        stage.process(a, b);
        out.insert(out.end(), b.channel(0), b.channel(0) + b.frames());
    }
    for (;;) {
        stage.flush(b);
        if (b.empty()) {
            break;
        }
        out.insert(out.end(), b.channel(0), b.channel(0) + b.frames());
    }
    return out;
}

double db(double ratio) {
    return 20.0 * std::log10(ratio);
}

struct RatePair {
    SampleRate from;
    SampleRate to;
};

class ResamplePairs : public ::testing::TestWithParam<RatePair> {};

// A stepped sine sweep through the passband (20 Hz – 20 kHz): every tone comes out at its level
// (±0.01 dB), at its phase (no delay), and alone (images/aliases/noise ≤ −120 dB).
TEST_P(ResamplePairs, SweepIsFlatAlignedAndClean) {
    const auto [from, to] = GetParam();
    const double seconds = 1.0;
    for (double hz :
         {20.0, 50.0, 100.0, 300.0, 1000.0, 3000.0, 6000.0, 10000.0, 14000.0, 17000.0, 19000.0, 20000.0}) {
        const double amplitude = 0.5;
        const double phase = 0.7;
        const auto in = test::sine(hz, amplitude, from, static_cast<Frames>(seconds * from), phase);
        const auto out = resample(in, from, to);
        ASSERT_EQ(static_cast<Frames>(out.size()), convertedFrames(static_cast<Frames>(in.size()), from, to));
        // Fit away from the edges (the filters see the start/stop of the tone there).
        const Frames start = to / 5;
        const Frames n = static_cast<Frames>(out.size()) - 2 * start;
        const test::SineFit fit = test::fitSine(out.data() + start, n, hz, to, start);
        EXPECT_NEAR(db(fit.amplitude / amplitude), 0.0, test::kSrcPassbandDb)
            << from << "→" << to << " at " << hz;
        double dphi = fit.phase - phase;
        dphi = std::remainder(dphi, 2.0 * std::numbers::pi);
        EXPECT_NEAR(dphi, 0.0, test::kSrcPhaseRad) << from << "→" << to << " at " << hz;
        EXPECT_LT(db(fit.residualRms / (amplitude / std::sqrt(2.0))), test::kSrcResidualDb)
            << from << "→" << to << " at " << hz;
    }
}

INSTANTIATE_TEST_SUITE_P(Rates, ResamplePairs,
                         ::testing::Values(RatePair{44100, 48000}, RatePair{48000, 44100},
                                           RatePair{48000, 96000}, RatePair{96000, 48000},
                                           RatePair{44100, 96000}, RatePair{96000, 44100}),
                         [](const auto& p) {
                             return std::to_string(p.param.from) + "_to_" + std::to_string(p.param.to);
                         });

// Downsampling: tones above the new Nyquist must not fold back into the audio band.
TEST(Resample, AliasesAreRejected) {
    for (const auto& [from, to, hz] : {std::tuple{96000, 44100, 23000.0}, std::tuple{96000, 44100, 30000.0},
                                       std::tuple{96000, 48000, 25000.0}, std::tuple{96000, 48000, 40000.0},
                                       std::tuple{48000, 44100, 22500.0}}) {
        const double amplitude = 0.5;
        const auto in = test::sine(hz, amplitude, from, from);
        const auto out = resample(in, from, to);
        const Frames start = to / 5;
        double sum2 = 0;
        for (Frames i = start; i < static_cast<Frames>(out.size()) - start; ++i) {
            sum2 += static_cast<double>(out[static_cast<std::size_t>(i)]) * out[static_cast<std::size_t>(i)];
        }
        const double rms =
            std::sqrt(sum2 / static_cast<double>(out.size() - 2 * static_cast<std::size_t>(start)));
        EXPECT_LT(db(rms / (amplitude / std::sqrt(2.0))), test::kSrcAliasRejectionDb)
            << from << "→" << to << " tone " << hz;
    }
}

TEST(Resample, LengthIsExactForAnyInputLength) {
    for (Frames n : {1, 2, 3, 100, 4095, 44100, 44101}) {
        const std::vector<float> in(static_cast<std::size_t>(n), 0.1f);
        EXPECT_EQ(static_cast<Frames>(resample(in, 44100, 48000, 1000).size()),
                  convertedFrames(n, 44100, 48000))
            << n;
        EXPECT_EQ(static_cast<Frames>(resample(in, 48000, 44100, 7).size()), convertedFrames(n, 48000, 44100))
            << n;
    }
}

TEST(Resample, BlockSizeDoesNotChangeTheResult) {
    const auto in = test::noise(30000, 0.5, 5);
    const auto a = resample(in, 44100, 48000, 30000);
    const auto b = resample(in, 44100, 48000, 997);
    ASSERT_EQ(a.size(), b.size());
    double maxDiff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        maxDiff = std::max(maxDiff, std::fabs(static_cast<double>(a[i]) - b[i]));
    }
    EXPECT_EQ(maxDiff, 0.0);
}

TEST(Resample, SameRateIsABitExactPassThrough) {
    const auto in = test::noise(10000, 0.9, 8);
    ResampleStage stage(48000);
    stage.prepare(StreamFormat{48000, 1, ChannelLayout::fromConvention(1)}, 4096);
    EXPECT_FALSE(stage.altersSamples());
    EXPECT_EQ(resample(in, 48000, 48000), in);
}

} // namespace
} // namespace lathe

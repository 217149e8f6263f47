// SPDX-License-Identifier: GPL-3.0-or-later
// Linear-phase crossovers: the bands split and sum back to the input (through the convolution
// engine: one forward transform, K inverse), and meet at −6.02 dB at every split.
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Convolution.h>
#include <lathe/Error.h>
#include <lathe/design/Crossover.h>
#include <lathe/design/EqDesign.h>

#include <gtest/gtest.h>

#include <cmath>

namespace lathe::design {
namespace {

const std::vector<double> kSplits = {90.0, 400.0, 2000.0, 6000.0, 12000.0};

class CrossoverSplitSum : public ::testing::TestWithParam<std::tuple<int, SampleRate>> {};

TEST_P(CrossoverSplitSum, BandsSumBackToTheInput) {
    const auto [bands, fs] = GetParam();
    const std::vector<double> splits(kSplits.begin(), kSplits.begin() + (bands - 1));
    const CrossoverDesign x = designCrossover(splits, 24, fs);
    ASSERT_EQ(static_cast<int>(x.bands.size()), bands);
    EXPECT_TRUE(x.warnings.empty());
    // One input, K outputs: the convolver transforms the input once and each band back.
    FilterMatrix m;
    m.inputs = 1;
    m.outputs = bands;
    for (int k = 0; k < bands; ++k) {
        m.filters.emplace_back(x.bands[static_cast<std::size_t>(k)].begin(),
                               x.bands[static_cast<std::size_t>(k)].end());
        m.paths.push_back({0, k, k});
    }
    auto conv = makeCpuConvolver(m, {8192, 2});
    const Frames n = 8192 * 12;
    const std::vector<float> in = test::noise(n, 0.5, 3);
    AudioBuffer block(1, n);
    block.setFrames(n);
    std::copy(in.begin(), in.end(), block.channel(0));
    AudioBuffer out;
    conv->process(block, out);
    // Sum of the bands vs the input delayed by the filters' common delay.
    std::vector<float> sum(static_cast<std::size_t>(n - x.delay));
    std::vector<float> ref(sum.size());
    for (std::size_t i = 0; i < sum.size(); ++i) {
        double s = 0.0;
        for (int k = 0; k < bands; ++k) {
            s += out.channel(k)[static_cast<Frames>(i) + x.delay];
        }
        sum[i] = static_cast<float>(s);
        ref[i] = in[i];
    }
    EXPECT_LE(test::nullDb(sum, ref), test::kNullDb)
        << bands << " bands at " << fs << " Hz, " << x.taps << " taps";
}

INSTANTIATE_TEST_SUITE_P(BandsAndRates, CrossoverSplitSum,
                         ::testing::Combine(::testing::Range(2, 7), ::testing::Values(44100, 48000, 96000)),
                         [](const auto& p) {
                             return std::to_string(std::get<0>(p.param)) + "bands_" +
                                    std::to_string(std::get<1>(p.param));
                         });

TEST(Crossover, EverySplitIsAtMinusSixDbBetweenTheBandsBelowAndAbove) {
    // The convention (Crossover.h): at split i, everything below it (bands 1…i, i.e. LP_i) and
    // everything above it (bands i+1…K) are each at −6.02 dB, in phase. A band between two splits
    // an octave apart is lower than that at its edges (it is LP_k − LP_{k−1}, and LP_k has not
    // reached 1 yet); far-apart splits give −6.02 dB per band.
    const SampleRate fs = 48000;
    const CrossoverDesign x = designCrossover(kSplits, 24, fs);
    for (std::size_t i = 0; i < kSplits.size(); ++i) {
        double below = 0.0;
        double above = 0.0;
        for (std::size_t b = 0; b < x.bands.size(); ++b) {
            (b <= i ? below : above) += firAmplitude(x.bands[b], fs, kSplits[i]);
        }
        EXPECT_NEAR(20.0 * std::log10(below), -6.0206, kEqToleranceDb) << "below split " << kSplits[i];
        EXPECT_NEAR(20.0 * std::log10(above), -6.0206, kEqToleranceDb) << "above split " << kSplits[i];
    }
    // Two bands (one split): each band itself is at −6.02 dB there.
    const CrossoverDesign two = designCrossover({250.0}, 24, fs);
    for (const auto& band : two.bands) {
        EXPECT_NEAR(20.0 * std::log10(firAmplitude(band, fs, 250.0)), -6.0206, kEqToleranceDb);
    }
}

// The splits' low-passes are designed one a thread: the design must not depend on how many
// (the one-thread design is the truth; each split's arithmetic is the same on any thread).
TEST(Crossover, ADesignOnSeveralThreadsIsTheSameToTheBit) {
    const CrossoverDesign one = designCrossover(kSplits, 24, 48000, 0, 1);
    for (unsigned threads : {2u, 3u, 8u}) {
        const CrossoverDesign many = designCrossover(kSplits, 24, 48000, 0, threads);
        EXPECT_EQ(many.taps, one.taps) << threads;
        EXPECT_EQ(many.bands, one.bands) << threads << " threads";
        EXPECT_EQ(many.maxErrorDb, one.maxErrorDb) << threads;
    }
    EXPECT_THROW(designCrossover({500, 200}, 24, 48000, 0, 4), UsageError);
}

TEST(Crossover, BadSplitsAreRefused) {
    EXPECT_THROW(designCrossover({}, 24, 48000), UsageError);
    EXPECT_THROW(designCrossover({500, 200}, 24, 48000), UsageError);
    EXPECT_THROW(designCrossover({30000}, 24, 48000), UsageError);
    EXPECT_THROW(designCrossover({100, 200, 300, 400, 500, 600}, 24, 48000), UsageError);
    EXPECT_THROW(designCrossover({100}, 18, 48000), UsageError);
}

} // namespace
} // namespace lathe::design

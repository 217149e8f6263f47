// SPDX-License-Identifier: GPL-3.0-or-later
// lathe/math/SampleStats.h: the monoid property that lets a GPU tree reduction equal a CPU loop.
#include "Tolerances.h"

#include <lathe/math/Random.h>
#include <lathe/math/SampleStats.h>

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace lathe::math {
namespace {

std::vector<float> testSignal(int n) {
    std::vector<float> x(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        const auto bits = static_cast<std::uint32_t>(hashCounter(9, 0, static_cast<std::uint64_t>(i)) >> 32);
        x[static_cast<std::size_t>(i)] = static_cast<float>(uniformFromBits(bits) * 1.6 - 0.8);
    }
    x[100] = 0.95f;
    x[700] = -0.95f; // a tie in |x|: the first (frame 100) must win
    x[333] = NAN;
    x[334] = INFINITY;
    x[900] = NAN;
    return x;
}

SampleStats sequential(const std::vector<float>& x, int begin, int end) {
    SampleStats s = emptyStats();
    for (int i = begin; i < end; ++i) {
        accumulateSample(s, x[static_cast<std::size_t>(i)], i);
    }
    return s;
}

TEST(SampleStats, SequentialValuesAreRight) {
    const auto x = testSignal(1000);
    const SampleStats s = sequential(x, 0, 1000);
    EXPECT_EQ(s.peakAbs, 0.95f);
    EXPECT_EQ(s.peakFrame, 100);
    EXPECT_EQ(s.nonFiniteCount, 3);
    EXPECT_EQ(s.firstNonFinite, 333);
    EXPECT_EQ(s.finiteCount, 997);
    double sum = 0, sum2 = 0;
    for (float v : x) {
        if (std::isfinite(v)) {
            sum += v;
            sum2 += static_cast<double>(v) * v;
        }
    }
    EXPECT_DOUBLE_EQ(s.sum, sum);
    EXPECT_DOUBLE_EQ(s.sumSquares, sum2);
}

// Any split into chunks, combined in any tree shape, gives the sequential peak, position and
// counts exactly, and the sums to double rounding.
TEST(SampleStats, CombineEqualsSequentialForAnySplit) {
    const auto x = testSignal(1000);
    const SampleStats ref = sequential(x, 0, 1000);
    for (int chunk : {1, 2, 3, 7, 64, 100, 333, 999, 1000}) {
        std::vector<SampleStats> parts;
        for (int b = 0; b < 1000; b += chunk) {
            parts.push_back(sequential(x, b, std::min(1000, b + chunk)));
        }
        // Pairwise tree, as a GPU block reduction does.
        while (parts.size() > 1) {
            std::vector<SampleStats> next;
            for (std::size_t i = 0; i + 1 < parts.size(); i += 2) {
                next.push_back(combineStats(parts[i], parts[i + 1]));
            }
            if (parts.size() % 2 == 1) {
                next.push_back(parts.back());
            }
            parts.swap(next);
        }
        const SampleStats t = parts.front();
        EXPECT_EQ(t.peakAbs, ref.peakAbs) << "chunk " << chunk;
        EXPECT_EQ(t.peakFrame, ref.peakFrame) << "chunk " << chunk;
        EXPECT_EQ(t.nonFiniteCount, ref.nonFiniteCount) << "chunk " << chunk;
        EXPECT_EQ(t.firstNonFinite, ref.firstNonFinite) << "chunk " << chunk;
        EXPECT_EQ(t.finiteCount, ref.finiteCount) << "chunk " << chunk;
        EXPECT_NEAR(t.sum, ref.sum, test::kStatsSumRelative * ref.sumSquares) << "chunk " << chunk;
        EXPECT_NEAR(t.sumSquares, ref.sumSquares, test::kStatsSumRelative * ref.sumSquares)
            << "chunk " << chunk;
    }
}

TEST(SampleStats, CombineIsOrderIndependentForTies) {
    SampleStats a = emptyStats();
    SampleStats b = emptyStats();
    accumulateSample(a, -0.5f, 10);
    accumulateSample(b, 0.5f, 4);
    EXPECT_EQ(combineStats(a, b).peakFrame, 4);
    EXPECT_EQ(combineStats(b, a).peakFrame, 4);
}

TEST(SampleStats, EmptyIsIdentityAndSilenceHasNoPeakPosition) {
    SampleStats s = emptyStats();
    for (int i = 0; i < 10; ++i) {
        accumulateSample(s, 0.0f, i);
    }
    EXPECT_EQ(s.peakAbs, 0.0f);
    EXPECT_EQ(s.peakFrame, -1);
    const SampleStats c = combineStats(emptyStats(), s);
    EXPECT_EQ(c.finiteCount, 10);
    EXPECT_EQ(c.peakFrame, -1);
    EXPECT_EQ(c.firstNonFinite, -1);
}

} // namespace
} // namespace lathe::math

// SPDX-License-Identifier: GPL-3.0-or-later
// lathe/math/Dynamics.h and Limiter.h: the scan property the GPU relies on (chunked composition =
// sequential recursion, for the detectors and the limiter's release), the static curves against
// their closed forms, and time constants on steps.
#include "TestSignals.h"

#include <lathe/math/Dynamics.h>
#include <lathe/math/Limiter.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace lathe::math {
namespace {

/// Chunked and sequential results may differ by double rounding of the composed coefficients;
/// 1e-6 dB is the bound for "exact".
constexpr double kScanToleranceDb = 1e-6;

/// log2Poly/exp2Poly against libm (correctly rounded to < 1 ulp): the series are cut where the
/// next term is below 1e-16 of the sum, so a few ulp of rounding in the evaluation remain.
constexpr double kPolyUlps = 4.0;
constexpr double kUlp = 2.220446049250313e-16;

double db(double v) {
    return 20.0 * std::log10(std::max(v, 1e-30));
}

TEST(DynamicsMath, DecoupledPeakDetectorChunkedEqualsSequential) {
    const double fs = 48000.0;
    const double aR = onePoleCoefficient(0.200, fs);
    const double aA = onePoleCoefficient(0.005, fs);
    // 20 s of bursty material: noise with a slow on/off envelope, |x| as the detector input.
    const std::size_t n = 20 * 48000;
    const auto noise = test::noise(static_cast<Frames>(n), 1.0, 5);
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double env = (i / 24000) % 3 == 0 ? 1.0 : 0.01;
        x[i] = std::abs(noise[i]) * env;
    }
    // Sequential reference.
    std::vector<double> seq(n);
    double y1 = 0.0;
    double yL = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        y1 = std::max(x[i], aR * y1 + (1.0 - aR) * x[i]);
        yL = aA * yL + (1.0 - aA) * y1;
        seq[i] = yL;
    }
    // Chunked: each chunk reduces to one map (in any order of chunks: here "in parallel"), an
    // exclusive scan of the maps gives each chunk's initial state, then each chunk runs alone.
    const std::size_t chunk = 4096 + 3;
    const std::size_t chunks = (n + chunk - 1) / chunk;
    std::vector<MaxAffine> release(chunks, identityMaxAffine());
    for (std::size_t c = 0; c < chunks; ++c) {
        for (std::size_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) {
            release[c] = compose(releaseStep(x[i], aR), release[c]);
        }
    }
    std::vector<double> y1Start(chunks);
    double state = 0.0;
    for (std::size_t c = 0; c < chunks; ++c) {
        y1Start[c] = state;
        state = apply(release[c], state);
    }
    // Stage 2 (affine) the same way, over the stage-1 output of each chunk.
    std::vector<double> stage1(n);
    for (std::size_t c = 0; c < chunks; ++c) {
        double y = y1Start[c];
        for (std::size_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) {
            y = apply(releaseStep(x[i], aR), y);
            stage1[i] = y;
        }
    }
    std::vector<Affine> attack(chunks, identityAffine());
    for (std::size_t c = 0; c < chunks; ++c) {
        for (std::size_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) {
            attack[c] = compose(onePoleStep(stage1[i], aA), attack[c]);
        }
    }
    double yl = 0.0;
    double worst = 0.0;
    for (std::size_t c = 0; c < chunks; ++c) {
        double y = yl;
        for (std::size_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) {
            y = apply(onePoleStep(stage1[i], aA), y);
            worst = std::max(worst, std::abs(db(y) - db(seq[i])));
        }
        yl = apply(attack[c], yl);
    }
    EXPECT_LE(worst, kScanToleranceDb);
}

/// The release scan's carried starts come from composed maps (aR^k as one product instead of k),
/// which round differently from the recursion: relative 1e-12 is a thousand times that rounding.
constexpr double kReleaseScanRelative = 1e-12;

// lathe/math/Limiter.h's claim that lets the limiter's release run as a scan (CUDA, issue 8): the
// recursion snapped to 0 below kLimiterReleasedDb equals, frame by frame, the snapped value of the
// unsnapped max-affine recursion — so segments composed without the snap, carried, and run again
// from their starts with it give the sequential result. The reference below is written out with
// std::max and an explicit snap; H has bursts of attenuation, long gaps that release to 0, and
// values just above and below the threshold.
TEST(DynamicsMath, TheLimiterReleaseScanEqualsTheSnappedRecursion) {
    const double aR = onePoleCoefficient(0.100, 48000.0);
    const std::size_t n = 20 * 48000;
    const auto noise = test::noise(static_cast<Frames>(n), 1.0, 17);
    std::vector<double> h(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        // 3 s cycles of 50 ms steps: 100 ms of limiting, then silence long enough for the release
        // to reach the snap (12 dB → 1e-6 dB takes 1.6 s at 100 ms), then 50 ms at the threshold.
        const std::size_t phase = (i / 2400) % 60;
        if (phase < 2) {
            h[i] = 12.0 * std::abs(noise[i]);
        } else if (phase == 50) {
            h[i] = i % 3 == 0 ? 0.9 * kLimiterReleasedDb : 1.1 * kLimiterReleasedDb;
        }
    }
    std::vector<double> want(n);
    double r = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        r = std::max(h[i], aR * r);
        r = r < kLimiterReleasedDb ? 0.0 : r;
        want[i] = r;
    }
    constexpr std::size_t kSegment = 256;
    const std::size_t segments = (n + kSegment - 1) / kSegment;
    std::vector<MaxAffine> maps(segments, identityMaxAffine());
    for (std::size_t g = 0; g < segments; ++g) {
        for (std::size_t i = g * kSegment; i < std::min(n, (g + 1) * kSegment); ++i) {
            maps[g] = compose(MaxAffine{h[i], aR, 0.0}, maps[g]);
        }
    }
    double start = 0.0;
    double worst = 0.0;
    std::size_t zerosDiffer = 0;
    for (std::size_t g = 0; g < segments; ++g) {
        double y = start;
        for (std::size_t i = g * kSegment; i < std::min(n, (g + 1) * kSegment); ++i) {
            y = limiterReleaseStep(h[i], y, aR);
            zerosDiffer += (y == 0.0) != (want[i] == 0.0) ? 1 : 0;
            if (want[i] > 0.0) {
                worst = std::max(worst, std::abs(y - want[i]) / want[i]);
            }
        }
        start = apply(maps[g], start);
    }
    EXPECT_EQ(zerosDiffer, 0u) << "frames released (exactly 0) on one side only";
    EXPECT_GT(std::count(want.begin(), want.end(), 0.0), static_cast<std::ptrdiff_t>(n / 3)); // released
    EXPECT_LE(worst, kReleaseScanRelative);
    std::printf("[ RELEASE  ] scan vs recursion: largest relative difference %.2g\n", worst);
}

TEST(DynamicsMath, Log2AndExp2MatchLibm) {
    // Levels from 1e-300 to 1e300 (every binade, random mantissas) and exponents over the whole
    // normal range, against the C library.
    std::uint64_t state = 12345;
    auto uniform = [&] {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<double>(state >> 11) * 0x1.0p-53;
    };
    for (int i = 0; i < 200000; ++i) {
        const double x = std::exp2(-996.0 + 1992.0 * uniform());
        const double want = std::log2(x);
        // Relative to max(1, |log2 x|): near x = 1 the absolute error is what a dB figure sees.
        ASSERT_LE(std::abs(log2Poly(x) - want), kPolyUlps * kUlp * std::max(1.0, std::abs(want))) << x;
        const double e = -1000.0 + 2000.0 * uniform();
        const double want2 = std::exp2(e);
        ASSERT_LE(std::abs(exp2Poly(e) - want2), kPolyUlps * kUlp * want2) << e;
    }
    // Exact points, the ends of the range, and the dB helpers built on them.
    EXPECT_EQ(log2Poly(1.0), 0.0);
    EXPECT_EQ(log2Poly(0.25), -2.0);
    EXPECT_EQ(log2Poly(1024.0), 10.0);
    EXPECT_EQ(exp2Poly(0.0), 1.0);
    EXPECT_EQ(exp2Poly(-3.0), 0.125);
    EXPECT_EQ(exp2Poly(-1100.0), 0.0);
    EXPECT_TRUE(std::isinf(exp2Poly(1100.0)));
    EXPECT_NEAR(linearToDb(0.5), 20.0 * std::log10(0.5), 1e-13);
    EXPECT_NEAR(dbToLinear(-6.0), std::pow(10.0, -0.3), 1e-15);
}

TEST(DynamicsMath, StaticCurvesMatchTheirClosedForms) {
    // 20 levels from −60 to +10 dBFS through threshold −20, ratio 4, knee 6 dB, and the closed
    // forms written out here: below / inside / above the knee.
    const double T = -20.0, R = 4.0, W = 6.0;
    for (int i = 0; i < 20; ++i) {
        const double x = -60.0 + 70.0 * i / 19.0;
        double comp, exp, up;
        if (x <= T - W / 2) {
            comp = x;
            exp = T + R * (x - T);
            up = T + (x - T) / R;
        } else if (x >= T + W / 2) {
            comp = T + (x - T) / R;
            exp = x;
            up = x;
        } else {
            comp = x + (1 / R - 1) * std::pow(x - T + W / 2, 2) / (2 * W);
            exp = x + (1 - R) * std::pow(x - T - W / 2, 2) / (2 * W);
            up = x + (1 - 1 / R) * std::pow(x - T - W / 2, 2) / (2 * W);
        }
        EXPECT_NEAR(compressorCurveDb(x, T, R, W), comp, 1e-12) << x;
        EXPECT_NEAR(expanderCurveDb(x, T, R, W), exp, 1e-12) << x;
        EXPECT_NEAR(upwardCompressorCurveDb(x, T, R, W), up, 1e-12) << x;
    }
    // Continuity at the knee edges (the quadratic joins both lines) and a hard knee.
    for (double edge : {T - W / 2, T + W / 2}) {
        EXPECT_NEAR(compressorCurveDb(edge - 1e-9, T, R, W), compressorCurveDb(edge + 1e-9, T, R, W), 1e-6);
        EXPECT_NEAR(expanderCurveDb(edge - 1e-9, T, R, W), expanderCurveDb(edge + 1e-9, T, R, W), 1e-6);
        EXPECT_NEAR(upwardCompressorCurveDb(edge - 1e-9, T, R, W),
                    upwardCompressorCurveDb(edge + 1e-9, T, R, W), 1e-6);
    }
    EXPECT_DOUBLE_EQ(compressorCurveDb(-10.0, T, R, 0.0), T + 10.0 / R);
}

TEST(DynamicsMath, TimeConstantsOnSteps) {
    // A one-pole with time constant τ reaches 1 − 1/e of a step after τ (within 5 %, the issue's
    // bound; the discrete pole gives it to one sample).
    const double fs = 48000.0;
    for (double tau : {0.001, 0.010, 0.100, 0.500}) {
        const double a = onePoleCoefficient(tau, fs);
        double y = 0.0;
        long n = 0;
        while (y < 1.0 - std::exp(-1.0)) {
            y = apply(onePoleStep(1.0, a), y);
            ++n;
        }
        EXPECT_NEAR(static_cast<double>(n) / fs, tau, 0.05 * tau) << tau;
    }
    // The release stage holds peaks instantly (attack of the release stage is immediate) and
    // falls with aR afterwards.
    const double aR = onePoleCoefficient(0.050, fs);
    double y1 = apply(releaseStep(1.0, aR), 0.0);
    EXPECT_EQ(y1, 1.0);
    long n = 0;
    while (y1 > std::exp(-1.0)) {
        y1 = apply(releaseStep(0.0, aR), y1);
        ++n;
    }
    EXPECT_NEAR(static_cast<double>(n) / fs, 0.050, 0.05 * 0.050);
}

} // namespace
} // namespace lathe::math

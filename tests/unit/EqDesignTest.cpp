// SPDX-License-Identifier: GPL-3.0-or-later
// Linear-phase EQ design against closed-form analog prototypes, evaluated independently here.
#include "../../host/src/core/ParallelJobs.h"
#include "../../host/src/dsp/design/Bessel.h"
#include "Tolerances.h"

#include <lathe/Error.h>
#include <lathe/design/EqDesign.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <complex>
#include <numbers>
#include <stdexcept>
#include <string>

namespace lathe::design {
namespace {

using cd = std::complex<double>;

/// The band's analog prototype H(s) at s = jf/f0, written as transfer functions (RBJ cookbook,
/// "Audio EQ Cookbook" s-domain forms; Butterworth poles), independently of EqDesign's magnitudes.
cd prototype(const EqBand& b, double hz) {
    const cd s(0.0, hz / b.hz);
    const double A = std::pow(10.0, b.gainDb / 40.0);
    switch (b.type) {
    case EqBandType::Bell:
        return (s * s + s * (A / b.q) + 1.0) / (s * s + s / (A * b.q) + 1.0);
    case EqBandType::LowShelf:
        return A * (s * s + std::sqrt(A) / b.q * s + A) / (A * s * s + std::sqrt(A) / b.q * s + 1.0);
    case EqBandType::HighShelf:
        return A * (A * s * s + std::sqrt(A) / b.q * s + 1.0) / (s * s + std::sqrt(A) / b.q * s + A);
    case EqBandType::LowPass:
    case EqBandType::HighPass: {
        const int n = b.slopeDbPerOctave / 6;
        cd den = 1.0;
        for (int k = 0; k < n; ++k) { // Butterworth poles on the unit circle, left half plane
            const double theta = std::numbers::pi * (2.0 * k + n + 1) / (2.0 * n);
            den *= (s - std::polar(1.0, theta));
        }
        return b.type == EqBandType::LowPass ? 1.0 / den : std::pow(s, n) / den;
    }
    case EqBandType::Tilt:
        return (A * s + 1.0) / (s + A);
    }
    return 1.0;
}

/// |Σ h[k] e^{−jωk}| by direct summation in double.
double dtftMagnitude(const std::vector<double>& h, double hz, SampleRate fs) {
    cd sum = 0.0;
    const double w = 2.0 * std::numbers::pi * hz / fs;
    for (std::size_t k = 0; k < h.size(); ++k) {
        sum += h[k] * std::polar(1.0, -w * static_cast<double>(k));
    }
    return std::abs(sum);
}

struct Case {
    std::string name;
    std::vector<EqBand> bands;
};

EqBand band(EqBandType t, double hz, double gainDb, double q = 0.7071067811865476, int slope = 12) {
    EqBand b;
    b.type = t;
    b.hz = hz;
    b.gainDb = gainDb;
    b.q = q;
    b.slopeDbPerOctave = slope;
    return b;
}

std::vector<Case> cases() {
    using T = EqBandType;
    return {
        {"bell_1k_plus6_q1", {band(T::Bell, 1000, 6, 1)}},
        {"bell_100_minus4_q2", {band(T::Bell, 100, -4, 2)}},
        {"bell_60_plus3_q1", {band(T::Bell, 60, 3, 1)}},
        {"lowshelf_120_plus3", {band(T::LowShelf, 120, 3)}},
        {"highshelf_8k_plus2", {band(T::HighShelf, 8000, 2)}},
        {"highpass_30_12dB", {band(T::HighPass, 30, 0, 0.7071, 12)}},
        {"highpass_40_24dB", {band(T::HighPass, 40, 0, 0.7071, 24)}},
        {"lowpass_16k_24dB", {band(T::LowPass, 16000, 0, 0.7071, 24)}},
        {"tilt_1k_minus2", {band(T::Tilt, 1000, -2)}},
        {"polish",
         {band(T::HighPass, 25, 0, 0.7071, 12), band(T::Bell, 250, -1.5, 0.8), band(T::Bell, 3200, 1, 1.2),
          band(T::HighShelf, 11000, 2)}},
    };
}

class EqAgainstPrototypes : public ::testing::TestWithParam<std::tuple<int, SampleRate>> {};

TEST_P(EqAgainstPrototypes, MagnitudeFollowsTheAnalogPrototype) {
    const auto [index, fs] = GetParam();
    const Case c = cases()[static_cast<std::size_t>(index)];
    EqSpec spec;
    spec.bands = c.bands;
    const EqDesign d = designEq(spec, fs);
    ASSERT_FALSE(d.midSide);
    const auto& h = d.stereo.taps;
    EXPECT_EQ(d.stereo.delay, static_cast<Frames>((h.size() - 1) / 2));
    for (std::size_t k = 0; k < h.size() / 2; ++k) {
        ASSERT_NEAR(h[k], h[h.size() - 1 - k], test::kFirSymmetry) << "tap " << k;
    }
    auto deviationDb = [&](double hz) {
        cd want = 1.0;
        for (const EqBand& b : c.bands) {
            want *= prototype(b, hz);
        }
        const double target = std::abs(want);
        const double got = dtftMagnitude(h, hz, fs);
        // Below −40 dB the deviation is measured against −40 dB (EqDesign.h, kEqFloorLinear).
        return target >= kEqFloorLinear ? std::abs(20.0 * std::log10(got / target))
                                        : 20.0 * std::log10(1.0 + std::abs(got - target) / kEqFloorLinear);
    };
    double worst = 0.0;
    double worstHz = 0.0;
    const double hi = std::min(20000.0, 0.499 * fs);
    for (int i = 0; i < 200; ++i) {
        const double hz = 20.0 * std::pow(hi / 20.0, i / 199.0);
        const double dev = deviationDb(hz);
        if (dev > worst) {
            worst = dev;
            worstHz = hz;
        }
    }
    EXPECT_LE(worst, kEqToleranceDb) << c.name << " at " << fs << " Hz: " << worst << " dB at " << worstHz
                                     << " Hz with " << h.size() << " taps";
    // The design's own verification (denser grid) agrees with this independent check, and its
    // figure is the deviation at the frequency it names (its sixteen recurrences at a time each
    // evaluate their own frequency). Two double evaluations of one amplitude, Clenshaw's and the
    // direct sum, agree far inside this.
    constexpr double kSameFigureDb = 1e-9;
    EXPECT_GE(d.maxErrorDb + kSameFigureDb, worst) << c.name;
    EXPECT_NEAR(deviationDb(d.maxErrorHz), d.maxErrorDb, kSameFigureDb) << c.name << " at " << d.maxErrorHz;
    EXPECT_TRUE(d.warnings.empty()) << c.name << ": " << (d.warnings.empty() ? "" : d.warnings[0]);
    RecordProperty("taps", d.taps);
    RecordProperty("max_error_db", std::to_string(d.maxErrorDb));
}

INSTANTIATE_TEST_SUITE_P(Bands, EqAgainstPrototypes,
                         ::testing::Combine(::testing::Range(0, static_cast<int>(cases().size())),
                                            ::testing::Values(44100, 48000, 96000)),
                         [](const auto& p) {
                             return cases()[static_cast<std::size_t>(std::get<0>(p.param))].name + "_" +
                                    std::to_string(std::get<1>(p.param));
                         });

TEST(EqCurve, FollowsPointsInterpolatedInDbOverLogFrequency) {
    // The curve's definition, written here independently: linear in dB over log2(f), flat outside.
    const std::vector<std::pair<double, double>> pts = {
        {40, 1.0}, {200, 0.0}, {2500, -1.5}, {9000, 0.0}, {16000, 2.0}};
    auto want = [&](double hz) {
        if (hz <= pts.front().first) {
            return pts.front().second;
        }
        if (hz >= pts.back().first) {
            return pts.back().second;
        }
        for (std::size_t i = 1; i < pts.size(); ++i) {
            if (hz <= pts[i].first) {
                const double t =
                    std::log2(hz / pts[i - 1].first) / std::log2(pts[i].first / pts[i - 1].first);
                return pts[i - 1].second + t * (pts[i].second - pts[i - 1].second);
            }
        }
        return 0.0;
    };
    EqSpec spec;
    for (const auto& [hz, db] : pts) {
        spec.curve.push_back({hz, db});
    }
    for (SampleRate fs : {44100, 96000}) {
        const EqDesign d = designEq(spec, fs);
        double worst = 0;
        for (int i = 0; i < 200; ++i) {
            const double hz = 20.0 * std::pow(std::min(20000.0, 0.499 * fs) / 20.0, i / 199.0);
            worst =
                std::max(worst, std::abs(20.0 * std::log10(dtftMagnitude(d.stereo.taps, hz, fs)) - want(hz)));
        }
        EXPECT_LE(worst, kEqToleranceDb) << fs << " Hz, " << d.taps << " taps";
    }
}

// The Kaiser windows' I0 (our double series; std::cyl_bessel_i is not used: it writes lgamma's
// global signgam) against the same series summed in long double (64-bit mantissa, 2048 times
// finer) to convergence, over the arguments the windows use (0 … β, β up to 12).
TEST(EqDesign, TheKaiserBesselFunctionIsExactToDoubleRounding) {
    constexpr double kRelative = 1e-15; // ~4 ulps: the double sum's own rounding over ≤ 30 terms
    EXPECT_EQ(design::besselI0(0.0), 1.0);
    for (int i = 0; i <= 120; ++i) {
        const double x = 0.1 * i;
        long double sum = 1.0L;
        long double term = 1.0L;
        for (int k = 1; k < 200; ++k) {
            const long double f = static_cast<long double>(x) / (2.0L * k);
            term *= f * f;
            sum += term;
        }
        const auto want = static_cast<double>(sum);
        EXPECT_NEAR(design::besselI0(x), want, kRelative * want) << "x = " << x;
    }
}

// Mid and side are designed on two threads: the same design to the bit as on one.
TEST(EqDesign, MidAndSideOnTwoThreadsAreTheSameToTheBit) {
    EqSpec spec;
    spec.bands = {band(EqBandType::LowShelf, 120, 2.0, 0.7), band(EqBandType::HighShelf, 9000, 1.5, 0.7)};
    spec.bands[0].placement = EqPlacement::Mid;
    spec.bands[1].placement = EqPlacement::Side;
    const EqDesign one = designEq(spec, 48000, 1);
    const EqDesign two = designEq(spec, 48000, 2);
    ASSERT_TRUE(one.midSide);
    EXPECT_EQ(two.taps, one.taps);
    EXPECT_EQ(two.mid.taps, one.mid.taps);
    EXPECT_EQ(two.side.taps, one.side.taps);
    EXPECT_EQ(two.maxErrorDb, one.maxErrorDb);
    EXPECT_EQ(two.maxErrorHz, one.maxErrorHz);
}

// The helper that runs them: every index once, whatever the thread count, and the lowest index's
// exception rethrown after all have run.
TEST(EqDesign, IndependentDesignsRunOnceEachAndTheirFirstFailureIsRethrown) {
    for (unsigned threads : {1u, 2u, 5u, 16u}) {
        std::vector<std::atomic<int>> runs(7);
        EXPECT_THROW(lathe::detail::forEachIndex(runs.size(), threads,
                                                 [&](std::size_t i) {
                                                     runs[i].fetch_add(1);
                                                     if (i == 2 || i == 5) {
                                                         throw std::runtime_error(std::to_string(i));
                                                     }
                                                 }),
                     std::runtime_error);
        for (std::size_t i = 0; i < runs.size(); ++i) {
            EXPECT_EQ(runs[i].load(), 1) << "index " << i << ", " << threads << " threads";
        }
        try {
            lathe::detail::forEachIndex(3, threads, [](std::size_t i) {
                if (i > 0) {
                    throw std::runtime_error(std::to_string(i));
                }
            });
            ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "1") << threads << " threads";
        }
    }
    lathe::detail::forEachIndex(0, 4, [](std::size_t) { ADD_FAILURE() << "no index to run"; });
}

TEST(EqDesign, ZeroDbIsAUnitImpulseAndExplicitLengthsAreKept) {
    EqSpec flat;
    flat.bands = {band(EqBandType::Bell, 1000, 0.0, 1.0), band(EqBandType::Tilt, 800, 0.0)};
    EXPECT_EQ(designEq(flat, 48000).stereo.taps, std::vector<double>{1.0}); // automatic: no taps needed
    flat.taps = 1025;
    const EqDesign d = designEq(flat, 48000);
    ASSERT_EQ(d.stereo.taps.size(), 1025u);
    for (std::size_t k = 0; k < 1025; ++k) {
        EXPECT_NEAR(d.stereo.taps[k], k == 512 ? 1.0 : 0.0, 1e-12) << k;
    }
    EXPECT_EQ(d.stereo.preRingSeconds, 0.0);
}

} // namespace
} // namespace lathe::design

// SPDX-License-Identifier: GPL-3.0-or-later
// TPDF dither through the whole render path (render → quantiser → file), checked on the file.
#include "TestFiles.h"
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/RenderJob.h>
#include <lathe/math/Quantize.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>

namespace lathe {
namespace {

using test::Planar;
using test::TempDir;

constexpr SampleRate kRate = 48000;
constexpr Frames kFrames = 1 << 20;

struct ErrorStats {
    double meanLsb;
    double rmsDbfs;
};

/// Renders `x` to a `bits`-bit WAV with `mode` and returns the statistics of (output − input).
ErrorStats quantisationError(const std::vector<float>& x, int bits, DitherMode mode,
                             std::vector<double>* error = nullptr) {
    TempDir dir;
    test::MemorySource src({x}, kRate);
    RenderOptions o;
    o.format = bits == 16 ? SampleFormat::Pcm16 : SampleFormat::Pcm24;
    o.dither = mode;
    auto backend = makeCpuBackend();
    render(src, {}, dir / "q.wav", o, *backend);
    const auto codes = test::readRawInt(dir / "q.wav");
    const double lsb = std::ldexp(1.0, -(bits - 1));
    double sum = 0, sum2 = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double e = static_cast<double>(codes[0][i]) / 2147483648.0 - x[i];
        sum += e;
        sum2 += e * e;
        if (error != nullptr) {
            error->push_back(e);
        }
    }
    const double n = static_cast<double>(x.size());
    return {sum / n / lsb, 10.0 * std::log10(sum2 / n)};
}

TEST(Dither, SixteenBitNoiseIsMinus96DbfsZeroMeanAndLevelIndependent) {
    const double expected = 20.0 * std::log10(std::ldexp(1.0, -16)); // LSB/2 = −96.33 dBFS
    std::vector<std::vector<float>> signals;
    signals.push_back(std::vector<float>(kFrames, 0.2501f));                           // DC, off the grid
    signals.push_back(test::sine(997.0, std::pow(10.0, -20.0 / 20), kRate, kFrames));  // −20 dBFS tone
    signals.push_back(test::sine(1000.0, std::pow(10.0, -60.0 / 20), kRate, kFrames)); // −60 dBFS tone
    signals.push_back(test::noise(kFrames, 0.3, 77));                                  // noise
    std::vector<double> levels;
    for (const auto& x : signals) {
        const ErrorStats s = quantisationError(x, 16, DitherMode::Tpdf);
        EXPECT_NEAR(s.rmsDbfs, expected, test::kDitherRmsToleranceDb);
        // Mean error: standard error is 0.5 LSB / sqrt(N) = 0.0005 LSB; allow 5σ.
        EXPECT_NEAR(s.meanLsb, 0.0, 5 * 0.5 / std::sqrt(static_cast<double>(kFrames)));
        levels.push_back(s.rmsDbfs);
    }
    const auto [lo, hi] = std::minmax_element(levels.begin(), levels.end());
    EXPECT_LT(*hi - *lo, test::kDitherLevelSpreadDb);
}

TEST(Dither, ShapedNoiseHasTheShapingFiltersSpectrum) {
    // With error feedback the output error is (1 − H(z))·e, e the quantiser's total error (TPDF +
    // rounding): white, 1/4 LSB² (TPDF makes it so whatever the signal). So its autocorrelation at
    // lags 0…3 is closed form, r[k] = ¼·Σ_j g_j·g_{j+k} with g = (1, −h0, −h1, −h2), and the
    // low-frequency density is |1 − H(1)|² = 0.0625 of the white one (−12 dB).
    const double g[4] = {1.0, -math::kShapeCoeffs[0], -math::kShapeCoeffs[1], -math::kShapeCoeffs[2]};
    std::vector<double> error;
    quantisationError(test::sine(997.0, std::pow(10.0, -20.0 / 20), kRate, kFrames), 16, DitherMode::Shaped,
                      &error);
    const double lsb = std::ldexp(1.0, -15);
    for (int k = 0; k < 4; ++k) {
        double want = 0.0;
        for (int j = 0; j + k < 4; ++j) {
            want += 0.25 * g[j] * g[j + k];
        }
        double got = 0.0;
        for (std::size_t n = static_cast<std::size_t>(k); n < error.size(); ++n) {
            got += error[n] * error[n - static_cast<std::size_t>(k)];
        }
        got /= static_cast<double>(error.size() - static_cast<std::size_t>(k)) * lsb * lsb;
        EXPECT_NEAR(got, want, test::kShapedAutocorrelationLsb2) << "lag " << k;
    }
    // The mean of 64-sample sums (a low-pass at DC): variance 64·0.0625·¼ LSB² shaped vs 64·¼ white.
    double sum2 = 0.0;
    std::size_t blocks = 0;
    for (std::size_t b = 0; b + 64 <= error.size(); b += 64, ++blocks) {
        double sum = 0.0;
        for (std::size_t n = b; n < b + 64; ++n) {
            sum += error[n] / lsb;
        }
        sum2 += sum * sum;
    }
    const double lowDb = 10.0 * std::log10(sum2 / static_cast<double>(blocks) / (64.0 * 0.25));
    EXPECT_LT(lowDb, -9.0); // −12 dB at DC, a little less over the sum's (sinc) passband
}

TEST(Dither, ShapedFeedbackStaysBoundedNearFullScale) {
    // A square wave just under full scale at 16 bits: every error the loop feeds back is at most
    // kShapeMaxErrorLsb, so the output stays within Σ|g|·that of the input (no ringing build-up).
    std::vector<float> x(kFrames / 8);
    for (std::size_t n = 0; n < x.size(); ++n) {
        x[n] = (n / 100) % 2 == 0 ? 0.9995f : -0.9995f;
    }
    std::vector<double> error;
    quantisationError(x, 16, DitherMode::Shaped, &error);
    const double bound = (1.0 + math::kShapeCoeffs[0] - math::kShapeCoeffs[1] + math::kShapeCoeffs[2]) *
                         (math::kShapeMaxErrorLsb + 1.0) * std::ldexp(1.0, -15);
    for (const double e : error) {
        ASSERT_LE(std::abs(e), bound);
    }
}

TEST(Dither, TwentyFourBitNoiseIsMinus144Dbfs) {
    const ErrorStats s = quantisationError(test::noise(kFrames, 0.3, 5), 24, DitherMode::Tpdf);
    EXPECT_NEAR(s.rmsDbfs, 20.0 * std::log10(std::ldexp(1.0, -24)), test::kDitherRmsToleranceDb);
}

/// Level (dBFS, peak amplitude) of the component of `e` at `hz`.
double componentDbfs(const std::vector<double>& e, double hz) {
    std::vector<float> f(e.begin(), e.end());
    return 20.0 * std::log10(test::fitSine(f.data(), static_cast<Frames>(f.size()), hz, kRate, 0).amplitude);
}

// A −60 dBFS tone quantised to 16 bits: without dither the error is periodic and shows up as
// harmonics; with TPDF it is signal-independent noise and the harmonics sink into it.
TEST(Dither, NoHarmonicSpursOnAQuietTone) {
    const auto x = test::sine(1000.0, std::pow(10.0, -60.0 / 20), kRate, 480000); // 10 000 whole periods
    std::vector<double> plain;
    std::vector<double> dithered;
    quantisationError(x, 16, DitherMode::Off, &plain);
    quantisationError(x, 16, DitherMode::Tpdf, &dithered);
    double worstPlain = -400;
    double worstDithered = -400;
    for (int h = 2; h <= 9; ++h) {
        worstPlain = std::max(worstPlain, componentDbfs(plain, 1000.0 * h));
        worstDithered = std::max(worstDithered, componentDbfs(dithered, 1000.0 * h));
    }
    // White noise of RMS σ = LSB/2 fitted at one frequency over N samples has an expected amplitude
    // of about σ·sqrt(π/N) ≈ −150 dBFS here; −135 dBFS is 15 dB above that, while undithered rounding
    // leaves harmonics near −110 dBFS (the check below proves the measurement can see them).
    EXPECT_LT(worstDithered, -135.0);
    EXPECT_GT(worstPlain, -125.0);
}

TEST(Dither, FloatOutputIsNeverDithered) {
    TempDir dir;
    const auto x = test::noise(10000, 0.5, 1);
    test::MemorySource src({x}, kRate);
    RenderOptions o;
    o.format = SampleFormat::Float32;
    o.dither = DitherMode::Tpdf; // even when asked for
    auto backend = makeCpuBackend();
    const RenderReport r = render(src, {}, dir / "f.wav", o, *backend);
    EXPECT_FALSE(r.dithered);
    EXPECT_EQ(test::readRawFloat(dir / "f.wav")[0], x);
}

TEST(Dither, AppliedOnceNotOnEveryGeneration) {
    TempDir dir;
    test::writeRawFloat(dir / "mix.wav", {test::noise(50000, 0.5, 2)}, kRate,
                        SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto backend = makeCpuBackend();
    ConvertSettings to16;
    to16.format = SampleFormat::Pcm16;
    const RenderReport first = convertFile(dir / "mix.wav", dir / "a.wav", to16, *backend);
    EXPECT_TRUE(first.dithered);
    const RenderReport second = convertFile(dir / "a.wav", dir / "b.wav", to16, *backend);
    EXPECT_FALSE(second.dithered) << second.ditherReason;
    EXPECT_EQ(test::readRawInt(dir / "a.wav"), test::readRawInt(dir / "b.wav"));
}

TEST(Dither, ReproducibleForASeedAndDifferentAcrossSeeds) {
    TempDir dir;
    test::writeRawFloat(dir / "mix.wav", {test::noise(20000, 0.5, 3)}, kRate,
                        SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto backend = makeCpuBackend();
    ConvertSettings s;
    s.format = SampleFormat::Pcm16;
    convertFile(dir / "mix.wav", dir / "a.wav", s, *backend);
    convertFile(dir / "mix.wav", dir / "b.wav", s, *backend);
    s.ditherSeed = 99;
    convertFile(dir / "mix.wav", dir / "c.wav", s, *backend);
    EXPECT_EQ(test::readBytes(dir / "a.wav"), test::readBytes(dir / "b.wav"));
    EXPECT_NE(test::readBytes(dir / "a.wav"), test::readBytes(dir / "c.wav"));
}

} // namespace
} // namespace lathe

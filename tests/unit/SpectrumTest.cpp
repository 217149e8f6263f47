// SPDX-License-Identifier: GPL-3.0-or-later
// Spectrum, spectrogram and stereo image against closed forms.
#include "TestSignals.h"

#include <lathe/Spectrum.h>
#include <lathe/math/Random.h>

#include <fftw3.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace lathe {
namespace {

using test::Planar;

/// A bin-centred sine reads its amplitude exactly: the Hann window's coherent gain is compensated.
constexpr double kSineLevelDb = 0.01;
/// The bound on the slope of pink noise.
constexpr double kPinkSlopeDbPerOctave = 0.5;
/// Smoothing shares power inside a band but must not create or lose any (measured as drawn: power
/// times each bin's width in ln f). The scatter form preserves it exactly; 1e-9 is double rounding.
constexpr double kSmoothingEnergyRatio = 1e-9;
/// Smoothing leaves a flat spectrum flat: bins cover ln f unevenly, so a band's share of each bin
/// is only approximately its width: measured ≤ 0.031 dB at 100 Hz and above, for every fraction.
constexpr double kSmoothingFlatnessDb = 0.05;
/// Time pooling: frames straddling the instant a tone switches off carry part of it.
constexpr double kPoolingEnergyDb = 0.2;

struct Analysed {
    LongTermSpectrum spectrum;
    Spectrogram gram;
    StereoImage stereo;
};

Analysed analyse(const Planar& x, SampleRate fs, SpectrumSettings s = {}) {
    const ChannelLayout layout = ChannelLayout::fromConvention(static_cast<int>(x.size()));
    SpectralAnalyzer a(fs, layout, static_cast<Frames>(x[0].size()), s);
    test::MemorySource src(x, fs);
    AudioBuffer b;
    while (src.read(b, 10007) > 0) { // an odd block size: frames straddle blocks
        a.add(b);
    }
    a.finish();
    return {a.spectrum(), a.spectrogram(), a.stereo()};
}

TEST(Spectrum, FftSizeGivesThreeHertzOrFiner) {
    for (SampleRate fs : {8000, 44100, 48000, 96000, 192000, 384000}) {
        const int n = spectrumFftSize(fs);
        EXPECT_LE(static_cast<double>(fs) / n, 3.0) << fs;
        EXPECT_GT(static_cast<double>(fs) / (n / 2), 3.0) << fs; // and the smallest such
    }
}

TEST(Spectrum, BinCentredSineReadsItsAmplitudeInItsBin) {
    const SampleRate fs = 48000;
    const int n = spectrumFftSize(fs);
    for (int k : {100, 341, 2000}) {
        for (double amplitude : {1.0, 0.1}) {
            const double hz = static_cast<double>(k) * fs / n;
            const auto r = analyse({test::sine(hz, amplitude, fs, 5 * fs)}, fs);
            const auto& p = r.spectrum.power[0];
            const auto peak = std::max_element(p.begin(), p.end()) - p.begin();
            EXPECT_EQ(peak, k) << hz;
            EXPECT_NEAR(powerDb(p[static_cast<std::size_t>(k)]), 20 * std::log10(amplitude), kSineLevelDb)
                << hz;
        }
    }
}

TEST(Spectrum, OffBinSineLandsWithinOneBin) {
    const SampleRate fs = 44100;
    const auto r = analyse({test::sine(1234.567, 0.5, fs, 3 * fs)}, fs);
    const auto& p = r.spectrum.power[0];
    const double peakHz =
        static_cast<double>(std::max_element(p.begin(), p.end()) - p.begin()) * r.spectrum.binHz;
    EXPECT_NEAR(peakHz, 1234.567, r.spectrum.binHz);
}

/// Pink noise by construction: white noise shaped by 1/√f in the frequency domain (double FFT).
std::vector<float> pinkNoise(std::size_t n, std::uint64_t seed) {
    std::vector<double> t(n);
    fftw_complex* f = fftw_alloc_complex(n / 2 + 1);
    fftw_plan fwd = fftw_plan_dft_r2c_1d(static_cast<int>(n), t.data(), f, FFTW_ESTIMATE);
    fftw_plan inv = fftw_plan_dft_c2r_1d(static_cast<int>(n), f, t.data(), FFTW_ESTIMATE);
    const auto white = test::noise(static_cast<Frames>(n), 1.0, seed);
    std::copy(white.begin(), white.end(), t.begin());
    fftw_execute(fwd);
    f[0][0] = f[0][1] = 0.0;
    for (std::size_t k = 1; k <= n / 2; ++k) {
        const double g = 1.0 / std::sqrt(static_cast<double>(k));
        f[k][0] *= g;
        f[k][1] *= g;
    }
    fftw_execute(inv);
    fftw_destroy_plan(fwd);
    fftw_destroy_plan(inv);
    fftw_free(f);
    double peak = 0.0;
    for (double v : t) {
        peak = std::max(peak, std::fabs(v));
    }
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<float>(0.5 * t[i] / peak);
    }
    return out;
}

TEST(Spectrum, PinkNoiseFallsThreeDecibelsPerOctave) {
    const SampleRate fs = 48000;
    const auto r = analyse({pinkNoise(1 << 21, 7)}, fs);
    const auto hz = std::vector<double>{63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000};
    const auto db = spectrumCurveDb(r.spectrum, 0, 3, hz);
    // Least-squares slope of dB against log2(f).
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < hz.size(); ++i) {
        const double x = std::log2(hz[i]);
        sx += x;
        sy += db[i];
        sxx += x * x;
        sxy += x * db[i];
    }
    const double m = static_cast<double>(hz.size());
    const double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
    EXPECT_NEAR(slope, -3.0103, kPinkSlopeDbPerOctave);
}

TEST(Spectrum, SmoothingPreservesEnergyAndNoiseLevels) {
    const SampleRate fs = 48000;
    const auto white = analyse({test::noise(20 * fs, 0.5, 3)}, fs);
    const auto tone = analyse({test::sine(1000.0, 0.5, fs, 5 * fs)}, fs);
    for (const auto* r : {&white, &tone}) {
        const auto& p = r->spectrum.power[0];
        // Over the whole spectrum but DC (which smoothing leaves alone).
        const std::size_t lo = 1;
        const std::size_t hi = p.size();
        auto width = [](std::size_t k) {
            const auto kk = static_cast<double>(k);
            return std::log((kk + 0.5) / (kk - 0.5));
        };
        double raw = 0.0;
        for (std::size_t k = lo; k < hi; ++k) {
            raw += p[k] * width(k);
        }
        for (int fraction : {1, 3, 6, 12, 24}) {
            const auto s = smoothFractionalOctave(p, fraction);
            double smoothed = 0.0;
            for (std::size_t k = lo; k < hi; ++k) {
                smoothed += s[k] * width(k);
            }
            EXPECT_NEAR(smoothed / raw, 1.0, kSmoothingEnergyRatio) << "1/" << fraction;
        }
    }
    // A flat spectrum stays flat (a white-noise measurement would add its own ±0.1 dB of
    // estimation scatter to the test, so the input is exactly flat here).
    const std::vector<double> flat(8193, 1.0);
    for (int fraction : {1, 3, 6, 12, 24}) {
        const auto s = smoothFractionalOctave(flat, fraction);
        for (double hz : {100.0, 1000.0, 10000.0}) {
            const auto k = static_cast<std::size_t>(hz / (48000.0 / 16384));
            EXPECT_NEAR(10 * std::log10(s[k]), 0.0, kSmoothingFlatnessDb) << "1/" << fraction << " at " << hz;
        }
    }
}

TEST(Spectrum, DisplayFrequenciesSpanTheAudioBand) {
    const auto f = displayFrequencies(48000);
    EXPECT_DOUBLE_EQ(f.front(), 20.0);
    EXPECT_NEAR(f.back(), 20000.0, 20000.0 * (std::pow(2.0, 1.0 / 24) - 1));
    EXPECT_EQ(f.size(), static_cast<std::size_t>(std::floor(24 * std::log2(1000.0))) + 1);
}

// Max pooling keeps the loudest frame of a column, mean pooling keeps its energy: a tone present
// in half of a column's time reads its level in the max and 3 dB less in the mean.
TEST(Spectrogram, MaxPoolKeepsPeaksAndMeanPoolKeepsEnergy) {
    const SampleRate fs = 48000;
    const int n = spectrumFftSize(fs);
    const double hz = 200.0 * fs / n; // bin-centred
    SpectrumSettings s;
    s.columns = 10;
    auto tone = test::sine(hz, 1.0, fs, 60 * fs);
    // Column 0 spans the first ~6 s: keep the tone for its first half only.
    const Frames perColumn = static_cast<Frames>(std::llround(6.0 * fs));
    for (std::size_t i = static_cast<std::size_t>(perColumn / 2); i < static_cast<std::size_t>(perColumn);
         ++i) {
        tone[i] = 0.0f;
    }
    const auto r = analyse({tone}, fs, s);
    const Spectrogram& g = r.gram;
    ASSERT_LE(g.columns, 11);
    int row = 0;
    while (row < g.rows && !(g.rowLowHz[static_cast<std::size_t>(row)] <= hz &&
                             hz < g.rowHighHz[static_cast<std::size_t>(row)])) {
        ++row;
    }
    ASSERT_LT(row, g.rows);
    const auto cell = [&](const std::vector<float>& v, int c) {
        return v[static_cast<std::size_t>(row) * static_cast<std::size_t>(g.columns) +
                 static_cast<std::size_t>(c)];
    };
    EXPECT_NEAR(cell(g.maxDb, 1), 0.0, kSineLevelDb); // steady tone: max = its level
    EXPECT_NEAR(cell(g.maxDb, 0), 0.0, kSineLevelDb); // the peak survives pooling
    const double halfColumnShare = static_cast<double>(perColumn / 2) / (g.secondsPerColumn * fs);
    EXPECT_NEAR(cell(g.meanDb, 0) - cell(g.meanDb, 1), 10 * std::log10(halfColumnShare), kPoolingEnergyDb);
}

TEST(Spectrogram, MemoryIsBoundedByTheGrid) {
    SpectrumSettings s;
    s.columns = 50;
    s.rows = 40;
    const auto r = analyse({test::noise(48000 * 30, 0.1, 1)}, 48000, s);
    EXPECT_LE(r.gram.columns, 51);
    EXPECT_EQ(r.gram.rows, 40);
    EXPECT_EQ(r.gram.maxDb.size(), static_cast<std::size_t>(r.gram.rows * r.gram.columns));
}

TEST(Stereo, CorrelationOfIdenticalInvertedAndIndependentChannels) {
    const SampleRate fs = 48000;
    const auto a = test::noise(20 * fs, 0.3, 1);
    auto inverted = a;
    for (float& v : inverted) {
        v = -v;
    }
    const auto b = test::noise(20 * fs, 0.3, 2);
    const auto same = analyse({a, a}, fs).stereo;
    const auto opposite = analyse({a, inverted}, fs).stereo;
    const auto independent = analyse({a, b}, fs).stereo;
    EXPECT_NEAR(*same.correlation, 1.0, 1e-9);
    EXPECT_NEAR(*opposite.correlation, -1.0, 1e-9);
    EXPECT_NEAR(*independent.correlation, 0.0, 0.01); // ~1/√(960 000) = 0.001 standard error
    for (std::size_t i = 29; i < same.correlation3s.size(); ++i) {
        ASSERT_NEAR(same.correlation3s[i], 1.0, 1e-9);
        ASSERT_NEAR(opposite.correlation3s[i], -1.0, 1e-9);
    }
    // Mono fold: identical channels keep their level, independent ones lose 3.01 dB, opposite vanish.
    EXPECT_NEAR(*same.monoLossLu, 0.0, 1e-6);
    EXPECT_NEAR(*independent.monoLossLu, -3.0103, 0.05);
    EXPECT_TRUE(!opposite.monoLossLu || *opposite.monoLossLu < -60.0);
    for (double v : independent.sideToMidDb) {
        EXPECT_NEAR(v, 0.0, 0.5); // equal mid and side energy in every octave
    }
    EXPECT_NEAR(*same.balanceDb, 0.0, 1e-9);
}

} // namespace
} // namespace lathe

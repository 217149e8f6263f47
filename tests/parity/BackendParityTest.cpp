// SPDX-License-Identifier: GPL-3.0-or-later
// Every backend this build can run, against the CPU reference, over odd sizes (0, 1, block±1, …),
// with guard canaries around every output. Without a CUDA device the CUDA cases are skipped with
// the probe's reason and the suite says which backends went untested (Rubber Band's
// showImplementations).
#include "MultibandRender.h"
#include "StageRender.h"
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Backend.h>
#include <lathe/LimiterStage.h>
#include <lathe/Loudness.h>
#include <lathe/LoudnessKernel.h>
#include <lathe/MultibandStage.h>
#include <lathe/gpu/Gpu.h>
#include <lathe/math/Random.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace lathe {
namespace {

BackendRegistry& registry() {
    static BackendRegistry r = [] {
        BackendRegistry reg;
        gpu::registerCudaBackend(reg);
        return reg;
    }();
    return r;
}

std::vector<std::string> compiledBackends() {
    std::vector<std::string> names;
    for (const auto& s : registry().availableBackends()) {
        names.push_back(s.name);
    }
    return names;
}

class BackendParity : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        for (const auto& s : registry().availableBackends()) {
            if (s.name == GetParam() && !s.available) {
                GTEST_SKIP() << s.name << ": not tested (" << s.reason << ")";
            }
        }
        m_backend = registry().makeBackend(GetParam());
        m_reference = makeCpuBackend();
    }
    std::unique_ptr<Backend> m_backend;
    std::unique_ptr<Backend> m_reference;
};

AudioBuffer testBlock(int channels, Frames frames, std::uint64_t seed) {
    AudioBuffer b(channels, frames + 3); // capacity > frames: the padding must be ignored
    b.setFrames(frames);
    for (int c = 0; c < channels; ++c) {
        const auto x = test::noise(frames, 1.2, seed + static_cast<std::uint64_t>(c)); // some overs
        std::copy(x.begin(), x.end(), b.channel(c));
    }
    if (frames > 10) {
        b.channel(channels - 1)[frames / 2] = NAN;
        b.channel(0)[frames - 1] = -INFINITY;
        b.channel(0)[3] = 1.5f; // the peak, and a tie
        b.channel(channels - 1)[7] = -1.5f;
    }
    return b;
}

/// Relative RMS difference in dB and the largest absolute difference of a against b, every channel.
struct Difference {
    double relativeDb = -400;
    double maxAbs = 0;
};
Difference difference(const AudioBuffer& a, const AudioBuffer& b) {
    Difference d;
    double e = 0;
    double s = 0;
    for (int c = 0; c < b.channels(); ++c) {
        for (Frames k = 0; k < b.frames(); ++k) {
            const double x = static_cast<double>(a.channel(c)[k]) - b.channel(c)[k];
            e += x * x;
            s += static_cast<double>(b.channel(c)[k]) * b.channel(c)[k];
            d.maxAbs = std::max(d.maxAbs, std::fabs(x));
        }
    }
    d.relativeDb = e == 0 ? -400 : 10.0 * std::log10(e / s);
    return d;
}

const Frames kSizes[] = {0, 1, 2, 3, 7, 255, 256, 257, 1000, 4095, 4096, 4097, 65537};

TEST_P(BackendParity, StatsEqualTheReference) {
    for (int channels : {1, 2, 6}) {
        for (Frames n : kSizes) {
            const AudioBuffer b = testBlock(channels, n, 10);
            std::vector<math::SampleStats> got(static_cast<std::size_t>(channels), math::emptyStats());
            std::vector<math::SampleStats> want = got;
            m_backend->accumulateStats(b, 1000, got);
            m_reference->accumulateStats(b, 1000, want);
            for (std::size_t c = 0; c < want.size(); ++c) {
                SCOPED_TRACE("channels " + std::to_string(channels) + " frames " + std::to_string(n) +
                             " ch " + std::to_string(c));
                EXPECT_EQ(got[c].peakAbs, want[c].peakAbs);
                EXPECT_EQ(got[c].peakFrame, want[c].peakFrame);
                EXPECT_EQ(got[c].finiteCount, want[c].finiteCount);
                EXPECT_EQ(got[c].nonFiniteCount, want[c].nonFiniteCount);
                EXPECT_EQ(got[c].firstNonFinite, want[c].firstNonFinite);
                EXPECT_NEAR(got[c].sum, want[c].sum, test::kStatsSumRelative * (want[c].sumSquares + 1.0));
                EXPECT_NEAR(got[c].sumSquares, want[c].sumSquares,
                            test::kStatsSumRelative * want[c].sumSquares);
            }
        }
    }
}

TEST_P(BackendParity, SanitizeEqualsTheReference) {
    for (Frames n : kSizes) {
        AudioBuffer a = testBlock(2, n, 20);
        AudioBuffer b = a;
        EXPECT_EQ(m_backend->sanitize(a), m_reference->sanitize(b)) << n;
        for (int c = 0; c < 2; ++c) {
            ASSERT_EQ(std::memcmp(a.channel(c), b.channel(c), static_cast<std::size_t>(n) * sizeof(float)), 0)
                << n;
        }
    }
}

// Quantised codes must be bit-identical (dither included); canaries after the output must survive.
TEST_P(BackendParity, QuantizeIsBitIdentical) {
    constexpr std::int32_t kCanary = 0x5a5a5a5a;
    for (int bits : {16, 24}) {
        for (int channels : {1, 2, 3}) {
            for (Frames n : kSizes) {
                AudioBuffer b = testBlock(channels, n, 30);
                m_reference->sanitize(b);
                const auto params = math::makeQuantizeParams(bits, true, 0xfeed);
                const std::size_t count = static_cast<std::size_t>(n) * static_cast<std::size_t>(channels);
                std::vector<std::int32_t> got(count + 8, kCanary);
                std::vector<std::int32_t> want(count + 8, kCanary);
                const Frames clipsGot = m_backend->quantize(b, 123456789, params, got.data());
                const Frames clipsWant = m_reference->quantize(b, 123456789, params, want.data());
                SCOPED_TRACE("bits " + std::to_string(bits) + " channels " + std::to_string(channels) +
                             " frames " + std::to_string(n));
                EXPECT_EQ(clipsGot, clipsWant);
                EXPECT_EQ(got, want);
                for (std::size_t i = count; i < count + 8; ++i) {
                    ASSERT_EQ(got[i], kCanary) << "wrote past the end";
                }
            }
        }
    }
}

TEST_P(BackendParity, ConvolutionMatchesTheReference) {
    if (!m_backend->supports(Capability::Convolution)) {
        GTEST_SKIP() << GetParam() << ": does not implement convolution yet (capability routing sends "
                     << "EQ and reverb to the CPU backend)";
    }
    // A true-stereo matrix with filters of 1, block−1, block+1 and 3·block+7 taps, fed in pieces.
    constexpr Frames kBlock = 8192;
    FilterMatrix m;
    m.inputs = 2;
    m.outputs = 2;
    for (Frames taps : {Frames{1}, kBlock - 1, kBlock + 1, 3 * kBlock + 7}) {
        m.filters.push_back(test::noise(taps, 0.05, static_cast<std::uint64_t>(taps)));
    }
    m.paths = {{0, 0, 3}, {0, 1, 1}, {1, 0, 2}, {1, 1, 0}};
    auto got = m_backend->makeConvolver(m, {kBlock, 2});
    auto want = m_reference->makeConvolver(m, {kBlock, 2});
    AudioBuffer in;
    AudioBuffer a;
    AudioBuffer b;
    for (int piece = 0; piece < 6; ++piece) {
        const Frames n = (piece % 3 + 1) * kBlock;
        in = testBlock(2, n, 50 + static_cast<std::uint64_t>(piece));
        m_reference->sanitize(in); // testBlock plants NaN/Inf for the statistics tests
        got->process(in, a);
        want->process(in, b);
        ASSERT_EQ(a.frames(), b.frames());
        for (int c = 0; c < 2; ++c) {
            double e = 0;
            double s = 0;
            for (Frames k = 0; k < n; ++k) {
                const double d = static_cast<double>(a.channel(c)[k]) - b.channel(c)[k];
                e += d * d;
                s += static_cast<double>(b.channel(c)[k]) * b.channel(c)[k];
            }
            EXPECT_LE(10.0 * std::log10(e / s), test::kConvolutionParityDb)
                << "piece " << piece << " channel " << c;
        }
        EXPECT_LE(difference(a, b).maxAbs, test::kConvolutionParityMaxAbs) << "piece " << piece;
    }
}

// One input into three outputs (a crossover's shape) with a block of 4096, in pieces longer than
// a call of the backend (preferredFrames) so that its ring of block spectra wraps several times,
// filters of 1 tap to 20 partitions; then silence for longer than the longest filter: the output
// must be exactly zero on every backend (lathe/Convolution.h).
TEST_P(BackendParity, LongConvolutionsMatchAndSilenceIsExactlyZero) {
    if (!m_backend->supports(Capability::Convolution)) {
        GTEST_SKIP() << GetParam() << ": does not implement convolution";
    }
    constexpr Frames kBlock = 4096;
    FilterMatrix m;
    m.inputs = 1;
    m.outputs = 3;
    m.filters = {test::noise(1, 0.9, 1), test::noise(20 * kBlock - 3, 0.02, 2), test::noise(kBlock, 0.1, 3)};
    m.paths = {{0, 0, 0}, {0, 1, 1}, {0, 2, 2}};
    auto got = m_backend->makeConvolver(m, {kBlock, 2});
    auto want = m_reference->makeConvolver(m, {kBlock, 2});
    ASSERT_EQ(got->blockFrames(), kBlock);
    const Frames piece = (got->preferredFrames() * 3 / 2 + kBlock - 1) / kBlock * kBlock;
    AudioBuffer in;
    AudioBuffer a;
    AudioBuffer b;
    for (int k = 0; k < 3; ++k) {
        in = testBlock(1, piece, 70 + static_cast<std::uint64_t>(k));
        m_reference->sanitize(in);
        got->process(in, a);
        want->process(in, b);
        ASSERT_EQ(a.frames(), piece);
        const Difference d = difference(a, b);
        EXPECT_LE(d.relativeDb, test::kConvolutionParityDb) << "piece " << k;
        EXPECT_LE(d.maxAbs, test::kConvolutionParityMaxAbs) << "piece " << k;
    }
    // Silence: after length() + one block of zeros, exact zeros (two calls' worth).
    const Frames quiet = (m.length() + kBlock + kBlock - 1) / kBlock * kBlock;
    in = AudioBuffer(1, quiet);
    in.setFrames(quiet);
    got->process(in, a); // the tail of the noise
    in = AudioBuffer(1, 4 * kBlock);
    in.setFrames(4 * kBlock);
    got->process(in, a);
    for (int c = 0; c < 3; ++c) {
        for (Frames k = 0; k < a.frames(); ++k) {
            ASSERT_EQ(a.channel(c)[k], 0.0f) << "output " << c << " frame " << k << " after silence";
        }
    }
}

// A two-block convolver fed one block at a time (the smallest call) equals the reference fed the
// same blocks; an impulse through a pure delay lands on the right sample on every backend.
TEST_P(BackendParity, SmallCallsAndAPureDelayAreExact) {
    if (!m_backend->supports(Capability::Convolution)) {
        GTEST_SKIP() << GetParam() << ": does not implement convolution";
    }
    constexpr Frames kBlock = 16; // the smallest block a convolver accepts
    std::vector<float> delay(3 * kBlock + 5, 0.0f);
    delay.back() = 1.0f; // y[n] = x[n − 52]
    auto got = m_backend->makeConvolver(FilterMatrix::diagonal(2, delay), {kBlock, 1});
    AudioBuffer in(2, kBlock);
    in.setFrames(kBlock);
    AudioBuffer out;
    std::vector<float> seen[2];
    for (int call = 0; call < 8; ++call) {
        for (int c = 0; c < 2; ++c) {
            std::fill(in.channel(c), in.channel(c) + kBlock, 0.0f);
        }
        if (call == 0) {
            in.channel(0)[3] = 0.5f;
            in.channel(1)[7] = -0.25f;
        }
        got->process(in, out);
        for (int c = 0; c < 2; ++c) {
            seen[c].insert(seen[c].end(), out.channel(c), out.channel(c) + kBlock);
        }
    }
    for (std::size_t k = 0; k < seen[0].size(); ++k) {
        EXPECT_NEAR(seen[0][k], k == 3 + 52 ? 0.5f : 0.0f, test::kImpulseNeighbourAbs) << k;
        EXPECT_NEAR(seen[1][k], k == 7 + 52 ? -0.25f : 0.0f, test::kImpulseNeighbourAbs) << k;
    }
}

/// Where a chunk's loudness records differ from the reference's beyond the parity tolerances (the
/// energies relatively, the true peaks in dB; the sample peaks, and the true peaks' frames where
/// the peaks are equal, exactly): the first difference, or nothing.
std::string recordsMismatch(const LoudnessRecords& got, const LoudnessRecords& want) {
    if (got.subBlockEnergy.size() != want.subBlockEnergy.size()) {
        return "channel count";
    }
    for (std::size_t c = 0; c < want.subBlockEnergy.size(); ++c) {
        const std::string at = "channel " + std::to_string(c);
        if (got.subBlockEnergy[c].size() != want.subBlockEnergy[c].size()) {
            return at + ": sub-block count";
        }
        for (std::size_t b = 0; b < want.subBlockEnergy[c].size(); ++b) {
            const double w = want.subBlockEnergy[c][b];
            if (!(std::fabs(got.subBlockEnergy[c][b] - w) <= test::kLoudnessEnergyParityRelative * w)) {
                return at + ", sub-block " + std::to_string(b) + ": energy " +
                       std::to_string(got.subBlockEnergy[c][b]) + " against " + std::to_string(w);
            }
        }
        if (got.stepSamplePeak[c] != want.stepSamplePeak[c]) {
            return at + ": sample peaks";
        }
        if (got.stepTruePeak[c].size() != want.stepTruePeak[c].size()) {
            return at + ": true-peak step count";
        }
        for (std::size_t s = 0; s < want.stepTruePeak[c].size(); ++s) {
            const double w = want.stepTruePeak[c][s];
            const double g = got.stepTruePeak[c][s];
            const std::string step = at + ", step " + std::to_string(s);
            if (w == 0.0 ? g != 0.0 : !(std::fabs(20.0 * std::log10(g / w)) <= test::kTruePeakParityDb)) {
                return step + ": true peak " + std::to_string(g) + " against " + std::to_string(w);
            }
            if (g == w && got.stepTruePeakFrame[c][s] != want.stepTruePeakFrame[c][s]) {
                return step + ": true peak's frame";
            }
        }
    }
    return {};
}

/// A chunk of `frames` frames of stereo noise with the meter's margins, each channel from its own seed.
AudioBuffer loudnessChunkAudio(const LoudnessParams& params, Frames frames, std::uint64_t seed) {
    const Frames total = params.warmupFrames + frames + params.lookaheadFrames;
    AudioBuffer audio(2, total);
    audio.setFrames(total);
    for (int c = 0; c < 2; ++c) {
        const auto x = test::noise(total, 0.5, seed + static_cast<std::uint64_t>(c));
        std::copy(x.begin(), x.end(), audio.channel(c));
    }
    return audio;
}

// Loudness records of one chunk — sub-block energies, sample peaks, true peaks and where they are
// — equal the reference's over rates, odd lengths, silence and a near-Nyquist tone (the true-peak
// search's hardest case), with and without true peak. Called directly, whatever the backend claims.
TEST_P(BackendParity, LoudnessRecordsMatchTheReference) {
    struct Case {
        SampleRate fs;
        Frames frames;
        const char* what;
    };
    const Case cases[] = {{48000, 0, "empty"},
                          {48000, 1, "one frame"},
                          {48000, 4799, "a step less one"},
                          {44100, 44100 * 3 + 17, "44.1 kHz, odd"},
                          {96000, 96000 * 2, "96 kHz"},
                          {192000, 192000 + 5, "192 kHz"},
                          {48000, 48000 * 10, "a full chunk"}};
    for (const Case& k : cases) {
        for (const bool truePeak : {true, false}) {
            for (const char* signal : {"noise", "silence", "nyquist"}) {
                LoudnessParams params = LoudnessParams::forRate(k.fs);
                params.truePeak = truePeak;
                const Frames total = params.warmupFrames + k.frames + params.lookaheadFrames;
                AudioBuffer audio(2, total);
                audio.setFrames(total);
                audio.clear();
                for (int c = 0; c < 2; ++c) {
                    std::vector<float> x;
                    if (std::string(signal) == "noise") {
                        x = test::noise(total, 0.5, 40 + static_cast<std::uint64_t>(c));
                    } else if (std::string(signal) == "nyquist") {
                        x = test::sine(0.45 * k.fs, 0.7, k.fs, total, 0.3 * c);
                    } else {
                        x.assign(static_cast<std::size_t>(total), 0.0f);
                    }
                    std::copy(x.begin(), x.end(), audio.channel(c));
                }
                const LoudnessChunk chunk{&audio, 12345 * params.stepFrames, k.frames};
                LoudnessRecords want;
                LoudnessRecords got;
                m_reference->measureLoudnessChunk(params, chunk, want);
                m_backend->measureLoudnessChunk(params, chunk, got);
                const std::string what =
                    std::string(k.what) + ", " + signal + (truePeak ? ", true peak" : "");
                const std::string mismatch = recordsMismatch(got, want);
                ASSERT_TRUE(mismatch.empty()) << what << ": " << mismatch;
            }
        }
    }
}

// The whole measurement — integrated, LRA, maxima, the momentary and short-term history, true
// peak — through the backend's loudness path (its own chunk lengths: a minute on the GPU) equals
// the reference's: 44.1/96/192 kHz stereo with level changes (gating and LRA have work to do),
// 70 s at 48 kHz (more than one GPU chunk), and 5.1.
TEST_P(BackendParity, TheLoudnessMeasurementMatchesTheReference) {
    if (!m_backend->supports(Capability::Loudness)) {
        GTEST_SKIP() << GetParam() << ": does not implement loudness (measureLoudness uses the reference)";
    }
    struct Case {
        SampleRate fs;
        int channels;
        double seconds;
    };
    for (const Case k : {Case{48000, 2, 70.0}, Case{44100, 2, 12.0}, Case{96000, 2, 9.0},
                         Case{192000, 2, 6.5}, Case{48000, 6, 8.0}}) {
        const auto frames = static_cast<Frames>(k.seconds * k.fs);
        test::Planar x;
        for (int c = 0; c < k.channels; ++c) {
            std::vector<float> v = test::noise(frames, 0.4, 70 + static_cast<std::uint64_t>(c));
            for (Frames i = 0; i < frames; ++i) { // 4 s sections at −0, −12, −24, −6 dB
                const double gainDb = std::array<double, 4>{0.0, -12.0, -24.0, -6.0}[(i / (4 * k.fs)) % 4];
                v[static_cast<std::size_t>(i)] *= static_cast<float>(std::pow(10.0, gainDb / 20.0));
            }
            x.push_back(std::move(v));
        }
        const std::string what = std::to_string(k.fs) + " Hz, " + std::to_string(k.channels) + " channels";
        const ChannelLayout layout =
            k.channels == 6 ? parseChannelLayout("5.1") : ChannelLayout::fromConvention(k.channels);
        test::MemorySource a(x, k.fs, layout);
        test::MemorySource b(x, k.fs, layout);
        const LoudnessResult got = measureLoudness(a, {}, *m_backend);
        const LoudnessResult want = measureLoudness(b, {}, *m_reference);
        EXPECT_EQ(got.backend, GetParam()) << what;
        ASSERT_TRUE(got.integratedLufs && want.integratedLufs) << what;
        EXPECT_NEAR(*got.integratedLufs, *want.integratedLufs, test::kLoudnessParityLu) << what;
        ASSERT_EQ(got.lraLu.has_value(), want.lraLu.has_value()) << what;
        if (want.lraLu) {
            EXPECT_NEAR(*got.lraLu, *want.lraLu, test::kLoudnessParityLu) << what;
        }
        EXPECT_NEAR(got.maxMomentaryLufs->value, want.maxMomentaryLufs->value, test::kLoudnessParityLu)
            << what;
        EXPECT_NEAR(got.truePeakDbtp->value, want.truePeakDbtp->value, test::kTruePeakParityDb) << what;
        ASSERT_EQ(got.history.momentaryLufs.size(), want.history.momentaryLufs.size()) << what;
        ASSERT_EQ(got.history.shortTermLufs.size(), want.history.shortTermLufs.size()) << what;
        for (std::size_t i = 0; i < want.history.momentaryLufs.size(); ++i) {
            const double w = want.history.momentaryLufs[i];
            if (std::isfinite(w)) {
                ASSERT_NEAR(got.history.momentaryLufs[i], w, test::kLoudnessParityLu)
                    << what << ", step " << i;
            }
            const double ws = want.history.shortTermLufs[i];
            if (std::isfinite(ws)) {
                ASSERT_NEAR(got.history.shortTermLufs[i], ws, test::kLoudnessParityLu)
                    << what << ", step " << i;
            }
        }
    }
}

// The multiband stage with its dynamics on the backend (Capability::Dynamics: detectors, gains and
// band sum on the device) equals the stage computing them on the host: peak and RMS detectors,
// stereo links of 100/50/0 %, mid/side, every curve with knees, makeup and range, a bypassed and
// a soloed band, mono, stereo and 5.1, 48 and 96 kHz, fed in odd blocks (the detectors' states
// carry across calls). Samples within the bounds; the report's figures within 1e-6 dB.
TEST_P(BackendParity, MultibandDynamicsMatchTheReference) {
    if (GetParam() != "cpu" && !m_backend->supports(Capability::Dynamics)) {
        GTEST_SKIP() << GetParam() << ": does not implement the dynamics (MultibandStage computes them)";
    }
    for (const test::MultibandCase& k : test::multibandCases()) {
        MultibandSpec spec;
        k.set(spec);
        const test::Planar x = test::sectionedProgramme(k.fs, k.channels, k.seconds, 2.0);
        const ChannelLayout layout = test::layoutFor(k.channels);
        nlohmann::json gotReport;
        nlohmann::json wantReport;
        const AudioBuffer got = test::renderMultiband(*m_backend, spec, x, k.fs, layout, 30011, gotReport);
        const AudioBuffer want =
            test::renderMultiband(*m_reference, spec, x, k.fs, layout, 30011, wantReport);
        ASSERT_EQ(got.frames(), want.frames()) << k.what;
        const Difference d = difference(got, want);
        EXPECT_LE(d.relativeDb, test::kConvolutionParityDb) << k.what;
        EXPECT_LE(d.maxAbs, test::kConvolutionParityMaxAbs) << k.what;
        // The report: per band the figures, and the history step by step (the largest difference).
        const auto& gb = gotReport["bands"];
        const auto& wb = wantReport["bands"];
        ASSERT_EQ(gb.size(), wb.size()) << k.what;
        double worstFigure = 0.0;
        for (std::size_t b = 0; b < wb.size(); ++b) {
            for (const char* key : {"max_gain_reduction_db", "mean_gain_db"}) {
                worstFigure =
                    std::max(worstFigure, std::fabs(gb[b][key].get<double>() - wb[b][key].get<double>()));
            }
        }
        const auto& gh = gotReport["gain_reduction_history"]["bands_db"];
        const auto& wh = wantReport["gain_reduction_history"]["bands_db"];
        ASSERT_EQ(gh.size(), wh.size()) << k.what;
        double worstStep = 0.0;
        for (std::size_t b = 0; b < wh.size(); ++b) {
            ASSERT_EQ(gh[b].size(), wh[b].size()) << k.what << ", band " << b;
            for (std::size_t i = 0; i < wh[b].size(); ++i) {
                worstStep = std::max(worstStep, std::fabs(gh[b][i].get<double>() - wh[b][i].get<double>()));
            }
        }
        EXPECT_LE(worstFigure, test::kDynamicsReportParityDb) << k.what;
        EXPECT_LE(worstStep, test::kDynamicsReportParityDb) << k.what;
        std::printf("[ DYNAMICS ] %s: samples %.1f dB / %.2g abs, report figures %.2g dB, history %.2g dB\n",
                    k.what, d.relativeDb, d.maxAbs, worstFigure, worstStep);
    }
}

// The unverified limiter (the loudness targeting's trial) with its pass on the backend
// (Capability::LimiterPass: peaks, look-ahead maximum, release scan, attack mean and gain on the
// device) equals LimiterStage computing it on the host: full-scale bursts and a near-Nyquist tone
// driven into the ceiling, silence, 0/1/odd lengths, a call boundary crossed, mono to 5.1,
// 44.1–192 kHz. First passed on an H200 on 2026-11-26 (bench/RESULTS.md).
TEST_P(BackendParity, TheLimiterPassMatchesTheReference) {
    if (GetParam() == "cpu") {
        GTEST_SKIP() << "cpu: the stage's own host code is the reference";
    }
    if (!m_backend->supports(Capability::LimiterPass)) {
        GTEST_SKIP() << GetParam() << ": the limiter pass is left to the CPU (LATHE_CUDA_HOLD)";
    }
    Backend* const backend = m_backend.get();
    for (const test::LimiterCase& c : test::limiterPassCases()) {
        const auto [got, want, gotReport, wantReport] = test::renderLimiterCase(c, *backend, 0);
        ASSERT_EQ(got.frames(), c.frames) << c.what;
        ASSERT_EQ(want.frames(), c.frames) << c.what;
        const Difference d = difference(got, want);
        EXPECT_LE(d.relativeDb, test::kConvolutionParityDb) << c.what;
        EXPECT_LE(d.maxAbs, test::kConvolutionParityMaxAbs) << c.what;
        double worstFigure = 0.0;
        for (const char* key : {"max_gain_reduction_db", "mean_gain_reduction_db"}) {
            worstFigure = std::max(worstFigure,
                                   std::fabs(gotReport[key].get<double>() - wantReport[key].get<double>()));
        }
        const auto& gh = gotReport["gain_reduction_history"]["db"];
        const auto& wh = wantReport["gain_reduction_history"]["db"];
        ASSERT_EQ(gh.size(), wh.size()) << c.what;
        double worstStep = 0.0;
        for (std::size_t i = 0; i < wh.size(); ++i) {
            worstStep = std::max(worstStep, std::fabs(gh[i].get<double>() - wh[i].get<double>()));
        }
        EXPECT_LE(worstFigure, test::kLimiterReportParityDb) << c.what;
        EXPECT_LE(worstStep, test::kLimiterReportParityDb) << c.what;
        std::printf("[ LIMITER  ] %s: samples %.1f dB / %.2g abs, report figures %.2g dB, history %.2g dB\n",
                    c.what, d.relativeDb, d.maxAbs, worstFigure, worstStep);
    }
}

// The spectral analysis with its whole frames on the backend (Capability::Spectrum: window,
// batched cuFFT transforms, power sums and spectrogram rows on the device) equals SpectralAnalyzer's
// own (FFTW): spectra and spectrogram cells within the relative L2 of 1e-5, over several
// batches and a partial one, edge frames only, silence, mono to 5.1, 44.1–192 kHz. First passed on
// an H200 on 2026-11-26 (bench/RESULTS.md).
TEST_P(BackendParity, TheSpectrumMatchesTheReference) {
    if (GetParam() == "cpu") {
        GTEST_SKIP() << "cpu: the analyzer's own host code is the reference";
    }
    if (!m_backend->supports(Capability::Spectrum)) {
        GTEST_SKIP() << GetParam() << ": the spectrum is left to the CPU (LATHE_CUDA_HOLD)";
    }
    Backend* const backend = m_backend.get();
    for (const test::SpectrumCase& c : test::spectrumCases()) {
        const test::SpectrumParity p = test::spectrumParity(c, *backend);
        ASSERT_TRUE(p.sameShape) << c.what;
        EXPECT_LE(p.spectra, test::kSpectrumParityRelativeL2) << c.what;
        EXPECT_LE(p.cells, test::kSpectrumParityRelativeL2) << c.what;
        std::printf("[ SPECTRUM ] %s: spectra %.2g, spectrogram %.2g (relative L2)\n", c.what, p.spectra,
                    p.cells);
    }
}

// The loudness targeting's trial on audio the backend holds (Capability::ResidentTrial:
// Backend::trialLoudness) equals the same backend's trial rendered block by block (the limiter
// stage through ChainSource, measured by measureLoudness: the same kernels on the same samples,
// to the bit) and the CPU reference's within the loudness parity: three calls and a part at
// 48 kHz, 44.1 kHz mono, 5.1 at 192 kHz, one frame, none.
TEST_P(BackendParity, TheTrialOnHeldAudioMatchesTheRenderedTrial) {
    if (!m_backend->supports(Capability::ResidentTrial)) {
        GTEST_SKIP() << GetParam() << ": holds no audio (the trial renders block by block)";
    }
    for (const test::LimiterCase& c : test::trialCases()) {
        const LoudnessResult blocks = test::renderedTrial(c, *m_backend);
        const LoudnessResult reference = test::renderedTrial(c, *m_reference);
        const std::optional<LoudnessResult> got = test::heldTrial(c, *m_backend);
        ASSERT_TRUE(got.has_value()) << c.what;
        EXPECT_EQ(got->integratedLufs, blocks.integratedLufs) << c.what;
        EXPECT_EQ(got->gatedBlockMeanSquares, blocks.gatedBlockMeanSquares) << c.what;
        ASSERT_EQ(got->integratedLufs.has_value(), reference.integratedLufs.has_value()) << c.what;
        if (reference.integratedLufs) {
            EXPECT_NEAR(*got->integratedLufs, *reference.integratedLufs, test::kLoudnessParityLu) << c.what;
        }
        auto text = [](const std::optional<double>& v) {
            return v ? std::to_string(*v) : std::string("none");
        };
        std::printf("[ TRIAL    ] %s: held %s, rendered %s, reference %s LUFS\n", c.what,
                    text(got->integratedLufs).c_str(), text(blocks.integratedLufs).c_str(),
                    text(reference.integratedLufs).c_str());
    }
}

// Operations from several threads at once on one backend — the render's stages, the meters beside
// them and the analyses, as a master calls them — each equal the reference as if alone. On the
// CUDA backend each call runs on a lane of its own (stream, buffers, plans: gpu/src/LanePool.h);
// with more threads than lanes and several rounds, lanes pass between operations of every kind
// and size, so a buffer, plan or stream shared by mistake shows here.
TEST_P(BackendParity, OperationsFromSeveralThreadsAtOnceMatchTheReference) {
    constexpr int kRounds = 3;
    std::vector<std::function<std::string()>> work; // each returns its first mismatch, or nothing
    // Two meters at different rates (buffers of different sizes), their references made first.
    for (const SampleRate fs : {48000, 96000}) {
        const LoudnessParams params = LoudnessParams::forRate(fs);
        auto audio = std::make_shared<AudioBuffer>(loudnessChunkAudio(params, 10 * fs, 500 + fs));
        auto want = std::make_shared<LoudnessRecords>();
        m_reference->measureLoudnessChunk(params, LoudnessChunk{audio.get(), 0, 10 * fs}, *want);
        work.emplace_back([this, params, audio, want, fs]() -> std::string {
            LoudnessRecords got;
            m_backend->measureLoudnessChunk(params, LoudnessChunk{audio.get(), 0, 10 * fs}, got);
            const std::string mismatch = recordsMismatch(got, *want);
            return mismatch.empty() ? mismatch : "loudness at " + std::to_string(fs) + " Hz: " + mismatch;
        });
    }
    {
        const test::LimiterCase c = test::limiterPassCases()[1]; // past one backend call
        work.emplace_back([this, c]() -> std::string {
            const test::LimiterRuns r = test::renderLimiterCase(c, *m_backend, 1);
            const Difference d = difference(r.got, r.want);
            return r.got.frames() == r.want.frames() && d.relativeDb <= test::kConvolutionParityDb &&
                           d.maxAbs <= test::kConvolutionParityMaxAbs
                       ? std::string()
                       : std::string("limiter: ") + c.what;
        });
    }
    {
        const test::SpectrumCase c = test::spectrumCases()[0]; // several batches and a part
        work.emplace_back([this, c]() -> std::string {
            const test::SpectrumParity p = test::spectrumParity(c, *m_backend);
            return p.sameShape && p.spectra <= test::kSpectrumParityRelativeL2 &&
                           p.cells <= test::kSpectrumParityRelativeL2
                       ? std::string()
                       : std::string("spectrum: ") + c.what;
        });
    }
    {
        const test::MultibandCase k = test::multibandCases()[1]; // RMS, mid/side: every buffer
        MultibandSpec spec;
        k.set(spec);
        const test::Planar x = test::sectionedProgramme(k.fs, k.channels, k.seconds, 2.0);
        nlohmann::json report;
        auto want = std::make_shared<AudioBuffer>(
            test::renderMultiband(*m_reference, spec, x, k.fs, test::layoutFor(k.channels), 30011, report));
        work.emplace_back([this, k, spec, x, want]() -> std::string {
            nlohmann::json gotReport;
            const AudioBuffer got = test::renderMultiband(*m_backend, spec, x, k.fs,
                                                          test::layoutFor(k.channels), 30011, gotReport);
            const Difference d = difference(got, *want);
            return got.frames() == want->frames() && d.relativeDb <= test::kConvolutionParityDb &&
                           d.maxAbs <= test::kConvolutionParityMaxAbs
                       ? std::string()
                       : std::string("multiband: ") + k.what;
        });
    }
    std::vector<std::string> mismatches(work.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < work.size(); ++i) {
        threads.emplace_back([&, i] {
            try {
                for (int round = 0; round < kRounds && mismatches[i].empty(); ++round) {
                    mismatches[i] = work[i]();
                }
            } catch (const std::exception& e) {
                mismatches[i] = e.what();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const std::string& m : mismatches) {
        EXPECT_TRUE(m.empty()) << m;
    }
    std::printf("[ THREADS  ] %s: %zu operations at once, %d rounds each\n", GetParam().c_str(), work.size(),
                kRounds);
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendParity, ::testing::ValuesIn(compiledBackends()),
                         [](const auto& p) { return p.param; });

// Logs which backends this run could not test, so a green CI run is not mistaken for GPU coverage.
TEST(BackendParityCoverage, ReportsUntestedBackends) {
    for (const auto& s : registry().availableBackends()) {
        if (s.available) {
            std::printf("[ BACKEND  ] %s: tested (%s)\n", s.name.c_str(), s.description.c_str());
        } else {
            std::printf("[ BACKEND  ] %s: NOT tested (%s)\n", s.name.c_str(), s.reason.c_str());
        }
    }
    // The CPU reference must always be there.
    EXPECT_TRUE(registry().availableBackends().back().available);
    EXPECT_EQ(registry().availableBackends().back().name, "cpu");
}

} // namespace
} // namespace lathe

// SPDX-License-Identifier: GPL-3.0-or-later
// Loudness meter edge cases, channel weights, chunk and rate independence, album loudness.
#include "EbuSignals.h"
#include "TestFiles.h"
#include "TestSignals.h"
#include "ThreadNotingBackend.h"
#include "Tolerances.h"

#include <lathe/Backend.h>
#include <lathe/Error.h>
#include <lathe/Loudness.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <mutex>
#include <set>
#include <thread>

namespace lathe {
namespace {

using test::Planar;
using test::ebu::stereoSegments;

LoudnessResult measure(Planar x, SampleRate fs, ChannelLayout layout, LoudnessOptions o = {}) {
    test::MemorySource src(std::move(x), fs, std::move(layout));
    auto cpu = makeCpuBackend();
    return measureLoudness(src, o, *cpu);
}

LoudnessResult measureStereo(Planar x, SampleRate fs = 48000, LoudnessOptions o = {}) {
    return measure(std::move(x), fs, ChannelLayout::fromConvention(2), o);
}

TEST(Loudness, LoudnessOnlyLeavesTheTruePeakOutAndChangesNothingElse) {
    // truePeak = false skips the interpolation: the loudness figures are the same numbers (the
    // K-weighting path is shared), and no true-peak figure is made up from the sample peak.
    const Planar x = {test::noise(5 * 48000, 0.3, 3), test::sine(997.0, 0.25, 48000, 5 * 48000)};
    LoudnessOptions loudnessOnly;
    loudnessOnly.truePeak = false;
    const LoudnessResult full = measureStereo(x);
    const LoudnessResult only = measureStereo(x, 48000, loudnessOnly);
    ASSERT_TRUE(full.integratedLufs && only.integratedLufs);
    EXPECT_EQ(*only.integratedLufs, *full.integratedLufs);
    EXPECT_EQ(only.lraLu, full.lraLu);
    EXPECT_EQ(only.maxMomentaryLufs->value, full.maxMomentaryLufs->value);
    EXPECT_TRUE(full.truePeakDbtp.has_value());
    EXPECT_FALSE(only.truePeakDbtp.has_value());
    EXPECT_FALSE(only.plrDb.has_value());
    EXPECT_TRUE(only.channelTruePeakDbtp.empty());
    EXPECT_TRUE(only.history.truePeakDbtp.empty());
    EXPECT_EQ(only.samplePeakDbfs->value, full.samplePeakDbfs->value);
}

TEST(Loudness, SilenceIsUndefinedNotNan) {
    const auto r = measureStereo(Planar(2, std::vector<float>(48000 * 5, 0.0f)));
    EXPECT_FALSE(r.integratedLufs);
    EXPECT_NE(r.integratedNote.find("silence"), std::string::npos);
    EXPECT_FALSE(r.lraLu);
    EXPECT_FALSE(r.truePeakDbtp);
    EXPECT_FALSE(r.samplePeakDbfs);
    EXPECT_FALSE(r.maxMomentaryLufs);
    EXPECT_FALSE(r.plrDb);
}

// The absolute gate is strict: a stereo tone at −70.5 dBFS (≈ −70.5 LUFS) is gated away,
// one at −69.5 dBFS reads −69.49.
TEST(Loudness, AbsoluteGateEdge) {
    EXPECT_FALSE(measureStereo(stereoSegments({{10, -70.5}}, 48000)).integratedLufs);
    const auto r = measureStereo(stereoSegments({{10, -69.5}}, 48000));
    ASSERT_TRUE(r.integratedLufs);
    EXPECT_NEAR(*r.integratedLufs, -69.49, test::kEbuLoudnessLu);
}

TEST(Loudness, FourHundredMillisecondsIsTheShortestIntegratedMeasurement) {
    const auto shortOne = measureStereo(stereoSegments({{0.399, -20}}, 48000));
    EXPECT_FALSE(shortOne.integratedLufs);
    EXPECT_NE(shortOne.integratedNote.find("at least 400 ms"), std::string::npos);
    const auto enough = measureStereo(stereoSegments({{0.400, -20}}, 48000));
    ASSERT_TRUE(enough.integratedLufs);
    EXPECT_NEAR(*enough.integratedLufs, -20.0, test::kEbuLoudnessLu);
}

TEST(Loudness, UnderThreeSecondsHasNoShortTermOrRange) {
    const auto r = measureStereo(stereoSegments({{2.9, -20}}, 48000));
    EXPECT_TRUE(r.integratedLufs);
    EXPECT_FALSE(r.maxShortTermLufs);
    EXPECT_FALSE(r.lraLu);
    EXPECT_NE(r.lraNote.find("at least 3 s"), std::string::npos);
    EXPECT_FALSE(r.psrDb);
}

// Documented mono convention: one channel of weight 1 (1 kHz at −20 dBFS reads −23.0 LUFS);
// dual mono counts it twice (+3.01 dB).
TEST(Loudness, MonoConventionAndDualMono) {
    const Planar mono{test::sine(1000, 0.1, 48000, 480000)};
    const auto single = measure(mono, 48000, ChannelLayout::fromConvention(1));
    EXPECT_NEAR(*single.integratedLufs, -23.0, test::kEbuLoudnessLu);
    LoudnessOptions dual;
    dual.dualMono = true;
    const auto twice = measure(mono, 48000, ChannelLayout::fromConvention(1), dual);
    EXPECT_NEAR(*twice.integratedLufs - *single.integratedLufs, 10 * std::log10(2.0), 1e-9);
}

TEST(Loudness, ChannelWeightsFollowTheLayout) {
    EXPECT_EQ(channelWeights(parseChannelLayout("5.1"), false, "x"),
              (std::vector<double>{1, 1, 1, 0, 1.41, 1.41}));
    EXPECT_EQ(channelWeights(parseChannelLayout("7.1"), false, "x"),
              (std::vector<double>{1, 1, 1, 0, 1.0, 1.0, 1.41, 1.41}));
    EXPECT_EQ(channelWeights(parseChannelLayout("5.1(side)"), false, "x"),
              (std::vector<double>{1, 1, 1, 0, 1.41, 1.41}));
    EXPECT_EQ(channelWeights(parseChannelLayout("7.1.4"), false, "x").back(), 1.0); // height
    EXPECT_THROW(channelWeights(ChannelLayout::fromConvention(6), false, "x"), InputError);
}

// 7.1: the same tone in the side pair reads 10·log10(1.41) = 1.49 dB louder than in the back pair.
TEST(Loudness, SidesWeighMoreThanBacksInSevenOne) {
    const auto tone = test::sine(1000, 0.1, 48000, 480000);
    const std::vector<float> none(tone.size(), 0.0f);
    const ChannelLayout l71 = parseChannelLayout("7.1");
    const auto backs = measure({none, none, none, none, tone, tone, none, none}, 48000, l71);
    const auto sides = measure({none, none, none, none, none, none, tone, tone}, 48000, l71);
    EXPECT_NEAR(*sides.integratedLufs - *backs.integratedLufs, 10 * std::log10(1.41), 1e-9);
}

// The LFE is excluded wherever the mask puts it (index 3 in 5.1, index 2 in 2.1).
TEST(Loudness, LfeIsExcludedWhereverItSits) {
    const auto tone = test::sine(60, 0.9, 48000, 480000);
    const std::vector<float> none(tone.size(), 0.0f);
    EXPECT_FALSE(
        measure({none, none, none, tone, none, none}, 48000, parseChannelLayout("5.1")).integratedLufs);
    test::TempDir dir;
    SF_INFO info{};
    info.channels = 3;
    info.samplerate = 48000;
    info.format = SF_FORMAT_WAVEX | SF_FORMAT_FLOAT;
    SNDFILE* f = sf_open((dir / "21.wav").c_str(), SFM_WRITE, &info);
    int map[3] = {SF_CHANNEL_MAP_LEFT, SF_CHANNEL_MAP_RIGHT, SF_CHANNEL_MAP_LFE};
    sf_command(f, SFC_SET_CHANNEL_MAP_INFO, map, sizeof map);
    std::vector<float> inter;
    for (float v : tone) {
        inter.insert(inter.end(), {0.0f, 0.0f, v});
    }
    sf_writef_float(f, inter.data(), static_cast<sf_count_t>(tone.size()));
    sf_close(f);
    auto cpu = makeCpuBackend();
    const auto r = measureLoudness(dir / "21.wav", LoudnessOptions{}, *cpu);
    EXPECT_EQ(r.channelWeights, (std::vector<double>{1, 1, 0}));
    EXPECT_FALSE(r.integratedLufs);
    EXPECT_TRUE(r.truePeakDbtp); // peaks still count every channel
}

TEST(Loudness, MultichannelWithoutLayoutIsRefusedUntilStated) {
    test::TempDir dir;
    test::writeRawFloat(dir / "six.wav", Planar(6, test::sine(1000, 0.1, 48000, 48000)), 48000,
                        SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto cpu = makeCpuBackend();
    try {
        measureLoudness(dir / "six.wav", LoudnessOptions{}, *cpu);
        FAIL() << "measured an unknown layout";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("--layout"), std::string::npos) << e.what();
    }
    LoudnessOptions o;
    o.reader.layout = parseChannelLayout("5.1");
    EXPECT_TRUE(measureLoudness(dir / "six.wav", o, *cpu).integratedLufs);
}

TEST(Loudness, NonFiniteSamplesAreNamed) {
    Planar x = stereoSegments({{5, -20}}, 48000);
    x[1][123456] = NAN;
    try {
        measureStereo(x);
        FAIL() << "NaN measured";
    } catch (const AudioContentError& e) {
        EXPECT_EQ(e.channel(), 1);
        EXPECT_EQ(e.frame(), 123456);
    }
}

// Independent chunks with warm-up equal one pass; thread count changes nothing.
TEST(Loudness, ChunksAndThreadsDoNotChangeTheResult) {
    Planar x = stereoSegments({{7.3, -30}, {11.1, -18}, {4.2, -45}, {9.9, -22}}, 48000);
    const auto n = test::noise(static_cast<Frames>(x[0].size()), 0.05, 3);
    for (std::size_t i = 0; i < n.size(); ++i) {
        x[0][i] += n[i];
    }
    LoudnessOptions single;
    single.chunkSteps = 1000000; // one chunk: one pass from the start
    single.threads = 1;
    const auto ref = measureStereo(x, 48000, single);
    for (Frames steps : {1, 3, 100}) {
        for (unsigned threads : {1u, 2u, 4u}) {
            LoudnessOptions o;
            o.chunkSteps = steps;
            o.threads = threads;
            const auto r = measureStereo(x, 48000, o);
            const std::string what =
                "chunk steps " + std::to_string(steps) + " threads " + std::to_string(threads);
            EXPECT_NEAR(*r.integratedLufs, *ref.integratedLufs, test::kChunkIndependenceLu) << what;
            EXPECT_NEAR(*r.lraLu, *ref.lraLu, test::kChunkIndependenceLu) << what;
            EXPECT_NEAR(r.maxMomentaryLufs->value, ref.maxMomentaryLufs->value, test::kChunkIndependenceLu)
                << what;
            EXPECT_NEAR(r.maxShortTermLufs->value, ref.maxShortTermLufs->value, test::kChunkIndependenceLu)
                << what;
            EXPECT_EQ(r.maxMomentaryLufs->atSeconds, ref.maxMomentaryLufs->atSeconds) << what;
            EXPECT_EQ(r.truePeakDbtp->value, ref.truePeakDbtp->value) << what; // peaks need no warm-up: exact
            EXPECT_EQ(r.truePeakDbtp->atSeconds, ref.truePeakDbtp->atSeconds) << what;
            ASSERT_EQ(r.history.momentaryLufs.size(), ref.history.momentaryLufs.size());
        }
    }
}

/// A computed source (no file behind it, as the targeting's trial limiter), noting which threads
/// read it.
class ThreadNotingSource final : public AudioSource {
public:
    ThreadNotingSource(Planar x, SampleRate fs) : m_inner(std::move(x), fs) {}
    std::string sourceName() const override { return m_inner.sourceName(); }
    SampleRate sampleRate() const override { return m_inner.sampleRate(); }
    int channelCount() const override { return m_inner.channelCount(); }
    ChannelLayout channelLayout() const override { return m_inner.channelLayout(); }
    Frames totalFrames() const override { return m_inner.totalFrames(); }
    int integerBits() const override { return m_inner.integerBits(); }
    Frames read(AudioBuffer& dst, Frames maxFrames) override {
        m_threads.insert(std::this_thread::get_id()); // one reader at a time
        return m_inner.read(dst, maxFrames);
    }
    const std::set<std::thread::id>& threads() const { return m_threads; }

private:
    test::MemorySource m_inner;
    std::set<std::thread::id> m_threads;
};

// A budget of one thread (a batch job's) is one thread of computation: every chunk is measured,
// and a computed source is read, on the caller's thread — and the figures are those of a wider
// budget, bit for bit.
TEST(Loudness, AOneThreadBudgetComputesOnTheCallingThread) {
    const Planar x = {test::noise(25 * 48000, 0.3, 5), test::noise(25 * 48000, 0.2, 6)}; // 3 chunks
    LoudnessResult results[2];
    for (unsigned threads : {1u, 4u}) {
        test::ThreadNotingBackend backend;
        ThreadNotingSource source(x, 48000);
        LoudnessOptions o;
        o.threads = threads;
        results[threads == 1 ? 0 : 1] = measureLoudness(source, o, backend);
        if (threads == 1) {
            EXPECT_EQ(backend.loudnessThreads(), std::set{std::this_thread::get_id()});
            EXPECT_EQ(source.threads(), std::set{std::this_thread::get_id()});
        } else {
            EXPECT_FALSE(backend.loudnessThreads().contains(std::this_thread::get_id()))
                << "chunks measured beside the reading";
        }
    }
    ASSERT_TRUE(results[0].integratedLufs && results[1].integratedLufs);
    EXPECT_EQ(*results[0].integratedLufs, *results[1].integratedLufs);
    EXPECT_EQ(results[0].lraLu, results[1].lraLu);
    EXPECT_EQ(results[0].truePeakDbtp->value, results[1].truePeakDbtp->value);
}

// The same programme read at every supported rate is within 0.1 LU of its 48 kHz reading
// (content below 3.6 kHz so that it exists at 8 kHz too).
TEST(Loudness, EveryRateReadsLikeFortyEightKilohertz) {
    const SampleRate base = 48000;
    std::vector<float> x(static_cast<std::size_t>(20 * base), 0.0f);
    const double tones[][2] = {{50, 0.2}, {220, 0.15}, {1000, 0.1}, {2500, 0.08}, {3400, 0.05}};
    for (const auto& t : tones) {
        const auto s = test::sine(t[0], t[1], base, static_cast<Frames>(x.size()));
        for (std::size_t i = 0; i < x.size(); ++i) {
            x[i] += s[i];
        }
    }
    const auto ref = measureStereo({x, x}, base);
    for (SampleRate fs : {8000, 11025, 16000, 22050, 32000, 44100, 88200, 96000, 176400, 192000, 384000}) {
        const std::vector<float> y = test::resampleOffline(x, base, fs);
        const auto r = measureStereo({y, y}, fs);
        EXPECT_NEAR(*r.integratedLufs, *ref.integratedLufs, test::kRateIndependenceLu) << fs << " Hz";
    }
}

TEST(Loudness, HistoryAndHistogramShape) {
    const auto r = measureStereo(stereoSegments({{5.05, -20}}, 48000));
    ASSERT_EQ(r.history.truePeakDbtp.size(), 51u); // 50 full steps and a partial one
    EXPECT_TRUE(std::isnan(r.history.momentaryLufs[2]));
    EXPECT_NEAR(r.history.momentaryLufs[3], -20.0, test::kEbuLoudnessLu); // 400 ms reached
    EXPECT_TRUE(std::isnan(r.history.shortTermLufs[28]));
    EXPECT_NEAR(r.history.shortTermLufs[29], -20.0, test::kEbuLoudnessLu); // 3 s reached
    EXPECT_TRUE(std::isnan(r.history.momentaryLufs[50])); // the partial step has no complete window
    std::int64_t counted = 0;
    for (auto c : r.histogram.shortTermCounts) {
        counted += c;
    }
    EXPECT_EQ(counted, 21);                         // short-term values at 3.0, 3.1, … 5.0 s
    EXPECT_EQ(r.histogram.shortTermCounts[50], 21); // all in the −20 LUFS bin
}

// Album loudness gates the blocks of all files together: 10 s at −20 and 10 s at −30 LUFS give
// 10·log10((10^−2 + 10^−3)/2) = −22.596 LUFS, not the mean of −20 and −30.
TEST(Loudness, AlbumGatesAllBlocksTogether) {
    const std::vector<LoudnessResult> r{measureStereo(stereoSegments({{10, -20}}, 48000)),
                                        measureStereo(stereoSegments({{10, -30}}, 48000))};
    const AlbumLoudness a = albumLoudness(r);
    ASSERT_TRUE(a.integratedLufs);
    const double expected = 10 * std::log10((std::pow(10.0, -20.0 / 10) + std::pow(10.0, -30.0 / 10)) / 2);
    EXPECT_NEAR(*a.integratedLufs, expected + (*r[0].integratedLufs + 20.0), 0.01);
    EXPECT_FALSE(
        albumLoudness(std::vector<LoudnessResult>{measureStereo(Planar(2, std::vector<float>(48000, 0.0f)))})
            .integratedLufs);
}

} // namespace
} // namespace lathe

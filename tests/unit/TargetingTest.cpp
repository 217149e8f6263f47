// SPDX-License-Identifier: GPL-3.0-or-later
// Loudness targeting (issue 7): programmes from −30 to −8 LUFS mastered to −14 LUFS land within
// ±0.1 LU with the true peak under the ceiling (independent ×16 reference); silence is refused; a
// target that needs more than 20 dB of gain is reached with a warning.
#include "../../host/src/chain/HeldAudio.h"
#include "TestFiles.h"
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Error.h>
#include <lathe/Loudness.h>
#include <lathe/Master.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace lathe {
namespace {

using test::Planar;
constexpr SampleRate kFs = 48000;

/// 4 s of stereo programme: noise with a slow level pattern plus a tone, scaled to about `lufs`.
Planar programme(double lufs, std::uint64_t seed) {
    const Frames n = 4 * kFs;
    Planar x = {test::noise(n, 1.0, seed), test::noise(n, 1.0, seed + 1)};
    const auto tone = test::sine(220.0, 1.0, kFs, n);
    const double scale = std::pow(10.0, (lufs + 1.5) / 20.0); // uniform noise: rms = peak/√3
    for (auto& ch : x) {
        for (Frames i = 0; i < n; ++i) {
            const double env = (i / (kFs / 2)) % 3 == 2 ? 0.3 : 1.0;
            ch[static_cast<std::size_t>(i)] = static_cast<float>(
                scale * env *
                (0.9 * ch[static_cast<std::size_t>(i)] + 0.6 * tone[static_cast<std::size_t>(i)]));
        }
    }
    return x;
}

MasterSettings limiterOnly(double lufs) {
    PresetDocument doc{nlohmann::json::parse(R"({"schema": "lathe.preset/1", "name": "t", "stages": [
                                                  {"type": "limiter", "ceiling_dbtp": -1}]})"),
                       "test", "."};
    MasterSettings s;
    s.preset = parsePreset(doc);
    LoudnessTarget t;
    t.lufs = lufs;
    t.ceilingDbtp = -1.0;
    s.target = t;
    s.format = SampleFormat::Float32;
    return s;
}

TEST(Targeting, TenProgrammesLandOnTarget) {
    test::TempDir dir;
    auto backend = makeCpuBackend();
    for (int i = 0; i < 10; ++i) {
        const double level = -30.0 + 22.0 * i / 9.0;
        const auto in = dir.path() / ("in" + std::to_string(i) + ".wav");
        const auto out = dir.path() / ("out" + std::to_string(i) + ".wav");
        test::writeRawFloat(in, programme(level, 10 + static_cast<std::uint64_t>(i)), kFs,
                            SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        TargetingReport t;
        const RenderReport r = masterFile(in, out, limiterOnly(-14.0), *backend, {}, &t);
        ASSERT_TRUE(t.reached) << "programme at about " << level << " LUFS: " << t.note;
        const LoudnessResult m = measureLoudness(out, LoudnessOptions{}, *backend);
        ASSERT_TRUE(m.integratedLufs);
        EXPECT_NEAR(*m.integratedLufs, -14.0, kTargetToleranceLu) << level;
        EXPECT_LE(test::referenceTruePeakDb(test::readRawFloat(out)), -1.0 + 0.01) << level;
        EXPECT_LE(t.passes.size(), static_cast<std::size_t>(kTargetMaxPasses));
        // The trial ran at the drive that reaches the target without limiting (closed form from
        // the pre-limiter measurement), and the first pass added the loudness it lost.
        ASSERT_TRUE(t.trial.has_value());
        ASSERT_TRUE(t.preLimiterLufs.has_value());
        EXPECT_DOUBLE_EQ(t.trial->inputGainDb, -14.0 - *t.preLimiterLufs);
        EXPECT_DOUBLE_EQ(t.passes.front().inputGainDb, t.trial->inputGainDb + (-14.0 - t.trial->lufs));
        // The report's true peak (the limiter's ×16 verification) agrees with the file's.
        ASSERT_TRUE(t.passes.back().truePeakDbtp.has_value());
        ASSERT_TRUE(m.truePeakDbtp.has_value());
        EXPECT_NEAR(*t.passes.back().truePeakDbtp, m.truePeakDbtp->value, test::kTruePeakVsReferenceDb);
        EXPECT_EQ(r.source, in.string());
    }
}

TEST(Targeting, SilenceIsRefusedAndLargeGainsWarn) {
    test::TempDir dir;
    auto backend = makeCpuBackend();
    test::writeRawFloat(dir.path() / "silence.wav", Planar(2, std::vector<float>(kFs * 2, 0.0f)), kFs,
                        SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    try {
        masterFile(dir.path() / "silence.wav", dir.path() / "s.wav", limiterOnly(-14.0), *backend);
        ADD_FAILURE() << "no error";
    } catch (const AudioContentError& e) {
        EXPECT_NE(std::string(e.what()).find("cannot reach a loudness target"), std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "s.wav"));
    test::writeRawFloat(dir.path() / "quiet.wav", programme(-40.0, 3), kFs, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    TargetingReport t;
    const RenderReport r =
        masterFile(dir.path() / "quiet.wav", dir.path() / "q.wav", limiterOnly(-14.0), *backend, {}, &t);
    EXPECT_TRUE(t.reached);
    EXPECT_NE(t.note.find("dB of gain"), std::string::npos) << t.note;
    ASSERT_FALSE(r.warnings.empty());
    // Nothing left behind but the output (the pre-limiter intermediate is removed).
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        files += e.path().filename().string().find("prelimiter") != std::string::npos ? 1 : 0;
    }
    EXPECT_EQ(files, 0u);
}

// With 4 threads or more the targeting measures each file as it is written (a meter beside the
// render), with fewer it reads the file back afterwards: the same output, bit for bit, and the
// same figures — each pass's loudness also equal to the finished file's own measurement.
TEST(Targeting, MeasuringAsItWritesEqualsReadingBack) {
    test::TempDir dir;
    const auto in = dir.path() / "in.wav";
    test::writeRawFloat(in, programme(-22.0, 5), kFs, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto backend = makeCpuBackend();
    std::vector<TargetingReport> reports;
    for (const unsigned threads : {1u, 4u}) {
        MasterSettings s = limiterOnly(-14.0);
        s.format = SampleFormat::Pcm24; // dithered: what the meter sees is the file's codes
        s.threads = threads;
        TargetingReport t;
        masterFile(in, dir.path() / ("out" + std::to_string(threads) + ".wav"), s, *backend, {}, &t);
        ASSERT_TRUE(t.reached);
        ASSERT_TRUE(t.passes.back().lufs.has_value());
        LoudnessOptions o;
        o.threads = threads;
        const LoudnessResult file =
            measureLoudness(dir.path() / ("out" + std::to_string(threads) + ".wav"), o, *backend);
        EXPECT_EQ(*t.passes.back().lufs, *file.integratedLufs) << threads << " threads";
        reports.push_back(t);
    }
    EXPECT_EQ(test::readBytes(dir.path() / "out1.wav"), test::readBytes(dir.path() / "out4.wav"));
    EXPECT_EQ(*reports[0].preLimiterLufs, *reports[1].preLimiterLufs);
    ASSERT_TRUE(reports[0].trial && reports[1].trial);
    EXPECT_EQ(reports[0].trial->lufs, reports[1].trial->lufs);
    ASSERT_EQ(reports[0].passes.size(), reports[1].passes.size());
    for (std::size_t k = 0; k < reports[0].passes.size(); ++k) {
        EXPECT_EQ(reports[0].passes[k].inputGainDb, reports[1].passes[k].inputGainDb) << k;
        EXPECT_EQ(*reports[0].passes[k].lufs, *reports[1].passes[k].lufs) << k;
        EXPECT_EQ(reports[0].passes[k].truePeakDbtp, reports[1].passes[k].truePeakDbtp) << k;
    }
}

// The intermediate (the chain before the limiter) held in memory when the programme fits the
// budget and the master has 4 threads or more, or in a temporary float file: the same master to
// the bit and the same figures, through an EQ and a reverb whose tail comes on top, in stereo and
// 5.1, at the input's rate and converted. The budget decides at the programme's exact size: its
// float samples at the output rate.
TEST(Targeting, AnIntermediateInMemoryEqualsOneInAFile) {
    test::TempDir dir;
    auto backend = makeCpuBackend();
    const Planar stereo = programme(-20.0, 21);
    Planar surround = stereo;
    for (int c = 0; c < 4; ++c) {
        surround.push_back(programme(-26.0, 30 + static_cast<std::uint64_t>(c))[0]);
    }
    test::writeRawFloat(dir.path() / "stereo.wav", stereo, kFs, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    test::writeRawFloat(dir.path() / "surround.wav", surround, kFs, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    for (const char* name : {"stereo", "surround"}) {
        for (const std::optional<SampleRate> rate :
             {std::optional<SampleRate>{}, std::optional<SampleRate>{44100}}) {
            for (const unsigned threads : {3u, 4u}) {
                const std::string what = std::string(name) + (rate ? " at 44.1 kHz, " : ", ") +
                                         std::to_string(threads) + " thread(s)";
                SCOPED_TRACE(what);
                MasterSettings s = limiterOnly(-14.0);
                s.preset = parsePreset(loadPresetDocument("glue-room")); // EQ, reverb; no limiter
                s.format = SampleFormat::Pcm24;
                s.sampleRate = rate;
                s.threads = threads;
                const auto in = dir.path() / (std::string(name) + ".wav");
                const int channels = std::string(name) == "stereo" ? 2 : 6;
                if (channels == 6) {
                    s.reader.layout = parseChannelLayout("5.1"); // the test file carries no mask
                }
                const std::uint64_t exact =
                    detail::floatBytes(convertedFrames(4 * kFs, kFs, rate.value_or(kFs)), channels);
                std::vector<TargetingReport> reports;
                std::vector<std::vector<std::uint8_t>> outputs;
                for (const std::uint64_t budget : {exact, exact - 1}) {
                    s.intermediateMemoryBytes = budget;
                    TargetingReport t;
                    const auto out = dir.path() / "out.wav";
                    masterFile(in, out, s, *backend, {}, &t);
                    ASSERT_TRUE(t.reached) << t.note;
                    EXPECT_EQ(t.intermediateInMemory, threads >= 4 && budget == exact);
                    EXPECT_GT(t.intermediateBytes, exact); // the reverb's tail on top
                    reports.push_back(t);
                    outputs.push_back(test::readBytes(out));
                }
                EXPECT_EQ(outputs[0], outputs[1]);
                EXPECT_EQ(reports[0].intermediateBytes, reports[1].intermediateBytes);
                EXPECT_EQ(*reports[0].preLimiterLufs, *reports[1].preLimiterLufs);
                ASSERT_TRUE(reports[0].trial && reports[1].trial);
                EXPECT_EQ(reports[0].trial->lufs, reports[1].trial->lufs);
                ASSERT_EQ(reports[0].passes.size(), reports[1].passes.size());
                for (std::size_t k = 0; k < reports[0].passes.size(); ++k) {
                    EXPECT_EQ(*reports[0].passes[k].lufs, *reports[1].passes[k].lufs) << k;
                    EXPECT_EQ(reports[0].passes[k].truePeakDbtp, reports[1].passes[k].truePeakDbtp) << k;
                }
                // Nothing left beside the output either way.
                auto entries = dir.entries();
                std::sort(entries.begin(), entries.end());
                EXPECT_EQ(entries, (std::vector<std::string>{"out.wav", "stereo.wav", "surround.wav"}));
            }
        }
    }
}

// Cancellation at every point a targeted master checks for it (every block of every phase: the
// pre-limiter render, its measurement, the trial, the passes and their measurements): each one
// ends in CancelledError with the old output intact and no file of ours left in the folder,
// whether the intermediate is held in memory or in a file.
TEST(Targeting, CancellingAtAnyPointLeavesNothingBehind) {
    test::TempDir dir;
    const auto in = dir.path() / "in.wav";
    test::writeRawFloat(in, programme(-20.0, 7), kFs, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto backend = makeCpuBackend();
    for (const auto& [threads, inMemory] :
         {std::pair{1u, false}, std::pair{4u, false}, std::pair{4u, true}}) { // read back, and tapped
        SCOPED_TRACE(std::to_string(threads) + " threads, intermediate " +
                     (inMemory ? "in memory" : "in a file"));
        MasterSettings s = limiterOnly(-14.0);
        s.threads = threads;
        if (!inMemory) {
            s.intermediateMemoryBytes = 0;
        }
        // How many progress calls a whole master makes.
        int total = 0;
        JobControl counting;
        counting.progress = [&](const Progress&) { ++total; };
        TargetingReport whole;
        masterFile(in, dir.path() / "full.wav", s, *backend, counting, &whole);
        ASSERT_EQ(whole.intermediateInMemory, inMemory);
        ASSERT_GT(total, 5);
        RecordProperty("progress_calls", total);
        for (int at = 1; at <= total; ++at) {
            const auto out = dir.path() / "out.wav";
            test::writeBytes(out, {'o', 'l', 'd'});
            CancelToken token;
            int calls = 0;
            JobControl control;
            control.cancel = &token;
            control.progress = [&](const Progress&) {
                if (++calls == at) {
                    token.cancel();
                }
            };
            EXPECT_THROW(masterFile(in, out, s, *backend, control), CancelledError)
                << "cancelled at call " << at;
            EXPECT_EQ(test::readBytes(out), (std::vector<std::uint8_t>{'o', 'l', 'd'})) << at;
            auto entries = dir.entries();
            std::sort(entries.begin(), entries.end());
            EXPECT_EQ(entries, (std::vector<std::string>{"full.wav", "in.wav", "out.wav"}))
                << "cancelled at call " << at;
        }
    }
}

} // namespace
} // namespace lathe

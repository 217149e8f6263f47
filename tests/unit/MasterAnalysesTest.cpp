// SPDX-License-Identifier: GPL-3.0-or-later
// The analyses beside a master (`lathe master --html`): taken as the master reads its input and
// writes its output (4 threads or more), or by reading both files after it (fewer), they are the
// analyses of the two files as `lathe analyze` makes them — analyzeFile of the input and of the
// delivered output is the reference, every figure compared through the JSON report (17 digits:
// equal JSON is equal doubles).
#include "TestFiles.h"
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Error.h>
#include <lathe/JsonReport.h>
#include <lathe/Master.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>

namespace lathe {
namespace {

using test::Planar;
constexpr SampleRate kFs = 48000;

/// 5 s of stereo: noise and a tone at about −20 LUFS, a quiet second, one channel clipped for a
/// moment (findings to compare).
Planar mix() {
    const Frames n = 5 * kFs;
    Planar x = {test::noise(n, 1.0, 41), test::noise(n, 1.0, 42)};
    const auto tone = test::sine(330.0, 1.0, kFs, n);
    for (auto& ch : x) {
        for (Frames i = 0; i < n; ++i) {
            const double env = i / kFs == 3 ? 0.05 : 1.0;
            const auto k = static_cast<std::size_t>(i);
            ch[k] = static_cast<float>(0.12 * env * (ch[k] + 2.0 * tone[k]));
        }
    }
    for (Frames i = kFs; i < kFs + 40; ++i) {
        x[0][static_cast<std::size_t>(i)] = 1.0f;
    }
    return x;
}

MasterSettings settingsFrom(const char* stages, unsigned threads) {
    PresetDocument doc{
        nlohmann::json::parse(std::string(R"({"schema": "lathe.preset/1", "name": "t", "stages": )") +
                              stages + "}"),
        "test", "."};
    MasterSettings s;
    s.preset = parsePreset(doc);
    s.threads = threads;
    return s;
}

/// Every figure of an analysis but the time it took.
nlohmann::json figures(const AnalysisResult& a) {
    nlohmann::json j = toJson(a, true);
    j.erase("analysis_seconds");
    j["frames_in_file"] = a.file.frames;
    j["rate_of_file"] = a.file.sampleRate;
    j["path_of_file"] = a.file.path.string();
    return j;
}

struct Case {
    const char* what;
    const char* stages;
    bool target;
    std::optional<SampleRate> rate;
    unsigned threads;
};

TEST(MasterAnalyses, EqualAnalysingTheMixAndTheMasterFiles) {
    test::TempDir dir;
    const auto in = dir.path() / "mix.wav";
    test::writeRawFloat(in, mix(), kFs, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    auto backend = makeCpuBackend();
    const char* eqLimiter = R"([{"type": "eq", "bands": [{"type": "bell", "hz": 1000, "gain_db": 2, "q": 1}]},
                                {"type": "limiter", "ceiling_dbtp": -1}])";
    // A stage after the limiter: no trial, so the first pass misses the target and a second one is
    // kept — the analysis must be the kept pass's.
    const char* limiterEq = R"([{"type": "limiter", "ceiling_dbtp": -1},
                                {"type": "eq", "bands": [{"type": "bell", "hz": 1000, "gain_db": 2, "q": 1}]}])";
    for (const Case& c :
         {Case{"targeted, 4 threads", eqLimiter, true, std::nullopt, 4},
          Case{"targeted, 2 threads (read back)", eqLimiter, true, std::nullopt, 2},
          Case{"targeted, a stage after the limiter, 4 threads", limiterEq, true, std::nullopt, 4},
          Case{"no target, converted to 44.1 kHz, 4 threads", eqLimiter, false, 44100, 4},
          Case{"no target, 1 thread", eqLimiter, false, std::nullopt, 1}}) {
        SCOPED_TRACE(c.what);
        MasterSettings s = settingsFrom(c.stages, c.threads);
        if (c.target) {
            s.target = LoudnessTarget{-14.0, -1.0, "-14"};
        }
        s.sampleRate = c.rate;
        const auto out = dir.path() / "master.wav";
        MasterAnalyses got;
        TargetingReport t;
        masterFile(in, out, s, *backend, {}, &t, &got);
        EXPECT_EQ(got.tapped, c.threads >= kAnalysisTapMinThreads);
        if (c.target) {
            ASSERT_TRUE(t.reached) << t.note;
            if (c.stages == limiterEq) {
                EXPECT_GE(t.passes.size(), 2u) << "the case meant to keep a later pass kept the first";
            }
        }
        const AnalysisResult before = analyzeFile(in, got.options, *backend);
        const AnalysisResult after = analyzeFile(out, got.options, *backend);
        ASSERT_FALSE(before.findings.empty()); // the clipped moment, at least
        EXPECT_EQ(figures(got.before), figures(before));
        EXPECT_EQ(figures(got.after), figures(after));
        EXPECT_EQ(got.after.file.sampleRate, c.rate.value_or(kFs));
    }
    // The output's alone (Lathe Studio has the input's on screen already), either way.
    for (const unsigned threads : {2u, 4u}) {
        MasterSettings s = settingsFrom(eqLimiter, threads);
        s.target = LoudnessTarget{-14.0, -1.0, "-14"};
        const auto out = dir.path() / "alone.wav";
        MasterAnalyses got;
        got.withInput = false;
        masterFile(in, out, s, *backend, {}, nullptr, &got);
        EXPECT_TRUE(got.before.file.path.empty()) << threads;
        EXPECT_EQ(got.before.loudness.frames, 0) << threads;
        EXPECT_EQ(figures(got.after), figures(analyzeFile(out, got.options, *backend))) << threads;
    }
}

// A master that fails stops its analyses and leaves nothing behind, whether they were taken
// while rendering or not; one cancelled mid-way likewise.
TEST(MasterAnalyses, AFailedMasterStopsThem) {
    test::TempDir dir;
    const auto in = dir.path() / "mix.wav";
    test::writeRawFloat(in, mix(), kFs, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    auto backend = makeCpuBackend();
    for (const unsigned threads : {2u, 4u}) {
        SCOPED_TRACE(std::to_string(threads) + " threads");
        MasterSettings s = settingsFrom(R"([{"type": "limiter", "ceiling_dbtp": -1}])", threads);
        s.target = LoudnessTarget{-14.0, -1.0, "-14"};
        // The disk fills: in the intermediate's file with 2 threads, in the first pass with 4 (the
        // intermediate is then held in memory).
        s.faults.failAfterBytes = 300'000;
        MasterAnalyses a;
        EXPECT_THROW(masterFile(in, dir.path() / "master.wav", s, *backend, {}, nullptr, &a), OutputError);
        s.faults = {};
        CancelToken token;
        JobControl control;
        control.cancel = &token;
        int calls = 0;
        control.progress = [&](const Progress&) {
            if (++calls == 3) {
                token.cancel();
            }
        };
        EXPECT_THROW(masterFile(in, dir.path() / "master.wav", s, *backend, control, nullptr, &a),
                     CancelledError);
        EXPECT_EQ(dir.entries(), std::vector<std::string>{"mix.wav"});
    }
}

// From 4 threads a targeted pass's check reads the loudness of the output's analysis instead of
// a meter of its own — only when that analysis measures what the meter would. An analysis that
// counts a mono file twice (dual mono, +3.01 dB) must not steer the targeting: the master still
// reaches the target as BS.1770 reads the file, and its analysis still counts it twice.
TEST(MasterAnalyses, TheTargetingReadsTheAnalysisOnlyWhenItMeasuresTheSame) {
    test::TempDir dir;
    const auto in = dir.path() / "mono.wav";
    test::writeRawFloat(in, {mix()[0]}, kFs, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    auto backend = makeCpuBackend();
    for (const bool dualMono : {false, true}) {
        SCOPED_TRACE(dualMono ? "dual mono" : "mono");
        MasterSettings s = settingsFrom(R"([{"type": "limiter", "ceiling_dbtp": -1}])", 4);
        s.target = LoudnessTarget{-10.0, -1.0, "-10"};
        const auto out = dir.path() / "master.wav";
        MasterAnalyses got;
        got.options.loudness.dualMono = dualMono;
        TargetingReport t;
        masterFile(in, out, s, *backend, {}, &t, &got);
        ASSERT_TRUE(got.tapped);
        ASSERT_TRUE(t.reached) << t.note;
        AudioReader reader(out);
        const LoudnessResult file = measureLoudness(reader, LoudnessOptions{}, *backend);
        ASSERT_TRUE(file.integratedLufs && got.after.loudness.integratedLufs && t.passes.back().lufs);
        EXPECT_EQ(*t.passes.back().lufs, *file.integratedLufs); // the kept pass's check: the file's
        EXPECT_NEAR(*file.integratedLufs, -10.0, kTargetToleranceLu);
        EXPECT_NEAR(*got.after.loudness.integratedLufs - *file.integratedLufs,
                    dualMono ? 10.0 * std::log10(2.0) : 0.0, test::kDualMonoOffsetLu);
    }
}

} // namespace
} // namespace lathe

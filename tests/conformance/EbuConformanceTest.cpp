// SPDX-License-Identifier: GPL-3.0-or-later
// EBU Tech 3341 (cases 1–6, 9–23) and Tech 3342 (cases 1–4), synthesised, at 44.1, 48, 96 and
// 192 kHz; each within the published tolerance.
#include "EbuSignals.h"
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Loudness.h>

#include <gtest/gtest.h>

#include <cmath>

namespace lathe {
namespace {

using test::Planar;
using test::ebu::Segment;
using test::ebu::stereoSegments;

constexpr double kSilence = -999.0;

LoudnessResult measure(const Planar& audio, SampleRate fs, const ChannelLayout* layout = nullptr) {
    test::MemorySource src(audio, fs,
                           layout ? *layout : ChannelLayout::fromConvention(static_cast<int>(audio.size())));
    auto cpu = makeCpuBackend();
    return measureLoudness(src, LoudnessOptions{}, *cpu);
}

class Ebu : public ::testing::TestWithParam<SampleRate> {
protected:
    SampleRate fs() const { return GetParam(); }
};

// Cases 1 and 2: a stereo 1 kHz sine at −23 / −33 dBFS for 20 s reads M, S, I = −23 / −33.
TEST_P(Ebu, Tech3341Cases1And2) {
    for (double level : {-23.0, -33.0}) {
        const auto r = measure(stereoSegments({{20, level}}, fs()), fs());
        ASSERT_TRUE(r.integratedLufs);
        EXPECT_NEAR(*r.integratedLufs, level, test::kEbuLoudnessLu) << level;
        EXPECT_NEAR(r.maxMomentaryLufs->value, level, test::kEbuLoudnessLu);
        EXPECT_NEAR(r.maxShortTermLufs->value, level, test::kEbuLoudnessLu);
        for (std::size_t i = 30; i < r.history.shortTermLufs.size(); ++i) {
            ASSERT_NEAR(r.history.momentaryLufs[i], level, test::kEbuLoudnessLu) << i;
            ASSERT_NEAR(r.history.shortTermLufs[i], level, test::kEbuLoudnessLu) << i;
        }
    }
}

// Cases 3–5: gating.
TEST_P(Ebu, Tech3341Cases3To5Gating) {
    const std::vector<std::vector<Segment>> cases{
        {{10, -36}, {60, -23}, {10, -36}},
        {{10, -72}, {10, -36}, {60, -23}, {10, -36}, {10, -72}},
        {{20, -26}, {20.1, -20}, {20, -26}},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto r = measure(stereoSegments(cases[i], fs()), fs());
        ASSERT_TRUE(r.integratedLufs);
        EXPECT_NEAR(*r.integratedLufs, -23.0, test::kEbuLoudnessLu) << "case " << i + 3;
    }
}

// Case 6: 5.0 with surround weights 1.41.
TEST_P(Ebu, Tech3341Case6FiveChannels) {
    const ChannelLayout layout = parseChannelLayout("5.0");
    const auto r = measure(test::ebu::fiveChannelCase6(fs()), fs(), &layout);
    ASSERT_TRUE(r.integratedLufs);
    EXPECT_NEAR(*r.integratedLufs, -23.0, test::kEbuLoudnessLu);
}

// Case 9: (1.34 s at −20, 1.66 s at −30) ×5: short-term −23 and constant after 3 s.
TEST_P(Ebu, Tech3341Case9ShortTermIsConstant) {
    std::vector<Segment> s;
    for (int i = 0; i < 5; ++i) {
        s.push_back({1.34, -20});
        s.push_back({1.66, -30});
    }
    const auto r = measure(stereoSegments(s, fs()), fs());
    for (std::size_t i = 29; i < r.history.shortTermLufs.size(); ++i) {
        ASSERT_NEAR(r.history.shortTermLufs[i], -23.0, test::kEbuLoudnessLu) << "at step " << i + 1;
    }
}

// Case 10 (file-based): 20 files [i·0.15 s silence; 3 s at −23; 1 s silence]: max S = −23.
TEST_P(Ebu, Tech3341Case10MaxShortTerm) {
    for (int i = 0; i < 20; ++i) {
        const auto r = measure(stereoSegments({{0.15 * i, kSilence}, {3, -23}, {1, kSilence}}, fs()), fs());
        ASSERT_TRUE(r.maxShortTermLufs) << i;
        EXPECT_NEAR(r.maxShortTermLufs->value, -23.0, test::kEbuLoudnessLu) << "file " << i;
    }
}

// Case 11 (live): 20 × [i·0.15 s silence; 3 s at (−38+i); (3 − 0.15i) s silence] in one
// programme; the maximum short-term loudness of each group is −38+i. Each group is measured on
// its own (max S per segment).
TEST_P(Ebu, Tech3341Case11MaxShortTermPerSegment) {
    for (int i = 0; i < 20; ++i) {
        const auto r = measure(
            stereoSegments({{0.15 * i, kSilence}, {3, -38.0 + i}, {3 - 0.15 * i, kSilence}}, fs()), fs());
        ASSERT_TRUE(r.maxShortTermLufs) << i;
        EXPECT_NEAR(r.maxShortTermLufs->value, -38.0 + i, test::kEbuLoudnessLu) << "group " << i;
    }
}

// Case 12: (0.18 s at −20, 0.22 s at −30) ×25: momentary −23 and constant after 1 s.
TEST_P(Ebu, Tech3341Case12MomentaryIsConstant) {
    std::vector<Segment> s;
    for (int i = 0; i < 25; ++i) {
        s.push_back({0.18, -20});
        s.push_back({0.22, -30});
    }
    const auto r = measure(stereoSegments(s, fs()), fs());
    for (std::size_t i = 9; i < r.history.momentaryLufs.size(); ++i) {
        ASSERT_NEAR(r.history.momentaryLufs[i], -23.0, test::kEbuLoudnessLu) << "at step " << i + 1;
    }
}

// Cases 13 and 14: max momentary of a 0.4 s burst after i·20 ms of silence (−23, and −38+i).
TEST_P(Ebu, Tech3341Cases13And14MaxMomentary) {
    for (int i = 0; i < 20; ++i) {
        const auto r13 = measure(stereoSegments({{0.02 * i, kSilence}, {0.4, -23}, {1, kSilence}}, fs()), fs());
        ASSERT_TRUE(r13.maxMomentaryLufs);
        EXPECT_NEAR(r13.maxMomentaryLufs->value, -23.0, test::kEbuLoudnessLu) << "case 13 file " << i;
        const auto r14 = measure(
            stereoSegments({{0.02 * i, kSilence}, {0.4, -38.0 + i}, {0.4 - 0.02 * i, kSilence}}, fs()), fs());
        ASSERT_TRUE(r14.maxMomentaryLufs);
        EXPECT_NEAR(r14.maxMomentaryLufs->value, -38.0 + i, test::kEbuLoudnessLu) << "case 14 group " << i;
    }
}

void expectTruePeak(const LoudnessResult& r, double expected, const std::string& what) {
    ASSERT_TRUE(r.truePeakDbtp) << what;
    EXPECT_LE(r.truePeakDbtp->value, expected + test::kEbuTruePeakAboveDb) << what;
    EXPECT_GE(r.truePeakDbtp->value, expected - test::kEbuTruePeakBelowDb) << what;
}

// Cases 15–19: sines at fs/4, fs/6, fs/8 whose sample peaks under-read the true peak.
TEST_P(Ebu, Tech3341Cases15To19TruePeak) {
    expectTruePeak(measure(test::ebu::truePeakSine(fs(), 4, 0.5, 0), fs()), -6.0, "case 15");
    expectTruePeak(measure(test::ebu::truePeakSine(fs(), 4, 0.5, 45), fs()), -6.0, "case 16");
    expectTruePeak(measure(test::ebu::truePeakSine(fs(), 6, 0.5, 60), fs()), -6.0, "case 17");
    expectTruePeak(measure(test::ebu::truePeakSine(fs(), 8, 0.5, 67.5), fs()), -6.0, "case 18");
    expectTruePeak(measure(test::ebu::truePeakSine(fs(), 4, 1.41, 45), fs()), 3.0, "case 19");
}

// Cases 20–23: one period of fs/4 at full scale inside an fs/6 sine, at four decimation offsets.
TEST_P(Ebu, Tech3341Cases20To23TruePeak) {
    for (int offset = 0; offset < 4; ++offset) {
        expectTruePeak(measure(test::ebu::truePeakBurst(fs(), offset), fs()), 0.0,
                       "case " + std::to_string(20 + offset));
    }
}

// Tech 3342 cases 1–4: loudness range of 20 s segments.
TEST_P(Ebu, Tech3342LoudnessRange) {
    const std::vector<std::pair<std::vector<Segment>, double>> cases{
        {{{20, -20}, {20, -30}}, 10.0},
        {{{20, -20}, {20, -15}}, 5.0},
        {{{20, -40}, {20, -20}}, 20.0},
        {{{20, -50}, {20, -35}, {20, -20}, {20, -35}, {20, -50}}, 15.0},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto r = measure(stereoSegments(cases[i].first, fs()), fs());
        ASSERT_TRUE(r.lraLu) << i;
        EXPECT_NEAR(*r.lraLu, cases[i].second, test::kEbuLraLu) << "case " << i + 1;
    }
}

// Calibration anchors: a stereo 1 kHz sine peaking at −18 dBFS reads −18.0 LUFS (Tech 3341 §2.9);
// a 0 dBFS 997 Hz sine in one of L, R, C reads −3.01 LKFS (BS.1770).
TEST_P(Ebu, CalibrationAnchors) {
    const auto r = measure(stereoSegments({{10, -18}}, fs()), fs());
    EXPECT_NEAR(*r.integratedLufs, -18.0, test::kEbuLoudnessLu);
    for (int ch = 0; ch < 3; ++ch) {
        Planar x(3, std::vector<float>(static_cast<std::size_t>(10 * fs()), 0.0f));
        x[static_cast<std::size_t>(ch)] = test::sine(997.0, 1.0, fs(), 10 * fs());
        const ChannelLayout layout = parseChannelLayout("3.0");
        const auto one = measure(x, fs(), &layout);
        EXPECT_NEAR(*one.integratedLufs, -3.01, test::kEbuLoudnessLu) << "channel " << ch;
    }
}

INSTANTIATE_TEST_SUITE_P(Rates, Ebu, ::testing::Values(44100, 48000, 96000, 192000),
                         [](const auto& p) { return std::to_string(p.param); });

} // namespace
} // namespace lathe

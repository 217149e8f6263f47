// SPDX-License-Identifier: GPL-3.0-or-later
#include <lathe/signals/DemoMix.h>

#include <gtest/gtest.h>

#include <cmath>

namespace lathe::signals {
namespace {

std::vector<std::vector<float>> generate(const DemoMixSettings& s, Frames block) {
    DemoMix mix(s);
    std::vector<std::vector<float>> out(2);
    AudioBuffer b;
    while (mix.read(b, block) > 0) {
        for (int c = 0; c < 2; ++c) {
            out[static_cast<std::size_t>(c)].insert(out[static_cast<std::size_t>(c)].end(), b.channel(c),
                                                    b.channel(c) + b.frames());
        }
    }
    return out;
}

double rmsDb(const std::vector<float>& x, double fromS, double toS, SampleRate fs) {
    double sum = 0;
    const auto a = static_cast<std::size_t>(fromS * fs);
    const auto b = static_cast<std::size_t>(toS * fs);
    for (std::size_t i = a; i < b; ++i) {
        sum += static_cast<double>(x[i]) * x[i];
    }
    return 10 * std::log10(sum / static_cast<double>(b - a));
}

TEST(DemoMix, DeterministicAndIndependentOfBlockSize) {
    DemoMixSettings s;
    s.durationSeconds = 10;
    const auto a = generate(s, 65536);
    const auto b = generate(s, 999);
    EXPECT_EQ(a, b);
    s.seed = 2;
    EXPECT_NE(generate(s, 65536), a);
}

TEST(DemoMix, ShapeOfTheSong) {
    DemoMixSettings s; // 60 s at 48 kHz
    const auto x = generate(s, 65536);
    ASSERT_EQ(x[0].size(), 2880000u);
    float peak = 0;
    for (const auto& ch : x) {
        for (float v : ch) {
            ASSERT_TRUE(std::isfinite(v));
            peak = std::max(peak, std::fabs(v));
        }
    }
    EXPECT_LT(peak, 0.891f);                     // headroom: below −1 dBFS
    EXPECT_GT(peak, std::pow(10.0f, -9 / 20.f)); // but a real level, not a whisper
    const double intro = rmsDb(x[0], 0.5, 7.5, 48000);
    const double verse = rmsDb(x[0], 9, 23, 48000);
    const double chorus = rmsDb(x[0], 25, 39, 48000);
    const double breakdown = rmsDb(x[0], 41, 47, 48000);
    EXPECT_LT(intro, verse - 10) << "quiet intro";
    EXPECT_LT(breakdown, chorus - 3) << "break without drums";
    EXPECT_GT(chorus, verse) << "the chorus lifts";
    EXPECT_LT(std::fabs(x[0].back()), 1e-3f) << "fades out";
    EXPECT_NE(x[0], x[1]) << "stereo, not dual mono";
}

TEST(DemoMix, OtherRatesAndLongRendersStayFinite) {
    for (SampleRate fs : {8000, 44100, 192000}) {
        DemoMixSettings s;
        s.sampleRate = fs;
        s.durationSeconds = 70; // past the 64 s form, into the repeat
        const auto x = generate(s, 65536);
        float peak = 0;
        for (float v : x[1]) {
            ASSERT_TRUE(std::isfinite(v)) << fs;
            peak = std::max(peak, std::fabs(v));
        }
        EXPECT_LT(peak, 0.891f) << fs;
    }
}

} // namespace
} // namespace lathe::signals

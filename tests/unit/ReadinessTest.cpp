// SPDX-License-Identifier: GPL-3.0-or-later
// Every mix-readiness finding is triggered by a generated defect and stays quiet on the clean
// generated mix.
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/Analysis.h>
#include <lathe/signals/DemoMix.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <numbers>

namespace lathe {
namespace {

using test::Planar;

/// The demo mix (60 s, 48 kHz), generated once.
const Planar& cleanMix() {
    static const Planar mix = [] {
        signals::DemoMix m(signals::DemoMixSettings{});
        AudioBuffer b;
        m.read(b, m.totalFrames());
        return Planar{std::vector<float>(b.channel(0), b.channel(0) + b.frames()),
                      std::vector<float>(b.channel(1), b.channel(1) + b.frames())};
    }();
    return mix;
}

class Readiness : public ::testing::Test {
protected:
    AnalysisResult analyse(const Planar& x, SampleRate fs = 48000,
                           int format = SF_FORMAT_WAV | SF_FORMAT_FLOAT) {
        const auto path = m_dir / ("mix" + std::to_string(m_count++) + ".wav");
        test::writeRawFloat(path, x, fs, format);
        auto cpu = makeCpuBackend();
        return analyzeFile(path, AnalysisOptions{}, *cpu);
    }

    static const Finding* find(const AnalysisResult& a, const std::string& code) {
        for (const auto& f : a.findings) {
            if (f.code == code) {
                return &f;
            }
        }
        return nullptr;
    }

    static std::string codes(const AnalysisResult& a) {
        std::string s;
        for (const auto& f : a.findings) {
            s += f.code + " ";
        }
        return s;
    }

    test::TempDir m_dir;
    int m_count = 0;
};

TEST_F(Readiness, CleanMixHasNothingToFix) {
    const auto a = analyse(cleanMix());
    EXPECT_TRUE(a.findings.empty()) << codes(a);
}

TEST_F(Readiness, ClippingIsFoundWithItsTimes) {
    Planar x = cleanMix();
    for (auto& ch : x) {
        for (float& v : ch) {
            v = std::clamp(v * 4.0f, -1.0f, 1.0f); // a converter driven 12 dB too hot
        }
    }
    const auto a = analyse(x);
    const Finding* f = find(a, "clipping");
    ASSERT_NE(f, nullptr) << codes(a);
    EXPECT_EQ(f->severity, Severity::Problem);
    EXPECT_FALSE(f->ranges.empty());
    EXPECT_GT(a.scan.clipRuns, 10);
    EXPECT_GE(f->ranges.front().startSeconds, 8.0); // the quiet intro does not clip
}

TEST_F(Readiness, InterSampleOversWithoutClippedSamples) {
    // An fs/4 sine at 45°: the samples sit at ±0.99, the waveform between them at 1.40 (+2.9 dBTP).
    const auto s = test::sine(12000.0, 0.99 * std::numbers::sqrt2, 48000, 10 * 48000, std::numbers::pi / 4);
    const auto a = analyse({s, s});
    EXPECT_NE(find(a, "inter-sample-overs"), nullptr) << codes(a);
    EXPECT_EQ(find(a, "clipping"), nullptr);
}

TEST_F(Readiness, DcOffset) {
    Planar x = cleanMix();
    for (float& v : x[1]) {
        v += 0.02f; // −34 dBFS of DC on the right channel
    }
    const auto a = analyse(x);
    const Finding* f = find(a, "dc-offset");
    ASSERT_NE(f, nullptr) << codes(a);
    EXPECT_NE(f->message.find("Channel 2"), std::string::npos);
}

TEST_F(Readiness, NoHeadroom) {
    Planar x = cleanMix();
    const float gain = std::pow(10.0f, 3.3f / 20.0f); // true peak −3.8 → −0.5 dBTP
    for (auto& ch : x) {
        for (float& v : ch) {
            v *= gain;
        }
    }
    const auto a = analyse(x);
    EXPECT_NE(find(a, "no-headroom"), nullptr) << codes(a) << " TP " << a.loudness.truePeakDbtp->value;
    EXPECT_EQ(find(a, "clipping"), nullptr);
}

TEST_F(Readiness, OverCompressed) {
    Planar x = cleanMix();
    for (auto& ch : x) {
        for (float& v : ch) {
            v = 0.5f * std::tanh(60.0f * v); // a brick-wall "master" of the mix
        }
    }
    const auto a = analyse(x);
    const Finding* f = find(a, "over-compressed");
    ASSERT_NE(f, nullptr) << codes(a) << " PLR " << *a.loudness.plrDb;
}

TEST_F(Readiness, SubBass) {
    Planar x = cleanMix();
    const auto rumble = test::sine(20.0, 0.4, 48000, static_cast<Frames>(x[0].size()));
    for (auto& ch : x) {
        for (std::size_t i = 0; i < ch.size(); ++i) {
            ch[i] = 0.5f * ch[i] + rumble[i];
        }
    }
    const auto a = analyse(x);
    EXPECT_NE(find(a, "sub-bass"), nullptr) << codes(a);
}

TEST_F(Readiness, PolarityInvertedChannel) {
    Planar x = cleanMix();
    for (float& v : x[1]) {
        v = -v;
    }
    const auto a = analyse(x);
    const Finding* f = find(a, "phase");
    ASSERT_NE(f, nullptr) << codes(a);
    EXPECT_EQ(f->severity, Severity::Problem);
    EXPECT_NE(find(a, "mono-loss"), nullptr) << codes(a);
}

TEST_F(Readiness, PassageOutOfPhase) {
    Planar x = cleanMix();
    for (std::size_t i = 20 * 48000; i < 26 * 48000; ++i) {
        x[1][i] = -x[1][i]; // 6 s with the right channel flipped
    }
    const auto a = analyse(x);
    const Finding* f = find(a, "phase");
    ASSERT_NE(f, nullptr) << codes(a);
    EXPECT_EQ(f->severity, Severity::Warning);
    ASSERT_FALSE(f->ranges.empty());
    EXPECT_GE(f->ranges.front().startSeconds, 20.0);
    EXPECT_LE(f->ranges.front().endSeconds, 29.1); // a 3 s window sees it until 3 s after the end
}

TEST_F(Readiness, Imbalance) {
    Planar x = cleanMix();
    for (float& v : x[0]) {
        v *= 1.5f; // +3.5 dB on the left
    }
    const auto a = analyse(x);
    const Finding* f = find(a, "imbalance");
    ASSERT_NE(f, nullptr) << codes(a);
    EXPECT_NE(f->message.find("left"), std::string::npos);
}

TEST_F(Readiness, SilenceAtBothEnds) {
    Planar x = cleanMix();
    for (auto& ch : x) {
        ch.insert(ch.begin(), 2 * 48000, 0.0f);
        ch.insert(ch.end(), 4 * 48000, 0.0f);
    }
    const auto a = analyse(x);
    const Finding* lead = find(a, "leading-silence");
    const Finding* trail = find(a, "trailing-silence");
    ASSERT_NE(lead, nullptr) << codes(a);
    ASSERT_NE(trail, nullptr) << codes(a);
    EXPECT_NEAR(lead->ranges.front().endSeconds, 2.0, 0.11);
    EXPECT_NEAR(trail->ranges.front().endSeconds - trail->ranges.front().startSeconds, 4.0, 0.3);
}

TEST_F(Readiness, LowSampleRate) {
    signals::DemoMixSettings s;
    s.sampleRate = 22050;
    s.durationSeconds = 20;
    signals::DemoMix m(s);
    AudioBuffer b;
    m.read(b, m.totalFrames());
    const auto a = analyse({std::vector<float>(b.channel(0), b.channel(0) + b.frames()),
                            std::vector<float>(b.channel(1), b.channel(1) + b.frames())},
                           22050);
    EXPECT_NE(find(a, "low-sample-rate"), nullptr) << codes(a);
}

TEST_F(Readiness, UpsampledHighRateFile) {
    Planar x;
    for (const auto& ch : cleanMix()) {
        x.push_back(test::resampleOffline(ch, 48000, 96000));
    }
    const auto a = analyse(x, 96000);
    EXPECT_NE(find(a, "upsampled"), nullptr) << codes(a);
}

TEST_F(Readiness, SixteenBitAudioInATwentyFourBitFile) {
    Planar x = cleanMix();
    for (auto& ch : x) {
        for (float& v : ch) {
            v = std::round(v * 32768.0f) / 32768.0f; // a 16-bit bounce upstream
        }
    }
    const auto a = analyse(x, 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    EXPECT_NE(find(a, "padded-bit-depth"), nullptr) << codes(a);
    EXPECT_TRUE(a.scan.on16BitGrid);
}

} // namespace
} // namespace lathe

// Codec round trips (issue 9): the codecs actually run (FFmpeg's libraries), never mocked.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/CodecPreview.h>
#include <lathe/Error.h>
#include <lathe/LimiterStage.h>
#include <lathe/Loudness.h>
#include <lathe/RenderJob.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>

namespace lathe::test {
namespace {

/// A post-codec overshoot we call measurable: ten times the meter's resolution step and well above
/// its 0.012 dB interpolation ripple; lossy coding of a limited master typically adds 0.3–2 dB.
constexpr double kMeasurableOvershootDb = 0.1;
/// The decoded file written for listening and the streaming measurement are the same samples.
constexpr double kSameSignalDb = 1e-6;
/// Priming removal is exact or off by at most this many frames (a decoder's rounding of its delay).
constexpr Frames kAlignmentFrames = 1;

/// Programme-like noise, low-passed (two 4-tap moving averages: most energy below 6 kHz, as
/// music), stereo, partly correlated.
Planar programme(Frames n, double amplitude, std::uint64_t seed) {
    Planar x{noise(n, amplitude, seed), noise(n, amplitude, seed + 1)};
    for (auto& ch : x) {
        for (int pass = 0; pass < 2; ++pass) {
            for (Frames i = n - 1; i >= 3; --i) {
                ch[i] = 0.25f * (ch[i] + ch[i - 1] + ch[i - 2] + ch[i - 3]);
            }
        }
    }
    for (Frames i = 0; i < n; ++i) {
        x[1][i] = 0.6f * x[0][i] + 0.4f * x[1][i];
    }
    return x;
}

/// `x` through a true-peak limiter at `ceilingDbtp` with `driveDb` of drive: a loud master.
void writeLimitedMaster(const std::filesystem::path& p, const Planar& x, double driveDb, double ceilingDbtp) {
    MemorySource source(x, 48000);
    LimiterSpec spec;
    spec.ceilingDbtp = ceilingDbtp;
    spec.inputGainDb = driveDb;
    std::vector<std::unique_ptr<Stage>> stages;
    stages.push_back(std::make_unique<LimiterStage>(spec, 1));
    RenderOptions o;
    o.format = SampleFormat::Float32;
    auto cpu = makeCpuBackend();
    render(source, std::move(stages), p, o, *cpu);
}

TEST(CodecPreview, DecodedStreamsAlignWithTheInputAndKeepItsLength) {
    if (!codecPreviewAvailable()) {
        GTEST_SKIP() << "this build has no codecs (LATHE_ENABLE_CODECS=OFF)";
    }
    TempDir dir;
    const Frames n = 3 * 48000;
    const Planar x = programme(n, 0.3, 11);
    writeRawFloat(dir / "in.wav", x, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    CodecPreviewOptions o;
    o.renderDir = dir.path();
    auto cpu = makeCpuBackend();
    const CodecPreviewResult r = previewCodecs(dir / "in.wav", o, *cpu);
    ASSERT_EQ(r.codecs.size(), 4u);
    for (const auto& c : r.codecs) {
        ASSERT_TRUE(c.render.has_value());
        SampleRate fs = 0;
        const Planar y = readRawFloat(*c.render, &fs);
        ASSERT_EQ(fs, 48000) << c.codec.id;
        ASSERT_EQ(y[0].size(), static_cast<std::size_t>(n)) << c.codec.id;
        // Cross-correlation of the left channels over one second in the middle, lags ±3000.
        const Frames from = 48000;
        const Frames len = 24000;
        Frames bestLag = 0;
        double best = -1e300;
        for (Frames lag = -3000; lag <= 3000; ++lag) {
            double s = 0.0;
            for (Frames i = from; i < from + len; ++i) {
                s += static_cast<double>(x[0][i]) * y[0][i + lag];
            }
            if (s > best) {
                best = s;
                bestLag = lag;
            }
        }
        EXPECT_LE(std::abs(bestLag), kAlignmentFrames) << c.codec.id << " priming " << c.primingFrames;
    }
}

TEST(CodecPreview, ALimitedMasterOvershootsItsTruePeakAfterEveryCodec) {
    if (!codecPreviewAvailable()) {
        GTEST_SKIP() << "this build has no codecs (LATHE_ENABLE_CODECS=OFF)";
    }
    TempDir dir;
    writeLimitedMaster(dir / "master.wav", programme(10 * 48000, 0.25, 21), 14.0, -1.0);
    auto cpu = makeCpuBackend();
    const double before = measureLoudness(dir / "master.wav", {}, *cpu).truePeakDbtp->value;
    ASSERT_LE(before, -1.0 + 0.01);
    CodecPreviewOptions o;
    o.renderDir = dir.path();
    const CodecPreviewResult r = previewCodecs(dir / "master.wav", o, *cpu);
    for (const auto& c : r.codecs) {
        ASSERT_TRUE(c.decoded.truePeakDbtp.has_value()) << c.codec.id;
        // The overshoot, against the original measured on its own.
        EXPECT_GT(c.decoded.truePeakDbtp->value, before + kMeasurableOvershootDb) << c.codec.id;
        EXPECT_NEAR(c.truePeakChangeDb, c.decoded.truePeakDbtp->value - before, 0.01) << c.codec.id;
        // The decoded file as written carries the same peak.
        const double written = measureLoudness(*c.render, {}, *cpu).truePeakDbtp->value;
        EXPECT_NEAR(written, c.decoded.truePeakDbtp->value, kSameSignalDb) << c.codec.id;
    }
}

TEST(CodecPreview, AMasterAtFullScaleIsFlaggedAsClippingAfterDecode) {
    if (!codecPreviewAvailable()) {
        GTEST_SKIP() << "this build has no codecs (LATHE_ENABLE_CODECS=OFF)";
    }
    TempDir dir;
    writeLimitedMaster(dir / "hot.wav", programme(6 * 48000, 0.25, 31), 18.0, -0.1);
    CodecPreviewOptions o;
    o.renderDir = dir.path();
    auto cpu = makeCpuBackend();
    const CodecPreviewResult r = previewCodecs(dir / "hot.wav", o, *cpu);
    int clipping = 0;
    for (const auto& c : r.codecs) {
        // Counted independently in the written float file.
        const Planar y = readRawFloat(*c.render);
        Frames overs = 0;
        for (const auto& ch : y) {
            for (float v : ch) {
                overs += std::fabs(v) > 1.0f ? 1 : 0;
            }
        }
        EXPECT_EQ(overs, c.samplesOverFullScale) << c.codec.id;
        clipping += c.samplesOverFullScale > 0 ? 1 : 0;
    }
    EXPECT_GE(clipping, 3); // a −0.1 dBTP master clips after (nearly) every codec
    const nlohmann::json j = toJson(r);
    EXPECT_TRUE(j["codecs"][0].contains("clips_after_decode"));
    EXPECT_TRUE(j["platforms"][0].contains("post_codec_true_peak_dbtp"));
}

TEST(CodecPreview, MoreThanTwoChannelsIsAClearError) {
    if (!codecPreviewAvailable()) {
        GTEST_SKIP() << "this build has no codecs (LATHE_ENABLE_CODECS=OFF)";
    }
    TempDir dir;
    writeRawFloat(dir / "six.wav", Planar(6, std::vector<float>(4800, 0.1f)), 48000,
                  SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto cpu = makeCpuBackend();
    CodecPreviewOptions o;
    o.reader.layout = parseChannelLayout("5.1");
    try {
        previewCodecs(dir / "six.wav", o, *cpu);
        ADD_FAILURE();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("mono or stereo"), std::string::npos) << e.what();
    }
}

} // namespace
} // namespace lathe::test

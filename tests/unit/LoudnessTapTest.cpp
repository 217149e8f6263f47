// SPDX-License-Identifier: GPL-3.0-or-later
// The loudness of a render measured while it is written (the targeting's LoudnessTap) equals the
// loudness of the finished file read back — every figure and the whole history, bit for bit — for
// float output and for integer output with TPDF and noise-shaped dither; a failed render stops
// the meter (no hang, the render's error stands); a failed meter fails only the figures.
#include "../../host/src/chain/LoudnessTap.h"

#include "CpuForwardingBackend.h"
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/AudioReader.h>
#include <lathe/Error.h>
#include <lathe/JsonReport.h>
#include <lathe/RenderJob.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace lathe {
namespace {

using test::Planar;
using test::TempDir;

/// A level that moves (gated blocks, a louder and a quiet part) and a tone near full scale, so
/// that the integrated loudness, LRA and true peak all depend on every sample.
Planar programme(int channels, Frames frames) {
    Planar x;
    for (int c = 0; c < channels; ++c) {
        auto ch = test::noise(frames, 0.5, 40 + static_cast<std::uint64_t>(c));
        const auto tone = test::sine(997.0 + 3.0 * c, 0.45, 48000, frames);
        for (Frames i = 0; i < frames; ++i) {
            const double level = (i / 24000) % 4 == 3 ? 0.05 : (i / 96000) % 2 == 0 ? 1.0 : 0.4;
            ch[static_cast<std::size_t>(i)] = static_cast<float>(
                level * (ch[static_cast<std::size_t>(i)] + tone[static_cast<std::size_t>(i)]));
        }
        x.push_back(std::move(ch));
    }
    return x;
}

LoudnessOptions meterOptions() {
    LoudnessOptions o;
    o.threads = 2;
    o.truePeak = true;
    return o;
}

/// The measurement's JSON with its history (every number written with 17 digits: equal JSON is
/// equal doubles), without the file's name and the time the measurement took.
nlohmann::json figures(const LoudnessResult& r) {
    nlohmann::json j = toJson(r, true);
    j.erase("file");
    j.erase("analysis_seconds");
    return j;
}

struct Output {
    const char* what;
    SampleFormat format;
    DitherMode dither;
    int channels;
};

TEST(LoudnessTap, MeasuresExactlyWhatTheFileHolds) {
    auto backend = makeCpuBackend();
    for (const Output& out : {Output{"float, stereo", SampleFormat::Float32, DitherMode::Off, 2},
                              Output{"24-bit TPDF, stereo", SampleFormat::Pcm24, DitherMode::Tpdf, 2},
                              Output{"16-bit shaped, mono", SampleFormat::Pcm16, DitherMode::Shaped, 1},
                              Output{"16-bit plain, stereo", SampleFormat::Pcm16, DitherMode::Off, 2}}) {
        TempDir dir;
        // 9.3 s through a 777-frame delay in 10 000-frame blocks: the render's blocks and the
        // meter's 65 536-frame reads never line up.
        test::MemorySource src(programme(out.channels, 446'400), 48000);
        std::vector<std::unique_ptr<Stage>> stages;
        stages.push_back(std::make_unique<test::DelayStage>(777));
        detail::LoudnessTap tap("o.wav", meterOptions(), *backend, {});
        RenderOptions o;
        o.format = out.format;
        o.dither = out.dither;
        o.blockFrames = 10'000;
        o.tap = &tap;
        const RenderReport r = render(src, std::move(stages), dir / "o.wav", o, *backend);
        EXPECT_GT(r.tapSeconds, 0.0) << out.what; // the tap's share of the output's end
        EXPECT_LE(r.tapSeconds, r.outputSeconds) << out.what;
        const LoudnessResult got = tap.result();
        AudioReader file(dir / "o.wav");
        const LoudnessResult want = measureLoudness(file, meterOptions(), *backend);
        ASSERT_TRUE(want.integratedLufs.has_value()) << out.what;
        ASSERT_TRUE(want.truePeakDbtp.has_value()) << out.what;
        EXPECT_EQ(figures(got), figures(want)) << out.what;
    }
}

TEST(LoudnessTap, AFailedRenderStopsTheMeter) {
    auto backend = makeCpuBackend();
    TempDir dir;
    test::MemorySource src(programme(2, 480'000), 48000);
    detail::LoudnessTap tap("o.wav", meterOptions(), *backend, {});
    RenderOptions o;
    o.format = SampleFormat::Float32;
    o.blockFrames = 4096;
    o.faults.failAfterBytes = 600'000; // the disk fills a few blocks in
    o.tap = &tap;
    EXPECT_THROW(render(src, {}, dir / "o.wav", o, *backend), OutputError);
    EXPECT_TRUE(dir.entries().empty());
    // The tap is destroyed here with its meter waiting for frames that never come: it must stop.
}

/// The CPU backend whose loudness chunks fail after the first (a device that fails mid-job).
class FailingMeterBackend final : public test::CpuForwardingBackend {
public:
    std::string_view name() const override { return "failing"; }
    void measureLoudnessChunk(const LoudnessParams& p, const LoudnessChunk& c,
                              LoudnessRecords& out) override {
        if (++m_chunks > 1) {
            throw GpuError("measureLoudnessChunk", "cudaErrorLaunchFailure", "test", __FILE__, __LINE__);
        }
        CpuForwardingBackend::measureLoudnessChunk(p, c, out);
    }

private:
    std::atomic<int> m_chunks{0};
};

TEST(LoudnessTap, AFailedMeterFailsItsFiguresNotTheRender) {
    FailingMeterBackend backend;
    TempDir dir;
    // 60 s: several of the meter's chunks, so it fails while the render still writes.
    test::MemorySource src(programme(2, 48000 * 60), 48000);
    detail::LoudnessTap tap("o.wav", meterOptions(), backend, {});
    RenderOptions o;
    o.format = SampleFormat::Float32;
    o.tap = &tap;
    const RenderReport r = render(src, {}, dir / "o.wav", o, backend);
    EXPECT_EQ(r.outputFrames, 48000 * 60);
    EXPECT_THROW(tap.result(), GpuError);
}

} // namespace
} // namespace lathe

// SPDX-License-Identifier: GPL-3.0-or-later
// The convolution stages (linear-phase EQ, reverb) and presets, rendered end to end through
// render(): alignment, lengths, tails, gains and nulls against closed forms and direct references.
#include "TestFiles.h"
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/ConvolutionStage.h>
#include <lathe/Error.h>
#include <lathe/MultibandStage.h>
#include <lathe/Preset.h>
#include <lathe/RenderJob.h>
#include <lathe/design/Rooms.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <numbers>

namespace lathe {
namespace {

using test::Planar;
constexpr SampleRate kFs = 48000;

struct Rendered {
    Planar audio;
    RenderReport report;
};

Rendered renderThrough(const Planar& in, SampleRate fs, std::vector<std::unique_ptr<Stage>> stages,
                       TailPolicy tail = TailPolicy::Keep) {
    test::TempDir dir;
    test::MemorySource source(in, fs);
    RenderOptions o;
    o.format = SampleFormat::Float32;
    o.tail = tail;
    o.blockFrames = 10007; // not a multiple of the partition: exercises the stage's buffering
    auto backend = makeCpuBackend();
    Rendered r;
    r.report = render(source, std::move(stages), dir.path() / "out.wav", o, *backend);
    r.audio = test::readRawFloat(dir.path() / "out.wav");
    return r;
}

std::unique_ptr<Stage> eqStage(const design::EqSpec& spec, Backend& backend) {
    return std::make_unique<EqStage>(spec, backend, ConvolverOptions{8192, 2});
}

double rmsDb(const std::vector<float>& x, std::size_t from = 0, std::size_t to = SIZE_MAX) {
    double s = 0;
    to = std::min(to, x.size());
    for (std::size_t n = from; n < to; ++n) {
        s += static_cast<double>(x[n]) * x[n];
    }
    return 10.0 * std::log10(s / static_cast<double>(to - from));
}

design::EqBand bell(double hz, double gainDb, double q, design::EqPlacement p = design::EqPlacement::Stereo) {
    design::EqBand b;
    b.type = design::EqBandType::Bell;
    b.hz = hz;
    b.gainDb = gainDb;
    b.q = q;
    b.placement = p;
    return b;
}

// ---------------------------------------------------------------------------------------------
// Linear-phase EQ

TEST(EqStage, ZeroDbEqNullsAgainstTheInput) {
    // Explicit taps force the convolution path (a flat automatic design is a bit-exact bypass).
    design::EqSpec spec;
    spec.bands = {bell(1000, 0.0, 1.0)};
    spec.taps = 4097;
    auto backend = makeCpuBackend();
    const Planar in = {test::noise(3 * kFs + 17, 0.5, 1), test::noise(3 * kFs + 17, 0.5, 2)};
    const Rendered r = renderThrough(in, kFs, [&] {
        std::vector<std::unique_ptr<Stage>> s;
        s.push_back(eqStage(spec, *backend));
        return s;
    }());
    ASSERT_EQ(r.audio[0].size(), in[0].size());
    EXPECT_EQ(r.report.latencyFrames, 2048);
    for (int c = 0; c < 2; ++c) {
        EXPECT_LE(test::nullDb(r.audio[static_cast<std::size_t>(c)], in[static_cast<std::size_t>(c)]),
                  test::kNullDb);
    }
}

TEST(EqStage, FlatAutomaticEqIsBitExact) {
    design::EqSpec spec;
    spec.bands = {bell(1000, 0.0, 1.0)};
    auto backend = makeCpuBackend();
    const Planar in = {test::noise(kFs, 0.5, 3)};
    std::vector<std::unique_ptr<Stage>> s;
    s.push_back(eqStage(spec, *backend));
    const Rendered r = renderThrough(in, kFs, std::move(s));
    EXPECT_EQ(r.audio[0], in[0]);
}

TEST(EqStage, OutputIsAlignedWithTheInputAndKeepsItsLength) {
    // A broad boost: the output is still mostly the input, so the cross-correlation peaks at the
    // true alignment. Any left-over latency would move the peak.
    design::EqSpec spec;
    spec.bands = {bell(2000, 3.0, 0.7)};
    spec.taps = 16385;
    auto backend = makeCpuBackend();
    const Planar in = {test::noise(4 * kFs + 5, 0.5, 4)};
    for (TailPolicy tail : {TailPolicy::Keep, TailPolicy::Cut}) {
        std::vector<std::unique_ptr<Stage>> s;
        s.push_back(eqStage(spec, *backend));
        const Rendered r = renderThrough(in, kFs, std::move(s), tail);
        ASSERT_EQ(r.audio[0].size(), in[0].size());
        int bestLag = 0;
        double best = -1e300;
        for (int lag = -64; lag <= 64; ++lag) {
            double acc = 0;
            for (std::size_t n = 100; n + 100 < in[0].size(); ++n) {
                acc += static_cast<double>(in[0][n]) *
                       r.audio[0][static_cast<std::size_t>(static_cast<long>(n) + lag)];
            }
            if (acc > best) {
                best = acc;
                bestLag = lag;
            }
        }
        EXPECT_EQ(bestLag, 0);
    }
}

TEST(EqStage, SineAtTheBellCentreGetsTheBellGain) {
    design::EqSpec spec;
    spec.bands = {bell(1000, 4.5, 1.0)};
    auto backend = makeCpuBackend();
    const Planar in = {test::sine(1000.0, 0.25, kFs, 2 * kFs)};
    std::vector<std::unique_ptr<Stage>> s;
    s.push_back(eqStage(spec, *backend));
    const Rendered r = renderThrough(in, kFs, std::move(s));
    // Away from the edges (the FIR sees the start/end of the sine there).
    const double gain = rmsDb(r.audio[0], kFs / 2, kFs + kFs / 2) - rmsDb(in[0], kFs / 2, kFs + kFs / 2);
    EXPECT_NEAR(gain, 4.5, design::kEqToleranceDb);
}

TEST(EqStage, MidSideBandsShapeOnlyTheirSignal) {
    // +6 dB at 1 kHz on the side only: a pure-mid sine passes unchanged, a pure-side sine gains 6 dB.
    design::EqSpec spec;
    spec.bands = {bell(1000, 6.0, 1.0, design::EqPlacement::Side)};
    auto backend = makeCpuBackend();
    const std::vector<float> s1k = test::sine(1000.0, 0.25, kFs, 2 * kFs);
    std::vector<float> neg = s1k;
    for (auto& v : neg) {
        v = -v;
    }
    for (bool side : {false, true}) {
        const Planar in = {s1k, side ? neg : s1k};
        std::vector<std::unique_ptr<Stage>> s;
        s.push_back(eqStage(spec, *backend));
        const Rendered r = renderThrough(in, kFs, std::move(s));
        for (int c = 0; c < 2; ++c) {
            const auto& y = r.audio[static_cast<std::size_t>(c)];
            const auto& x = in[static_cast<std::size_t>(c)];
            const double gain = rmsDb(y, kFs / 2, 3 * kFs / 2) - rmsDb(x, kFs / 2, 3 * kFs / 2);
            EXPECT_NEAR(gain, side ? 6.0 : 0.0, design::kEqToleranceDb)
                << (side ? "side" : "mid") << " ch " << c;
        }
    }
}

TEST(EqStage, MidSideOnMonoAndBandsAboveNyquistAreFlagged) {
    // On mono, a mid band applies to the channel and a side band is left out, with a warning.
    auto backend = makeCpuBackend();
    design::EqSpec ms;
    ms.bands = {bell(1000, 4.0, 1.0, design::EqPlacement::Mid),
                bell(1000, -6.0, 1.0, design::EqPlacement::Side)};
    std::vector<std::unique_ptr<Stage>> s;
    s.push_back(eqStage(ms, *backend));
    const Planar mono = {test::sine(1000.0, 0.25, kFs, 2 * kFs)};
    const Rendered m = renderThrough(mono, kFs, std::move(s));
    EXPECT_NEAR(rmsDb(m.audio[0], kFs / 2, 3 * kFs / 2) - rmsDb(mono[0], kFs / 2, 3 * kFs / 2), 4.0,
                design::kEqToleranceDb);
    ASSERT_FALSE(m.report.warnings.empty());
    EXPECT_NE(
        m.report.warnings[0].find("not stereo: mid bands apply to every channel, 1 side band is left out"),
        std::string::npos)
        << m.report.warnings[0];
    design::EqSpec high;
    high.bands = {bell(30000, 2.0, 1.0)};
    std::vector<std::unique_ptr<Stage>> s2;
    s2.push_back(eqStage(high, *backend));
    const Rendered r = renderThrough({test::noise(1000, 0.1, 1)}, 44100, std::move(s2));
    ASSERT_FALSE(r.report.warnings.empty());
    EXPECT_NE(r.report.warnings[0].find("eq: EQ band 1 (bell at 30000 Hz) is above Nyquist (22050 Hz)"),
              std::string::npos)
        << r.report.warnings[0];
}

TEST(EqStage, SilenceAfterMusicIsExactlyZero) {
    design::EqSpec spec;
    spec.bands = {bell(200, -3.0, 0.7)};
    spec.taps = 8193;
    auto backend = makeCpuBackend();
    std::vector<float> x = test::noise(2 * kFs, 1.0, 6);
    x.resize(x.size() + 5 * static_cast<std::size_t>(kFs), 0.0f);
    std::vector<std::unique_ptr<Stage>> s;
    s.push_back(eqStage(spec, *backend));
    const Rendered r = renderThrough({x}, kFs, std::move(s));
    // Exactly zero once the FIR (centred: 4096 frames each side) and two partitions have passed.
    for (std::size_t n = 2 * kFs + 4096 + 2 * 8192; n < r.audio[0].size(); ++n) {
        ASSERT_EQ(r.audio[0][n], 0.0f) << "frame " << n;
    }
}

// ---------------------------------------------------------------------------------------------
// Convolution reverb

/// A decaying random stereo IR written as a 32-bit float WAV.
Planar writeIr(const std::filesystem::path& p, int channels, SampleRate fs, Frames frames,
               double decay = 5.0) {
    Planar ir;
    for (int c = 0; c < channels; ++c) {
        std::vector<float> h = test::noise(frames, 0.5, 40 + static_cast<std::uint64_t>(c));
        for (Frames n = 0; n < frames; ++n) {
            h[static_cast<std::size_t>(n)] *=
                static_cast<float>(std::exp(-decay * static_cast<double>(n) / static_cast<double>(frames)));
        }
        ir.push_back(h);
    }
    test::writeRawFloat(p, ir, fs, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    return ir;
}

ReverbSpec fileReverb(const std::filesystem::path& ir) {
    ReverbSpec r;
    r.irFile = ir;
    r.wetDb = 0.0;
    r.dryDb = kReverbMutedDb;
    r.normalization = IrNormalization::None;
    return r;
}

Rendered renderReverb(const Planar& in, SampleRate fs, const ReverbSpec& spec,
                      TailPolicy tail = TailPolicy::Keep) {
    auto backend = makeCpuBackend();
    std::vector<std::unique_ptr<Stage>> s;
    s.push_back(std::make_unique<ReverbStage>(spec, *backend, ConvolverOptions{8192, 2}));
    return renderThrough(in, fs, std::move(s), tail);
}

TEST(ReverbStage, ImpulseInGivesTheIrOut) {
    test::TempDir dir;
    const Planar ir = writeIr(dir.path() / "ir.wav", 2, kFs, 30000);
    ReverbSpec spec = fileReverb(dir.path() / "ir.wav");
    spec.predelayMs = 10.0; // 480 frames
    Planar in(2, std::vector<float>(20000, 0.0f));
    in[0][1000] = 1.0f; // left impulse → left IR only (a stereo IR filters L→L, R→R)
    in[1][3000] = 0.5f;
    const Rendered r = renderReverb(in, kFs, spec);
    for (int c = 0; c < 2; ++c) {
        const std::size_t at = c == 0 ? 1000 + 480 : 3000 + 480;
        const float scale = c == 0 ? 1.0f : 0.5f;
        const auto& y = r.audio[static_cast<std::size_t>(c)];
        const auto& h = ir[static_cast<std::size_t>(c)];
        double maxErr = 0;
        for (std::size_t n = 0; n < y.size(); ++n) {
            const double want = n >= at && n - at < h.size() ? scale * h[n - at] : 0.0;
            maxErr = std::max(maxErr, std::abs(y[n] - want));
        }
        EXPECT_LE(maxErr, test::kConvolutionMaxAbs) << "channel " << c;
    }
}

TEST(ReverbStage, IrAtAnotherRateIsResampledFirst) {
    test::TempDir dir;
    const Planar ir = writeIr(dir.path() / "ir.wav", 1, 44100, 20000);
    Planar in(1, std::vector<float>(30000, 0.0f));
    in[0][500] = 1.0f;
    const Rendered r = renderReverb(in, kFs, fileReverb(dir.path() / "ir.wav"));
    const std::vector<float> want = test::resampleOffline(ir[0], 44100, kFs);
    double e = 0;
    double s = 0;
    for (std::size_t n = 0; n < want.size(); ++n) {
        const double d = r.audio[0][500 + n] - want[n];
        e += d * d;
        s += static_cast<double>(want[n]) * want[n];
    }
    // The IR is trimmed below −100 dB of its peak, so compare at that precision.
    EXPECT_LE(10.0 * std::log10(e / s), -90.0);
}

TEST(ReverbStage, TailIsKeptUntilBelowTheFloorOrCut) {
    test::TempDir dir;
    // Decays by 139 dB over its length: trimming (−100 dB) and the −120 dBFS tail bound both act.
    const Planar ir = writeIr(dir.path() / "ir.wav", 1, kFs, 24000, 16.0);
    const ReverbSpec spec = fileReverb(dir.path() / "ir.wav");
    const Planar in = {test::noise(kFs, 1.0, 9)};
    const Rendered keep = renderReverb(in, kFs, spec, TailPolicy::Keep);
    ASSERT_EQ(keep.report.stages.size(), 1u);
    const Frames tail = keep.report.stages[0].tailFrames;
    EXPECT_EQ(static_cast<Frames>(keep.audio[0].size()), kFs + tail);
    // Independent check of the bound: for a full-scale input whose signs match the IR's (the worst
    // case), the output t frames after the end is Σ_{k>t}|h[k]|. It is ≤ −120 dBFS from the kept
    // tail on, and not one frame earlier.
    float peak = 0;
    for (float v : ir[0]) {
        peak = std::max(peak, std::abs(v));
    }
    std::size_t trimmed = ir[0].size();
    while (trimmed > 0 && std::abs(ir[0][trimmed - 1]) < peak * 1e-5f) {
        --trimmed;
    }
    auto worstAfter = [&](Frames t) {
        double s = 0;
        for (std::size_t k = static_cast<std::size_t>(t) + 1; k < trimmed; ++k) {
            s += std::abs(static_cast<double>(ir[0][k]));
        }
        return s;
    };
    EXPECT_LT(tail, static_cast<Frames>(trimmed));
    EXPECT_LE(worstAfter(tail), 1e-6);
    EXPECT_GT(worstAfter(tail - 1), 1e-6);
    const Rendered cut = renderReverb(in, kFs, spec, TailPolicy::Cut);
    EXPECT_EQ(cut.audio[0].size(), in[0].size());
    for (std::size_t n = 0; n < cut.audio[0].size(); ++n) {
        ASSERT_EQ(cut.audio[0][n], keep.audio[0][n]) << n;
    }
}

TEST(ReverbStage, DryWetLawIsTwoIndependentGains) {
    ReverbSpec wetOnly;
    wetOnly.room = "glue-room";
    wetOnly.wetDb = 0.0;
    wetOnly.dryDb = kReverbMutedDb;
    ReverbSpec mix = wetOnly;
    mix.wetDb = -10.0;
    mix.dryDb = -3.0;
    const Planar in = {test::noise(kFs, 0.5, 10), test::noise(kFs, 0.5, 11)};
    const Rendered w = renderReverb(in, kFs, wetOnly);
    const Rendered m = renderReverb(in, kFs, mix);
    const double gd = std::pow(10.0, -3.0 / 20.0);
    const double gw = std::pow(10.0, -10.0 / 20.0);
    for (int c = 0; c < 2; ++c) {
        const auto& y = m.audio[static_cast<std::size_t>(c)];
        double maxErr = 0;
        for (std::size_t n = 0; n < y.size(); ++n) {
            const double dry = n < in[0].size() ? gd * in[static_cast<std::size_t>(c)][n] : 0.0;
            maxErr = std::max(maxErr, std::abs(y[n] - (dry + gw * w.audio[static_cast<std::size_t>(c)][n])));
        }
        EXPECT_LE(maxErr, test::kConvolutionMaxAbs);
    }
}

TEST(ReverbStage, EnergyNormalisationGivesUnitEnergy) {
    ReverbSpec spec;
    spec.room = "hall";
    spec.wetDb = 0.0;
    spec.dryDb = kReverbMutedDb;
    Planar in(2, std::vector<float>(1000, 0.0f));
    in[0][0] = 1.0f;
    in[1][0] = 1.0f;
    const Rendered r = renderReverb(in, kFs, spec);
    double energy = 0;
    for (const auto& ch : r.audio) {
        for (float v : ch) {
            energy += static_cast<double>(v) * v;
        }
    }
    EXPECT_NEAR(energy / 2.0, 1.0, 1e-4); // mean over the two outputs
}

TEST(ReverbStage, TrueStereoIrRoutesEveryPath) {
    test::TempDir dir;
    const Planar ir = writeIr(dir.path() / "ts.wav", 4, kFs, 5000);
    Planar in(2, std::vector<float>(8000, 0.0f));
    in[0][100] = 1.0f; // left only: out L = LL, out R = LR
    const Rendered r = renderReverb(in, kFs, fileReverb(dir.path() / "ts.wav"));
    for (std::size_t n = 0; n < 5000; ++n) {
        ASSERT_NEAR(r.audio[0][100 + n], ir[0][n], test::kConvolutionMaxAbs) << n;
        ASSERT_NEAR(r.audio[1][100 + n], ir[1][n], test::kConvolutionMaxAbs) << n;
    }
}

TEST(ReverbStage, BadImpulseResponsesAreErrors) {
    test::TempDir dir;
    writeIr(dir.path() / "stereo.wav", 2, kFs, 1000);
    writeIr(dir.path() / "three.wav", 3, kFs, 1000);
    test::writeRawFloat(dir.path() / "silent.wav", {std::vector<float>(1000, 0.0f)}, kFs,
                        SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    std::vector<float> nan(1000, 0.1f);
    nan[10] = std::nanf("");
    test::writeRawFloat(dir.path() / "nan.wav", {nan}, kFs, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const Planar mono = {test::noise(2000, 0.1, 1)};
    EXPECT_THROW(renderReverb(mono, kFs, fileReverb(dir.path() / "stereo.wav")), UsageError);
    EXPECT_THROW(renderReverb(mono, kFs, fileReverb(dir.path() / "three.wav")), InputError);
    EXPECT_THROW(renderReverb(mono, kFs, fileReverb(dir.path() / "silent.wav")), UsageError);
    EXPECT_THROW(renderReverb(mono, kFs, fileReverb(dir.path() / "nan.wav")), InputError);
    // One sample at 192 kHz is nothing at 48 kHz: refused by name, not a crash inside libsoxr
    // (found by fuzz/FuzzImpulseResponse).
    test::writeRawFloat(dir.path() / "one-sample-192k.wav", {std::vector<float>(1, 0.5f)}, 192000,
                        SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    EXPECT_THROW(renderReverb(mono, kFs, fileReverb(dir.path() / "one-sample-192k.wav")), UsageError);
}

TEST(ReverbStage, BuiltInRoomsWorkOnAnyChannelCount) {
    // Stereo input: the room's two channels (decorrelated). Mono or 6 channels: its first channel
    // on every channel, so an impulse on channel c gives the same response on c alone.
    ReverbSpec spec;
    spec.room = "chamber";
    spec.wetDb = 0.0;
    spec.dryDb = kReverbMutedDb;
    spec.normalization = IrNormalization::None;
    const AudioBuffer room = design::generateRoomIr(*design::findRoom("chamber"), kFs);
    for (int channels : {1, 6}) {
        Planar in(static_cast<std::size_t>(channels), std::vector<float>(100, 0.0f));
        in.back()[10] = 1.0f;
        const Rendered r = renderReverb(in, kFs, spec);
        for (int c = 0; c + 1 < channels; ++c) {
            EXPECT_EQ(rmsDb(r.audio[static_cast<std::size_t>(c)]), -INFINITY) << channels << " ch, ch " << c;
        }
        for (Frames n = 0; n < 1000; ++n) {
            ASSERT_NEAR(r.audio.back()[static_cast<std::size_t>(10 + n)], room.channel(0)[n],
                        test::kConvolutionMaxAbs);
        }
    }
}

TEST(Rooms, AreDeterministicAndDecayAtTheirRt60) {
    for (const auto& room : design::builtinRooms()) {
        const AudioBuffer a = design::generateRoomIr(room, kFs);
        const AudioBuffer b = design::generateRoomIr(room, kFs);
        ASSERT_EQ(a.frames(), b.frames());
        EXPECT_TRUE(std::equal(a.channel(0), a.channel(0) + a.frames(), b.channel(0))) << room.name;
        // Energy decay: the level 100 ms around t = RT60(mid) is ~60 dB below the level around
        // 100 ms (broadband, so within a few dB of the mid band's decay).
        auto levelAt = [&](double t) {
            const Frames at = static_cast<Frames>(t * kFs);
            double s = 0;
            for (Frames n = at; n < at + kFs / 10; ++n) {
                s += static_cast<double>(a.channel(0)[n]) * a.channel(0)[n];
            }
            return 10.0 * std::log10(s);
        };
        const double drop = levelAt(0.1) - levelAt(0.1 + room.rt60MidS);
        EXPECT_NEAR(drop, 60.0, 6.0) << room.name;
    }
}

// ---------------------------------------------------------------------------------------------
// Multiband dynamics (groundwork for issue 7)

Rendered renderMultiband(const Planar& in, const MultibandSpec& spec) {
    auto backend = makeCpuBackend();
    std::vector<std::unique_ptr<Stage>> s;
    s.push_back(std::make_unique<MultibandStage>(spec, *backend, ConvolverOptions{8192, 2}));
    return renderThrough(in, kFs, std::move(s));
}

/// One band above a 100 Hz split (band 1 bypassed), a hard-knee compressor with a slow release:
/// a 2 kHz tone sits entirely in band 2 and gets the static curve's gain once settled.
MultibandSpec oneBandAbove100Hz(double thresholdDb, double ratio) {
    MultibandSpec spec;
    spec.splitsHz = {100.0};
    spec.bands = std::vector<BandDynamics>(2);
    spec.bands[0].bypass = true;
    spec.bands[1].thresholdDb = thresholdDb;
    spec.bands[1].ratio = ratio;
    spec.bands[1].kneeDb = 0.0;
    spec.bands[1].releaseMs = 500.0;
    return spec;
}

TEST(MultibandStage, AllBandsBypassedNullsAgainstTheInput) {
    MultibandSpec spec; // 120 / 1000 / 6000 Hz, 4 bands
    for (auto& b : spec.bands) {
        b.bypass = true;
    }
    const Planar in = {test::noise(3 * kFs, 0.5, 31), test::noise(3 * kFs, 0.5, 32)};
    const Rendered r = renderMultiband(in, spec);
    ASSERT_EQ(r.audio[0].size(), in[0].size());
    for (int c = 0; c < 2; ++c) {
        EXPECT_LE(test::nullDb(r.audio[static_cast<std::size_t>(c)], in[static_cast<std::size_t>(c)]),
                  test::kNullDb);
    }
}

TEST(MultibandStage, SteadySineGetsTheStaticCurvesGain) {
    // A 2 kHz sine far above a 100 Hz split sits entirely in band 2 (band 1 passes < −100 dB of
    // it). With a slow release the peak detector reads the sine's peak (within 0.01 dB), so the
    // steady gain is the static curve's: compressor T −30, R 4 at −6 dBFS: (T + (L−T)/R) − L;
    // expander T −40, R 2 at −50: (L−T)(R−1)·(−1); upward T −40, R 2 at −50: +(T−L)(1 − 1/R).
    struct Case {
        DynamicsMode mode;
        double threshold, ratio, levelDb, wantGainDb;
    };
    const Case cases[] = {
        {DynamicsMode::Compressor, -30.0, 4.0, -6.0, (-30.0 + 24.0 / 4.0) - (-6.0)},
        {DynamicsMode::Expander, -40.0, 2.0, -50.0, -10.0},
        {DynamicsMode::Upward, -40.0, 2.0, -50.0, 5.0},
    };
    for (const Case& c : cases) {
        MultibandSpec spec;
        spec.splitsHz = {100.0};
        spec.bands = std::vector<BandDynamics>(2);
        spec.bands[0].bypass = true;
        BandDynamics& b = spec.bands[1];
        b.mode = c.mode;
        b.thresholdDb = c.threshold;
        b.ratio = c.ratio;
        b.kneeDb = 0.0;
        b.attackMs = 5.0;
        b.releaseMs = 500.0;
        const double amp = std::pow(10.0, c.levelDb / 20.0);
        const Planar in = {test::sine(2000.0, amp, kFs, 4 * kFs)};
        const Rendered r = renderMultiband(in, spec);
        const double gain = rmsDb(r.audio[0], 3 * kFs, 4 * kFs - 100) - rmsDb(in[0], 3 * kFs, 4 * kFs - 100);
        EXPECT_NEAR(gain, c.wantGainDb, 0.05) << static_cast<int>(c.mode);
        ASSERT_EQ(r.report.stages.size(), 1u);
        EXPECT_TRUE(r.report.stages[0].details.contains("bands"));
    }
}

TEST(MultibandStage, MidSideWorksOnTheEncodedSignals) {
    // One band above 100 Hz, mid/side, unlinked, a 4:1 compressor at −30 dB (no knee), a 2 kHz
    // sine at −6 dBFS (s). Closed forms from the static curve, gain = (T + (L−T)/R) − L:
    // - L = R = s: mid = s, side = 0: both channels −18 dB (as L/R processing would give);
    // - L = s, R = 0: mid = side = s/2 (−12 dBFS), each −13.5 dB, so L = M + S comes down 13.5 dB
    //   (L/R processing would take it down 18 dB) and R = M − S stays exactly silent.
    MultibandSpec spec = oneBandAbove100Hz(-30.0, 4.0);
    spec.stereoLinkPercent = 0.0;
    spec.midSide = true;
    const auto s = test::sine(2000.0, std::pow(10.0, -6.0 / 20.0), kFs, 3 * kFs);
    auto curveGain = [](double levelDb) { return (-30.0 + (levelDb + 30.0) / 4.0) - levelDb; };
    auto gainOf = [&](const Rendered& r, const Planar& in, std::size_t c) {
        return rmsDb(r.audio[c], 2 * kFs, 3 * kFs - 100) - rmsDb(in[c], 2 * kFs, 3 * kFs - 100);
    };
    const Planar both = {s, s};
    const Rendered rb = renderMultiband(both, spec);
    EXPECT_NEAR(gainOf(rb, both, 0), curveGain(-6.0), 0.05);
    EXPECT_NEAR(gainOf(rb, both, 1), curveGain(-6.0), 0.05);
    const Planar left = {s, std::vector<float>(s.size(), 0.0f)};
    const Rendered rl = renderMultiband(left, spec);
    EXPECT_NEAR(gainOf(rl, left, 0), curveGain(-6.0 - 20.0 * std::log10(2.0)), 0.05);
    EXPECT_EQ(rl.audio[1], std::vector<float>(s.size(), 0.0f));
    // All bands bypassed: nothing is encoded, the output nulls.
    spec.bands[1].bypass = true;
    const Planar noise = {test::noise(2 * kFs, 0.5, 61), test::noise(2 * kFs, 0.5, 62)};
    const Rendered rn = renderMultiband(noise, spec);
    for (std::size_t c = 0; c < 2; ++c) {
        EXPECT_LE(test::nullDb(rn.audio[c], noise[c]), test::kNullDb);
    }
}

TEST(MultibandStage, StereoFastPathsEqualTheGeneralPath) {
    // Stereo runs both channels' detectors in one loop, and with a 100 % link runs one detector
    // for both; more channels take the general path (a pass per channel). [L, R, R] through the
    // general path has the same loudest level every sample as [L, R], so its first two channels
    // must be the stereo result bit for bit — for a full link, a partial one, and none, with either
    // detector (a linked RMS pair takes the square root of the larger mean square only).
    MultibandSpec spec;
    spec.bands[1].thresholdDb = -30.0;
    spec.bands[1].ratio = 3.0;
    spec.bands[2].mode = DynamicsMode::Expander;
    spec.bands[2].thresholdDb = -40.0;
    const Planar stereo = {test::noise(2 * kFs, 0.4, 41), test::noise(2 * kFs, 0.1, 42)};
    const Planar three = {stereo[0], stereo[1], stereo[1]};
    for (DetectorKind detector : {DetectorKind::Rms, DetectorKind::Peak}) {
        spec.detector = detector;
        for (double link : {100.0, 60.0, 0.0}) {
            spec.stereoLinkPercent = link;
            const Rendered a = renderMultiband(stereo, spec);
            const Rendered b = renderMultiband(three, spec);
            for (std::size_t c = 0; c < 2; ++c) {
                ASSERT_EQ(a.audio[c], b.audio[c])
                    << "detector " << static_cast<int>(detector) << ", link " << link << ", channel " << c;
            }
        }
    }
}

TEST(MultibandStage, StereoLinkAppliesOneGainToBothChannels) {
    // Loud left, quiet right in the same band: linked, the right channel is turned down by the
    // left's gain; unlinked, it is left alone (it is below the threshold).
    MultibandSpec spec = oneBandAbove100Hz(-30.0, 4.0);
    const Planar in = {test::sine(2000.0, 0.5, kFs, 3 * kFs), test::sine(2000.0, 0.005, kFs, 3 * kFs)};
    for (double link : {100.0, 0.0}) {
        spec.stereoLinkPercent = link;
        const Rendered r = renderMultiband(in, spec);
        const double left = rmsDb(r.audio[0], 2 * kFs, 3 * kFs - 100) - rmsDb(in[0], 2 * kFs, 3 * kFs - 100);
        const double right = rmsDb(r.audio[1], 2 * kFs, 3 * kFs - 100) - rmsDb(in[1], 2 * kFs, 3 * kFs - 100);
        if (link == 100.0) {
            EXPECT_NEAR(right, left, 0.01);
        } else {
            EXPECT_NEAR(right, 0.0, 0.01);
            EXPECT_LT(left, -10.0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Presets

TEST(Presets, BundledPresetsParseAndStaySubtle) {
    const auto presets = bundledPresets();
    std::vector<std::string> names;
    for (const auto& p : presets) {
        names.push_back(p.name);
        const Preset preset = parsePreset(loadPresetDocument(p.name));
        EXPECT_FALSE(preset.description.empty()) << p.name;
        for (const auto& st : preset.stages) {
            if (const auto* eq = std::get_if<design::EqSpec>(&st.spec)) {
                // Tonal changes within ±3 dB across the musical range (the subsonic high-pass
                // below 40 Hz is clean-up, not tone).
                for (double hz = 40.0; hz <= 16000.0; hz *= 1.05) {
                    for (auto place :
                         {design::EqPlacement::Stereo, design::EqPlacement::Mid, design::EqPlacement::Side}) {
                        const double db = 20.0 * std::log10(design::targetMagnitude(*eq, place, hz));
                        EXPECT_LE(std::abs(db), 3.0) << p.name << " at " << hz << " Hz";
                    }
                }
            }
        }
    }
    for (const char* want : {"transparent", "gentle-polish", "warm", "bright-air", "glue-room"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
    }
    EXPECT_TRUE(parsePreset(loadPresetDocument("transparent")).stages.empty());
}

std::string errorOf(const std::string& json, const std::filesystem::path& base = ".") {
    try {
        parsePreset({nlohmann::json::parse(json), "test", base});
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Presets, AResolvedPresetReadsBackAsTheSamePreset) {
    // What `lathe presets --show` prints and a report records must work as a preset file
    // (found by fuzz/FuzzPreset's round-trip check: the "source" field was refused).
    for (const PresetInfo& info : bundledPresets()) {
        const Preset p = parsePreset(loadPresetDocument(info.name));
        const nlohmann::json resolved = toJson(p);
        Preset again;
        ASSERT_NO_THROW(again = parsePreset({resolved, "/tmp/resolved.json", "."})) << info.name;
        nlohmann::json a = toJson(again);
        nlohmann::json b = resolved;
        a.erase("source");
        b.erase("source");
        EXPECT_EQ(a, b) << info.name;
    }
}

// glue-master is issue 8's benchmark chain (EQ, reverb, multiband, limiter, target): the default
// master with glue-room's room after its EQ. It must stay exactly that when either changes.
TEST(Presets, GlueMasterIsTheDefaultMasterWithTheGlueRoom) {
    const nlohmann::json glue = toJson(parsePreset(loadPresetDocument("glue-master")));
    const nlohmann::json master = toJson(parsePreset(loadPresetDocument("default")));
    const nlohmann::json room = toJson(parsePreset(loadPresetDocument("glue-room")));
    ASSERT_EQ(glue["stages"].size(), 4u);
    ASSERT_EQ(master["stages"].size(), 3u);
    EXPECT_EQ(glue["stages"][0], master["stages"][0]); // the EQ
    EXPECT_EQ(glue["stages"][1], room["stages"][1]);   // the room
    EXPECT_EQ(glue["stages"][2], master["stages"][1]); // the multiband
    EXPECT_EQ(glue["stages"][3], master["stages"][2]); // the limiter
    EXPECT_EQ(glue["target_lufs"], master["target_lufs"]);
}

TEST(Presets, ValidationErrorsNameTheField) {
    const std::string head = R"({"schema": "lathe.preset/1", "name": "p", "stages": )";
    EXPECT_NE(
        errorOf(head + R"([{"type": "compressor"}]})").find("'type': 'compressor' is not one of eq, reverb"),
        std::string::npos);
    EXPECT_NE(errorOf(head + R"([{"type": "eq", "bands": [{"type": "bell", "hz": 100, "gain": 3}]}]})")
                  .find("stages[0] (eq) band 1 unknown field 'gain'; did you mean 'gain_db'?"),
              std::string::npos);
    EXPECT_NE(errorOf(head + R"([{"type": "eq", "bands": [{"type": "bell", "hz": 100, "gain_db": 30}]}]})")
                  .find("'gain_db': 30 is outside [-24, 24]"),
              std::string::npos);
    EXPECT_NE(errorOf(head + R"([{"type": "eq", "taps": 4096}]})")
                  .find("'taps': 4096 must be 0 (automatic) or odd"),
              std::string::npos);
    EXPECT_NE(errorOf(head + R"([{"type": "eq", "curve": [[100, 1], [50, 2]]}]})")
                  .find("frequencies must increase"),
              std::string::npos);
    EXPECT_NE(
        errorOf(head + R"([{"type": "reverb", "wet_db": 30}]})").find("'wet_db': 30 is outside [-120, 12]"),
        std::string::npos);
    EXPECT_NE(
        errorOf(head + R"([{"type": "reverb", "room": "garage"}]})").find("'room': 'garage' is not one of"),
        std::string::npos);
    EXPECT_NE(
        errorOf(head + R"([{"type": "eq"}, {"type": "eq", "id": "eq"}]})").find("'id': 'eq' is used twice"),
        std::string::npos);
    EXPECT_NE(errorOf(head + R"([{"type": "multiband", "splits_hz": [200, 2000], "bands": [{}, {}]}]})")
                  .find("'bands': needs one object per band: 3 for 2 split frequencies"),
              std::string::npos);
    EXPECT_NE(
        errorOf(head + R"([{"type": "multiband", "splits_hz": [200], "bands": [{"mode": "gate"}, {}]}]})")
            .find("band 1 'mode': 'gate' is not one of compressor, expander, upward"),
        std::string::npos);
    EXPECT_NE(errorOf(head + R"([{"type": "limiter", "ceiling_dbtp": 1}]})")
                  .find("'ceiling_dbtp': 1 is outside [-20, 0]"),
              std::string::npos);
    EXPECT_NE(errorOf(R"({"schema": "lathe.preset/9", "stages": []})")
                  .find("'schema': 'lathe.preset/9' is not supported"),
              std::string::npos);
    EXPECT_NE(errorOf(R"({"schema": "lathe.preset/1"})").find("'stages': is required"), std::string::npos);
    EXPECT_NE(
        errorOf(head +
                R"([{"type": "eq", "bands": [{"type": "highpass", "hz": 30, "slope_db_per_oct": 10}]}]})")
            .find("'slope_db_per_oct': 10 is not one of 6, 12, 18, 24, 36, 48"),
        std::string::npos);
    // A missing IR file is an input error (exit code 3 in the CLI) naming the path and the field.
    try {
        parsePreset(
            {nlohmann::json::parse(head + R"([{"type": "reverb", "ir": "nowhere.wav"}]})"), "test", "/tmp"});
        ADD_FAILURE() << "no error";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(
                      "/tmp/nowhere.wav: impulse response not found (stages[0] (reverb) 'ir')"),
                  std::string::npos)
            << e.what();
    }
}

TEST(Presets, OverridesAddressStagesAndBands) {
    PresetDocument doc = loadPresetDocument("glue-room");
    applyOverride(doc, "eq.band2.gain_db=-2.5");
    applyOverride(doc, "reverb.wet_db=-30");
    applyOverride(doc, "reverb.room=hall");
    const Preset p = parsePreset(doc);
    EXPECT_EQ(std::get<design::EqSpec>(p.stages[0].spec).bands[1].gainDb, -2.5);
    EXPECT_EQ(std::get<ReverbSpec>(p.stages[1].spec).wetDb, -30.0);
    EXPECT_EQ(std::get<ReverbSpec>(p.stages[1].spec).room, "hall");
    auto fails = [&](const std::string& set, const std::string& message) {
        PresetDocument d = loadPresetDocument("glue-room");
        try {
            applyOverride(d, set);
            parsePreset(d);
            ADD_FAILURE() << set << ": no error";
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
        }
    };
    fails("limiter.ceiling_db=-1", "no stage 'limiter' (stages: eq, reverb)");
    fails("eq.band9.gain_db=1", "has 3 bands");
    fails("eq.band1.slope_db_per_oct=7", "'slope_db_per_oct': 7 is not one of");
    fails("reverb.wet_db=loud", "'wet_db': must be a number");
    fails("eq", "expected stage.parameter=value");
}

} // namespace
} // namespace lathe

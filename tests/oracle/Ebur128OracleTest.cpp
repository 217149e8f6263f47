// SPDX-License-Identifier: GPL-3.0-or-later
// libebur128 (Debian's libebur128-dev, linked by the tests only) as an oracle on generated
// programme material, and a naive ×16 double-precision oversampler as the true-peak reference.
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Loudness.h>
#include <lathe/math/Random.h>
#include <lathe/signals/DemoMix.h>

#include <gtest/gtest.h>

#include <cmath>
#include <ebur128.h>
#include <numbers>

namespace lathe {
namespace {

using test::Planar;

struct OracleResult {
    double integrated;
    double lra;
};

/// libebur128 with the channel map that matches `layout` (its default maps 6 channels to
/// L R C (unused) Ls Rs, i.e. 5.1 with the LFE excluded; mono is one channel of weight 1).
OracleResult oracle(const Planar& x, SampleRate fs) {
    const auto channels = static_cast<unsigned>(x.size());
    ebur128_state* st =
        ebur128_init(channels, static_cast<unsigned long>(fs), EBUR128_MODE_I | EBUR128_MODE_LRA);
    const std::size_t frames = x[0].size();
    std::vector<float> inter(frames * channels);
    for (std::size_t i = 0; i < frames; ++i) {
        for (unsigned c = 0; c < channels; ++c) {
            inter[i * channels + c] = x[c][i];
        }
    }
    ebur128_add_frames_float(st, inter.data(), frames);
    OracleResult r{};
    ebur128_loudness_global(st, &r.integrated);
    ebur128_loudness_range(st, &r.lra);
    ebur128_destroy(&st);
    return r;
}

/// Programme material: segments of `minSeconds`…`minSeconds`+`spreadSeconds`, each a random kind (noise
/// burst, tone, demo-mix excerpt) at a random level between −32 and −14 dBFS; deterministic for a seed. LRA
/// is a percentile statistic of short-term values that libebur128 samples every 1 s and Tech 3342 (and Lathe)
/// every 0.1 s; with segments this long the percentiles fall on the segments' plateaus, where both samplings
/// agree. Music excerpts have level changes of their own (intro, break) whose transitions the two samplings
/// resolve differently, so LRA is compared on steady programmes (`withMusic` false) and integrated loudness
/// on both.
Planar programme(int channels, SampleRate fs, std::uint64_t seed, double seconds, double minSeconds = 15.0,
                 bool withMusic = true, double spreadSeconds = 10.0) {
    Planar out(static_cast<std::size_t>(channels));
    signals::DemoMixSettings ds;
    ds.sampleRate = fs;
    ds.durationSeconds = seconds + 15;
    ds.seed = seed;
    signals::DemoMix mix(ds);
    AudioBuffer music;
    mix.read(music, static_cast<Frames>((seconds + 15) * fs));
    std::uint64_t counter = 0;
    auto uniform = [&] {
        return math::uniformFromBits(
            static_cast<std::uint32_t>(math::hashCounter(seed, 99, counter++) >> 32));
    };
    Frames pos = 0;
    const auto total = static_cast<Frames>(seconds * fs);
    while (pos < total) {
        const auto len =
            std::min(total - pos, static_cast<Frames>((minSeconds + spreadSeconds * uniform()) * fs));
        const double gain = std::pow(10.0, (-32.0 + 18.0 * uniform()) / 20.0);
        const int kind = static_cast<int>(uniform() * (withMusic ? 3.0 : 2.0));
        const double hz = 60.0 + 5000.0 * uniform();
        for (int c = 0; c < channels; ++c) {
            std::vector<float> seg;
            if (kind == 0) {
                seg = test::noise(len, 1.0, seed * 131 + static_cast<std::uint64_t>(pos + c));
            } else if (kind == 1) {
                seg = test::sine(hz * (1.0 + 0.01 * c), 1.0, fs, len);
            } else {
                const float* src = music.channel(c % 2) + pos;
                seg.assign(src, src + len);
                for (float& v : seg) {
                    v *= 4.0f; // the mix sits around −18 dBFS RMS; bring it near full scale before the gain
                }
            }
            for (float& v : seg) {
                v = static_cast<float>(v * gain);
            }
            out[static_cast<std::size_t>(c)].insert(out[static_cast<std::size_t>(c)].end(), seg.begin(),
                                                    seg.end());
        }
        pos += len;
    }
    return out;
}

LoudnessResult ours(const Planar& x, SampleRate fs, const ChannelLayout& layout) {
    test::MemorySource src(x, fs, layout);
    auto cpu = makeCpuBackend();
    return measureLoudness(src, LoudnessOptions{}, *cpu);
}

/// libebur128 keeps the RLB high-pass numerator at [1, −2, 1] at every rate, which gives the filter
/// a broadband gain of a0(fs) = 1 + K/Q + K² (K = tan(π·38.135 Hz/fs)); Lathe normalises it to the
/// 48 kHz gain so that all rates read like 48 kHz (lathe/design/LoudnessDesign.h). The oracle's
/// reading is therefore corrected by 20·log10(a0(48 kHz)/a0(fs)): 0 at 48 kHz, +0.022 dB at
/// 96 kHz, −0.050 dB at 22.05 kHz.
double rateCorrectionDb(SampleRate fs) {
    auto a0 = [](double rate) {
        const double k = std::tan(std::numbers::pi * 38.13547087602444 / rate);
        return 1.0 + k / 0.5003270373238773 + k * k;
    };
    return 20.0 * std::log10(a0(48000.0) / a0(fs));
}

struct ProgrammeCase {
    const char* name;
    const char* layout;
    SampleRate fs;
    std::uint64_t seed;
};

class Oracle : public ::testing::TestWithParam<ProgrammeCase> {};

TEST_P(Oracle, IntegratedLoudnessAgreesWithLibebur128) {
    const ProgrammeCase& pc = GetParam();
    const ChannelLayout layout = parseChannelLayout(pc.layout);
    const Planar x = programme(layout.channels(), pc.fs, pc.seed, 90.0, 4.0);
    const auto r = ours(x, pc.fs, layout);
    const OracleResult o = oracle(x, pc.fs);
    ASSERT_TRUE(r.integratedLufs);
    EXPECT_NEAR(*r.integratedLufs, o.integrated + rateCorrectionDb(pc.fs), test::kOracleIntegratedLu)
        << pc.name;
}

TEST_P(Oracle, LoudnessRangeAgreesWithLibebur128OnSteadyProgrammes) {
    const ProgrammeCase& pc = GetParam();
    const ChannelLayout layout = parseChannelLayout(pc.layout);
    // Six steady 20 s segments: each holds 1/6 of the short-term values, so P10 and P95 sit on the
    // quietest and loudest plateaus rather than in the 3 s transitions between them.
    const Planar x = programme(layout.channels(), pc.fs, pc.seed + 100, 120.0, 20.0, false, 0.0);
    const auto r = ours(x, pc.fs, layout);
    const OracleResult o = oracle(x, pc.fs);
    ASSERT_TRUE(r.lraLu);
    EXPECT_NEAR(*r.lraLu, o.lra, test::kOracleLraLu) << pc.name;
}

INSTANTIATE_TEST_SUITE_P(Programmes, Oracle,
                         ::testing::Values(ProgrammeCase{"mono_48k", "mono", 48000, 1},
                                           ProgrammeCase{"stereo_44k1", "stereo", 44100, 2},
                                           ProgrammeCase{"stereo_48k", "stereo", 48000, 3},
                                           ProgrammeCase{"stereo_96k", "stereo", 96000, 4},
                                           ProgrammeCase{"surround51_48k", "5.1", 48000, 5},
                                           ProgrammeCase{"stereo_22k05", "stereo", 22050, 6}),
                         [](const auto& p) { return std::string(p.param.name); });

// True peak against the brute-force ×16 reference on programme material (noise bursts sit at
// full bandwidth, the hardest case for any oversampling meter).
TEST(OracleTruePeak, WithinATenthOfADecibelOfTheSixteenTimesReference) {
    for (std::uint64_t seed : {11u, 12u, 13u}) {
        Planar x = programme(2, 48000, seed, 8.0, 2.0);
        // Bring the programme near full scale so that its peaks are the test.
        float peak = 0.0f;
        for (const auto& ch : x) {
            for (float v : ch) {
                peak = std::max(peak, std::fabs(v));
            }
        }
        for (auto& ch : x) {
            for (float& v : ch) {
                v *= 0.9f / peak;
            }
        }
        const auto r = ours(x, 48000, ChannelLayout::fromConvention(2));
        ASSERT_TRUE(r.truePeakDbtp);
        EXPECT_NEAR(r.truePeakDbtp->value, test::referenceTruePeakDb(x), test::kTruePeakVsReferenceDb)
            << "seed " << seed;
    }
}

// A DC offset of 0.5: the onset step passes the 38 Hz high-pass; libebur128 reads −29.3 LUFS.
TEST(OracleEdge, DcOffsetAgreesWithLibebur128) {
    const Planar x{std::vector<float>(48000 * 5, 0.5f), std::vector<float>(48000 * 5, 0.5f)};
    const auto r = ours(x, 48000, ChannelLayout::fromConvention(2));
    const OracleResult o = oracle(x, 48000);
    ASSERT_TRUE(r.integratedLufs);
    EXPECT_NEAR(*r.integratedLufs, o.integrated, test::kOracleIntegratedLu); // 48 kHz: no correction
}

} // namespace
} // namespace lathe

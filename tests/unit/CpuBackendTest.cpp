// SPDX-License-Identifier: GPL-3.0-or-later
// CpuBackend's vectorised loops (block statistics, peaks, the meter's K-weighting and search)
// against the per-sample definitions in lathe/math.
#include "../../host/src/dsp/cpu/HostLoops.h"
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Backend.h>
#include <lathe/Error.h>
#include <lathe/LoudnessKernel.h>
#include <lathe/design/LoudnessDesign.h>
#include <lathe/math/Loudness.h>
#include <lathe/math/Random.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>
#include <vector>

namespace lathe {
namespace {

math::SampleStats definition(const AudioBuffer& b, int c, Frames first) {
    math::SampleStats s = math::emptyStats();
    for (Frames i = 0; i < b.frames(); ++i) {
        math::accumulateSample(s, b.channel(c)[i], first + i);
    }
    return s;
}

void expectSame(const math::SampleStats& got, const math::SampleStats& want, const std::string& what) {
    EXPECT_EQ(got.peakAbs, want.peakAbs) << what;
    EXPECT_EQ(got.peakFrame, want.peakFrame) << what;
    EXPECT_EQ(got.finiteCount, want.finiteCount) << what;
    EXPECT_EQ(got.nonFiniteCount, want.nonFiniteCount) << what;
    EXPECT_EQ(got.firstNonFinite, want.firstNonFinite) << what;
    EXPECT_NEAR(got.sum, want.sum, test::kStatsSumRelative * (want.sumSquares + 1.0)) << what;
    EXPECT_NEAR(got.sumSquares, want.sumSquares, test::kStatsSumRelative * want.sumSquares) << what;
}

TEST(CpuBackendStats, EqualsThePerSampleDefinition) {
    auto cpu = makeCpuBackend();
    for (Frames n : {0, 1, 3, 4, 5, 17, 1000, 65536}) {
        for (int variant = 0; variant < 6; ++variant) {
            AudioBuffer b(1, n);
            b.setFrames(n);
            const auto x = test::noise(n, 0.7, static_cast<std::uint64_t>(100 + variant));
            std::copy(x.begin(), x.end(), b.channel(0));
            float* p = b.channel(0);
            if (n > 10) {
                switch (variant) {
                case 1:
                    p[n / 3] = -0.9f;
                    p[n / 2] = 0.9f;
                    break; // tie: the first wins
                case 2:
                    p[7] = NAN;
                    break; // falls back to the exact path
                case 3:
                    p[n - 1] = -INFINITY;
                    p[2] = 1e-41f;
                    break;
                case 4:
                    std::fill(p, p + n, -0.0f);
                    break; // negative zeros: peak 0, no position
                case 5:
                    p[9] = 3.0e38f;
                    break; // huge but finite
                default:
                    break;
                }
            }
            std::vector<math::SampleStats> got{math::emptyStats()};
            cpu->accumulateStats(b, 5000, got);
            expectSame(got[0], definition(b, 0, 5000),
                       "n " + std::to_string(n) + " variant " + std::to_string(variant));
        }
    }
}

// The true-peak search's ×4 phases (the CPU meter's firPhase, blocks of 32 outputs in registers)
// equal math::interpolateAt — the per-output definition the device's kernels use — to the bit, at
// every length around a block's edge, for each phase of the search interpolator.
TEST(CpuLoudnessSearch, PhasesEqualTheInterpolatorsDefinition) {
    const design::Interpolator& search = design::truePeakSearchInterpolator();
    const int taps = search.taps;
    for (const Frames n : {0, 1, 31, 32, 33, 64, 100, 4410, 4800}) {
        const auto x = test::noise(n + taps, 0.9, 300 + static_cast<std::uint64_t>(n));
        std::vector<float> got(static_cast<std::size_t>(n));
        for (int phase = 1; phase < 4; ++phase) {
            detail::firPhase(x.data(), search.coeffs.data() + phase * taps, taps, n, got.data());
            for (Frames i = 0; i < n; ++i) {
                const float want = math::interpolateAt(x.data() + i, search.coeffs.data(), taps, phase);
                ASSERT_EQ(std::bit_cast<std::uint32_t>(got[static_cast<std::size_t>(i)]),
                          std::bit_cast<std::uint32_t>(want))
                    << n << " outputs, phase " << phase << ", output " << i;
            }
        }
    }
}

// The peak search (blocks of 64 samples, an integer max each) against the scan that keeps the
// first strictly larger |x|: the same bits and the same first position, at lengths around a
// block's edge, with ties, zeros and a NaN.
TEST(CpuPeakBits, EqualsTheFirstLargestScan) {
    for (const Frames n : {0, 1, 2, 63, 64, 65, 127, 128, 129, 4800}) {
        for (int variant = 0; variant < 5; ++variant) {
            auto x = test::noise(n, 0.6, 500 + static_cast<std::uint64_t>(n) * 7 + variant);
            if (variant == 1 && n > 3) { // a tie across blocks: the first wins
                x[static_cast<std::size_t>(n - 1)] = 0.95f;
                x[static_cast<std::size_t>(n / 3)] = -0.95f;
            } else if (variant == 2) { // zeros (of either sign): no peak, no position
                std::fill(x.begin(), x.end(), n % 2 == 0 ? -0.0f : 0.0f);
            } else if (variant == 3 && n > 0) {
                x[static_cast<std::size_t>(n / 2)] = NAN;
            } else if (variant == 4 && n > 1) { // the largest in the last sample (the tail)
                x[static_cast<std::size_t>(n - 1)] = 2.0f;
            }
            std::uint32_t bits = 0;
            Frames first = -1;
            for (Frames i = 0; i < n; ++i) {
                const std::uint32_t b =
                    std::bit_cast<std::uint32_t>(x[static_cast<std::size_t>(i)]) & 0x7fffffffu;
                if (b > bits) {
                    bits = b;
                    first = i;
                }
            }
            const detail::PeakBits got = detail::peakBits(x.data(), n);
            EXPECT_EQ(got.bits, bits) << n << " samples, variant " << variant;
            EXPECT_EQ(got.first, first) << n << " samples, variant " << variant;
        }
    }
}

// The meter's K-weighting, two channels a vector, equals math::kWeightSample on each channel
// alone, in doubles, to the bit: every sub-block's energy, for 1, 2, 3 and 6 channels (an odd
// channel fills both lanes), over the warm-up and a chunk that ends in a partial sub-block.
TEST(CpuLoudnessWeighting, EnergiesEqualTheOneChannelDefinition) {
    const LoudnessParams params = LoudnessParams::forRate(48000);
    const Frames warm = params.warmupFrames;
    const Frames frames = 3 * params.stepFrames + 17;
    const Frames sub = params.subBlockFrames;
    for (const int channels : {1, 2, 3, 6}) {
        AudioBuffer audio(channels, warm + frames + params.lookaheadFrames);
        audio.setFrames(warm + frames + params.lookaheadFrames);
        for (int c = 0; c < channels; ++c) {
            const auto x = test::noise(audio.frames(), 0.5, 700 + static_cast<std::uint64_t>(c));
            std::copy(x.begin(), x.end(), audio.channel(c));
        }
        LoudnessRecords got;
        measureLoudnessChunkCpu(params, LoudnessChunk{&audio, 0, frames}, got);
        ASSERT_EQ(got.subBlockEnergy.size(), static_cast<std::size_t>(channels));
        for (int c = 0; c < channels; ++c) {
            const float* x = audio.channel(c);
            math::KWeightingState state{};
            for (Frames i = 0; i < warm; ++i) {
                math::kWeightSample(params.kWeighting, state, x[i]);
            }
            const auto& energy = got.subBlockEnergy[static_cast<std::size_t>(c)];
            ASSERT_EQ(energy.size(), static_cast<std::size_t>((frames + sub - 1) / sub));
            for (std::size_t k = 0; k < energy.size(); ++k) {
                double want = 0.0;
                const Frames end = warm + std::min(frames, static_cast<Frames>(k + 1) * sub);
                for (Frames i = warm + static_cast<Frames>(k) * sub; i < end; ++i) {
                    const double v = math::kWeightSample(params.kWeighting, state, x[i]);
                    want += v * v;
                }
                ASSERT_EQ(std::bit_cast<std::uint64_t>(energy[k]), std::bit_cast<std::uint64_t>(want))
                    << channels << " channels, channel " << c << ", sub-block " << k;
            }
        }
    }
}

} // namespace
} // namespace lathe

namespace lathe {
namespace {

TEST(BackendRegistry, AutoSkipsABackendThatProbesButFailsToStartAndSaysWhy) {
    // A device that probes fine but whose set-up fails (its first allocation: out of memory).
    BackendRegistry registry;
    registry.add(
        "flaky", 10,
        [] {
            BackendStatus s;
            s.available = true;
            return s;
        },
        []() -> std::unique_ptr<Backend> {
            throw GpuError("cudaMalloc(&p, bytes)", "cudaErrorMemoryAllocation", "out of memory", "test.cu",
                           1);
        });
    const BackendRegistry::Selection sel = registry.select("auto", Capability::Render);
    EXPECT_EQ(sel.backend->name(), "cpu");
    EXPECT_NE(sel.reason.find("flaky failed to start"), std::string::npos) << sel.reason;
    EXPECT_NE(sel.reason.find("cudaErrorMemoryAllocation"), std::string::npos) << sel.reason;
    // Asked for by name, the failure is the user's answer.
    EXPECT_THROW(registry.select("flaky", Capability::Render), GpuError);
}

// The rerun policy both front ends use: a GPU failure mid-job under auto reruns the job on a CPU
// backend and says why; any other error, or an explicit backend, is not retried.
TEST(BackendRegistry, AGpuFailureMidJobRerunsOnTheCpuOnlyUnderAuto) {
    const GpuError fault("cufftExecR2C", "cudaErrorLaunchFailure", "unspecified launch failure", "x.cpp", 1);
    BackendRegistry registry;
    for (bool automatic : {true, false}) {
        BackendRegistry::Selection sel = registry.select("cpu");
        sel.reason = "auto: using cuda";
        std::vector<std::string> ranOn;
        int told = 0;
        auto job = [&](Backend& b) {
            ranOn.emplace_back(b.name());
            if (ranOn.size() == 1) {
                throw fault; // the first attempt's device fails
            }
            return 42;
        };
        if (automatic) {
            EXPECT_EQ(runWithCpuRerun(sel, true, job, [&](const GpuError&) { ++told; }), 42);
            EXPECT_EQ(ranOn, (std::vector<std::string>{"cpu", "cpu"}));
            EXPECT_EQ(told, 1);
            EXPECT_NE(sel.reason.find("failed mid-job (cufftExecR2C"), std::string::npos) << sel.reason;
            EXPECT_NE(sel.reason.find("rerun on cpu"), std::string::npos) << sel.reason;
        } else {
            EXPECT_THROW(runWithCpuRerun(sel, false, job), GpuError);
            EXPECT_EQ(ranOn.size(), 1u);
        }
    }
    BackendRegistry::Selection sel = registry.select("cpu");
    int runs = 0;
    EXPECT_THROW(runWithCpuRerun(sel, true,
                                 [&](Backend&) -> int {
                                     ++runs;
                                     throw InputError("x.wav", "truncated");
                                 }),
                 InputError);
    EXPECT_EQ(runs, 1) << "only a GPU failure is retried";
}

// LATHE_CUDA_HOLD's list: keys in any order, empty items ignored; a key that is not a capability,
// or one that may not be held (the caller's list), is a usage error naming the setting and the
// keys it takes.
TEST(BackendCapabilities, AHoldListNamesOnlyTheCapabilitiesItMayHold) {
    static constexpr Capability kHoldable[] = {Capability::Dynamics, Capability::LimiterPass,
                                               Capability::Spectrum};
    EXPECT_EQ(parseCapabilityKeys("HOLD", "spectrum,,limiter-pass", kHoldable),
              (std::vector<Capability>{Capability::Spectrum, Capability::LimiterPass}));
    EXPECT_TRUE(parseCapabilityKeys("HOLD", "", kHoldable).empty());
    for (const char* bad : {"render", "Spectrum", "limiter", "spectrum, dynamics"}) {
        try {
            parseCapabilityKeys("HOLD", bad, kHoldable);
            ADD_FAILURE() << bad << " was accepted";
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("HOLD: unknown or unsupported capability"),
                      std::string::npos)
                << e.what();
            EXPECT_NE(std::string(e.what()).find("dynamics, limiter-pass, spectrum"), std::string::npos)
                << e.what();
        }
    }
    for (const Capability c : kCapabilities) { // every key reads back as its capability
        EXPECT_EQ(parseCapabilityKeys("HOLD", capabilityKey(c), kCapabilities), (std::vector<Capability>{c}));
    }
}

} // namespace
} // namespace lathe

// SPDX-License-Identifier: GPL-3.0-or-later
// CpuBackend's vectorisable block statistics against the per-sample definition in lathe/math.
#include "../../host/src/dsp/cpu/HostLoops.h"
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Backend.h>
#include <lathe/Error.h>
#include <lathe/design/LoudnessDesign.h>
#include <lathe/math/Loudness.h>
#include <lathe/math/Random.h>

#include <gtest/gtest.h>

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

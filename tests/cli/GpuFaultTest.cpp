// GPU fault injection (issue 12; runs on a GPU machine, skips elsewhere with the probe's reason):
// a failed device allocation or kernel launch mid-render leaves no partial output and keeps an
// existing one, with exit 6 naming the CUDA call; under --backend auto the job is rerun on the CPU
// and the report says so.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "Process.h"
#include "TestFiles.h"
#include "TestSignals.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sndfile.h>

namespace lathe::test {
namespace {

constexpr int kExitDevice = 6; // cli/ExitCodes.h

struct Fault {
    const char* spec;    ///< LATHE_TEST_CUDA_FAULT
    const char* call;    ///< what the error names
    const char* errName; ///< the CUDA error name
};

class GpuFault : public ::testing::TestWithParam<Fault> {};

TEST_P(GpuFault, FailsCleanlyWithCudaAndRerunsOnTheCpuWithAuto) {
    if (const std::string why = cudaUnavailableReason(); !why.empty()) {
        GTEST_SKIP() << "cuda: not tested (" << why << ")";
    }
    const Fault f = GetParam();
    TempDir d;
    // 8 s = 6 blocks of 65536 frames through the `warm` preset's linear-phase EQ (one convolution
    // on the device; the statistics and the quantisation are the host's): its filters' transform is
    // the first launch, and every block takes six more, so kernel:4 falls inside the render; the
    // third allocation is a cuFFT plan's (its failure injected where the plan is made, before the
    // work area its convolver then shares between its plans; as run on an H200, 2026-11-26). The
    // first page-locked allocation is a buffer of the render's (the EQ's pending input, or the
    // first block), after the backend has started: the job fails there.
    writeRawFloat(d / "in.wav", Planar{noise(8 * 48000, 0.3, 1), noise(8 * 48000, 0.3, 2)}, 48000,
                  SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    writeBytes(d / "out.wav", {'o', 'l', 'd'});
    ProcessOptions env;
    env.env["LATHE_TEST_CUDA_FAULT"] = f.spec;
    const ProcessResult hard = runProcess(latheBinary(),
                                          {"--backend", "cuda", "master", (d / "in.wav").string(), "-o",
                                           (d / "out.wav").string(), "--preset", "warm", "--bits", "24"},
                                          env);
    EXPECT_EQ(hard.exitCode, kExitDevice) << hard.err;
    EXPECT_NE(hard.err.find(f.call), std::string::npos) << hard.err;
    EXPECT_NE(hard.err.find(f.errName), std::string::npos) << hard.err;
    EXPECT_EQ(readBytes(d / "out.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
    for (const auto& name : d.entries()) {
        EXPECT_NE(name.rfind(".", 0), 0u) << "left behind: " << name;
    }
    const ProcessResult soft =
        runProcess(latheBinary(),
                   {"--backend", "auto", "master", (d / "in.wav").string(), "-o", (d / "out.wav").string(),
                    "--preset", "warm", "--bits", "24", "--json"},
                   env);
    ASSERT_EQ(soft.exitCode, 0) << soft.err;
    // Mid-job the job is rerun on the CPU; a fault while the backend starts (malloc:1, its first
    // allocation) makes "auto" pick the CPU at once. Either way the reason names the failure.
    EXPECT_NE(soft.err.find(f.errName), std::string::npos) << soft.err;
    const auto j = nlohmann::json::parse(soft.out);
    const std::string reason = j["backend_reason"].get<std::string>();
    EXPECT_NE(reason.find(f.errName), std::string::npos) << reason;
    EXPECT_TRUE(reason.find("rerun on cpu") != std::string::npos ||
                reason.find("using cpu") != std::string::npos)
        << reason;
    // The CPU's output is the reference: the same file as a plain CPU run.
    const ProcessResult cpu =
        runProcess(latheBinary(), {"--backend", "cpu", "master", (d / "in.wav").string(), "-o",
                                   (d / "cpu.wav").string(), "--preset", "warm", "--bits", "24"});
    ASSERT_EQ(cpu.exitCode, 0) << cpu.err;
    EXPECT_EQ(readBytes(d / "out.wav"), readBytes(d / "cpu.wav"));
}

INSTANTIATE_TEST_SUITE_P(Faults, GpuFault,
                         ::testing::Values(Fault{"malloc:1", "cudaMalloc", "cudaErrorMemoryAllocation"},
                                           Fault{"malloc:3", "cufftMakePlanMany", "CUFFT_ALLOC_FAILED"},
                                           Fault{"kernel:1", "cufftExecR2C (filters)",
                                                 "cudaErrorLaunchFailure"},
                                           Fault{"kernel:4", "launch", "cudaErrorLaunchFailure"},
                                           Fault{"pinned:1", "cudaHostAlloc", "cudaErrorMemoryAllocation"}),
                         [](const auto& param) {
                             std::string n = param.param.spec;
                             std::replace(n.begin(), n.end(), ':', '_');
                             return n;
                         });

} // namespace
} // namespace lathe::test

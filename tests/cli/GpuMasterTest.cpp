// The mastering chain on the CUDA backend, end to end through the CLI (issue 8; runs on a GPU
// machine, skips elsewhere with the probe's reason): its convolution stages (linear-phase EQ,
// reverb, the multiband crossovers, speaker models) run on the GPU, and the master equals the CPU
// backend's within the parity bound; a device failure inside a convolution fails cleanly or, under
// --backend auto, reruns on the CPU.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "Process.h"
#include "TestFiles.h"
#include "TestSignals.h"
#include "Tolerances.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

namespace lathe::test {
namespace {

constexpr int kExitDevice = 6; // cli/ExitCodes.h

/// The whole default chain on two backends: the convolutions differ by FFT rounding (≤ −110 dB,
/// tests/parity); the dynamics stages are continuous functions of their input whose gain
/// computers can raise a relative difference by their ratio and makeup (≤ 20 dB in the bundled
/// presets). A different decision anywhere (a targeting step, a limiter pass) would be ≥ −60 dB.
constexpr double kChainParityDb = -90.0;

class GpuMaster : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = cudaUnavailableReason(); !why.empty()) {
            GTEST_SKIP() << "cuda: not tested (" << why << ")";
        }
        ASSERT_EQ(runProcess(latheBinary(), {"--quiet", "demo-mix", "-o", path("in.wav"), "--duration", "20"})
                      .exitCode,
                  0);
    }
    std::string path(const std::string& name) const { return (m_dir / name).string(); }
    ProcessResult master(const std::string& backend, const std::string& out, const ProcessOptions& o = {}) {
        return runProcess(latheBinary(),
                          {"--backend", backend, "master", path("in.wav"), "-o", path(out), "--bits", "32f",
                           "--target", "-14", "--json"},
                          o);
    }
    TempDir m_dir;
};

TEST_F(GpuMaster, TheDefaultChainOnCudaEqualsTheCpuReference) {
    const ProcessResult gpu = master("cuda", "gpu.wav");
    ASSERT_EQ(gpu.exitCode, 0) << gpu.err;
    const ProcessResult cpu = master("cpu", "cpu.wav");
    ASSERT_EQ(cpu.exitCode, 0) << cpu.err;
    const auto gj = nlohmann::json::parse(gpu.out);
    EXPECT_EQ(gj["backend"], "cuda");
    // The trial ran on the device over the intermediate held there (20 s of stereo: room enough);
    // the CPU renders it.
    EXPECT_EQ(gj["targeting"]["trial"]["on_device"], true) << gpu.out;
    EXPECT_EQ(nlohmann::json::parse(cpu.out)["targeting"]["trial"]["on_device"], false);
    // Where the device time went: every input sample crossed to the device at least once (20 s of
    // stereo float: 7.68 MB), kernels ran, results came back. The CPU has no device time.
    ASSERT_TRUE(gj.contains("device_timing")) << gpu.out;
    const auto& dt = gj["device_timing"];
    EXPECT_GE(dt["host_to_device_bytes"].get<double>(), 20.0 * 48000 * 2 * 4);
    EXPECT_GT(dt["device_to_host_bytes"].get<double>(), 0.0);
    EXPECT_GT(dt["kernel_seconds"].get<double>(), 0.0);
    EXPECT_GT(dt["host_to_device_seconds"].get<double>(), 0.0);
    // Lathe's device buffers are sized by the calls (2^19 frames: the EQ's and the crossover's
    // convolvers, the multiband's bands and gains), not by the file: about 220 MB for this chain by
    // their sizes, so more than 1 MB and less than 1 GB.
    EXPECT_GT(dt["peak_buffer_bytes"].get<double>(), 1e6);
    EXPECT_LT(dt["peak_buffer_bytes"].get<double>(), 1e9);
    // The host buffers copied to and from the device are page-locked (Backend::hostMemory): the
    // render's blocks, the stages', the meters' chunks — sized by the calls too, so more than one
    // block of 65536 stereo frames (0.5 MB) and less than 1 GB.
    EXPECT_GT(dt["peak_pinned_bytes"].get<double>(), 65536.0 * 2 * 4);
    EXPECT_LT(dt["peak_pinned_bytes"].get<double>(), 1e9);
    EXPECT_FALSE(nlohmann::json::parse(cpu.out).contains("device_timing"));
    const Planar a = readRawFloat(m_dir / "gpu.wav");
    const Planar b = readRawFloat(m_dir / "cpu.wav");
    ASSERT_EQ(a.size(), b.size());
    double e = 0;
    double s = 0;
    for (std::size_t c = 0; c < a.size(); ++c) {
        ASSERT_EQ(a[c].size(), b[c].size());
        for (std::size_t k = 0; k < a[c].size(); ++k) {
            const double d = static_cast<double>(a[c][k]) - b[c][k];
            e += d * d;
            s += static_cast<double>(b[c][k]) * b[c][k];
        }
    }
    ASSERT_GT(s, 0);
    EXPECT_LE(10 * std::log10(std::max(e, 1e-300) / s), kChainParityDb);
}

// `lathe analyze --backend cuda` measures loudness on the GPU and reads as the CPU does: the
// issue's bounds (0.01 LU, 0.02 dB true peak), and the report names the backend that measured.
TEST_F(GpuMaster, AnalyzeOnCudaReadsAsTheCpu) {
    const ProcessResult gpu =
        runProcess(latheBinary(), {"--backend", "cuda", "analyze", path("in.wav"), "--json"});
    ASSERT_EQ(gpu.exitCode, 0) << gpu.err;
    const ProcessResult cpu =
        runProcess(latheBinary(), {"--backend", "cpu", "analyze", path("in.wav"), "--json"});
    ASSERT_EQ(cpu.exitCode, 0) << cpu.err;
    const auto g = nlohmann::json::parse(gpu.out);
    const auto c = nlohmann::json::parse(cpu.out);
    EXPECT_EQ(g["backend"], "cuda");
    EXPECT_TRUE(g.contains("device_timing"));
    for (const char* key : {"integrated_lufs", "lra_lu", "max_momentary_lufs", "max_short_term_lufs"}) {
        EXPECT_NEAR(g["loudness"][key].get<double>(), c["loudness"][key].get<double>(), kLoudnessParityLu)
            << key;
    }
    EXPECT_NEAR(g["loudness"]["true_peak_dbtp"].get<double>(), c["loudness"]["true_peak_dbtp"].get<double>(),
                kTruePeakParityDb);
}

TEST_F(GpuMaster, AFailureInsideAConvolutionFailsCleanlyOrRerunsOnTheCpu) {
    // The 12th kernel launch or cuFFT execution of the render: among the first convolutions'
    // (their filter transforms, then gather, FFT, scatter, multiply-accumulate, inverse FFT per
    // call; the statistics are taken on the host). The log line says which it was.
    ProcessOptions fault;
    fault.env["LATHE_TEST_CUDA_FAULT"] = "kernel:12";
    writeBytes(m_dir / "out.wav", {'o', 'l', 'd'});
    const ProcessResult hard = master("cuda", "out.wav", fault);
    EXPECT_EQ(hard.exitCode, kExitDevice) << hard.err;
    EXPECT_NE(hard.err.find("cudaErrorLaunchFailure"), std::string::npos) << hard.err;
    std::printf("[ FAULT    ] %s", hard.err.c_str());
    EXPECT_EQ(readBytes(m_dir / "out.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
    const ProcessResult soft = master("auto", "out.wav", fault);
    ASSERT_EQ(soft.exitCode, 0) << soft.err;
    const std::string reason = nlohmann::json::parse(soft.out)["backend_reason"];
    EXPECT_NE(reason.find("rerun on cpu"), std::string::npos) << reason;
    const ProcessResult cpu = master("cpu", "cpu.wav");
    ASSERT_EQ(cpu.exitCode, 0) << cpu.err;
    EXPECT_EQ(readBytes(m_dir / "out.wav"), readBytes(m_dir / "cpu.wav"));
    for (const auto& name : m_dir.entries()) {
        EXPECT_NE(name.rfind(".", 0), 0u) << "left behind: " << name;
    }
}

} // namespace
} // namespace lathe::test

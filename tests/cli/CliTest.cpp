// SPDX-License-Identifier: GPL-3.0-or-later
// The `lathe` binary end to end, the way a user (or a script) runs it: exit codes, messages,
// outputs, and what is left on disk after failures and signals.
#include "Process.h"
#include "TestFiles.h"
#include "TestSignals.h"

#include <lathe/Text.h>
#include <lathe/gpu/Gpu.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

namespace lathe {
namespace {

using test::Planar;
using test::ProcessResult;
using test::TempDir;

ProcessResult lathe(const std::vector<std::string>& args, const test::ProcessOptions& o = {}) {
    return test::runProcess(test::latheBinary(), args, o);
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

class Cli : public ::testing::Test {
protected:
    void SetUp() override {
        // 3 s stereo 24-bit at 48 kHz: a −6.02 dBFS tone left, −12.04 dBFS right.
        test::writeRawFloat(m_dir / "in.wav",
                            {test::sine(1000, 0.5, 48000, 144000), test::sine(500, 0.25, 48000, 144000)},
                            48000, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
    }
    std::string path(const std::string& name) const { return (m_dir / name).string(); }
    TempDir m_dir;
};

TEST_F(Cli, VersionAndHelp) {
    const auto v = lathe({"--version"});
    EXPECT_EQ(v.exitCode, 0);
    EXPECT_NE(v.out.find("lathe " LATHE_VERSION), std::string::npos);
    const auto h = lathe({"--help"});
    EXPECT_EQ(h.exitCode, 0);
    EXPECT_NE(h.out.find("Exit codes"), std::string::npos);
}

TEST_F(Cli, UsageErrorsExitTwo) {
    EXPECT_EQ(lathe({}).exitCode, 2);
    EXPECT_EQ(lathe({"frobnicate"}).exitCode, 2);
    EXPECT_EQ(lathe({"convert", path("in.wav")}).exitCode, 2); // no -o
    EXPECT_EQ(lathe({"convert", path("in.wav"), "-o", path("o.wav"), "--bits", "12"}).exitCode, 2);
    EXPECT_EQ(lathe({"convert", path("in.wav"), "-o", path("o.mp3")}).exitCode, 2);
    const auto f = lathe({"convert", path("in.wav"), "-o", path("o.flac"), "--bits", "32f"});
    EXPECT_EQ(f.exitCode, 2);
    EXPECT_NE(f.err.find("FLAC stores 16- or 24-bit"), std::string::npos) << f.err;
    EXPECT_EQ(lathe({"convert", path("in.wav"), "-o", path("o.wav"), "--rate", "1000"}).exitCode, 2);
    EXPECT_EQ(sorted(m_dir.entries()), std::vector<std::string>{"in.wav"});
}

TEST_F(Cli, InfoJsonHasTheFacts) {
    const auto r = lathe({"info", "--json", path("in.wav")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["sample_rate"], 48000);
    EXPECT_EQ(j["channels"], 2);
    EXPECT_EQ(j["frames"], 144000);
    EXPECT_EQ(j["bits"], 24);
    EXPECT_EQ(j["encoding"], "pcm24");
    EXPECT_EQ(j["layout"]["name"], "stereo");
    EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 3.0);
    // Sample peaks of the two sines: 20·log10(0.5) and 20·log10(0.25), to 24-bit precision.
    EXPECT_NEAR(j["channel_stats"][0]["peak_dbfs"].get<double>(), 20 * std::log10(0.5), 1e-4);
    EXPECT_NEAR(j["channel_stats"][1]["peak_dbfs"].get<double>(), 20 * std::log10(0.25), 1e-4);
    EXPECT_NEAR(j["peak_dbfs"].get<double>(), 20 * std::log10(0.5), 1e-4);
    // RMS of a sine is peak − 3.01 dB.
    EXPECT_NEAR(j["channel_stats"][0]["rms_dbfs"].get<double>(), 20 * std::log10(0.5 / std::sqrt(2.0)), 1e-3);
    EXPECT_TRUE(j["warnings"].empty());
}

TEST_F(Cli, InfoOnSilenceGivesNullNotNan) {
    test::writeRawFloat(m_dir / "silence.wav", {std::vector<float>(4800, 0.0f)}, 48000,
                        SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    const auto r = lathe({"info", "--json", path("silence.wav")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_FALSE(std::regex_search(r.out, std::regex(R"([:,\[]\s*-?(nan|inf))", std::regex::icase))) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["peak_dbfs"].is_null());
}

TEST_F(Cli, InfoSeveralFilesOneLineEachAndBadOnesReported) {
    test::writeBytes(m_dir / "bad.wav", {'n', 'o', 'p', 'e'});
    const auto r = lathe({"info", "--json", path("in.wav"), path("bad.wav"), path("missing.wav")});
    EXPECT_EQ(r.exitCode, 3);
    std::vector<nlohmann::json> lines;
    for (const auto& line : test::lines(r.out)) {
        lines.push_back(nlohmann::json::parse(line));
    }
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0]["channels"], 2);
    EXPECT_TRUE(lines[1].contains("error"));
    EXPECT_NE(r.err.find("bad.wav: not a readable audio file"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("missing.wav: no such file"), std::string::npos) << r.err;
}

TEST_F(Cli, InfoWarnsAboutTruncationAndNonFiniteSamples) {
    auto bytes = test::wavHeader(2, 48000, 16, 19200);
    bytes.resize(bytes.size() + 1000, 0);
    test::writeBytes(m_dir / "cut.wav", bytes);
    auto r = lathe({"info", path("cut.wav")});
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_NE(r.out.find("truncated: 250 of 4800 frames present"), std::string::npos) << r.out;
    EXPECT_EQ(lathe({"info", "--strict", path("cut.wav")}).exitCode, 3);

    Planar nan{std::vector<float>(1000, 0.1f)};
    nan[0][77] = NAN;
    test::writeRawFloat(m_dir / "nan.wav", nan, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    r = lathe({"info", path("nan.wav")});
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_NE(r.out.find("1 non-finite samples (NaN/Inf), the first at frame 77, channel 1"),
              std::string::npos)
        << r.out;
}

TEST_F(Cli, ConvertToSixteenBitWithJsonReport) {
    const auto r = lathe({"convert", path("in.wav"), "-o", path("out.flac"), "--bits", "16", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["container"], "flac");
    EXPECT_EQ(j["bits"], "16");
    EXPECT_EQ(j["output_frames"], 144000);
    EXPECT_EQ(j["dither"]["applied"], true);
    EXPECT_EQ(j["clipped_samples"], 0);
    // --backend auto: the GPU where the probe finds one (the H200 run caught "cpu" hard-coded here).
    EXPECT_EQ(j["backend"], test::cudaUnavailableReason().empty() ? "cuda" : "cpu");
    EXPECT_FALSE(j["backend_reason"].get<std::string>().empty());
    EXPECT_EQ(test::rawFormatOf(m_dir / "out.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
    // Noise-shaped dither on request, named in the report; an unknown mode is a usage error.
    const auto shaped = lathe({"convert", path("in.wav"), "-o", path("shaped.wav"), "--bits", "16",
                               "--dither", "shaped", "--json"});
    ASSERT_EQ(shaped.exitCode, 0) << shaped.err;
    EXPECT_NE(nlohmann::json::parse(shaped.out)["dither"]["reason"].get<std::string>().find("noise shaping"),
              std::string::npos);
    EXPECT_EQ(lathe({"convert", path("in.wav"), "-o", path("x.wav"), "--dither", "wobble"}).exitCode, 2);
    // Without a GPU the engine says so on stderr (never silently).
    if (!gpu::probe().available) {
        EXPECT_NE(r.err.find("cuda unavailable"), std::string::npos) << r.err;
    }
}

// A render streams in blocks, so its memory does not grow with the length: converting two minutes
// takes no more than a few blocks beyond what ten seconds take, where holding the file would take
// its 46 MB of float samples. peak_memory_bytes (the process's largest resident set) says so.
TEST_F(Cli, ConvertMemoryDoesNotGrowWithTheLength) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP()
        << "ASan's quarantine keeps freed blocks resident: the peak grows with the work (asan build)";
#endif
    constexpr Frames kLong = 120 * 48000;
    // Half the long file's float samples: far above the blocks in flight (about ten of 0.5 MB)
    // and the allocator's slack, far below a whole-file buffer.
    constexpr std::int64_t kGrowthBytes = kLong * 2 * 4 / 2;
    std::int64_t peak[2] = {0, 0};
    for (const Frames frames : {Frames{10 * 48000}, kLong}) {
        const std::string name = "n" + std::to_string(frames) + ".wav";
        test::writeRawFloat(m_dir / name, {test::noise(frames, 0.5, 1), test::noise(frames, 0.5, 2)}, 48000,
                            SF_FORMAT_WAV | SF_FORMAT_PCM_24);
        const auto r = lathe({"convert", path(name), "-o", path("c.wav"), "--bits", "16", "--json"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        peak[frames == kLong ? 1 : 0] = nlohmann::json::parse(r.out)["peak_memory_bytes"].get<std::int64_t>();
    }
    EXPECT_GT(peak[0], 1 << 20); // the process's own: libraries, buffers
    EXPECT_LT(peak[1] - peak[0], kGrowthBytes) << "10 s: " << peak[0] << " bytes, 120 s: " << peak[1];
    RecordProperty("peak_memory_bytes_10s", std::to_string(peak[0]));
    RecordProperty("peak_memory_bytes_120s", std::to_string(peak[1]));
}

TEST_F(Cli, ConvertResamplesToTheRequestedRate) {
    const auto r = lathe({"convert", path("in.wav"), "-o", path("out.wav"), "--rate", "44100"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    SampleRate fs = 0;
    const Planar out = test::readRawFloat(m_dir / "out.wav", &fs);
    EXPECT_EQ(fs, 44100);
    EXPECT_EQ(out[0].size(), 132300u);
    const test::SineFit fit = test::fitSine(out[0].data() + 4410, 44100, 1000.0, 44100, 4410);
    EXPECT_NEAR(fit.amplitude, 0.5, 1e-4);
}

TEST_F(Cli, ProgressIsPlainLinesWhenNotATerminalAndQuietSilencesIt) {
    auto r = lathe({"convert", path("in.wav"), "-o", path("a.wav")});
    ASSERT_EQ(r.exitCode, 0);
    EXPECT_NE(r.err.find("convert in.wav: 100%\n"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\r'), std::string::npos);
    r = lathe({"--quiet", "convert", path("in.wav"), "-o", path("b.wav")});
    ASSERT_EQ(r.exitCode, 0);
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(Cli, RefusesToWriteOverTheInput) {
    const auto before = test::readBytes(m_dir / "in.wav");
    std::filesystem::create_symlink(m_dir / "in.wav", m_dir / "alias.wav");
    for (const auto& out : {path("in.wav"), path("alias.wav")}) {
        const auto r = lathe({"convert", path("in.wav"), "-o", out, "--bits", "16"});
        EXPECT_EQ(r.exitCode, 4);
        EXPECT_NE(r.err.find("refusing to overwrite the input"), std::string::npos) << r.err;
    }
    EXPECT_EQ(test::readBytes(m_dir / "in.wav"), before);
}

TEST_F(Cli, MissingOutputDirectory) {
    const auto r = lathe({"convert", path("in.wav"), "-o", path("nodir/out.wav")});
    EXPECT_EQ(r.exitCode, 4);
    EXPECT_NE(r.err.find("nodir/out.wav: the output directory does not exist"), std::string::npos) << r.err;
    // It failed before processing: no progress was reported.
    EXPECT_EQ(r.err.find("%"), std::string::npos) << r.err;
}

TEST_F(Cli, BadInputsGiveOneClearLineAndExitThree) {
    test::writeBytes(m_dir / "empty.wav", {});
    const auto r = lathe({"convert", path("empty.wav"), "-o", path("out.wav")});
    EXPECT_EQ(r.exitCode, 3);
    EXPECT_NE(r.err.find("lathe: error: " + path("empty.wav") + ": file is empty"), std::string::npos)
        << r.err;
    const auto missing = lathe({"convert", path("nope.wav"), "-o", path("out.wav")});
    EXPECT_EQ(missing.exitCode, 3);
    EXPECT_EQ(sorted(m_dir.entries()), (std::vector<std::string>{"empty.wav", "in.wav"}));
}

TEST_F(Cli, HeaderOnlyFileHasNoAudio) {
    test::writeBytes(m_dir / "h.wav", test::wavHeader(2, 48000, 16, 0));
    const auto r = lathe({"convert", path("h.wav"), "-o", path("out.wav")});
    EXPECT_EQ(r.exitCode, 5);
    EXPECT_NE(r.err.find("no audio"), std::string::npos) << r.err;
    const auto info = lathe({"info", path("h.wav")});
    EXPECT_EQ(info.exitCode, 0);
    EXPECT_NE(info.out.find("no audio (0 frames)"), std::string::npos);
}

TEST_F(Cli, NonFiniteInputFailsUnlessSanitized) {
    Planar x{test::sine(100, 0.5, 48000, 48000), test::sine(100, 0.5, 48000, 48000)};
    x[1][4321] = NAN;
    test::writeRawFloat(m_dir / "nan.wav", x, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto r = lathe({"convert", path("nan.wav"), "-o", path("out.wav")});
    EXPECT_EQ(r.exitCode, 5);
    EXPECT_NE(r.err.find("non-finite sample (NaN or Inf) at frame 4321, channel 2"), std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(m_dir / "out.wav"));
    r = lathe({"convert", path("nan.wav"), "-o", path("out.wav"), "--sanitize"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("1 NaN/Inf samples replaced by silence"), std::string::npos) << r.err;
}

// Allocation failure in the engine's large buffers (filter designs, convolution partitions,
// the limiter's chunk, the pre-limiter render): a targeted master under an address-space limit
// (ulimit -v, set by a shell that then execs lathe). Where the limit lands depends on the machine
// (thread stacks, libraries), so the limit doubles from 64 MiB until the master succeeds; every
// run below that must fail cleanly — exit 1, "out of memory", the old output intact, nothing of
// ours left — and at least one of them must have failed inside Lathe rather than at start-up.
TEST_F(Cli, OutOfMemoryMidRenderLeavesNothingBehind) {
    int cleanFailures = 0;
    bool succeeded = false;
    for (long limitKiB = 64 * 1024; limitKiB <= 4L * 1024 * 1024 && !succeeded; limitKiB *= 2) {
        test::writeBytes(m_dir / "out.wav", {'o', 'l', 'd'});
        const std::string command = "ulimit -v " + std::to_string(limitKiB) + "; exec '" +
                                    test::latheBinary() + "' --backend cpu master '" + path("in.wav") +
                                    "' -o '" + path("out.wav") + "' --target -14";
        const auto r = test::runProcess("/bin/bash", {"-c", command});
        if (r.err.find("Sanitizer") != std::string::npos) {
            GTEST_SKIP()
                << "an address-space limit cannot be combined with ASan's shadow memory (asan build)";
        }
        if (r.exitCode == 0) {
            succeeded = true;
            break;
        }
        EXPECT_EQ(sorted(m_dir.entries()), (std::vector<std::string>{"in.wav", "out.wav"}))
            << limitKiB << " KiB: " << r.err;
        EXPECT_EQ(test::readBytes(m_dir / "out.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'})) << limitKiB;
        if (r.err.find("lathe: error: out of memory") != std::string::npos) {
            EXPECT_EQ(r.exitCode, 1) << r.err;
            ++cleanFailures;
        } // else: the process could not even start under this limit (the loader's message)
    }
    EXPECT_TRUE(succeeded) << "the master never ran, even with 4 GiB of address space";
    EXPECT_GT(cleanFailures, 0) << "no limit made Lathe itself run out of memory";
}

TEST_F(Cli, DiskFullLeavesNoPartialFileAndKeepsTheOldOne) {
    test::writeBytes(m_dir / "out.wav", {'o', 'l', 'd'});
    test::ProcessOptions o;
    o.env["LATHE_TEST_FAIL_WRITE_AFTER_BYTES"] = "200000";
    const auto r = lathe({"convert", path("in.wav"), "-o", path("out.wav")}, o);
    EXPECT_EQ(r.exitCode, 4);
    EXPECT_NE(r.err.find("disk full"), std::string::npos) << r.err;
    EXPECT_EQ(sorted(m_dir.entries()), (std::vector<std::string>{"in.wav", "out.wav"}));
    EXPECT_EQ(test::readBytes(m_dir / "out.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
}

// A real child process interrupted mid-render: exit 128+signal, no output, no temporary file,
// and a previous output at the destination untouched.
TEST_F(Cli, SignalsCancelCleanly) {
    test::writeBytes(m_dir / "out.wav", {'o', 'l', 'd'});
    for (int sig : {SIGINT, SIGTERM}) {
        test::ProcessOptions o;
        o.env["LATHE_TEST_BLOCK_DELAY_MS"] = "200"; // 3 blocks of 65536 frames: at least 0.6 s
        o.signalWhenStderrContains = "convert in.wav: ";
        o.signal = sig;
        const auto r = lathe({"convert", path("in.wav"), "-o", path("out.wav"), "--rate", "96000"}, o);
        EXPECT_EQ(r.exitCode, 128 + sig) << r.err;
        EXPECT_NE(r.err.find("cancelled; no output was written"), std::string::npos) << r.err;
        EXPECT_EQ(sorted(m_dir.entries()), (std::vector<std::string>{"in.wav", "out.wav"}));
        EXPECT_EQ(test::readBytes(m_dir / "out.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
    }
}

TEST_F(Cli, DevicesAndBackendChoice) {
    const auto r = lathe({"info", "--devices", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["backends"].size(), 2u);
    EXPECT_EQ(j["backends"][1]["name"], "cpu");
    EXPECT_EQ(j["backends"][1]["available"], true);
    // What each available backend runs: the CPU everything but the device's multiband dynamics,
    // limiter pass and spectrum (their stages compute them themselves); the CUDA backend, when
    // present, everything (all verified on an H200).
    EXPECT_EQ(j["backends"][1]["capabilities"],
              (nlohmann::json{"rendering", "loudness analysis", "convolution (EQ, reverb)"}));
    const nlohmann::json everything = {"rendering",
                                       "loudness analysis",
                                       "convolution (EQ, reverb)",
                                       "multiband dynamics",
                                       "limiter pass (the loudness trial's, without verification)",
                                       "spectrum and spectrogram",
                                       "the loudness trial on audio held on the device"};
    EXPECT_EQ(j["backends"][0]["capabilities"],
              j["backends"][0]["available"].get<bool>() ? everything : nlohmann::json::array());
    EXPECT_EQ(j["cuda"]["compiled"], true);
    const bool cuda = j["cuda"]["available"].get<bool>();
    EXPECT_EQ(cuda, gpu::probe().available);
    const auto forced = lathe({"--backend", "cuda", "convert", path("in.wav"), "-o", path("c.wav")});
    if (cuda) {
        EXPECT_EQ(forced.exitCode, 0) << forced.err;
    } else {
        EXPECT_EQ(forced.exitCode, 6);
        EXPECT_NE(forced.err.find("backend 'cuda' is not available: no CUDA device"), std::string::npos)
            << forced.err;
        EXPECT_FALSE(std::filesystem::exists(m_dir / "c.wav"));
    }
    EXPECT_EQ(lathe({"--backend", "cpu", "convert", path("in.wav"), "-o", path("p.wav")}).exitCode, 0);
}

// LATHE_CUDA_HOLD leaves the named capabilities to the CPU: info --devices lists them apart, and
// a name the backend cannot hold is a usage error (exit 2) even under --backend auto, never a
// silent change of backend. Needs a device (the CUDA backend reads it when made).
TEST_F(Cli, CudaHoldLeavesTheNamedCapabilitiesToTheCpu) {
    if (!gpu::probe().available) {
        GTEST_SKIP() << "cuda: not tested (" << gpu::probe().reason << ")";
    }
    test::ProcessOptions hold;
    hold.env["LATHE_CUDA_HOLD"] = "spectrum,limiter-pass";
    const auto j = nlohmann::json::parse(lathe({"info", "--devices", "--json"}, hold).out);
    EXPECT_EQ(
        j["backends"][0]["capabilities"],
        (nlohmann::json{"rendering", "loudness analysis", "convolution (EQ, reverb)", "multiband dynamics"}));
    const auto text = lathe({"info", "--devices"}, hold);
    EXPECT_NE(text.out.find("left to the CPU by LATHE_CUDA_HOLD: limiter pass (the loudness trial's, without "
                            "verification), spectrum and spectrogram"),
              std::string::npos)
        << text.out;
    test::ProcessOptions bad;
    bad.env["LATHE_CUDA_HOLD"] = "render";
    const auto refused = lathe({"--backend", "auto", "convert", path("in.wav"), "-o", path("held.wav")}, bad);
    EXPECT_EQ(refused.exitCode, 2) << refused.err;
    EXPECT_NE(refused.err.find("LATHE_CUDA_HOLD: unknown or unsupported capability 'render'"),
              std::string::npos)
        << refused.err;
    EXPECT_FALSE(std::filesystem::exists(m_dir / "held.wav"));
}

TEST_F(Cli, DemoMixWritesAPlayableFile) {
    const auto r = lathe({"demo-mix", "-o", path("demo.wav"), "--duration", "5", "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["output_frames"], 240000);
    EXPECT_EQ(j["dither"]["applied"], true);
    const auto info = nlohmann::json::parse(lathe({"info", "--json", path("demo.wav")}).out);
    EXPECT_EQ(info["bits"], 24);
    EXPECT_EQ(info["sample_rate"], 48000);
}

TEST_F(Cli, AnalyzeJsonHasTheLoudnessKeys) {
    // 20 s stereo 1 kHz at −20 dBFS: integrated −20.0 LUFS, sample peak −20 dBFS.
    test::writeRawFloat(m_dir / "tone.wav",
                        {test::sine(1000, 0.1, 48000, 960000), test::sine(1000, 0.1, 48000, 960000)}, 48000,
                        SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const auto r = lathe({"analyze", "--json", "--history", path("tone.wav")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["file"], path("tone.wav"));
    EXPECT_EQ(j["sample_rate"], 48000);
    EXPECT_EQ(j["channels"], 2);
    EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 20.0);
    const auto& l = j["loudness"];
    for (const char* key : {"integrated_lufs", "lra_lu", "true_peak_dbtp", "sample_peak_dbfs",
                            "max_momentary_lufs", "max_short_term_lufs", "plr_db"}) {
        ASSERT_TRUE(l.contains(key)) << key;
        EXPECT_TRUE(l[key].is_number()) << key;
    }
    EXPECT_NEAR(l["integrated_lufs"].get<double>(), -20.0, 0.1);
    EXPECT_NEAR(l["sample_peak_dbfs"].get<double>(), -20.0, 1e-3);
    EXPECT_NEAR(l["lra_lu"].get<double>(), 0.0, 0.1);
    EXPECT_EQ(j["history"]["momentary_lufs"].size(), 200u);
    EXPECT_TRUE(j["history"]["momentary_lufs"][0].is_null()); // 100 ms: no 400 ms window yet
}

TEST_F(Cli, AnalyzeSilenceGivesNullsWithReasons) {
    test::writeRawFloat(m_dir / "silence.wav",
                        {std::vector<float>(96000, 0.0f), std::vector<float>(96000, 0.0f)}, 48000,
                        SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    const auto r = lathe({"analyze", "--json", path("silence.wav")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_FALSE(std::regex_search(r.out, std::regex(R"([:,\[]\s*-?(nan|inf))", std::regex::icase))) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["loudness"]["integrated_lufs"].is_null());
    EXPECT_NE(j["loudness"]["integrated_note"].get<std::string>().find("silence"), std::string::npos);
    EXPECT_TRUE(j["loudness"]["lra_lu"].is_null());
    EXPECT_FALSE(j["loudness"]["lra_note"].get<std::string>().empty());
    EXPECT_TRUE(j["loudness"]["true_peak_dbtp"].is_null());
}

TEST_F(Cli, AnalyzeSeveralFilesAddsTheAlbumAndPlatforms) {
    const auto r = lathe({"analyze", "--json", "--platforms", path("in.wav"), path("in.wav")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::vector<nlohmann::json> lines;
    for (const auto& line : test::lines(r.out)) {
        lines.push_back(nlohmann::json::parse(line));
    }
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0]["platforms"].size(), 12u);
    EXPECT_EQ(lines[0]["platforms"][0]["id"], "spotify");
    ASSERT_TRUE(lines[2].contains("album"));
    EXPECT_EQ(lines[2]["album"]["files"], 2);
    // The same file twice: the album reads what the file reads.
    EXPECT_NEAR(lines[2]["album"]["integrated_lufs"].get<double>(),
                lines[0]["loudness"]["integrated_lufs"].get<double>(), 1e-9);
}

TEST_F(Cli, AnalyzeHumanSummaryAndPlatformTable) {
    const auto r = lathe({"analyze", "--platforms", path("in.wav")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    for (const char* text : {"integrated", "loudness range", "true peak", "sample peak", "max momentary",
                             "max short-term", "PLR", "Spotify (Normal)", "EBU R128"}) {
        EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
    }
}

TEST_F(Cli, AnalyzeRefusesAnUnknownLayoutUntilStated) {
    test::writeRawFloat(m_dir / "six.wav", Planar(6, test::sine(1000, 0.1, 48000, 48000)), 48000,
                        SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto r = lathe({"analyze", path("six.wav")});
    EXPECT_EQ(r.exitCode, 3);
    EXPECT_NE(r.err.find("--layout"), std::string::npos) << r.err;
    r = lathe({"analyze", "--layout", "5.1", path("six.wav")});
    EXPECT_EQ(r.exitCode, 0) << r.err;
}

TEST_F(Cli, AnalyzeNonFiniteInputIsAnAudioError) {
    Planar x{test::sine(100, 0.5, 48000, 48000)};
    x[0][100] = INFINITY;
    test::writeRawFloat(m_dir / "inf.wav", x, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const auto r = lathe({"analyze", path("inf.wav")});
    EXPECT_EQ(r.exitCode, 5);
    EXPECT_NE(r.err.find("frame 100, channel 1"), std::string::npos) << r.err;
}

std::size_t countPoints(const std::string& html, const std::string& series) {
    std::size_t points = 0;
    const std::string key = "data-series=\"" + series + "\" points=\"";
    for (std::size_t at = html.find(key); at != std::string::npos; at = html.find(key, at + 1)) {
        const std::size_t start = at + key.size();
        const std::size_t end = html.find('"', start);
        points +=
            1 + static_cast<std::size_t>(std::count(html.begin() + static_cast<std::ptrdiff_t>(start),
                                                    html.begin() + static_cast<std::ptrdiff_t>(end), ' '));
    }
    return points;
}

TEST_F(Cli, AnalyzeHtmlReportIsWellFormedCompleteAndMatchesTheJson) {
    ASSERT_EQ(lathe({"--quiet", "demo-mix", "-o", path("mix.wav"), "--duration", "20"}).exitCode, 0);
    const auto r =
        lathe({"--quiet", "analyze", "--json", "--history", "--html", path("report.html"), path("mix.wav")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const std::string html = [&] {
        const auto b = test::readBytes(m_dir / "report.html");
        return std::string(b.begin(), b.end());
    }();
    // Well-formed XML (XHTML-compatible) and accepted by libxml2's HTML parser.
    const auto xml = test::runProcess("/usr/bin/xmllint", {"--noout", path("report.html")});
    EXPECT_EQ(xml.exitCode, 0) << xml.err;
    EXPECT_TRUE(xml.err.empty()) << xml.err;
    EXPECT_EQ(test::runProcess("/usr/bin/xmllint", {"--noout", "--html", path("report.html")}).exitCode, 0);
    for (const char* id : {"summary", "readiness", "loudness-history", "loudness-histogram", "spectrum",
                           "spectrogram", "stereo", "platforms", "parameters"}) {
        EXPECT_NE(html.find(std::string("<section id=\"") + id + "\""), std::string::npos) << id;
    }
    EXPECT_EQ(html.find("<script"), std::string::npos);
    // Nothing fetched from the network (the only URLs are XML namespace names).
    EXPECT_EQ(html.find("href=\"http"), std::string::npos);
    EXPECT_EQ(html.find("src=\"http"), std::string::npos);
    EXPECT_EQ(html.find("url(http"), std::string::npos);
    EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);
    // The numbers in the report are the JSON's.
    const double integrated = j["loudness"]["integrated_lufs"].get<double>();
    EXPECT_NE(html.find("id=\"integrated\">" + formatFixed(integrated, 1) + " LUFS<"), std::string::npos);
    EXPECT_NE(html.find("data-series=\"integrated\" data-value=\"" + formatFixed(integrated, 2) + "\""),
              std::string::npos);
    std::size_t finiteMomentary = 0;
    for (const auto& v : j["history"]["momentary_lufs"]) {
        finiteMomentary += v.is_number() ? 1 : 0;
    }
    EXPECT_EQ(countPoints(html, "momentary"), finiteMomentary);
    for (const char* curve : {"L", "R", "M", "S"}) {
        EXPECT_TRUE(j["spectrum"]["curves_db"].contains(curve)) << curve;
        EXPECT_EQ(countPoints(html, curve), j["spectrum"]["frequencies_hz"].size()) << curve;
    }
    EXPECT_TRUE(j["stereo"]["correlation"].is_number());
    EXPECT_TRUE(j["readiness"].is_array());
    EXPECT_EQ(j["spectrogram"]["rows"], 160);
}

TEST_F(Cli, AnalyzeCompareShowsTheDifference) {
    ASSERT_EQ(lathe({"--quiet", "demo-mix", "-o", path("mix.wav"), "--duration", "15"}).exitCode, 0);
    // The "master": the same mix 6.02 dB quieter, so the difference is −6.02 dB at every frequency.
    Planar x = test::readRawFloat(m_dir / "mix.wav");
    for (auto& ch : x) {
        for (float& v : ch) {
            v *= 0.5f;
        }
    }
    test::writeRawFloat(m_dir / "quiet.wav", x, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const auto r = lathe({"--quiet", "analyze", "--json", "--html", path("cmp.html"), path("mix.wav"),
                          "--compare", path("quiet.wav")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    for (const auto& d : j["compare"]["spectrum_difference_db"]) {
        if (d.is_number()) {
            ASSERT_NEAR(d.get<double>(), 20 * std::log10(0.5), 0.01);
        }
    }
    const auto b = test::readBytes(m_dir / "cmp.html");
    const std::string html(b.begin(), b.end());
    EXPECT_NE(html.find("data-series=\"difference\""), std::string::npos);
    EXPECT_NE(html.find("id=\"integrated-after\""), std::string::npos);
}

TEST_F(Cli, AnalyzeHtmlOutputIsCheckedBeforeTheWork) {
    auto r = lathe({"analyze", "--html", path("in.wav"), path("in.wav")});
    EXPECT_EQ(r.exitCode, 4);
    EXPECT_NE(r.err.find("refusing to overwrite the input"), std::string::npos) << r.err;
    r = lathe({"analyze", "--html", path("nodir/r.html"), path("in.wav")});
    EXPECT_EQ(r.exitCode, 4);
    EXPECT_EQ(r.err.find("analyze in.wav:"), std::string::npos) << "analysed before failing: " << r.err;
    EXPECT_EQ(lathe({"analyze", "--html", path("r.html"), path("in.wav"), path("in.wav")}).exitCode, 2);
    EXPECT_EQ(lathe({"analyze", "--smoothing", "5", path("in.wav")}).exitCode, 2);
    EXPECT_EQ(lathe({"analyze", "--target", "loud", path("in.wav")}).exitCode, 2);
}

// ---------------------------------------------------------------------------------------------
// master, presets, ir, fir (issue 6)

TEST_F(Cli, MasterTransparentNullsExactly) {
    const Planar in = {test::noise(96000, 0.5, 1), test::noise(96000, 0.5, 2)};
    test::writeRawFloat(m_dir / "f.wav", in, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const auto r = lathe({"master", path("f.wav"), "-o", path("t.wav"), "--preset", "transparent"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Planar out = test::readRawFloat(m_dir / "t.wav");
    EXPECT_EQ(out, in); // float in → float out, no stage: bit-exact (a null of −∞ dB)
}

TEST_F(Cli, MasterWithAFlatEqPresetFileNulls) {
    // Through the whole convolution path: a 0 dB bell with a fixed 8193-tap FIR.
    std::ofstream(m_dir / "flat.json")
        << R"({"schema": "lathe.preset/1", "stages": [{"type": "eq", "taps": 8193,
              "bands": [{"type": "bell", "hz": 1000, "gain_db": 0}]}]})";
    const Planar in = {test::noise(100000, 0.5, 3), test::noise(100000, 0.5, 4)};
    test::writeRawFloat(m_dir / "f.wav", in, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const auto r =
        lathe({"master", path("f.wav"), "-o", path("n.wav"), "--preset", path("flat.json"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Planar out = test::readRawFloat(m_dir / "n.wav");
    ASSERT_EQ(out[0].size(), in[0].size());
    for (int c = 0; c < 2; ++c) {
        EXPECT_LE(test::nullDb(out[static_cast<std::size_t>(c)], in[static_cast<std::size_t>(c)]), -120.0);
    }
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["latency_removed_frames"], 4096);
    EXPECT_EQ(j["stages"][0]["details"]["taps"], 8193);
    EXPECT_EQ(j["preset"]["name"], "flat");
}

TEST_F(Cli, MasterDefaultReportsTheChainEveryParameterAndTimings) {
    const auto r = lathe({"master", path("in.wav"), "-o", path("m.wav"), "--json", "--report", path("m.json"),
                          "--preset", "gentle-polish", "--set", "eq.band2.gain_db=-2"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    std::ifstream f(m_dir / "m.json");
    EXPECT_EQ(nlohmann::json::parse(f), j);
    EXPECT_EQ(j["preset"]["name"], "gentle-polish");
    EXPECT_EQ(j["preset"]["stages"][0]["bands"][1]["gain_db"], -2.0);
    EXPECT_EQ(j["preset"]["stages"][0]["bands"][1]["q"], 0.9);              // given values …
    EXPECT_EQ(j["preset"]["stages"][0]["bands"][0]["placement"], "stereo"); // … and defaults alike
    EXPECT_EQ(j["backend"], test::cudaUnavailableReason().empty() ? "cuda" : "cpu");
    EXPECT_TRUE(j["stages"][0]["seconds"].is_number());
    EXPECT_GT(j["stages"][0]["details"]["taps"].get<int>(), 1);
    EXPECT_TRUE(j["stages"][0]["details"]["pre_ring_ms"].is_number());
    EXPECT_LE(j["stages"][0]["details"]["max_error_db"].get<double>(), 0.05);
    EXPECT_EQ(j["input_frames"], 144000);
    EXPECT_EQ(j["output_frames"], 144000);
    EXPECT_EQ(j["bits"], "24");
    EXPECT_NE(r.err.find("stage eq:"), std::string::npos);
}

TEST_F(Cli, MasterReverbTailKeptOrCut) {
    const auto keep =
        lathe({"master", path("in.wav"), "-o", path("k.wav"), "--preset", "glue-room", "--json"});
    ASSERT_EQ(keep.exitCode, 0) << keep.err;
    const auto jk = nlohmann::json::parse(keep.out);
    const long tail = jk["stages"][1]["tail_frames"].get<long>();
    EXPECT_GT(tail, 48000 / 4);
    EXPECT_EQ(jk["output_frames"].get<long>(), 144000 + tail);
    EXPECT_EQ(jk["tail_policy"], "keep");
    const auto cut = lathe(
        {"master", path("in.wav"), "-o", path("c.wav"), "--preset", "glue-room", "--tail", "cut", "--json"});
    ASSERT_EQ(cut.exitCode, 0) << cut.err;
    EXPECT_EQ(nlohmann::json::parse(cut.out)["output_frames"], 144000);
}

TEST_F(Cli, MasterPresetErrorsAreClearAndChecked) {
    std::ofstream(m_dir / "bad.json")
        << R"({"schema": "lathe.preset/1", "stages": [{"type": "eq", "bands": [{"type": "bell", "hz": 100, "gian_db": 2}]}]})";
    auto r = lathe({"master", path("in.wav"), "-o", path("x.wav"), "--preset", path("bad.json")});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("unknown field 'gian_db'; did you mean 'gain_db'?"), std::string::npos) << r.err;
    std::ofstream(m_dir / "ir.json")
        << R"({"schema": "lathe.preset/1", "stages": [{"type": "reverb", "ir": "missing.wav"}]})";
    r = lathe({"master", path("in.wav"), "-o", path("x.wav"), "--preset", path("ir.json")});
    EXPECT_EQ(r.exitCode, 3);
    EXPECT_NE(r.err.find("missing.wav: impulse response not found (stages[0] (reverb) 'ir')"),
              std::string::npos)
        << r.err;
    r = lathe({"master", path("in.wav"), "-o", path("x.wav"), "--preset", "loud"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("no preset 'loud'"), std::string::npos) << r.err;
    r = lathe({"master", path("in.wav"), "-o", path("x.wav"), "--set", "reverb.wet_db=-3"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("no stage 'reverb' (stages: eq, multiband, limiter)"), std::string::npos) << r.err;
    r = lathe({"master", path("in.wav"), "-o", path("in.wav")});
    EXPECT_EQ(r.exitCode, 4);
    r = lathe({"master", path("in.wav"), "-o", path("x.wav"), "--report", path("no/such/dir/r.json")});
    EXPECT_EQ(r.exitCode, 4); // checked before the render: no master is written either
    EXPECT_FALSE(std::filesystem::exists(m_dir / "x.wav"));
}

TEST_F(Cli, MasterWithAFileIrAndTheRoomExport) {
    // `lathe ir` writes a built-in room; a preset then uses it as a file IR at another rate.
    ASSERT_EQ(lathe({"ir", "plate", "-o", path("plate.wav"), "--rate", "44100"}).exitCode, 0);
    std::ofstream(m_dir / "plate.json")
        << R"({"schema": "lathe.preset/1", "stages": [{"type": "reverb", "ir": "plate.wav", "wet_db": -20}]})";
    const auto r =
        lathe({"master", path("in.wav"), "-o", path("p.wav"), "--preset", path("plate.json"), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto d = nlohmann::json::parse(r.out)["stages"][0]["details"];
    EXPECT_EQ(d["ir_sample_rate"], 44100);
    EXPECT_EQ(d["resampled"], true);
    EXPECT_EQ(d["ir_channels"], 2);
}

TEST_F(Cli, MasterCancelAndDiskFullLeaveTheOldFile) {
    // The convolution thread pool and the write-behind thread wind down cleanly on both paths.
    test::writeBytes(m_dir / "out.wav", {'o', 'l', 'd'});
    test::ProcessOptions o;
    o.env["LATHE_TEST_BLOCK_DELAY_MS"] = "200";
    o.signalWhenStderrContains = "master in.wav: ";
    o.signal = SIGINT;
    auto r = lathe({"master", path("in.wav"), "-o", path("out.wav"), "--preset", "glue-room"}, o);
    EXPECT_EQ(r.exitCode, 128 + SIGINT) << r.err;
    EXPECT_EQ(sorted(m_dir.entries()), (std::vector<std::string>{"in.wav", "out.wav"}));
    EXPECT_EQ(test::readBytes(m_dir / "out.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
    test::ProcessOptions full;
    full.env["LATHE_TEST_FAIL_WRITE_AFTER_BYTES"] = "200000";
    r = lathe({"master", path("in.wav"), "-o", path("out.wav"), "--preset", "glue-room"}, full);
    EXPECT_EQ(r.exitCode, 4);
    EXPECT_NE(r.err.find("disk full"), std::string::npos) << r.err;
    EXPECT_EQ(sorted(m_dir.entries()), (std::vector<std::string>{"in.wav", "out.wav"}));
    EXPECT_EQ(test::readBytes(m_dir / "out.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
}

TEST_F(Cli, MasterDefaultReachesMinus14LufsUnderMinus1Dbtp) {
    // The default preset: EQ, 4-band glue, limiter, −14 LUFS. 8 s of programme material.
    ASSERT_EQ(lathe({"demo-mix", "-o", path("mix.wav"), "--duration", "8"}).exitCode, 0);
    const auto r =
        lathe({"master", path("mix.wav"), "-o", path("m.wav"), "--json", "--html", path("m.html")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["preset"]["name"], "default");
    // Gain reduction over time: per band (multiband) and for the limiter, 100 ms steps, 8 s.
    const auto& mb = j["stages"][1]["details"]["gain_reduction_history"];
    ASSERT_EQ(mb["bands_db"].size(), 4u);
    EXPECT_NEAR(static_cast<double>(mb["bands_db"][0].size()), 80.0, 1.0);
    EXPECT_NEAR(static_cast<double>(j["stages"][2]["details"]["gain_reduction_history"]["db"].size()), 80.0,
                1.0);
    // The HTML report: well-formed, with the mix, the master and the gain-reduction plot.
    EXPECT_EQ(test::runProcess("/usr/bin/xmllint", {"--noout", path("m.html")}).exitCode, 0);
    std::ifstream html(m_dir / "m.html");
    const std::string text((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("id=\"gain-reduction\""), std::string::npos);
    EXPECT_NE(text.find("data-series=\"gr-4\""), std::string::npos); // 4 bands + the limiter
    EXPECT_NE(text.find("m.wav"), std::string::npos);
    EXPECT_TRUE(j["targeting"]["reached"].get<bool>());
    // Where the time went: each step of the targeting is timed, and the steps (run one after
    // another inside the job) add up to no more than the job's own wall time.
    const auto& tg = j["targeting"];
    double steps = tg["pre_limiter_render_s"].get<double>() + tg["pre_limiter_measure_s"].get<double>() +
                   tg["trial_s"].get<double>();
    EXPECT_GT(tg["pre_limiter_render_s"].get<double>(), 0.0);
    EXPECT_GT(tg["trial_s"].get<double>(), 0.0); // the default chain ends with its limiter: a trial
    EXPECT_EQ(tg["trial"]["on_device"], false);  // on the CPU, rendered (no device to hold audio on)
    // Eight seconds of stereo fit the memory budget: the intermediate was held there where the
    // master has 4 threads or more (all the machine's: EQ and the multiband add no tail: 8 s ×
    // 48000 × 2 floats).
    EXPECT_EQ(tg["intermediate"]["held_in"], std::thread::hardware_concurrency() >= 4 ? "memory" : "file");
    EXPECT_EQ(tg["intermediate"]["bytes"].get<std::uint64_t>(), std::uint64_t{8 * 48000 * 2 * 4});
    // Each render's own breakdown (its threads overlap: each part within its render's time).
    auto within = [](const nlohmann::json& times, double seconds) {
        for (const char* key : {"decode_s", "stages_s", "output_s", "tap_s", "encode_s", "setup_s", "drain_s",
                                "read_wait_s", "sink_wait_s", "write_wait_s"}) {
            EXPECT_GE(times[key].get<double>(), 0.0) << key;
            EXPECT_LE(times[key].get<double>(), seconds) << key;
        }
        EXPECT_LE(times["tap_s"].get<double>() + times["write_wait_s"].get<double>(),
                  times["output_s"].get<double>());
    };
    within(tg["pre_limiter_times"], tg["pre_limiter_render_s"].get<double>());
    EXPECT_GT(tg["pre_limiter_times"]["stages_s"].get<double>(), 0.0);
    for (const auto& p : tg["passes"]) {
        EXPECT_GT(p["seconds"].get<double>(), 0.0);
        within(p["times"], p["seconds"].get<double>());
        EXPECT_GE(p["measure_s"].get<double>(), 0.0);
        EXPECT_LE(p["measure_s"].get<double>(), p["seconds"].get<double>());
        EXPECT_GT(p["times"]["stages_s"].get<double>(), 0.0);
        steps += p["seconds"].get<double>();
    }
    EXPECT_LE(steps, j["seconds"].get<double>());
    std::vector<std::string> stages;
    for (const auto& s : j["stages"]) {
        stages.push_back(s["name"]);
    }
    EXPECT_EQ(stages, (std::vector<std::string>{"eq", "multiband", "limiter"}));
    const auto a = lathe({"analyze", "--json", "--loudness-only", path("m.wav")});
    const auto l = nlohmann::json::parse(a.out)["loudness"];
    EXPECT_NEAR(l["integrated_lufs"].get<double>(), -14.0, 0.1);
    EXPECT_LE(l["true_peak_dbtp"].get<double>(), -1.0 + 0.01);
    // A platform target with its own ceiling, and an explicit one.
    const auto yt = lathe(
        {"master", path("mix.wav"), "-o", path("y.wav"), "--target", "-16LUFS", "--ceiling", "-2", "--json"});
    ASSERT_EQ(yt.exitCode, 0) << yt.err;
    const auto jy = nlohmann::json::parse(yt.out)["targeting"];
    EXPECT_EQ(jy["ceiling_dbtp"], -2.0);
    EXPECT_NEAR(jy["passes"].back()["integrated_lufs"].get<double>(), -16.0, 0.1);
    EXPECT_EQ(lathe({"master", path("mix.wav"), "-o", path("z.wav"), "--target", "loud"}).exitCode, 2);
    // Matching a reference: the -16 LUFS master above is the reference; the new master lands on
    // its integrated loudness (measured independently afterwards), and --target with --match is
    // refused.
    const auto mr =
        lathe({"master", path("mix.wav"), "-o", path("r.wav"), "--match", path("y.wav"), "--json"});
    ASSERT_EQ(mr.exitCode, 0) << mr.err;
    const double refLufs = nlohmann::json::parse(
        lathe({"analyze", "--json", "--loudness-only", path("y.wav")}).out)["loudness"]["integrated_lufs"];
    const double gotLufs = nlohmann::json::parse(
        lathe({"analyze", "--json", "--loudness-only", path("r.wav")}).out)["loudness"]["integrated_lufs"];
    EXPECT_NEAR(gotLufs, refLufs, 0.1);
    EXPECT_NEAR(nlohmann::json::parse(mr.out)["targeting"]["target_lufs"].get<double>(), refLufs, 1e-9);
    EXPECT_EQ(
        lathe({"master", path("mix.wav"), "-o", path("z.wav"), "--target", "-14", "--match", path("y.wav")})
            .exitCode,
        2);
    // Delivery at 44.1 kHz / 16 bit: the rate conversion runs first, so the ceiling holds at the
    // delivery rate (after the latency of the EQ and the crossover, exactly 8 s long).
    const auto cd =
        lathe({"master", path("mix.wav"), "-o", path("cd.wav"), "--rate", "44100", "--bits", "16", "--json"});
    ASSERT_EQ(cd.exitCode, 0) << cd.err;
    EXPECT_EQ(nlohmann::json::parse(cd.out)["output_frames"], 8 * 44100);
    const auto acd = nlohmann::json::parse(
        lathe({"analyze", "--json", "--loudness-only", path("cd.wav")}).out)["loudness"];
    EXPECT_NEAR(acd["integrated_lufs"].get<double>(), -14.0, 0.1);
    EXPECT_LE(acd["true_peak_dbtp"].get<double>(), -1.0 + 0.01);
}

TEST_F(Cli, PresetsListAndShow) {
    const auto r = lathe({"presets", "--json"});
    ASSERT_EQ(r.exitCode, 0);
    std::vector<std::string> names;
    for (const auto& p : nlohmann::json::parse(r.out)) {
        names.push_back(p["name"]);
        EXPECT_FALSE(p["description"].get<std::string>().empty());
    }
    EXPECT_EQ(sorted(names), sorted({"bright-air", "default", "gentle-polish", "glue-master", "glue-room",
                                     "transparent", "warm"}));
    const auto show = lathe({"presets", "--show", "glue-room"});
    ASSERT_EQ(show.exitCode, 0);
    EXPECT_EQ(nlohmann::json::parse(show.out)["stages"][1]["room"], "glue-room");
}

TEST_F(Cli, FirExportIsTheDesignedFilter) {
    const auto r = lathe({"fir", "gentle-polish", "-o", path("fir.wav"), "--set", "eq.taps=4097"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Planar fir = test::readRawFloat(m_dir / "fir.wav");
    ASSERT_EQ(fir.size(), 1u);
    ASSERT_EQ(fir[0].size(), 4097u);
    for (std::size_t k = 0; k < 2048; ++k) {
        ASSERT_EQ(fir[0][k], fir[0][4096 - k]);
    }
}

} // namespace
} // namespace lathe

// SPDX-License-Identifier: GPL-3.0-or-later
// render(): latency removal, tails, cancellation, non-finite input, dither decisions.
#include "TestFiles.h"
#include "TestSignals.h"
#include "ThreadNotingBackend.h"

#include <lathe/Error.h>
#include <lathe/RenderJob.h>
#include <lathe/ResampleStage.h>
#include <lathe/math/Quantize.h>

#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>
#include <thread>

namespace lathe {
namespace {

using test::Planar;
using test::TempDir;

RenderOptions floatOutput(Frames block = 65536) {
    RenderOptions o;
    o.format = SampleFormat::Float32;
    o.blockFrames = block;
    return o;
}

// Whatever the stages' latencies and the block size, output frame n is input frame n.
TEST(RenderJob, LatencyIsRemovedExactly) {
    const Planar in{test::noise(100001, 0.5, 1), test::noise(100001, 0.5, 2)};
    auto backend = makeCpuBackend();
    for (Frames block : {1000, 65536, 100001}) {
        for (auto latencies : {std::vector<Frames>{0}, {1}, {1000}, {70000}, {300, 5000, 1}}) {
            TempDir dir;
            test::MemorySource src(in, 48000);
            std::vector<std::unique_ptr<Stage>> stages;
            for (Frames l : latencies) {
                stages.push_back(std::make_unique<test::DelayStage>(l));
            }
            const RenderReport r =
                render(src, std::move(stages), dir / "o.wav", floatOutput(block), *backend);
            Frames total = 0;
            for (Frames l : latencies) {
                total += l;
            }
            EXPECT_EQ(r.latencyFrames, total);
            EXPECT_EQ(test::readRawFloat(dir / "o.wav"), in) << "block " << block << " latency " << total;
        }
    }
}

TEST(RenderJob, TailIsKeptOrCutByPolicy) {
    const Planar in{test::noise(5000, 0.5, 1)};
    auto backend = makeCpuBackend();
    for (TailPolicy policy : {TailPolicy::Keep, TailPolicy::Cut}) {
        TempDir dir;
        test::MemorySource src(in, 48000);
        std::vector<std::unique_ptr<Stage>> stages;
        stages.push_back(std::make_unique<test::DelayStage>(123, 500));
        RenderOptions o = floatOutput(1024);
        o.tail = policy;
        render(src, std::move(stages), dir / "o.wav", o, *backend);
        const Planar out = test::readRawFloat(dir / "o.wav");
        if (policy == TailPolicy::Keep) {
            ASSERT_EQ(out[0].size(), 5500u);
            EXPECT_EQ(out[0][5000], 0.25f);
            EXPECT_EQ(out[0][5499], 0.25f);
        } else {
            ASSERT_EQ(out[0].size(), 5000u);
        }
        EXPECT_TRUE(std::equal(in[0].begin(), in[0].end(), out[0].begin()));
    }
}

TEST(RenderJob, CancellationLeavesNothingBehind) {
    TempDir dir;
    test::writeBytes(dir / "o.wav", {'o', 'l', 'd'});
    test::MemorySource src({test::noise(500000, 0.5, 1)}, 48000);
    CancelToken token;
    JobControl control;
    control.cancel = &token;
    int calls = 0;
    control.progress = [&](const Progress&) {
        if (++calls == 2) {
            token.cancel();
        }
    };
    auto backend = makeCpuBackend();
    EXPECT_THROW(render(src, {}, dir / "o.wav", floatOutput(10000), *backend, control), CancelledError);
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"o.wav"});
    EXPECT_EQ(test::readBytes(dir / "o.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
}

/// A stage with a bug: one NaN in channel 2 at frame `at`.
class NanStage final : public Stage {
public:
    explicit NanStage(Frames at) : m_at(at) {}
    std::string name() const override { return "nan"; }
    StreamFormat prepare(const StreamFormat& input, Frames) override {
        m_channels = input.channels;
        return input;
    }
    void process(const AudioBuffer& in, AudioBuffer& out) override {
        out.reset(in.channels(), in.frames());
        out.append(in, 0, in.frames());
        if (m_at >= m_done && m_at < m_done + in.frames()) {
            out.channel(1)[m_at - m_done] = NAN;
        }
        m_done += in.frames();
    }
    void flush(AudioBuffer& out) override { out.reset(m_channels, 0); }

private:
    Frames m_at;
    Frames m_done = 0;
    int m_channels = 0;
};

TEST(RenderJob, NonFiniteOutputOfTheChainIsAnErrorAndNothingIsWritten) {
    for (SampleFormat format : {SampleFormat::Float32, SampleFormat::Pcm24}) {
        TempDir dir;
        test::writeBytes(dir / "o.wav", {'o', 'l', 'd'});
        test::MemorySource src({test::noise(100000, 0.5, 1), test::noise(100000, 0.5, 2)}, 48000);
        std::vector<std::unique_ptr<Stage>> stages;
        stages.push_back(std::make_unique<NanStage>(77777));
        RenderOptions o = floatOutput(10000);
        o.format = format;
        auto backend = makeCpuBackend();
        try {
            render(src, std::move(stages), dir / "o.wav", o, *backend);
            ADD_FAILURE() << "a NaN in the chain's output was written";
        } catch (const AudioContentError& e) {
            EXPECT_EQ(e.channel(), 1);
            EXPECT_EQ(e.frame(), 77777);
            EXPECT_NE(std::string(e.what()).find("NaN/Inf"), std::string::npos) << e.what();
        }
        EXPECT_EQ(dir.entries(), std::vector<std::string>{"o.wav"});
        EXPECT_EQ(test::readBytes(dir / "o.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
    }
}

TEST(RenderJob, TheFinishedFileIsCheckedBeforeItReplacesAnything) {
    const Planar in{test::noise(50000, 0.5, 1), test::noise(50000, 0.5, 2)};
    auto backend = makeCpuBackend();
    // The check sees the complete file (readable, every frame) and the stages' report.
    {
        TempDir dir;
        test::MemorySource src(in, 48000);
        std::vector<std::unique_ptr<Stage>> stages;
        stages.push_back(std::make_unique<test::DelayStage>(100));
        Planar seen;
        std::size_t stageReports = 0;
        render(src, std::move(stages), dir / "o.wav", floatOutput(4096), *backend, {},
               [&](const std::filesystem::path& temporary, const RenderReport& report) {
                   EXPECT_FALSE(std::filesystem::exists(dir / "o.wav"));
                   seen = test::readRawFloat(temporary);
                   stageReports = report.stages.size();
               });
        EXPECT_EQ(seen, in);
        EXPECT_EQ(stageReports, 1u);
        EXPECT_EQ(test::readRawFloat(dir / "o.wav"), in);
    }
    // A check that fails: the old output stays, no temporary is left.
    {
        TempDir dir;
        test::writeBytes(dir / "o.wav", {'o', 'l', 'd'});
        test::MemorySource src(in, 48000);
        EXPECT_THROW(render(src, {}, dir / "o.wav", floatOutput(4096), *backend, {},
                            [](const std::filesystem::path&, const RenderReport&) {
                                throw AudioContentError("o.wav", "a promise was not kept");
                            }),
                     AudioContentError);
        EXPECT_EQ(dir.entries(), std::vector<std::string>{"o.wav"});
        EXPECT_EQ(test::readBytes(dir / "o.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
    }
}

TEST(RenderJob, NonFiniteInputNamesTheFirstSample) {
    TempDir dir;
    Planar in{test::noise(200000, 0.5, 1), test::noise(200000, 0.5, 2)};
    in[1][150000] = NAN;
    in[0][150001] = INFINITY;
    in[0][190000] = -INFINITY;
    auto backend = makeCpuBackend();
    {
        test::MemorySource src(in, 48000);
        try {
            render(src, {}, dir / "o.wav", floatOutput(), *backend);
            FAIL() << "NaN accepted";
        } catch (const AudioContentError& e) {
            EXPECT_EQ(e.channel(), 1);
            EXPECT_EQ(e.frame(), 150000);
            EXPECT_NE(std::string(e.what()).find("at frame 150000, channel 2"), std::string::npos)
                << e.what();
        }
        EXPECT_TRUE(dir.entries().empty());
    }
    test::MemorySource src(in, 48000);
    RenderOptions o = floatOutput();
    o.nonFinite = NonFinitePolicy::Sanitize;
    const RenderReport r = render(src, {}, dir / "o.wav", o, *backend);
    EXPECT_EQ(r.sanitizedSamples, 3);
    const Planar out = test::readRawFloat(dir / "o.wav");
    EXPECT_EQ(out[1][150000], 0.0f);
    EXPECT_EQ(out[0][150001], 0.0f);
    EXPECT_EQ(out[0][190000], 0.0f);
    EXPECT_EQ(out[0][150002], in[0][150002]);
}

// The read-ahead thread must hand its exception to the render, which then leaves nothing behind.
TEST(RenderJob, ReaderErrorsOnTheDecodeThreadReachTheCaller) {
    TempDir dir;
    test::FailingSource src;
    auto backend = makeCpuBackend();
    try {
        render(src, {}, dir / "o.wav", floatOutput(1024), *backend);
        FAIL() << "no error";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("failing.wav: decoding failed at frame 2048"),
                  std::string::npos);
    }
    EXPECT_TRUE(dir.entries().empty());
}

// A budget of one thread (a batch job's): the input statistics are taken on the calling thread,
// not on the reader's; with a wider budget they overlap the stages there. Same file either way.
TEST(RenderJob, AOneThreadBudgetTakesTheStatisticsOnTheCallingThread) {
    const TempDir dir;
    const Planar x = {test::noise(200000, 0.5, 7), test::noise(200000, 0.5, 8)};
    std::vector<std::uint8_t> bytes[2];
    for (const unsigned threads : {1u, 2u}) {
        test::ThreadNotingBackend backend;
        test::MemorySource src(x, 48000);
        RenderOptions o = floatOutput(4096);
        o.threads = threads;
        const std::filesystem::path out = dir / ("o" + std::to_string(threads) + ".wav");
        const RenderReport r = render(src, {}, out, o, backend);
        // The report's breakdown: reading and writing took some of the job's time, not more.
        EXPECT_GT(r.decodeSeconds, 0.0);
        EXPECT_GT(r.encodeSeconds, 0.0);
        EXPECT_LE(r.decodeSeconds, r.seconds);
        EXPECT_LE(r.encodeSeconds, r.seconds);
        if (threads == 1) {
            EXPECT_EQ(backend.statsThreads(), std::set{std::this_thread::get_id()});
        } else {
            EXPECT_FALSE(backend.statsThreads().contains(std::this_thread::get_id()));
        }
        bytes[threads - 1] = test::readBytes(out);
    }
    EXPECT_EQ(bytes[0], bytes[1]);
}

/// An OutputTap noting the threads it is called from and keeping what it sees; optionally throws
/// from its `failAt`-th block on (an error at the output's end).
class NotingTap final : public OutputTap {
public:
    explicit NotingTap(int failAt = 0) : m_failAt(failAt) {}
    void begin(SampleRate, int channels, const ChannelLayout&, Frames) override { seen.assign(channels, {}); }
    void write(const AudioBuffer& block) override {
        threads.insert(std::this_thread::get_id());
        if (m_failAt > 0 && ++m_blocks >= m_failAt) {
            throw GpuError("measureLoudnessChunk", "cudaErrorLaunchFailure", "test", __FILE__, __LINE__);
        }
        for (int c = 0; c < block.channels(); ++c) {
            seen[static_cast<std::size_t>(c)].insert(seen[static_cast<std::size_t>(c)].end(),
                                                     block.channel(c), block.channel(c) + block.frames());
        }
    }
    void finish() override {}

    std::set<std::thread::id> threads; ///< written from the sink's thread only: no lock
    Planar seen;

private:
    int m_failAt;
    int m_blocks = 0;
};

// With stages and a budget above one thread, the output's end of the line (statistics,
// quantisation, the tap, the hand-over to the writer) runs on a thread beside the stages, its
// blocks shared out in slices; with one thread, all on the caller's. The file and the report's
// statistics are the same to the bit whatever the thread count, and every code is the shared
// math's quantisation of its sample (TPDF dither depends only on channel and frame); the tap sees
// the codes as libsndfile reads them.
TEST(RenderJob, TheOutputEndRunsBesideTheStagesAndChangesNothing) {
    const TempDir dir;
    constexpr Frames kFrames = 300001; // not a multiple of the block or of the sink's slice
    const Planar x = {test::noise(kFrames, 0.5, 7), test::noise(kFrames, 0.5, 8)};
    std::vector<std::uint8_t> first;
    std::vector<math::SampleStats> firstStats;
    for (const unsigned threads : {1u, 2u, 3u, 8u}) {
        SCOPED_TRACE(std::to_string(threads) + " thread(s)");
        auto backend = makeCpuBackend();
        test::MemorySource src(x, 48000);
        std::vector<std::unique_ptr<Stage>> stages;
        stages.push_back(std::make_unique<test::DelayStage>(1000));
        NotingTap tap;
        RenderOptions o;
        o.format = SampleFormat::Pcm24;
        o.dither = DitherMode::Tpdf;
        o.blockFrames = 40000;
        o.threads = threads;
        o.tap = &tap;
        const std::filesystem::path out = dir / ("o" + std::to_string(threads) + ".wav");
        const RenderReport r = render(src, std::move(stages), out, o, *backend);
        // The report's breakdown: the output's end took some of the job's time, the tap part of it.
        EXPECT_GT(r.outputSeconds, 0.0);
        EXPECT_LE(r.outputSeconds, r.seconds);
        EXPECT_LE(r.tapSeconds, r.outputSeconds);
        if (threads == 1) {
            EXPECT_EQ(tap.threads, std::set{std::this_thread::get_id()});
        } else {
            EXPECT_FALSE(tap.threads.contains(std::this_thread::get_id()));
        }
        const auto codes = test::readRawInt(out);
        const auto read = test::readRawFloat(out);
        ASSERT_EQ(codes.size(), 2u);
        const math::QuantizeParams q = math::makeQuantizeParams(24, true, o.ditherSeed);
        for (std::size_t c = 0; c < 2; ++c) {
            ASSERT_EQ(codes[c].size(), static_cast<std::size_t>(kFrames));
            std::size_t wrong = 0;
            for (std::size_t i = 0; i < codes[c].size(); ++i) {
                wrong +=
                    codes[c][i] !=
                    math::quantizeSampleT<true>(x[c][i], q, static_cast<std::uint32_t>(c), i).leftJustified;
            }
            EXPECT_EQ(wrong, 0u) << "channel " << c;
            EXPECT_EQ(tap.seen[c], read[c]) << "channel " << c;
            // The statistics of the chain's output (before quantisation): the input, delayed.
            const auto peak = std::max_element(x[c].begin(), x[c].end(),
                                               [](float u, float v) { return std::fabs(u) < std::fabs(v); });
            EXPECT_EQ(r.outputStats[c].peakAbs, std::fabs(*peak));
            EXPECT_EQ(r.outputStats[c].peakFrame, peak - x[c].begin());
            EXPECT_EQ(r.outputStats[c].finiteCount, kFrames);
        }
        if (first.empty()) {
            first = test::readBytes(out);
            firstStats = r.outputStats;
            continue;
        }
        EXPECT_EQ(test::readBytes(out), first);
        for (std::size_t c = 0; c < 2; ++c) {
            EXPECT_EQ(r.outputStats[c].sum, firstStats[c].sum);
            EXPECT_EQ(r.outputStats[c].sumSquares, firstStats[c].sumSquares);
        }
    }
}

/// A DelayStage noting the threads that call it into `*threads` (which outlives it: render()
/// destroys its stages); optionally throws a GpuError from its `failAt`-th process() call (or,
/// with failAt < 0, from its flush()), as a device stage can.
class NotingStage final : public Stage {
public:
    NotingStage(Frames latency, Frames tail, std::set<std::thread::id>* threads, int failAt = 0)
        : m_inner(latency, tail), m_threads(threads), m_failAt(failAt) {}
    std::string name() const override { return "noting"; }
    StreamFormat prepare(const StreamFormat& input, Frames block) override {
        return m_inner.prepare(input, block);
    }
    Frames latency() const override { return m_inner.latency(); }
    Frames tail() const override { return m_inner.tail(); }
    void process(const AudioBuffer& in, AudioBuffer& out) override {
        note();
        if (m_failAt > 0 && ++m_calls == m_failAt) {
            throw GpuError("multibandDynamics", "cudaErrorLaunchFailure", "test", __FILE__, __LINE__);
        }
        m_inner.process(in, out);
    }
    void flush(AudioBuffer& out) override {
        note();
        if (m_failAt < 0) {
            throw GpuError("cufftExecC2R", "CUFFT_EXEC_FAILED", "test", __FILE__, __LINE__);
        }
        m_inner.flush(out);
    }

private:
    void note() {
        const bool entered = !m_inside.exchange(true);
        EXPECT_TRUE(entered) << "two threads in one stage at once";
        m_threads->insert(std::this_thread::get_id());
        m_inside = false;
    }
    test::DelayStage m_inner;
    std::set<std::thread::id>* m_threads; ///< called from one thread at a time: read after the render
    int m_failAt;
    int m_calls = 0;
    std::atomic<bool> m_inside{false};
};

// Three stages and a budget above one thread: the first stage runs on the render's thread and
// each later one on a thread of its own, each called from one thread only; the file (latencies
// removed, tails kept through the flushes of every stage) and the statistics are the same to the
// bit as with every stage on the caller's thread.
TEST(RenderJob, LaterStagesRunOnThreadsOfTheirOwnAndChangeNothing) {
    const TempDir dir;
    const Planar x = {test::noise(250001, 0.5, 21), test::noise(250001, 0.5, 22)};
    std::vector<std::uint8_t> first;
    for (const unsigned threads : {1u, 2u, 4u}) {
        SCOPED_TRACE(std::to_string(threads) + " thread(s)");
        auto backend = makeCpuBackend();
        test::MemorySource src(x, 48000);
        std::vector<std::set<std::thread::id>> noted(3);
        std::vector<std::unique_ptr<Stage>> stages;
        for (const auto& [latency, tail] : {std::pair<Frames, Frames>{300, 7000}, {0, 50000}, {4097, 0}}) {
            stages.push_back(std::make_unique<NotingStage>(latency, tail, &noted[stages.size()]));
        }
        RenderOptions o = floatOutput(16384);
        o.threads = threads;
        const std::filesystem::path out = dir / ("o" + std::to_string(threads) + ".wav");
        const RenderReport r = render(src, std::move(stages), out, o, *backend);
        EXPECT_EQ(r.outputFrames, 250001 + 7000 + 50000);
        std::set<std::thread::id> all;
        for (std::size_t k = 0; k < noted.size(); ++k) {
            EXPECT_EQ(noted[k].size(), 1u) << "stage " << k;
            const bool onCaller = noted[k].contains(std::this_thread::get_id());
            EXPECT_EQ(onCaller, threads == 1 || k == 0) << "stage " << k;
            all.insert(noted[k].begin(), noted[k].end());
            EXPECT_GE(r.stages[k].seconds, 0.0);
        }
        EXPECT_EQ(all.size(), threads == 1 ? 1u : 3u);
        const auto read = test::readRawFloat(out);
        for (std::size_t c = 0; c < 2; ++c) { // the input, then the tails (DelayStage's: 0.25)
            ASSERT_EQ(read[c].size(), 307001u);
            EXPECT_TRUE(std::equal(x[c].begin(), x[c].end(), read[c].begin())) << "channel " << c;
            EXPECT_TRUE(
                std::all_of(read[c].begin() + 250001, read[c].end(), [](float v) { return v == 0.25f; }));
        }
        if (first.empty()) {
            first = test::readBytes(out);
        } else {
            EXPECT_EQ(test::readBytes(out), first);
        }
    }
}

// An error in a stage on a thread of its own — in a block, or in its flush — reaches the caller
// as the same GpuError (a --backend auto rerun on the CPU depends on its type), and nothing is
// left at the destination.
TEST(RenderJob, AnErrorOnAStagesThreadFailsTheRenderCleanly) {
    const Planar x = {test::noise(200000, 0.5, 5), test::noise(200000, 0.5, 6)};
    for (const int failAt : {1, 5, -1}) {
        for (const std::size_t failing : {std::size_t{1}, std::size_t{2}}) {
            SCOPED_TRACE("stage " + std::to_string(failing) + ", " +
                         (failAt < 0 ? std::string("in its flush") : "block " + std::to_string(failAt)));
            TempDir dir;
            test::writeBytes(dir / "o.wav", {'o', 'l', 'd'});
            auto backend = makeCpuBackend();
            test::MemorySource src(x, 48000);
            std::vector<std::set<std::thread::id>> noted(3);
            std::vector<std::unique_ptr<Stage>> stages;
            for (std::size_t k = 0; k < 3; ++k) {
                stages.push_back(
                    std::make_unique<NotingStage>(100, 1000, &noted[k], k == failing ? failAt : 0));
            }
            RenderOptions o = floatOutput(4096);
            o.threads = 2;
            try {
                render(src, std::move(stages), dir / "o.wav", o, *backend);
                ADD_FAILURE() << "no error";
            } catch (const GpuError& e) {
                EXPECT_NE(std::string(e.what()).find(failAt < 0 ? "cufftExecC2R" : "multibandDynamics"),
                          std::string::npos)
                    << e.what();
            }
            EXPECT_EQ(dir.entries(), std::vector<std::string>{"o.wav"});
            EXPECT_EQ(test::readBytes(dir / "o.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
        }
    }
}

// An error at the output's end — its tap failing, or a full disk — reaches the caller with its own
// type and words whichever thread met it, and the previous file stays whole.
TEST(RenderJob, AnErrorAtTheOutputEndFailsTheRenderCleanly) {
    const Planar x = {test::noise(200000, 0.5, 3), test::noise(200000, 0.5, 4)};
    for (const unsigned threads : {1u, 2u}) {
        for (const bool diskFull : {false, true}) {
            SCOPED_TRACE(std::to_string(threads) + " thread(s), " + (diskFull ? "disk full" : "tap"));
            TempDir dir;
            test::writeBytes(dir / "o.wav", {'o', 'l', 'd'});
            auto backend = makeCpuBackend();
            NotingTap failing(3);
            test::MemorySource src(x, 48000);
            std::vector<std::unique_ptr<Stage>> stages;
            stages.push_back(std::make_unique<test::DelayStage>(10));
            RenderOptions o;
            o.format = SampleFormat::Pcm24;
            o.blockFrames = 4096;
            o.threads = threads;
            if (diskFull) {
                o.faults.failAfterBytes = 300'000; // about a quarter of the output
            } else {
                o.tap = &failing;
            }
            try {
                render(src, std::move(stages), dir / "o.wav", o, *backend);
                ADD_FAILURE() << "no error";
            } catch (const GpuError& e) {
                EXPECT_FALSE(diskFull);
                EXPECT_NE(std::string(e.what()).find("measureLoudnessChunk"), std::string::npos) << e.what();
            } catch (const OutputError& e) {
                EXPECT_TRUE(diskFull);
                EXPECT_NE(std::string(e.what()).find("disk full"), std::string::npos) << e.what();
            }
            EXPECT_EQ(dir.entries(), std::vector<std::string>{"o.wav"});
            EXPECT_EQ(test::readBytes(dir / "o.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
        }
    }
}

// A render without a file (a targeted master's intermediate held in memory): the tap sees exactly
// what a file render's reader would get, with the same statistics, and nothing is written or
// touched at the output's path — in float and in dithered integer, on one thread and beside the
// stages. Without a tap such a render is refused before it starts.
TEST(RenderJob, WithoutAFileTheTapAloneSeesTheOutput) {
    const Planar x = {test::noise(150001, 0.7, 11), test::noise(150001, 0.7, 12)};
    for (const SampleFormat format : {SampleFormat::Float32, SampleFormat::Pcm24}) {
        for (const unsigned threads : {1u, 2u}) {
            SCOPED_TRACE(std::string(format == SampleFormat::Float32 ? "float" : "24-bit") + ", " +
                         std::to_string(threads) + " thread(s)");
            TempDir dir;
            auto backend = makeCpuBackend();
            RenderOptions o;
            o.format = format;
            o.dither = DitherMode::Tpdf;
            o.blockFrames = 20000;
            o.threads = threads;
            auto chain = [] {
                std::vector<std::unique_ptr<Stage>> stages;
                stages.push_back(std::make_unique<test::DelayStage>(333));
                return stages;
            };
            test::MemorySource fileSrc(x, 48000);
            const RenderReport written = render(fileSrc, chain(), dir / "file.wav", o, *backend);
            test::writeBytes(dir / "o.wav", {'o', 'l', 'd'});
            NotingTap tap;
            o.tap = &tap;
            o.writeFile = false;
            test::MemorySource tapSrc(x, 48000);
            const RenderReport tapped = render(tapSrc, chain(), dir / "o.wav", o, *backend);
            EXPECT_EQ(tap.seen, test::readRawFloat(dir / "file.wav"));
            EXPECT_EQ(tapped.outputFrames, written.outputFrames);
            EXPECT_EQ(tapped.clippedSamples, written.clippedSamples);
            EXPECT_EQ(tapped.encodeSeconds, 0.0);
            for (std::size_t c = 0; c < 2; ++c) {
                EXPECT_EQ(tapped.outputStats[c].sum, written.outputStats[c].sum);
                EXPECT_EQ(tapped.outputStats[c].peakAbs, written.outputStats[c].peakAbs);
            }
            auto entries = dir.entries();
            std::sort(entries.begin(), entries.end());
            EXPECT_EQ(entries, (std::vector<std::string>{"file.wav", "o.wav"}));
            EXPECT_EQ(test::readBytes(dir / "o.wav"), (std::vector<std::uint8_t>{'o', 'l', 'd'}));
            o.tap = nullptr;
            test::MemorySource untapped(x, 48000);
            EXPECT_THROW(render(untapped, chain(), dir / "o.wav", o, *backend), Error);
        }
    }
}

TEST(RenderJob, NoAudioIsRefused) {
    TempDir dir;
    test::MemorySource src({std::vector<float>{}}, 48000);
    auto backend = makeCpuBackend();
    EXPECT_THROW(render(src, {}, dir / "o.wav", floatOutput(), *backend), AudioContentError);
    EXPECT_TRUE(dir.entries().empty());
}

TEST(RenderJob, OneSampleFile) {
    TempDir dir;
    test::writeRawFloat(dir / "one.wav", {{0.5f}}, 44100, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    auto backend = makeCpuBackend();
    ConvertSettings s;
    s.sampleRate = 48000;
    const RenderReport r = convertFile(dir / "one.wav", dir / "o.wav", s, *backend);
    EXPECT_EQ(r.outputFrames, 1);
    EXPECT_EQ(test::readRawFloat(dir / "o.wav")[0].size(), 1u);
}

struct DitherCase {
    const char* name;
    int sourceBits;
    SampleFormat out;
    DitherMode mode;
    bool withStage;
    bool expectDither;
};

class DitherDecision : public ::testing::TestWithParam<DitherCase> {};

TEST_P(DitherDecision, FollowsTheRule) {
    const DitherCase& c = GetParam();
    TempDir dir;
    test::MemorySource src({test::noise(1000, 0.5, 1)}, 48000, c.sourceBits);
    RenderOptions o;
    o.format = c.out;
    o.dither = c.mode;
    std::vector<std::unique_ptr<Stage>> stages;
    if (c.withStage) {
        stages.push_back(std::make_unique<ResampleStage>(44100));
    }
    auto backend = makeCpuBackend();
    const RenderReport r = render(src, std::move(stages), dir / "o.wav", o, *backend);
    EXPECT_EQ(r.dithered, c.expectDither) << r.ditherReason;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, DitherDecision,
    ::testing::Values(DitherCase{"float_to_16", 0, SampleFormat::Pcm16, DitherMode::Auto, false, true},
                      DitherCase{"s16_to_16", 16, SampleFormat::Pcm16, DitherMode::Auto, false, false},
                      DitherCase{"s16_to_24", 16, SampleFormat::Pcm24, DitherMode::Auto, false, false},
                      DitherCase{"s24_to_16", 24, SampleFormat::Pcm16, DitherMode::Auto, false, true},
                      DitherCase{"s16_resampled_to_16", 16, SampleFormat::Pcm16, DitherMode::Auto, true,
                                 true},
                      DitherCase{"float_to_float", 0, SampleFormat::Float32, DitherMode::Auto, true, false},
                      DitherCase{"off", 0, SampleFormat::Pcm16, DitherMode::Off, false, false},
                      DitherCase{"forced", 16, SampleFormat::Pcm16, DitherMode::Tpdf, false, true}),
    [](const auto& p) { return std::string(p.param.name); });

} // namespace
} // namespace lathe

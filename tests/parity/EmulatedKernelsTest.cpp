// SPDX-License-Identifier: GPL-3.0-or-later
// The CUDA backend's loudness and multiband dynamics kernels (gpu/src/LoudnessKernels.cuh,
// MultibandKernels.cuh), compiled for the host with shims for CUDA's built-ins and run — every
// thread of every launch, in the backend's order of launches — against the CPU reference. Kernels
// without __syncthreads run thread after thread; a block of a kernel with it runs as fibers on the
// calling thread, a round of them per barrier phase, its __shared__ memory shared by them. This
// tests the kernels' indexing, scans, reductions and states on every run, GPU or not; the device
// itself (its arithmetic, cuFFT, real concurrency) is tested by BackendParity on a GPU machine.
#include "CpuForwardingBackend.h"
#include "KernelPlans.h"
#include "LaunchGrid.h"
#include "LedgerMemory.h"
#include "MultibandRender.h"
#include "StageRender.h"
#include "TestFiles.h"
#include "TestSignals.h"
#include "Tolerances.h"

#include <lathe/Backend.h>
#include <lathe/ChainSource.h>
#include <lathe/LimiterStage.h>
#include <lathe/Loudness.h>
#include <lathe/LoudnessKernel.h>
#include <lathe/Master.h>
#include <lathe/MultibandStage.h>
#include <lathe/Preset.h>
#include <lathe/Spectrum.h>

#include <fftw3.h>
#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <ucontext.h>
#include <vector>

namespace lathe::gpu::kernels::emulated {
struct Dim3 {
    unsigned x = 0, y = 0, z = 0;
};
// A kernel's place in the launch, set by launch() below for each emulated thread.
inline thread_local Dim3 blockIdx, threadIdx;
inline Dim3 blockDim;
// A block of threads whose kernel calls __syncthreads runs as fibers on the calling thread: each
// runs until its next __syncthreads (or its end), then the next; a round of all of them is one
// barrier phase, so every thread reaches a barrier before any passes it, as on the device.
struct FiberBlock {
    ucontext_t scheduler{};
    std::vector<ucontext_t> fibers;
    std::vector<std::vector<char>> stacks;
    std::vector<bool> done;
    unsigned current = 0;
    const std::function<void()>* kernel = nullptr;
};
inline FiberBlock* fiberBlock = nullptr;
inline void __syncthreads() {
    if (fiberBlock == nullptr) {
        std::fprintf(stderr, "__syncthreads in a kernel launched thread after thread\n");
        std::abort();
    }
    swapcontext(&fiberBlock->fibers[fiberBlock->current], &fiberBlock->scheduler);
}
inline void fiberEntry() {
    (*fiberBlock->kernel)();
    fiberBlock->done[fiberBlock->current] = true; // then back to the scheduler (uc_link)
}
inline unsigned int __float_as_uint(float x) {
    return std::bit_cast<unsigned int>(x);
}
inline float __uint_as_float(unsigned int x) {
    return std::bit_cast<float>(x);
}
} // namespace lathe::gpu::kernels::emulated

#define __global__
#define __device__
#define __shared__ static
namespace lathe::gpu::kernels {
using emulated::__float_as_uint;
using emulated::__syncthreads;
using emulated::__uint_as_float;
using emulated::blockDim;
using emulated::blockIdx;
using emulated::threadIdx;
} // namespace lathe::gpu::kernels
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function" // the launchers' helpers
#include "LimiterKernels.cuh"
#include "LoudnessKernels.cuh"
#include "MultibandKernels.cuh"
#include "SpectrumKernels.cuh"
#pragma GCC diagnostic pop
#undef __global__
#undef __device__
#undef __shared__

namespace lathe {
namespace {

namespace k = gpu::kernels;

/// Runs `kernel` for every thread of a grid of blocks × threads, one after another (kernels
/// without __syncthreads).
template <typename Kernel> void launch(unsigned blocksX, unsigned blocksY, unsigned threads, Kernel kernel) {
    k::emulated::blockDim = {threads, 1, 1};
    for (unsigned y = 0; y < blocksY; ++y) {
        for (unsigned b = 0; b < blocksX; ++b) {
            for (unsigned t = 0; t < threads; ++t) {
                k::emulated::blockIdx = {b, y, 0};
                k::emulated::threadIdx = {t, 0, 0};
                kernel();
            }
        }
    }
}

/// A fiber that runs the block's kernel on `stack`, then returns to `scheduler`. (getcontext
/// returns twice, so it stays out of the scheduler's own frame.)
[[gnu::noinline]] void makeFiber(ucontext_t& f, std::vector<char>& stack, ucontext_t* scheduler) {
    getcontext(&f);
    f.uc_stack.ss_sp = stack.data();
    f.uc_stack.ss_size = stack.size();
    f.uc_link = scheduler;
    makecontext(&f, k::emulated::fiberEntry, 0);
}

/// Runs `kernel` a block at a time, the block's threads as fibers meeting at __syncthreads
/// (FiberBlock). A block whose threads do not all reach the same barriers fails the test.
template <typename Kernel>
void launchSynchronised(unsigned blocksX, unsigned blocksY, unsigned threads, Kernel kernel) {
    constexpr std::size_t kStack = 64 * 1024;
    k::emulated::blockDim = {threads, 1, 1};
    const std::function<void()> body = kernel;
    k::emulated::FiberBlock block;
    block.kernel = &body;
    block.fibers.resize(threads);
    block.stacks.assign(threads, std::vector<char>(kStack));
    k::emulated::fiberBlock = &block;
    for (unsigned y = 0; y < blocksY; ++y) {
        for (unsigned b = 0; b < blocksX; ++b) {
            k::emulated::blockIdx = {b, y, 0};
            block.done.assign(threads, false);
            for (unsigned t = 0; t < threads; ++t) {
                makeFiber(block.fibers[t], block.stacks[t], &block.scheduler);
            }
            for (;;) { // one barrier phase per round
                unsigned finished = 0;
                for (unsigned t = 0; t < threads; ++t) {
                    if (block.done[t]) {
                        ++finished;
                        continue;
                    }
                    block.current = t;
                    k::emulated::threadIdx = {t, 0, 0};
                    swapcontext(&block.scheduler, &block.fibers[t]);
                    finished += block.done[t] ? 1 : 0;
                }
                if (finished == threads) {
                    break;
                }
                ASSERT_EQ(finished, 0u) << "some threads of a block ended while others wait at __syncthreads";
            }
        }
    }
    k::emulated::fiberBlock = nullptr;
}

using k::blocksOf;

/// `b` channel-major with a pitch of its frames, as CudaBackend's upload() leaves it on the device.
std::vector<float> uploaded(const AudioBuffer& b) {
    const auto pitch = static_cast<std::size_t>(b.frames());
    std::vector<float> x(static_cast<std::size_t>(b.channels()) * pitch);
    for (int c = 0; c < b.channels(); ++c) {
        std::copy_n(b.channel(c), b.frames(), x.begin() + static_cast<std::ptrdiff_t>(c * pitch));
    }
    return x;
}

/// What a device backend copies, and which of it a test backend found outside its host memory.
struct CopyLedger {
    test::LedgerMemory* memory = nullptr; ///< none: nothing is checked
    std::atomic<int> copied[5] = {};      ///< buffers copied, by CopyLedger::Op
    std::atomic<int> elsewhere = 0;       ///< of them, outside `memory`
    enum Op { Loudness, Dynamics, Limiter, Spectrum, Convolver };

    /// Notes a buffer `op` copies to or from the device; true when it lives in the memory.
    bool note(Op op, const AudioBuffer& b) {
        if (memory == nullptr || b.frames() == 0) {
            return true;
        }
        ++copied[op];
        const bool inside = b.memory() == memory && memory->holds(b.channel(0));
        if (!inside) {
            ++elsewhere;
        }
        return inside;
    }
};

/// A convolver standing in for a CUDA one: the CPU convolver's work, the copies it would make
/// noted in the ledger.
class EmulatedConvolver : public Convolver {
public:
    EmulatedConvolver(std::unique_ptr<Convolver> cpu, CopyLedger& ledger)
        : m_cpu(std::move(cpu)), m_ledger(ledger) {}
    Frames blockFrames() const override { return m_cpu->blockFrames(); }
    Frames preferredFrames() const override { return m_cpu->preferredFrames(); }
    int inputs() const override { return m_cpu->inputs(); }
    int outputs() const override { return m_cpu->outputs(); }

protected:
    Convolver& cpu() { return *m_cpu; }
    CopyLedger& ledger() { return m_ledger; }

private:
    std::unique_ptr<Convolver> m_cpu;
    CopyLedger& m_ledger;
};

/// A convolver that keeps its output "on the device" (ConvolverOptions::outputOnDevice) as the
/// CUDA one does: the CPU convolver's output stays here, and the caller's buffer gets the shape
/// and NaN samples, so a host read of what should stay on the device shows in the output.
class ResidentConvolver final : public EmulatedConvolver {
public:
    using EmulatedConvolver::EmulatedConvolver;
    bool outputOnDevice() const override { return true; }
    void process(const AudioBuffer& in, AudioBuffer& out) override {
        EXPECT_TRUE(ledger().note(CopyLedger::Convolver, in)) << "a convolver's input"; // its output stays
        cpu().process(in, m_device);
        prepareConvolverOutput(*this, in, out);
        for (int c = 0; c < out.channels(); ++c) {
            std::fill_n(out.channel(c), out.frames(), std::numeric_limits<float>::quiet_NaN());
        }
    }
    /// As gpu::detail::residentOutput: the last call's output, which must be `frames` long.
    const AudioBuffer& resident(Frames frames) const {
        EXPECT_EQ(m_device.frames(), frames) << "the bands asked for are not the last call's";
        return m_device;
    }

private:
    AudioBuffer m_device;
};

/// A convolver whose input and output (CudaConvolver copies both) are noted in the ledger.
class CopyingConvolver final : public EmulatedConvolver {
public:
    using EmulatedConvolver::EmulatedConvolver;
    bool outputOnDevice() const override { return false; }
    void process(const AudioBuffer& in, AudioBuffer& out) override {
        EXPECT_TRUE(ledger().note(CopyLedger::Convolver, in)) << "a convolver's input";
        cpu().process(in, out);
        EXPECT_TRUE(ledger().note(CopyLedger::Convolver, out)) << "a convolver's output";
    }
};

/// The CPU reference for everything, and Capability::Dynamics by the emulated kernels, with the
/// same geometry, order of launches and buffers as CudaBackend::multibandDynamics (the crossover's
/// bands left "on the device" between the two, as there). With a ledger's memory it is its
/// hostMemory(), as the page-locked memory is CudaBackend's, and every buffer an operation would
/// copy to or from the device is checked to live there.
/// As launchKWeightedEnergy, launchSearchGrid (with true peak) and launchStepPeaks for one chunk.
void runLoudness(const LoudnessParams& params, const k::LoudnessChunkLayout& l, double* energy, float* grid,
                 float* samplePeak, float* truePeak, double* truePeakFrame) {
    const int channels = l.channels;
    const k::KScan g = k::kScanOf(l, k::kScanSegmentSubs(l));
    std::vector<math::KWeightingState> states(2 * static_cast<std::size_t>(g.segments) *
                                              static_cast<std::size_t>(channels));
    math::KWeightingState* rest = states.data();
    math::KWeightingState* start = rest + g.segments * channels;
    const math::KWeightingTransition t = math::kWeightingTransition(params.kWeighting, g.length);
    launch(blocksOf(g.segments * channels, 128), 1, 128,
           [&] { k::kWeightFromRestKernel(l, params.kWeighting, g, rest); });
    launch(blocksOf(channels, 32), 1, 32, [&] { k::kWeightCarryKernel(l, t, g, rest, start); });
    launch(blocksOf((g.segments - g.lead) * channels, 128), 1, 128,
           [&] { k::kWeightEnergyKernel(l, params.kWeighting, g, start, energy); });
    if (params.truePeak) {
        launch(blocksOf(l.frames, 256), static_cast<unsigned>(channels), 256,
               [&] { k::searchGridKernel(l, params.search->coeffs.data(), params.search->taps, grid); });
    }
    launchSynchronised(static_cast<unsigned>(l.steps), static_cast<unsigned>(channels), k::kPeakThreads, [&] {
        k::stepPeaksKernel(l, grid, params.truePeak, truePeakCandidateRatio(), params.refine->coeffs.data(),
                           params.refine->taps, samplePeak, truePeak, truePeakFrame);
    });
}

/// As launchLimiterPass.
void runLimiterPass(const k::LimiterLayout& l) {
    const std::int64_t frames = l.frames;
    const std::int64_t lookahead = l.lookahead;
    launch(blocksOf(frames + lookahead, k::kLimiterThreads), 1, k::kLimiterThreads,
           [&] { k::limiterPeaksKernel(l); });
    launch(blocksOf(frames + lookahead - 1, k::kLimiterThreads), 1, k::kLimiterThreads,
           [&] { k::limiterAttenuationKernel(l); });
    launch(blocksOf(frames, k::kLimiterThreads), 1, k::kLimiterThreads,
           [&] { k::limiterLookaheadKernel(l); });
    launch(blocksOf(l.segments, k::kLimiterThreads), 1, k::kLimiterThreads,
           [&] { k::limiterReleaseComposeKernel(l); });
    launch(1, 1, 1, [&] { k::limiterReleaseCarryKernel(l); });
    launch(blocksOf(l.segments, k::kLimiterThreads), 1, k::kLimiterThreads,
           [&] { k::limiterReleaseKernel(l); });
    launch(blocksOf(frames, k::kLimiterThreads), 1, k::kLimiterThreads, [&] { k::limiterGainKernel(l); });
    if (l.pieces > 0) {
        launch(blocksOf(l.pieces, k::kLimiterThreads), 1, k::kLimiterThreads,
               [&] { k::limiterPieceStatsKernel(l); });
    }
}

/// The limiter pass's working arrays for a call of `l`, given to it with the search kernel's
/// coefficients, as Lane::limiterBuffers gives the device's (`r`: R, its first L the history).
struct LimiterArrays {
    LimiterArrays(k::LimiterLayout& l, const LimiterPassParams& params, std::size_t pieces)
        : p(frames(l) + lookahead(l)), out(static_cast<std::size_t>(l.channels) * frames(l)),
          d(frames(l) + lookahead(l)), h(frames(l)), gain(frames(l)), r(lookahead(l) + frames(l)),
          start(static_cast<std::size_t>(l.segments)), maps(static_cast<std::size_t>(l.segments)),
          pieceMax(pieces), pieceSum(pieces), pieceCount(pieces) {
        l.coeffs = params.search->coeffs.data();
        l.p = p.data();
        l.d = d.data();
        l.h = h.data();
        l.maps = maps.data();
        l.start = start.data();
        l.r = r.data();
        l.gainDb = gain.data();
        l.y = out.data();
        l.pieceMax = pieceMax.data();
        l.pieceSum = pieceSum.data();
        l.pieceCount = pieceCount.data();
    }
    static std::size_t frames(const k::LimiterLayout& l) { return static_cast<std::size_t>(l.frames); }
    static std::size_t lookahead(const k::LimiterLayout& l) { return static_cast<std::size_t>(l.lookahead); }
    std::vector<float> p, out;
    std::vector<double> d, h, gain, r, start;
    std::vector<math::MaxAffine> maps;
    std::vector<double> pieceMax, pieceSum;
    std::vector<std::int64_t> pieceCount;
};

/// Audio "held on the device" as CudaResident lays it out: channel-major, a pitch of the length it
/// was made for.
class EmulatedResident final : public ResidentAudio {
public:
    EmulatedResident(int channels, Frames capacity)
        : m_channels(channels), m_capacity(capacity),
          m_samples(static_cast<std::size_t>(channels) * static_cast<std::size_t>(capacity)) {}
    int channels() const override { return m_channels; }
    Frames frames() const override { return m_frames; }
    void append(const AudioBuffer& block) override {
        LATHE_EXPECTS(block.channels() == m_channels && m_frames + block.frames() <= m_capacity &&
                          !m_finished,
                      "resident audio: the channels and at most the length it was made for");
        for (int c = 0; c < m_channels; ++c) {
            std::copy_n(block.channel(c), block.frames(),
                        m_samples.begin() + static_cast<std::ptrdiff_t>(c * m_capacity + m_frames));
        }
        m_frames += block.frames();
    }
    void finish() override { m_finished = true; }
    bool finished() const { return m_finished; }
    const float* samples() const { return m_samples.data(); }
    Frames pitch() const { return m_capacity; }

private:
    int m_channels;
    Frames m_capacity;
    Frames m_frames = 0;
    bool m_finished = false;
    std::vector<float> m_samples;
};

class EmulatedKernelsBackend final : public test::CpuForwardingBackend {
public:
    EmulatedKernelsBackend() = default;
    explicit EmulatedKernelsBackend(test::LedgerMemory& memory) { m_ledger.memory = &memory; }

    /// Everything; the trial on resident audio unless `residentTrial` is off.
    bool supports(Capability c) const override { return c != Capability::ResidentTrial || m_residentTrial; }
    void setResidentTrial(bool on) { m_residentTrial = on; }
    std::string_view name() const override { return "emulated"; }
    std::string description() const override { return "CUDA kernels run serially on the host"; }
    HostMemory* hostMemory() const override { return m_ledger.memory; }
    std::unique_ptr<Convolver> makeConvolver(const FilterMatrix& m, const ConvolverOptions& o) override {
        std::unique_ptr<Convolver> cpu = CpuForwardingBackend::makeConvolver(m, o);
        if (o.outputOnDevice) {
            ++m_residentConvolvers;
            return std::make_unique<ResidentConvolver>(std::move(cpu), m_ledger);
        }
        if (m_ledger.memory != nullptr) {
            return std::make_unique<CopyingConvolver>(std::move(cpu), m_ledger);
        }
        return cpu;
    }
    /// Convolvers made with their output left on the device, and dynamics calls that read one.
    int residentConvolvers() const { return m_residentConvolvers; }
    int residentCalls() const { return m_residentCalls; }
    const CopyLedger& ledger() const { return m_ledger; }

    /// As CudaBackend::measureLoudnessChunk: the K-weighting scan, the ×4 grid, the step peaks.
    void measureLoudnessChunk(const LoudnessParams& params, const LoudnessChunk& chunk,
                              LoudnessRecords& out) override {
        const std::lock_guard one(m_oneAtATime);
        const AudioBuffer& audio = *chunk.audio;
        EXPECT_TRUE(m_ledger.note(CopyLedger::Loudness, audio)) << "a loudness chunk";
        const int channels = audio.channels();
        const auto ch = static_cast<std::size_t>(channels);
        const std::vector<float> samples = uploaded(audio);
        k::LoudnessChunkLayout l = k::loudnessLayout(params, chunk);
        l.audio = samples.data();
        const auto subsAll = ch * static_cast<std::size_t>(l.subs);
        const auto stepsAll = ch * static_cast<std::size_t>(l.steps);
        std::vector<double> energy(subsAll);
        std::vector<float> grid(ch * 4 * static_cast<std::size_t>(l.frames));
        std::vector<float> peaks(2 * stepsAll);
        std::vector<double> frames(stepsAll);
        if (chunk.frames > 0 && channels > 0) {
            runLoudness(params, l, energy.data(), grid.data(), peaks.data(), peaks.data() + stepsAll,
                        frames.data());
        }
        k::splitRecords(l, energy.data(), peaks.data(), peaks.data() + stepsAll, frames.data(), out);
    }

    void multibandDynamics(const MultibandParams& params, const MultibandCall& call,
                           std::vector<BandDetectorState>& state, AudioBuffer& out,
                           MultibandCallStats& stats) override {
        const std::lock_guard one(m_oneAtATime);
        const Frames frames = call.filtered->frames();
        if (call.bandsOn != nullptr) {
            ++m_residentCalls;
        } else {
            EXPECT_TRUE(m_ledger.note(CopyLedger::Dynamics, *call.filtered)) << "the dynamics' bands";
        }
        const AudioBuffer& in = call.bandsOn != nullptr
                                    ? dynamic_cast<const ResidentConvolver&>(*call.bandsOn).resident(frames)
                                    : *call.filtered;
        const int channels = params.channels;
        const int bands = params.bands;
        const auto cells = static_cast<std::size_t>(channels * bands);
        const auto n = static_cast<std::size_t>(frames);
        out.reset(channels, frames);
        out.setFrames(frames);
        EXPECT_TRUE(m_ledger.note(CopyLedger::Dynamics, out)) << "the dynamics' output";
        stats.sumGainDb.assign(cells, 0.0);
        stats.minGainDb.assign(cells, 0.0);
        stats.stepReductionDb.assign(static_cast<std::size_t>(bands), {});
        stats.firstStep = 0;
        if (frames == 0) {
            return;
        }
        std::vector<float> x(cells * n);
        for (std::size_t i = 0; i < cells; ++i) {
            std::copy_n(in.channel(static_cast<int>(i)), frames,
                        x.begin() + static_cast<std::ptrdiff_t>(i * n));
        }
        std::vector<MultibandBandParams> band = params.band;
        k::MultibandLayout m = k::multibandLayout(params, frames);
        m.band = band.data();
        m.x = x.data();
        std::vector<float> encoded(cells * n), bandOut(cells * n),
            sum(static_cast<std::size_t>(channels) * n);
        std::vector<double> level(cells * n), gainDb(cells * n);
        std::vector<math::MaxAffine> maps(k::multibandStartCount(m));
        std::vector<double> start(maps.size()), start2(maps.size());
        m.encoded = encoded.data();
        m.level = level.data();
        m.maps = maps.data();
        m.start = start.data();
        m.start2 = start2.data();
        m.state = state.data();
        m.gainDb = gainDb.data();
        m.bandOut = bandOut.data();
        m.out = sum.data();
        // As launchMultiband.
        const auto perChannel = static_cast<std::int64_t>(cells);
        const std::int64_t detectors = static_cast<std::int64_t>(bands) * m.detectors;
        if (m.midSide) {
            launch(blocksOf(frames, 256), static_cast<unsigned>(bands), 256,
                   [&] { k::encodeMidSideKernel(m); });
        }
        if (m.rms) {
            launch(blocksOf(perChannel * m.segments, 128), 1, 128, [&] { k::rmsComposeKernel(m); });
            launch(blocksOf(perChannel, 32), 1, 32, [&] { k::rmsCarryKernel(m); });
            launch(blocksOf(perChannel * m.segments, 128), 1, 128, [&] { k::rmsLevelKernel(m); });
        }
        launch(blocksOf(detectors * m.segments, 128), 1, 128, [&] { k::releaseComposeKernel(m); });
        launch(blocksOf(detectors, 32), 1, 32, [&] { k::detectorCarryKernel<math::MaxAffine>(m, false); });
        launch(blocksOf(detectors * m.segments, 128), 1, 128, [&] { k::attackComposeKernel(m); });
        launch(blocksOf(detectors, 32), 1, 32, [&] { k::detectorCarryKernel<math::Affine>(m, true); });
        launch(blocksOf(detectors * m.segments, 128), 1, 128, [&] { k::gainKernel(m); });
        launch(blocksOf(frames, 256), static_cast<unsigned>(channels), 256, [&] { k::sumBandsKernel(m); });
        for (int c = 0; c < channels; ++c) {
            std::copy_n(sum.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(c) * n), frames,
                        out.channel(c));
        }
        // As launchMultibandStats.
        const k::HistorySteps history = k::historySteps(params, call.outputFrame, frames);
        stats.firstStep = history.first;
        const Frames steps = history.count;
        std::vector<double> figures(2 * cells + static_cast<std::size_t>(bands * std::max<Frames>(1, steps)));
        double* sums = figures.data();
        double* mins = sums + cells;
        double* stepMax = mins + cells;
        launchSynchronised(static_cast<unsigned>(cells), 1, k::kReduceThreads,
                           [&] { k::gainStatsKernel(m, sums, mins); });
        if (steps > 0) {
            launchSynchronised(static_cast<unsigned>(steps), static_cast<unsigned>(bands), k::kReduceThreads,
                               [&] {
                                   k::stepReductionKernel(m, call.outputFrame, params.historyStep,
                                                          stats.firstStep, steps, stepMax);
                               });
        }
        std::copy_n(sums, cells, stats.sumGainDb.begin());
        std::copy_n(mins, cells, stats.minGainDb.begin());
        for (int b = 0; b < bands; ++b) {
            if (band[static_cast<std::size_t>(b)].active) {
                stats.stepReductionDb[static_cast<std::size_t>(b)].assign(stepMax + b * steps,
                                                                          stepMax + (b + 1) * steps);
            }
        }
    }

    /// As CudaBackend::makeResident, without its memory check.
    std::unique_ptr<ResidentAudio> makeResident(int channels, Frames frames) override {
        if (!m_residentTrial) {
            return nullptr;
        }
        ++m_residentTrials;
        return std::make_unique<EmulatedResident>(channels, frames);
    }
    int residentTrials() const { return m_residentTrials; }

    /// As CudaBackend::trialLoudness: the same calls, layouts, margins and order of launches.
    std::vector<ChunkRecords> trialLoudness(const ResidentAudio& audio, const LimiterTrialPass& pass,
                                            const LoudnessParams& loudness, Frames chunkFrames) override {
        const std::lock_guard one(m_oneAtATime);
        const auto* held = dynamic_cast<const EmulatedResident*>(&audio);
        LATHE_EXPECTS(held != nullptr && held->finished(),
                      "trialLoudness: finished audio this backend holds");
        const int C = audio.channels();
        const Frames N = audio.frames();
        const LimiterPassParams& lp = pass.params;
        const Frames L = lp.lookahead;
        k::TrialPlan plan = k::trialPlan(C, N, pass, chunkFrames);
        std::vector<ChunkRecords>& chunks = plan.chunks;
        const std::vector<k::TrialCall>& calls = plan.calls;
        const auto ch = static_cast<std::size_t>(C);
        const Frames warm = loudness.warmupFrames;
        const Frames pitchY = warm + N + loudness.lookaheadFrames;
        std::vector<float> y(ch * static_cast<std::size_t>(pitchY), 0.0f);
        std::vector<double> r(static_cast<std::size_t>(L + pass.callFrames), 0.0);
        for (std::size_t i = 0; i < calls.size(); ++i) {
            const k::TrialCall& c = calls[i];
            const auto frames = static_cast<std::size_t>(c.frames);
            const Frames span = lp.before() + c.frames + lp.after();
            std::vector<float> x(ch * static_cast<std::size_t>(span));
            const k::LimiterDriveLayout d{
                C, N, held->pitch(), c.a - lp.before(), span, pass.inputGain, held->samples(), x.data()};
            launch(blocksOf(span, k::kLimiterThreads), static_cast<unsigned>(C), k::kLimiterThreads,
                   [&] { k::limiterDriveKernel(d); });
            k::LimiterLayout l = k::limiterLayout(lp, c.frames, span);
            LimiterArrays arrays(l, lp, 0);
            const std::vector<float>& out = arrays.out;
            l.x = x.data();
            l.r = r.data(); // carried from call to call
            l.statsFrom = c.frames;
            l.pieces = 0;
            runLimiterPass(l);
            const Frames skip = std::clamp<Frames>(-c.a, 0, c.frames);
            for (std::size_t ci = 0; ci < ch; ++ci) {
                std::copy(
                    out.begin() + static_cast<std::ptrdiff_t>(ci * frames + static_cast<std::size_t>(skip)),
                    out.begin() + static_cast<std::ptrdiff_t>((ci + 1) * frames),
                    y.begin() + static_cast<std::ptrdiff_t>(ci * static_cast<std::size_t>(pitchY) +
                                                            static_cast<std::size_t>(warm + c.a + skip)));
            }
            if (i + 1 < calls.size()) {
                std::copy_n(r.begin() + static_cast<std::ptrdiff_t>(c.frames), L, r.begin());
            }
        }
        for (ChunkRecords& rec : chunks) {
            k::LoudnessChunkLayout l = k::loudnessLayout(loudness, C, pitchY, rec.start, rec.frames);
            l.audio = y.data() + rec.start;
            const std::size_t subs = ch * static_cast<std::size_t>(l.subs);
            const std::size_t steps = ch * static_cast<std::size_t>(l.steps);
            std::vector<double> energy(subs), peakFrames(steps);
            std::vector<float> grid(loudness.truePeak ? ch * 4 * static_cast<std::size_t>(l.frames) : 1);
            std::vector<float> peaks(2 * steps);
            runLoudness(loudness, l, energy.data(), grid.data(), peaks.data(), peaks.data() + steps,
                        peakFrames.data());
            k::splitRecords(l, energy.data(), peaks.data(), peaks.data() + steps, peakFrames.data(),
                            rec.records);
        }
        return std::move(plan.chunks);
    }

    /// As CudaBackend::limiterPass: the same layout, buffers and order of launches.
    void limiterPass(const LimiterPassParams& params, const LimiterPassCall& call,
                     std::vector<double>& rHistory, AudioBuffer& y,
                     std::vector<ReductionStats>& pieces) override {
        const std::lock_guard one(m_oneAtATime);
        const AudioBuffer& in = *call.x;
        EXPECT_TRUE(m_ledger.note(CopyLedger::Limiter, in)) << "the limiter pass's input";
        const Frames frames = call.frames;
        const int channels = params.channels;
        const auto n = static_cast<std::size_t>(frames);
        const auto P = static_cast<std::size_t>(call.pieces());
        y.reset(channels, frames);
        y.setFrames(frames);
        EXPECT_TRUE(m_ledger.note(CopyLedger::Limiter, y)) << "the limiter pass's output";
        pieces.assign(P, ReductionStats{});
        if (frames == 0) {
            return;
        }
        const std::vector<float> x = uploaded(in);
        k::LimiterLayout l = k::limiterLayout(params, frames, in.frames());
        LimiterArrays a(l, params, P);
        std::copy(rHistory.begin(), rHistory.end(), a.r.begin());
        l.x = x.data();
        l.statsFrom = call.statsFrom;
        l.firstPiece = call.firstPiece;
        l.pieceFrames = call.pieceFrames;
        l.pieces = call.pieces();
        runLimiterPass(l);
        for (std::size_t k = 0; k < P; ++k) {
            pieces[k] = ReductionStats{a.pieceMax[k], a.pieceSum[k], static_cast<Frames>(a.pieceCount[k])};
        }
        for (int c = 0; c < channels; ++c) {
            std::copy_n(a.out.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(c) * n), frames,
                        y.channel(c));
        }
        std::copy(a.r.begin() + static_cast<std::ptrdiff_t>(n), a.r.end(), rHistory.begin());
    }

    /// As CudaBackend::spectrumFrames, FFTW's single-precision transforms standing in for cuFFT's.
    void spectrumFrames(const SpectrumParams& params, const SpectrumCall& call,
                        SpectrumCallResult& out) override {
        const std::lock_guard one(m_oneAtATime);
        const AudioBuffer& in = *call.audio;
        EXPECT_TRUE(m_ledger.note(CopyLedger::Spectrum, in)) << "a spectrum batch";
        const int frames = call.frames;
        const auto bins = static_cast<std::size_t>(params.bins);
        const auto curves = static_cast<std::size_t>(params.curves());
        out.reset(params, frames);
        if (frames == 0) {
            return;
        }
        const std::vector<float> x = uploaded(in);
        const auto transforms = static_cast<std::size_t>(params.channels) * static_cast<std::size_t>(frames);
        std::vector<float> windowed(transforms * static_cast<std::size_t>(params.n));
        std::vector<float> spectra(transforms * bins * 2);
        std::vector<double> framePower(static_cast<std::size_t>(frames) * bins), powerSum(curves * bins);
        k::SpectrumLayout s = k::spectrumLayout(params, frames, in.frames());
        s.rowFirstBin = params.rowFirstBin.data();
        s.rowBinCount = params.rowBinCount.data();
        s.rowFallbackBin = params.rowFallbackBin.data();
        s.window = params.window.data();
        s.x = x.data();
        s.windowed = windowed.data();
        s.spectra = spectra.data();
        s.framePower = framePower.data();
        s.powerSum = powerSum.data();
        s.rowMax = out.rowMax.data();
        s.rowMean = out.rowMean.data();
        // As CudaBackend::spectrumFrames: window, the batched transforms, power and pooling.
        launch(blocksOf(static_cast<std::int64_t>(transforms) * params.n, k::kSpectrumThreads), 1,
               k::kSpectrumThreads, [&] { k::spectrumWindowKernel(s); });
        fftwf_plan plan = fftwf_plan_many_dft_r2c(
            1, &s.n, static_cast<int>(transforms), windowed.data(), nullptr, 1, s.n,
            reinterpret_cast<fftwf_complex*>(spectra.data()), nullptr, 1, s.bins, FFTW_ESTIMATE);
        ASSERT_NE(plan, nullptr);
        fftwf_execute(plan);
        fftwf_destroy_plan(plan);
        launch(blocksOf(s.bins, k::kSpectrumThreads), 1, k::kSpectrumThreads,
               [&] { k::spectrumPowerKernel(s); });
        launch(blocksOf(static_cast<std::int64_t>(frames) * s.rows, k::kSpectrumThreads), 1,
               k::kSpectrumThreads, [&] { k::spectrumPoolKernel(s); });
        for (std::size_t c = 0; c < curves; ++c) {
            std::copy_n(powerSum.begin() + static_cast<std::ptrdiff_t>(c * bins), bins,
                        out.powerSum[c].begin());
        }
    }

private:
    int m_residentConvolvers = 0;
    int m_residentCalls = 0;
    bool m_residentTrial = true;
    int m_residentTrials = 0;
    CopyLedger m_ledger;
    /// One operation at a time (the emulation's launch state is shared; CudaBackend's operations
    /// run at once on lanes of their own).
    std::mutex m_oneAtATime;
};

// Loudness records — sub-block energies, sample and true peaks with their positions — from the
// kernels equal the reference's: rates 44.1–192 kHz, 0, 1 and odd lengths, silence, a near-Nyquist
// tone (the true-peak search's hardest case), with and without true peak. On the host the same
// float expressions give the same peaks exactly; the energies differ only by the scan's carried
// states, within the GPU's bound (a one-sample sub-block of a near-Nyquist tone, a small difference
// of large filter states, differs by 2e-11 relative).
TEST(EmulatedKernels, LoudnessRecordsEqualTheReference) {
    struct Case {
        SampleRate fs;
        Frames frames;
    };
    EmulatedKernelsBackend emulated;
    for (const Case c : {Case{48000, 0}, Case{48000, 1}, Case{48000, 4799}, Case{44100, 44100 + 17},
                         Case{96000, 96000}, Case{192000, 38400 + 5}}) {
        for (const bool truePeak : {true, false}) {
            for (const char* signal : {"noise", "silence", "nyquist"}) {
                LoudnessParams params = LoudnessParams::forRate(c.fs);
                params.truePeak = truePeak;
                const Frames total = params.warmupFrames + c.frames + params.lookaheadFrames;
                AudioBuffer audio(2, total);
                audio.setFrames(total);
                audio.clear();
                for (int ch = 0; ch < 2; ++ch) {
                    std::vector<float> x(static_cast<std::size_t>(total), 0.0f);
                    if (std::string(signal) == "noise") {
                        x = test::noise(total, 0.5, 40 + static_cast<std::uint64_t>(ch));
                    } else if (std::string(signal) == "nyquist") {
                        x = test::sine(0.45 * c.fs, 0.7, c.fs, total, 0.3 * ch);
                    }
                    std::copy(x.begin(), x.end(), audio.channel(ch));
                }
                const LoudnessChunk chunk{&audio, 777 * params.stepFrames, c.frames};
                LoudnessRecords got;
                LoudnessRecords want;
                emulated.measureLoudnessChunk(params, chunk, got);
                measureLoudnessChunkCpu(params, chunk, want);
                const std::string what = std::to_string(c.fs) + " Hz, " + std::to_string(c.frames) +
                                         " frames, " + signal + (truePeak ? ", true peak" : "");
                ASSERT_EQ(got.subBlockEnergy.size(), want.subBlockEnergy.size()) << what;
                for (std::size_t ch = 0; ch < want.subBlockEnergy.size(); ++ch) {
                    ASSERT_EQ(got.subBlockEnergy[ch].size(), want.subBlockEnergy[ch].size()) << what;
                    for (std::size_t b = 0; b < want.subBlockEnergy[ch].size(); ++b) {
                        const double w = want.subBlockEnergy[ch][b];
                        ASSERT_NEAR(got.subBlockEnergy[ch][b], w, test::kLoudnessEnergyParityRelative * w)
                            << what << ", channel " << ch << ", sub-block " << b;
                    }
                    EXPECT_EQ(got.stepSamplePeak[ch], want.stepSamplePeak[ch]) << what;
                    EXPECT_EQ(got.stepTruePeak[ch], want.stepTruePeak[ch]) << what;
                    EXPECT_EQ(got.stepTruePeakFrame[ch], want.stepTruePeakFrame[ch]) << what;
                }
            }
        }
    }
}

// On the host the kernels evaluate the same expressions as the reference (no fused multiply-add
// here: -ffp-contract=off), so the scans' carried states are the only difference: the samples come
// out identical, the report's sums within double rounding.
TEST(EmulatedKernels, MultibandDynamicsEqualTheStagesHostCode) {
    for (const test::MultibandCase& c : test::multibandCases()) { // at half length: the host is slower
        MultibandSpec spec;
        c.set(spec);
        const test::Planar x = test::sectionedProgramme(c.fs, c.channels, 0.5 * c.seconds, 1.0);
        const ChannelLayout layout = test::layoutFor(c.channels);
        EmulatedKernelsBackend emulated;
        auto cpu = makeCpuBackend();
        nlohmann::json gotReport;
        nlohmann::json wantReport;
        const AudioBuffer got = test::renderMultiband(emulated, spec, x, c.fs, layout, 30011, gotReport);
        const AudioBuffer want = test::renderMultiband(*cpu, spec, x, c.fs, layout, 30011, wantReport);
        // The bands went from the crossover to the dynamics without the host (their host copies
        // are NaN: a read of them would show in every sample).
        EXPECT_EQ(emulated.residentConvolvers(), 1) << c.what;
        EXPECT_GT(emulated.residentCalls(), 0) << c.what;
        ASSERT_EQ(got.frames(), want.frames()) << c.what;
        ASSERT_EQ(got.channels(), want.channels()) << c.what;
        for (int ch = 0; ch < want.channels(); ++ch) {
            for (Frames i = 0; i < want.frames(); ++i) {
                ASSERT_EQ(got.channel(ch)[i], want.channel(ch)[i])
                    << c.what << ", channel " << ch << ", frame " << i;
            }
        }
        for (std::size_t b = 0; b < wantReport["bands"].size(); ++b) {
            for (const char* key : {"max_gain_reduction_db", "mean_gain_db"}) {
                EXPECT_NEAR(gotReport["bands"][b][key].get<double>(),
                            wantReport["bands"][b][key].get<double>(), test::kEmulatedReportDb)
                    << c.what << ", band " << b << ", " << key;
            }
        }
        EXPECT_EQ(gotReport["gain_reduction_history"]["bands_db"].size(),
                  wantReport["gain_reduction_history"]["bands_db"].size());
        const auto& gh = gotReport["gain_reduction_history"]["bands_db"];
        const auto& wh = wantReport["gain_reduction_history"]["bands_db"];
        for (std::size_t b = 0; b < wh.size(); ++b) {
            ASSERT_EQ(gh[b].size(), wh[b].size()) << c.what << ", band " << b;
            for (std::size_t i = 0; i < wh[b].size(); ++i) {
                EXPECT_NEAR(gh[b][i].get<double>(), wh[b][i].get<double>(), test::kEmulatedReportDb)
                    << c.what << ", band " << b << ", step " << i;
            }
        }
    }
}

// The limiter's unverified pass from the kernels equals LimiterStage's own (the loudness trial's
// limiter): the stage runs the same in both, but hands each 2^20-frame call to the backend. The
// release's scan and the mean's order of additions are the only differences (kEmulatedLimiterMaxAbs).
TEST(EmulatedKernels, TheLimiterPassEqualsTheStagesHostCode) {
    for (const test::LimiterCase& c : test::limiterPassCases()) {
        EmulatedKernelsBackend emulated;
        const auto [got, want, gotReport, wantReport] = test::renderLimiterCase(c, emulated, 2);
        ASSERT_EQ(got.frames(), c.frames) << c.what;
        ASSERT_EQ(want.frames(), c.frames) << c.what;
        double worst = 0.0;
        for (int ch = 0; ch < c.channels; ++ch) {
            for (Frames i = 0; i < c.frames; ++i) {
                worst =
                    std::max(worst, static_cast<double>(std::fabs(got.channel(ch)[i] - want.channel(ch)[i])));
            }
        }
        EXPECT_LE(worst, test::kEmulatedLimiterMaxAbs) << c.what;
        for (const char* key : {"max_gain_reduction_db", "mean_gain_reduction_db", "limited_s"}) {
            EXPECT_NEAR(gotReport[key].get<double>(), wantReport[key].get<double>(), test::kEmulatedReportDb)
                << c.what << ", " << key;
        }
        const auto& gh = gotReport["gain_reduction_history"]["db"];
        const auto& wh = wantReport["gain_reduction_history"]["db"];
        ASSERT_EQ(gh.size(), wh.size()) << c.what;
        for (std::size_t i = 0; i < wh.size(); ++i) {
            ASSERT_NEAR(gh[i].get<double>(), wh[i].get<double>(), test::kEmulatedReportDb)
                << c.what << ", step " << i;
        }
        std::printf("[ LIMITER  ] %s: max |Δ| %.2g, largest reduction %.3f dB\n", c.what, worst,
                    wantReport["max_gain_reduction_db"].get<double>());
    }
}

// Fed in one block that holds two backend calls and a part, the stage emits both calls from one
// process() (the second appended after the first, which is handed over whole) and the part from
// flush(): the same output as the host's.
TEST(EmulatedKernels, TheLimiterPassInOneBlockOfSeveralCallsEqualsTheStagesHostCode) {
    test::LimiterCase c = test::limiterPassCases().at(1); // "past one backend call"
    constexpr Frames kCall = Frames{1} << 20;
    c.frames = 2 * kCall + 4801;
    EmulatedKernelsBackend emulated;
    const auto [got, want, gotReport, wantReport] = test::renderLimiterCase(c, emulated, 2, c.frames);
    ASSERT_EQ(got.frames(), c.frames);
    ASSERT_EQ(want.frames(), c.frames);
    double worst = 0.0;
    for (int ch = 0; ch < c.channels; ++ch) {
        for (Frames i = 0; i < c.frames; ++i) {
            worst = std::max(worst, static_cast<double>(std::fabs(got.channel(ch)[i] - want.channel(ch)[i])));
        }
    }
    EXPECT_LE(worst, test::kEmulatedLimiterMaxAbs);
    EXPECT_NEAR(gotReport["max_gain_reduction_db"].get<double>(),
                wantReport["max_gain_reduction_db"].get<double>(), test::kEmulatedReportDb);
}

// The spectral analysis with its whole frames on the kernels (window, batched transforms by FFTW
// here, power sums, spectrogram rows) equals SpectralAnalyzer's own: long-term spectra and the
// spectrogram's cells within the spectrum bound (the transforms' float rounding only).
TEST(EmulatedKernels, TheSpectrumEqualsTheAnalyzersOwn) {
    for (const test::SpectrumCase& c : test::spectrumCases()) {
        EmulatedKernelsBackend emulated;
        const test::SpectrumParity p = test::spectrumParity(c, emulated);
        ASSERT_TRUE(p.sameShape) << c.what;
        EXPECT_LE(p.spectra, test::kSpectrumParityRelativeL2) << c.what;
        EXPECT_LE(p.cells, test::kSpectrumParityRelativeL2) << c.what;
        std::printf("[ SPECTRUM ] %s: spectra %.2g, spectrogram %.2g (relative L2)\n", c.what, p.spectra,
                    p.cells);
    }
}

// The default chain mastered to a loud target on the kernels (multiband dynamics, the trial's
// limiter pass, every loudness measurement of the targeting) equals it on the CPU reference: the
// same trial loudness, drives and passes, and the same file within the limiter pass's bound.
TEST(EmulatedKernels, TheDefaultMasterOnTheKernelsEqualsTheReference) {
    test::TempDir dir;
    const auto in = dir.path() / "in.wav";
    // Peaky material: full-scale bursts over a quiet bed.
    test::LimiterCase bursts = test::limiterPassCases().front();
    bursts.frames = 6 * 48000;
    const test::Planar x = test::limiterCaseSignal(bursts);
    test::writeRawFloat(in, x, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    MasterSettings settings;
    settings.preset = parsePreset(loadPresetDocument("default"));
    LoudnessTarget loud; // −8 LUFS under −1 dBTP: the trial limits by several dB
    loud.lufs = -8.0;
    loud.ceilingDbtp = -1.0;
    settings.target = loud;
    settings.format = SampleFormat::Float32;
    settings.threads = 2;
    EmulatedKernelsBackend emulated;
    auto cpu = makeCpuBackend();
    TargetingReport got;
    TargetingReport want;
    masterFile(in, dir.path() / "kernels.wav", settings, emulated, {}, &got);
    masterFile(in, dir.path() / "cpu.wav", settings, *cpu, {}, &want);
    ASSERT_TRUE(got.trial && want.trial);
    EXPECT_NEAR(got.trial->lufs, want.trial->lufs, test::kEmulatedLoudnessLu);
    ASSERT_EQ(got.passes.size(), want.passes.size());
    for (std::size_t i = 0; i < want.passes.size(); ++i) {
        EXPECT_NEAR(got.passes[i].inputGainDb, want.passes[i].inputGainDb, test::kEmulatedLoudnessLu) << i;
    }
    const test::Planar a = test::readRawFloat(dir.path() / "kernels.wav");
    const test::Planar b = test::readRawFloat(dir.path() / "cpu.wav");
    ASSERT_EQ(a.size(), b.size());
    double worst = 0.0;
    for (std::size_t c = 0; c < b.size(); ++c) {
        ASSERT_EQ(a[c].size(), b[c].size());
        for (std::size_t i = 0; i < b[c].size(); ++i) {
            worst = std::max(worst, static_cast<double>(std::fabs(a[c][i] - b[c][i])));
        }
    }
    EXPECT_LE(worst, test::kEmulatedLimiterMaxAbs);
    std::printf("[ MASTER   ] trial at %+.2f dB: %.12f vs %.12f LUFS, %zu pass(es), max |Δ| %.2g\n",
                want.trial->inputGainDb, got.trial->lufs, want.trial->lufs, want.passes.size(), worst);
}

// Every buffer a device backend copies to or from its device lives in the backend's host memory
// (Backend::hostMemory: page-locked on CudaBackend, whose copies then run at the bus's speed): a
// render's blocks through the EQ, the room and the crossover, the dynamics' output, the limiter's
// calls, the meters' chunks and the analyses' spectrum batches, in a targeted master with its
// analyses beside it. All of it goes back when the master is done, and the master is the same
// file as with ordinary memory.
TEST(EmulatedKernels, TheBuffersADeviceCopiesLiveInItsHostMemory) {
    test::TempDir dir;
    const auto in = dir.path() / "in.wav";
    test::LimiterCase bursts = test::limiterPassCases().front();
    bursts.frames = 4 * 48000;
    test::writeRawFloat(in, test::limiterCaseSignal(bursts), 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    MasterSettings settings;
    settings.preset = parsePreset(loadPresetDocument("glue-master")); // EQ, room, 4 bands, limiter
    LoudnessTarget loud;
    loud.lufs = -10.0;
    loud.ceilingDbtp = -1.0;
    settings.target = loud;
    settings.format = SampleFormat::Float32;
    settings.threads = 4; // the meters and analyses tapped, the stages on threads of their own
    test::LedgerMemory memory;
    {
        EmulatedKernelsBackend pinned(memory);
        pinned.setResidentTrial(false); // the trial through the limiter's calls, as on a full device
        MasterAnalyses analyses;
        masterFile(in, dir.path() / "pinned.wav", settings, pinned, {}, nullptr, &analyses);
        EXPECT_TRUE(analyses.tapped);
        const CopyLedger& ledger = pinned.ledger();
        const char* names[] = {"loudness chunks", "dynamics", "limiter calls", "spectrum batches",
                               "convolutions"};
        for (int op = 0; op < 5; ++op) {
            EXPECT_GT(ledger.copied[op].load(), 0) << names[op] << ": none copied, none checked";
            std::printf("[ MEMORY   ] %s: %d buffers\n", names[op], ledger.copied[op].load());
        }
        EXPECT_EQ(ledger.elsewhere.load(), 0) << "buffers copied from or to ordinary memory";
        EXPECT_GT(pinned.residentCalls(), 0) << "the crossover's bands stayed on the device";
    }
    EXPECT_GT(memory.allocations(), 0);
    EXPECT_EQ(memory.outstanding(), 0u) << "page-locked buffers left behind";
    EmulatedKernelsBackend plain;
    plain.setResidentTrial(false);
    MasterAnalyses analyses;
    masterFile(in, dir.path() / "plain.wav", settings, plain, {}, nullptr, &analyses);
    EXPECT_EQ(test::readBytes(dir.path() / "pinned.wav"), test::readBytes(dir.path() / "plain.wav"));
}

// The loudness targeting's trial on audio held on the device (Backend::trialLoudness: the
// limiter's calls driven from the held programme, its output kept there with the meter's
// margins, the meter's chunks over it) equals the trial rendered block by block — the limiter
// stage on the same backend, read through ChainSource and measured by measureLoudness: the same
// records, so the same integrated loudness, momentary history and gated blocks to the bit. Three
// calls and a part, odd rates and lengths, shorter than the look-ahead, one frame, none.
TEST(EmulatedKernels, TheTrialOnHeldAudioEqualsTheTrialRenderedBlockByBlock) {
    for (const test::LimiterCase& c : test::trialCases()) {
        EmulatedKernelsBackend device;
        const LoudnessResult want = test::renderedTrial(c, device);
        const std::optional<LoudnessResult> got = test::heldTrial(c, device);
        ASSERT_TRUE(got.has_value()) << c.what;
        EXPECT_EQ(got->integratedLufs, want.integratedLufs) << c.what;
        EXPECT_EQ(got->gatedBlockMeanSquares, want.gatedBlockMeanSquares) << c.what;
        ASSERT_EQ(got->history.momentaryLufs.size(), want.history.momentaryLufs.size()) << c.what;
        for (std::size_t i = 0; i < want.history.momentaryLufs.size(); ++i) {
            const double w = want.history.momentaryLufs[i];
            const double g = got->history.momentaryLufs[i];
            ASSERT_TRUE(g == w || (std::isnan(g) && std::isnan(w))) << c.what << ", step " << i;
        }
        ASSERT_EQ(got->samplePeakDbfs.has_value(), want.samplePeakDbfs.has_value()) << c.what;
        if (want.samplePeakDbfs) {
            EXPECT_EQ(got->samplePeakDbfs->value, want.samplePeakDbfs->value) << c.what;
        }
        std::printf("[ TRIAL    ] %s: %s LUFS\n", c.what,
                    want.integratedLufs ? std::to_string(*want.integratedLufs).c_str() : "none");
    }
}

// A targeted master on a backend that can run the trial on audio it holds runs it there (the
// report says so) and delivers the same file, to the byte, as with the trial rendered on the host
// — the intermediate held in memory (4 threads) or in a file (2).
TEST(EmulatedKernels, ATargetedMasterRunsItsTrialOnTheDevice) {
    test::TempDir dir;
    const auto in = dir.path() / "in.wav";
    test::LimiterCase bursts = test::limiterPassCases().front();
    bursts.frames = 5 * 48000 + 7;
    test::writeRawFloat(in, test::limiterCaseSignal(bursts), 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    MasterSettings settings;
    settings.preset = parsePreset(loadPresetDocument("default"));
    LoudnessTarget loud; // the trial limits by several dB
    loud.lufs = -8.0;
    loud.ceilingDbtp = -1.0;
    settings.target = loud;
    settings.format = SampleFormat::Float32;
    for (const unsigned threads : {2u, 4u}) {
        settings.threads = threads;
        EmulatedKernelsBackend resident;
        EmulatedKernelsBackend blocks;
        blocks.setResidentTrial(false);
        TargetingReport onDevice;
        TargetingReport onHost;
        masterFile(in, dir.path() / "resident.wav", settings, resident, {}, &onDevice);
        masterFile(in, dir.path() / "blocks.wav", settings, blocks, {}, &onHost);
        ASSERT_TRUE(onDevice.trial && onHost.trial) << threads;
        EXPECT_TRUE(onDevice.trial->onDevice) << threads;
        EXPECT_FALSE(onHost.trial->onDevice) << threads;
        EXPECT_EQ(resident.residentTrials(), 1) << threads;
        EXPECT_EQ(onDevice.trial->lufs, onHost.trial->lufs) << threads;
        EXPECT_EQ(onDevice.passes.size(), onHost.passes.size()) << threads;
        EXPECT_EQ(test::readBytes(dir.path() / "resident.wav"), test::readBytes(dir.path() / "blocks.wav"))
            << threads;
    }
}

} // namespace
} // namespace lathe

// SPDX-License-Identifier: GPL-3.0-or-later
// The CUDA backend. Blocks are copied to the device, processed by kernels over lathe/math and
// copied back. Each operation runs on a lane of its own (LanePool.h: a stream, its events and
// buffers), so calls from several threads overlap — one's copies beside another's kernels — and
// each waits for its own stream only. The convolvers have their own streams (CudaConvolver.cpp).
#include "CudaCheck.h"
#include "CudaConvolver.h"
#include "Cufft.h"
#include "DeviceBuffer.h"
#include "DeviceTiming.h"
#include "KernelPlans.h"
#include "Kernels.h"
#include "LanePool.h"
#include "LimiterKernels.h"
#include "MultibandKernels.h"
#include "SpectrumKernels.h"

#include <lathe/Error.h>
#include <lathe/LoudnessKernel.h>
#include <lathe/gpu/Gpu.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace lathe::gpu {
namespace detail {

cudaError_t injectedFault(FaultSite site) {
    // Read once; a counter per site. Test hook only (see CudaCheck.h): nothing else reads them.
    static const std::pair<int, long> spec = [] {
        const char* v = std::getenv("LATHE_TEST_CUDA_FAULT");
        if (v == nullptr) {
            return std::pair<int, long>{-1, 0};
        }
        const std::string text(v);
        const auto colon = text.find(':');
        const std::string kind = text.substr(0, colon);
        const long n = colon == std::string::npos ? 1 : std::atol(text.c_str() + colon + 1);
        const int at = kind == "malloc" ? 0 : kind == "kernel" ? 1 : kind == "pinned" ? 2 : -1;
        return std::pair<int, long>{at, n};
    }();
    static std::atomic<long> counts[3];
    if (spec.first != static_cast<int>(site)) {
        return cudaSuccess;
    }
    if (++counts[spec.first] != spec.second) {
        return cudaSuccess;
    }
    return site == FaultSite::Kernel ? cudaErrorLaunchFailure : cudaErrorMemoryAllocation;
}

} // namespace detail

namespace {

using detail::DeviceBuffer;

/// A kernel launch's status (kernels::launch* return cudaGetLastError()), or the injected fault.
cudaError_t launched(int status) {
    const cudaError_t injected = detail::injectedFault(detail::FaultSite::Kernel);
    return injected != cudaSuccess ? injected : static_cast<cudaError_t>(status);
}

/// What one operation uses while it runs (LanePool.h): a non-blocking stream, the events that time
/// the call on it, and the buffers and plans of every operation's kernels, each grown to the
/// largest call this lane has served. Everything a call queues goes on the lane's stream: its
/// copies (page-locked host memory makes them asynchronous) overlap the kernels of calls on other
/// lanes, and the call waits for its own stream only.
struct Lane {
    explicit Lane(int device) : stream(device) { counter.reserve(1); }

    /// Copies the planar block into channel-major device memory (pitch = frames).
    void upload(const AudioBuffer& block) {
        const std::size_t frames = static_cast<std::size_t>(block.frames());
        samples.reserve(frames * static_cast<std::size_t>(block.channels()));
        LATHE_CUDA_TRY(cudaMemcpy2DAsync(samples.get(), frames * sizeof(float), block.channel(0),
                                         static_cast<std::size_t>(block.capacity()) * sizeof(float),
                                         frames * sizeof(float), static_cast<std::size_t>(block.channels()),
                                         cudaMemcpyHostToDevice, stream.get()));
    }

    void download(AudioBuffer& block) {
        const std::size_t frames = static_cast<std::size_t>(block.frames());
        LATHE_CUDA_TRY(cudaMemcpy2DAsync(
            block.channel(0), static_cast<std::size_t>(block.capacity()) * sizeof(float), samples.get(),
            frames * sizeof(float), frames * sizeof(float), static_cast<std::size_t>(block.channels()),
            cudaMemcpyDeviceToHost, stream.get()));
    }

    /// The interpolator's coefficients on the device (uploaded again only for another one).
    void uploadInterpolator(const design::Interpolator& it, DeviceBuffer<float>& buffer,
                            const design::Interpolator*& uploaded) {
        if (uploaded == &it) {
            return;
        }
        buffer.reserve(it.coeffs.size());
        LATHE_CUDA_TRY(cudaMemcpyAsync(buffer.get(), it.coeffs.data(), it.coeffs.size() * sizeof(float),
                                       cudaMemcpyHostToDevice, stream.get()));
        uploaded = &it;
    }

    /// A batched R2C plan of `batch` transforms of `n` points on this lane's stream, made once.
    const detail::CufftPlan& spectrumPlan(int n, int batch) {
        for (const auto& [key, plan] : specPlans) {
            if (key == std::pair{n, batch}) {
                return plan;
            }
        }
        // Full batches share one plan; the last batch of each file has its own size: a few kept.
        constexpr std::size_t kKept = 4;
        if (specPlans.size() >= kKept) {
            specPlans.erase(specPlans.begin());
        }
        specPlans.emplace_back(std::pair{n, batch}, detail::CufftPlan(n, batch, CUFFT_R2C, stream.get()));
        // One work area for them all (they run one at a time, on this lane's stream): it grows for
        // the new plan if it must, and every kept plan is given it again.
        std::vector<const detail::CufftPlan*> kept;
        for (const auto& entry : specPlans) {
            kept.push_back(&entry.second);
        }
        try {
            specWorkArea.shareAll(kept);
        } catch (...) {
            // The area may have been freed for a larger one that could not be had: no kept plan
            // may point into it.
            specPlans.clear();
            throw;
        }
        return specPlans.back().second;
    }

    /// The limiter pass's working buffers for a call of `l` (limiterLayout: its frames and
    /// segments), `pieces` statistics pieces: grown as needed and given to `l` with the search
    /// kernel's coefficients (uploadInterpolator first) and R's history buffer (limR, which the
    /// caller fills: its first L are the history).
    void limiterBuffers(kernels::LimiterLayout& l, std::size_t pieces) {
        const auto frames = static_cast<std::size_t>(l.frames);
        const auto L = static_cast<std::size_t>(l.lookahead);
        l.coeffs = searchCoeffs.get();
        limPeaks.reserve(frames + L);
        l.p = limPeaks.get();
        limD.reserve(2 * (frames + L));
        l.d = limD.get();
        l.h = limD.get() + frames + L;
        limMaps.reserve(static_cast<std::size_t>(l.segments));
        l.maps = limMaps.get();
        limStart.reserve(static_cast<std::size_t>(l.segments));
        l.start = limStart.get();
        l.r = limR.get();
        limG.reserve(frames);
        l.gainDb = limG.get();
        limY.reserve(frames * static_cast<std::size_t>(l.channels));
        l.y = limY.get();
        limPieceSums.reserve(2 * std::max<std::size_t>(pieces, 1));
        l.pieceMax = limPieceSums.get();
        l.pieceSum = limPieceSums.get() + pieces;
        limPieceCounts.reserve(std::max<std::size_t>(pieces, 1));
        l.pieceCount = limPieceCounts.get();
    }

    /// Room for loudness records of `subs` sub-blocks and `steps` steps in all (every channel, and
    /// every chunk of a call): the energies, the peaks (the sample peaks, then the true peaks) and
    /// the true peaks' frames.
    void reserveRecords(std::size_t subs, std::size_t steps) {
        energy.reserve(std::max<std::size_t>(1, subs));
        peaks.reserve(std::max<std::size_t>(1, 2 * steps));
        peakFrames.reserve(std::max<std::size_t>(1, steps));
    }

    /// One chunk's loudness kernels over its audio on the device (`l.audio`): the K-weighted
    /// sub-block energies from sub-block `subsAt`, the ×4 search grid (with the true peak: the step
    /// peaks read it only then), the step peaks from step `stepsAt` of the arrays reserveRecords
    /// made room for (`steps` in all). The interpolators must be up (uploadInterpolator: the
    /// search with the true peak, the refine always).
    void loudnessKernels(const LoudnessParams& params, const kernels::LoudnessChunkLayout& l,
                         std::size_t subsAt, std::size_t stepsAt, std::size_t steps) {
        const auto ch = static_cast<std::size_t>(l.channels);
        const std::int64_t segmentSubs = kernels::kScanSegmentSubs(l);
        kStates.reserve(kernels::kWeightScanStates(l, segmentSubs));
        grid.reserve(params.truePeak ? ch * 4 * static_cast<std::size_t>(l.frames) : 1);
        LATHE_CUDA_TRY(launched(kernels::launchKWeightedEnergy(
            l, params.kWeighting, segmentSubs, kStates.get(), energy.get() + subsAt, stream.get())));
        if (params.truePeak) {
            LATHE_CUDA_TRY(launched(kernels::launchSearchGrid(l, searchCoeffs.get(), params.search->taps,
                                                              grid.get(), stream.get())));
        }
        LATHE_CUDA_TRY(launched(kernels::launchStepPeaks(
            l, grid.get(), params.truePeak, truePeakCandidateRatio(), refineCoeffs.get(), params.refine->taps,
            peaks.get() + stepsAt, peaks.get() + steps + stepsAt, peakFrames.get() + stepsAt, stream.get())));
    }

    /// The records reserveRecords made room for, on their way back (queued; valid once the stream
    /// has reached them).
    struct Records {
        std::vector<double> energy;
        std::vector<float> peaks; ///< the sample peaks, then the true peaks
        std::vector<double> peakFrames;
    };
    Records downloadRecords(std::size_t subs, std::size_t steps) {
        Records r{std::vector<double>(subs), std::vector<float>(2 * steps), std::vector<double>(steps)};
        if (subs > 0) {
            LATHE_CUDA_TRY(cudaMemcpyAsync(r.energy.data(), energy.get(), subs * sizeof(double),
                                           cudaMemcpyDeviceToHost, stream.get()));
        }
        if (steps > 0) {
            LATHE_CUDA_TRY(cudaMemcpyAsync(r.peaks.data(), peaks.get(), 2 * steps * sizeof(float),
                                           cudaMemcpyDeviceToHost, stream.get()));
            LATHE_CUDA_TRY(cudaMemcpyAsync(r.peakFrames.data(), peakFrames.get(), steps * sizeof(double),
                                           cudaMemcpyDeviceToHost, stream.get()));
        }
        return r;
    }

    /// The counter's value, once everything queued before it on the stream has run.
    unsigned long long readCounter() {
        unsigned long long v = 0;
        LATHE_CUDA_TRY(cudaMemcpyAsync(&v, counter.get(), sizeof v, cudaMemcpyDeviceToHost, stream.get()));
        stream.synchronize();
        return v;
    }

    detail::DeviceStream stream; ///< first: makes the device current for the events
    detail::PhaseTimer::Events events;
    DeviceBuffer<float> samples;
    DeviceBuffer<std::int32_t> codes;
    DeviceBuffer<math::SampleStats> partials;
    DeviceBuffer<unsigned long long> counter;
    // Loudness records (measureLoudnessChunk).
    DeviceBuffer<float> searchCoeffs;
    DeviceBuffer<float> refineCoeffs;
    const design::Interpolator* searchFor = nullptr; ///< whose coefficients searchCoeffs holds
    const design::Interpolator* refineFor = nullptr;
    DeviceBuffer<double> energy;
    DeviceBuffer<math::KWeightingState> kStates; ///< the K-weighting scan's segment states
    DeviceBuffer<float> grid;
    DeviceBuffer<float> peaks; ///< sample peaks, then true peaks
    DeviceBuffer<double> peakFrames;
    // Multiband dynamics (multibandDynamics).
    DeviceBuffer<MultibandBandParams> mbBands;
    DeviceBuffer<BandDetectorState> mbState;
    DeviceBuffer<float> mbEncoded;
    DeviceBuffer<double> mbLevel;
    DeviceBuffer<unsigned char> mbMaps;
    DeviceBuffer<double> mbStart;
    DeviceBuffer<double> mbGainDb;
    DeviceBuffer<float> mbBandOut;
    DeviceBuffer<float> mbOut;
    DeviceBuffer<double> mbStats;
    // The spectral analysis (spectrumFrames).
    DeviceBuffer<float> specWindow;
    DeviceBuffer<int> specRows; ///< first bin, bin count and fallback bin of every row
    DeviceBuffer<float> specWindowed;
    DeviceBuffer<float> specSpectra;  ///< interleaved re/im
    DeviceBuffer<double> specFigures; ///< frame powers, power sums, row maxima and means
    std::vector<std::pair<std::pair<int, int>, detail::CufftPlan>> specPlans; ///< by (n, batch)
    detail::CufftWorkArea specWorkArea;                                       ///< specPlans' own
    // The limiter's pass (limiterPass).
    DeviceBuffer<float> limPeaks;
    DeviceBuffer<double> limD; ///< d, then h
    DeviceBuffer<math::MaxAffine> limMaps;
    DeviceBuffer<double> limStart;
    DeviceBuffer<double> limR;
    DeviceBuffer<double> limG;
    DeviceBuffer<float> limY;
    DeviceBuffer<double> limPieceSums;         ///< G's largest, then its sum, a piece each
    DeviceBuffer<std::int64_t> limPieceCounts; ///< frames of G above 0, a piece each
};

/// Audio held on the device for the loudness targeting's trial (Backend::makeResident):
/// channel-major, `capacity` frames a channel, appended through a page-locked staging block that
/// goes up kStagingFrames at a time on a stream of its own.
class CudaResident final : public ResidentAudio {
public:
    static constexpr Frames kStagingFrames = Frames{1} << 20;

    CudaResident(int device, int channels, Frames capacity, HostMemory* memory,
                 std::shared_ptr<detail::TimingTotals> timing)
        : m_device(device), m_channels(channels), m_capacity(capacity), m_stream(device),
          m_timing(std::move(timing)) {
        m_samples.reserve(static_cast<std::size_t>(channels) * static_cast<std::size_t>(capacity));
        m_staging.useMemory(memory);
        m_staging.reset(channels, std::min(kStagingFrames, std::max<Frames>(1, capacity)));
    }

    int channels() const override { return m_channels; }
    Frames frames() const override { return m_frames + m_staging.frames(); }
    void append(const AudioBuffer& block) override {
        LATHE_EXPECTS(block.channels() == m_channels && frames() + block.frames() <= m_capacity &&
                          !m_finished,
                      "resident audio: the channels and at most the length it was made for");
        for (Frames at = 0; at < block.frames();) {
            const Frames n = std::min(block.frames() - at, m_staging.capacity() - m_staging.frames());
            m_staging.append(block, at, n);
            at += n;
            if (m_staging.frames() == m_staging.capacity()) {
                upload();
            }
        }
    }
    void finish() override {
        upload();
        m_finished = true;
    }

    bool finished() const { return m_finished; }
    const float* samples() const { return m_samples.get(); }
    Frames pitch() const { return m_capacity; }

private:
    /// The staged frames up, after those already there; the staging block is free again after.
    void upload() {
        if (m_staging.frames() == 0) {
            return;
        }
        LATHE_CUDA_TRY(cudaSetDevice(m_device));
        try {
            copyUp();
        } catch (...) {
            // A copy may still read the staging block, which is about to be refilled or freed.
            (void)cudaStreamSynchronize(m_stream.get());
            (void)cudaGetLastError();
            throw;
        }
        m_frames += m_staging.frames();
        m_staging.setFrames(0);
    }

    void copyUp() {
        detail::PhaseTimer timer(m_events, m_stream.get());
        LATHE_CUDA_TRY(cudaMemcpy2DAsync(
            m_samples.get() + m_frames, static_cast<std::size_t>(m_capacity) * sizeof(float),
            m_staging.channel(0), static_cast<std::size_t>(m_staging.capacity()) * sizeof(float),
            static_cast<std::size_t>(m_staging.frames()) * sizeof(float),
            static_cast<std::size_t>(m_channels), cudaMemcpyHostToDevice, m_stream.get()));
        timer.mark(detail::Phase::HostToDevice, static_cast<std::size_t>(m_staging.frames()) *
                                                    static_cast<std::size_t>(m_channels) * sizeof(float));
        timer.finish(*m_timing);
    }

    int m_device;
    int m_channels;
    Frames m_capacity;
    Frames m_frames = 0; ///< on the device
    bool m_finished = false;
    detail::DeviceStream m_stream; ///< before the events: makes the device current
    detail::PhaseTimer::Events m_events;
    DeviceBuffer<float> m_samples;
    AudioBuffer m_staging;
    std::shared_ptr<detail::TimingTotals> m_timing;
};

/// Operations on the device at once, by default. A master's busiest moment has the render's stage
/// (the multiband's dynamics or the limiter's pass), the meters beside it (up to two chunks each)
/// and the analyses' spectra calling together; more lanes than that would only hold more memory.
constexpr unsigned kDefaultLanes = 4;
constexpr unsigned kMaxLanes = 16;

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(int device)
        : m_device(device), m_lanes(laneLimit(), [device] { return std::make_unique<Lane>(device); }) {
        LATHE_CUDA_TRY(cudaSetDevice(device));
        const ProbeResult& p = probe();
        const DeviceInfo& d = p.devices.at(static_cast<std::size_t>(device));
        m_description =
            "CUDA: " + d.name + " (sm_" + std::to_string(d.computeMajor) + std::to_string(d.computeMinor) +
            ", " + std::to_string(d.totalMemoryBytes / (1024ull * 1024ull * 1024ull)) + " GiB, driver " +
            cudaVersionText(p.driverVersion) + ", runtime " + cudaVersionText(p.runtimeVersion) + ")";
        // The first lane now (its stream, events and first buffer): a device that cannot hold one
        // fails here, where "auto" still picks the CPU at once.
        { const auto first = m_lanes.take(); }
        // What the user asks to leave to the CPU: only capabilities whose stages have host code.
        if (const char* hold = std::getenv("LATHE_CUDA_HOLD"); hold != nullptr) {
            // Loudness too: every meter then measures on the CPU reference with the job's threads
            // (measureLoudness's fallback) instead of sharing the device with the stages — the
            // A/B that decides where the targeting's meters belong.
            static constexpr Capability kHoldable[] = {Capability::Loudness, Capability::Dynamics,
                                                       Capability::LimiterPass, Capability::Spectrum,
                                                       Capability::ResidentTrial};
            m_held = parseCapabilityKeys("LATHE_CUDA_HOLD", hold, kHoldable);
        }
        // LATHE_CUDA_PAGEABLE=1: the buffers this backend copies stay in ordinary memory, as
        // before they were page-locked — the benchmark's A/B of that memory in one build.
        if (const char* pageable = std::getenv("LATHE_CUDA_PAGEABLE"); pageable != nullptr) {
            const std::string v(pageable);
            if (v != "0" && v != "1") {
                throw UsageError("LATHE_CUDA_PAGEABLE must be 0 or 1, not \"" + v + "\"");
            }
            m_pageable = v == "1";
        }
    }

    std::optional<DeviceTiming> deviceTiming() const override {
        DeviceTiming t = m_timing->get();
        t.peakBufferBytes = detail::g_deviceBytes.peak.load();
        t.peakPinnedBytes = detail::g_pinnedBytes.peak.load();
        return t;
    }

    std::string_view name() const override { return "cuda"; }

    /// Page-locked: the copies of the buffers handed to this backend (cudaMemcpy*, whose host side
    /// the copy engine then reads or writes itself) run at the bus's speed, not through the
    /// driver's own staging (7.5 GB/s up, 8 GB/s down for the hour's master on the H200).
    HostMemory* hostMemory() const override { return m_pageable ? nullptr : &detail::pinnedHostMemory(); }

    /// Every capability, each verified by the parity suite against the CPU on an H200: loudness
    /// (records and whole measurements) and the multiband dynamics first, the limiter pass and the
    /// spectrum two sessions later (all on 2026-11-26; bench/RESULTS.md) — all but the trial on
    /// held audio (2026-11-27, not yet run on a GPU). Those named in LATHE_CUDA_HOLD are left to
    /// the CPU (to compare timings, or to work around a device); the trial on held audio runs the
    /// limiter pass and the meter, so it goes with either.
    bool supports(Capability c) const override {
        auto held = [this](Capability h) {
            return std::find(m_held.begin(), m_held.end(), h) != m_held.end();
        };
        if (c == Capability::ResidentTrial && (held(Capability::LimiterPass) || held(Capability::Loudness))) {
            return false;
        }
        return !held(c);
    }

    /// A batch of the spectral analysis's frames on the device: the audio goes up, the frames are
    /// windowed, transformed by one batched cuFFT plan, reduced to power sums and pooled rows, and
    /// those come back (bins × curves + 2 × rows per frame doubles, not the spectra).
    void spectrumFrames(const SpectrumParams& params, const SpectrumCall& call,
                        SpectrumCallResult& out) override {
        const AudioBuffer& x = *call.audio;
        const int F = call.frames;
        const int C = params.channels;
        LATHE_EXPECTS(x.channels() == C && F >= 0 &&
                          x.frames() >= static_cast<Frames>(F > 0 ? (F - 1) * (params.n / 2) + params.n : 0),
                      "spectrum: a batch of whole frames");
        const auto bins = static_cast<std::size_t>(params.bins);
        const auto rows = static_cast<std::size_t>(params.rows);
        const auto curves = static_cast<std::size_t>(params.curves());
        out.reset(params, F);
        if (F == 0) {
            return;
        }
        DeviceCall held = begin();
        Lane& lane = *held.lane;
        const cudaStream_t stream = lane.stream.get();
        detail::PhaseTimer& timer = held.timer;
        lane.upload(x);
        lane.specWindow.reserve(params.window.size());
        LATHE_CUDA_TRY(cudaMemcpyAsync(lane.specWindow.get(), params.window.data(),
                                       params.window.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
        lane.specRows.reserve(3 * rows);
        for (const auto* table : {&params.rowFirstBin, &params.rowBinCount, &params.rowFallbackBin}) {
            const std::size_t at = table == &params.rowFirstBin   ? 0
                                   : table == &params.rowBinCount ? rows
                                                                  : 2 * rows;
            LATHE_CUDA_TRY(cudaMemcpyAsync(lane.specRows.get() + at, table->data(), rows * sizeof(int),
                                           cudaMemcpyHostToDevice, stream));
        }
        timer.mark(detail::Phase::HostToDevice, bytesOf(x) + params.window.size() * sizeof(float));

        kernels::SpectrumLayout s = kernels::spectrumLayout(params, F, x.frames());
        s.rowFirstBin = lane.specRows.get();
        s.rowBinCount = lane.specRows.get() + rows;
        s.rowFallbackBin = lane.specRows.get() + 2 * rows;
        s.window = lane.specWindow.get();
        s.x = lane.samples.get();
        const auto transforms = static_cast<std::size_t>(C) * static_cast<std::size_t>(F);
        lane.specWindowed.reserve(transforms * static_cast<std::size_t>(params.n));
        s.windowed = lane.specWindowed.get();
        lane.specSpectra.reserve(transforms * bins * 2);
        s.spectra = lane.specSpectra.get();
        lane.specFigures.reserve(static_cast<std::size_t>(F) * bins + curves * bins +
                                 2 * static_cast<std::size_t>(F) * rows);
        s.framePower = lane.specFigures.get();
        s.powerSum = s.framePower + static_cast<std::size_t>(F) * bins;
        s.rowMax = s.powerSum + curves * bins;
        s.rowMean = s.rowMax + static_cast<std::size_t>(F) * rows;
        LATHE_CUDA_TRY(launched(kernels::launchSpectrumWindow(s, stream)));
        const detail::CufftPlan& plan = lane.spectrumPlan(params.n, static_cast<int>(transforms));
        LATHE_CUFFT_TRY(
            detail::cufft().execR2C(plan.get(), s.windowed, reinterpret_cast<cufftComplex*>(s.spectra)));
        LATHE_CUDA_TRY(launched(kernels::launchSpectrumPower(s, stream)));
        timer.mark(detail::Phase::Kernels);

        std::vector<double> figures(curves * bins + 2 * static_cast<std::size_t>(F) * rows);
        LATHE_CUDA_TRY(cudaMemcpyAsync(figures.data(), s.powerSum, figures.size() * sizeof(double),
                                       cudaMemcpyDeviceToHost, stream));
        timer.mark(detail::Phase::DeviceToHost, figures.size() * sizeof(double));
        timer.finish(*m_timing);
        for (std::size_t c = 0; c < curves; ++c) {
            std::copy_n(figures.begin() + static_cast<std::ptrdiff_t>(c * bins), bins,
                        out.powerSum[c].begin());
        }
        const auto pooled = static_cast<std::ptrdiff_t>(curves * bins);
        const auto cells = static_cast<std::ptrdiff_t>(out.rowMax.size());
        std::copy_n(figures.begin() + pooled, cells, out.rowMax.begin());
        std::copy_n(figures.begin() + pooled + cells, cells, out.rowMean.begin());
    }

    /// The limiter's pass over one call on the device: the input goes up; y, G's statistics a
    /// piece and the last R come back (G itself stays).
    void limiterPass(const LimiterPassParams& params, const LimiterPassCall& call,
                     std::vector<double>& rHistory, AudioBuffer& y,
                     std::vector<ReductionStats>& pieces) override {
        const AudioBuffer& x = *call.x;
        const Frames F = call.frames;
        const auto L = static_cast<std::size_t>(params.lookahead);
        LATHE_EXPECTS(x.channels() == params.channels && x.frames() == params.before() + F + params.after() &&
                          rHistory.size() == L,
                      "limiter pass: input with its margins, R of the look-ahead before it");
        y.reset(params.channels, F);
        y.setFrames(F);
        const auto P = static_cast<std::size_t>(call.pieces());
        pieces.assign(P, ReductionStats{});
        if (F == 0) {
            return;
        }
        DeviceCall held = begin();
        Lane& lane = *held.lane;
        const cudaStream_t stream = lane.stream.get();
        detail::PhaseTimer& timer = held.timer;
        lane.upload(x);
        lane.uploadInterpolator(*params.search, lane.searchCoeffs, lane.searchFor);
        const auto frames = static_cast<std::size_t>(F);
        lane.limR.reserve(L + frames);
        LATHE_CUDA_TRY(cudaMemcpyAsync(lane.limR.get(), rHistory.data(), L * sizeof(double),
                                       cudaMemcpyHostToDevice, stream));
        timer.mark(detail::Phase::HostToDevice, bytesOf(x) + L * sizeof(double));

        kernels::LimiterLayout l = kernels::limiterLayout(params, F, x.frames());
        lane.limiterBuffers(l, P);
        l.x = lane.samples.get();
        l.statsFrom = call.statsFrom;
        l.firstPiece = call.firstPiece;
        l.pieceFrames = call.pieceFrames;
        l.pieces = call.pieces();
        LATHE_CUDA_TRY(launched(kernels::launchLimiterPass(l, stream)));
        timer.mark(detail::Phase::Kernels);

        LATHE_CUDA_TRY(cudaMemcpy2DAsync(y.channel(0), static_cast<std::size_t>(y.capacity()) * sizeof(float),
                                         l.y, frames * sizeof(float), frames * sizeof(float),
                                         static_cast<std::size_t>(params.channels), cudaMemcpyDeviceToHost,
                                         stream));
        std::vector<double> sums(2 * P);
        std::vector<std::int64_t> counts(P);
        if (P > 0) {
            LATHE_CUDA_TRY(cudaMemcpyAsync(sums.data(), l.pieceMax, sums.size() * sizeof(double),
                                           cudaMemcpyDeviceToHost, stream));
            LATHE_CUDA_TRY(cudaMemcpyAsync(counts.data(), l.pieceCount, counts.size() * sizeof(std::int64_t),
                                           cudaMemcpyDeviceToHost, stream));
        }
        LATHE_CUDA_TRY(cudaMemcpyAsync(rHistory.data(), l.r + frames, L * sizeof(double),
                                       cudaMemcpyDeviceToHost, stream));
        timer.mark(detail::Phase::DeviceToHost,
                   frames * static_cast<std::size_t>(params.channels) * sizeof(float) +
                       P * (2 * sizeof(double) + sizeof(std::int64_t)) + L * sizeof(double));
        timer.finish(*m_timing);
        for (std::size_t k = 0; k < P; ++k) {
            pieces[k] = ReductionStats{sums[k], sums[P + k], static_cast<Frames>(counts[k])};
        }
    }

    /// The reference's records (measureLoudnessChunkCpu) on the device: K-weighted sub-block
    /// energies (a parallel scan over ~1000-frame segments, equal to one pass from the chunk's
    /// start), the ×4 search grid, and per step the sample peak and the ×16 refinement around every
    /// candidate.
    void measureLoudnessChunk(const LoudnessParams& params, const LoudnessChunk& chunk,
                              LoudnessRecords& out) override {
        const AudioBuffer& audio = *chunk.audio;
        LATHE_EXPECTS(audio.frames() >= params.warmupFrames + chunk.frames + params.lookaheadFrames,
                      "loudness chunk without margins");
        const int channels = audio.channels();
        kernels::LoudnessChunkLayout l = kernels::loudnessLayout(params, chunk);
        const auto ch = static_cast<std::size_t>(channels);
        out.subBlockEnergy.assign(ch, std::vector<double>(static_cast<std::size_t>(l.subs)));
        out.stepSamplePeak.assign(ch, std::vector<float>(static_cast<std::size_t>(l.steps)));
        out.stepTruePeak.assign(ch, std::vector<float>(static_cast<std::size_t>(l.steps)));
        out.stepTruePeakFrame.assign(ch, std::vector<double>(static_cast<std::size_t>(l.steps)));
        if (chunk.frames == 0 || channels == 0) {
            return;
        }
        DeviceCall held = begin();
        Lane& lane = *held.lane;
        detail::PhaseTimer& timer = held.timer;
        lane.upload(audio);
        l.audio = lane.samples.get();
        lane.uploadInterpolator(*params.search, lane.searchCoeffs, lane.searchFor);
        lane.uploadInterpolator(*params.refine, lane.refineCoeffs, lane.refineFor);
        timer.mark(detail::Phase::HostToDevice, bytesOf(audio));
        const std::size_t subsAll = ch * static_cast<std::size_t>(l.subs);
        const std::size_t stepsAll = ch * static_cast<std::size_t>(l.steps);
        lane.reserveRecords(subsAll, stepsAll);
        lane.loudnessKernels(params, l, 0, 0, stepsAll);
        timer.mark(detail::Phase::Kernels);
        const Lane::Records records = lane.downloadRecords(subsAll, stepsAll);
        timer.mark(detail::Phase::DeviceToHost,
                   subsAll * sizeof(double) + stepsAll * (2 * sizeof(float) + sizeof(double)));
        timer.finish(*m_timing);
        kernels::splitRecords(l, records.energy.data(), records.peaks.data(), records.peaks.data() + stepsAll,
                              records.peakFrames.data(), out);
    }
    std::string description() const override { return m_description; }

    /// The multiband dynamics of one call on the device: the bands go up, the sum, the statistics
    /// and the detector states come back (the bands themselves stay there).
    void multibandDynamics(const MultibandParams& params, const MultibandCall& call,
                           std::vector<BandDetectorState>& state, AudioBuffer& out,
                           MultibandCallStats& stats) override {
        const AudioBuffer& bandsIn = *call.filtered;
        const int C = params.channels;
        const int K = params.bands;
        const Frames F = bandsIn.frames();
        LATHE_EXPECTS(bandsIn.channels() == C * K && state.size() == static_cast<std::size_t>(C * K) &&
                          params.band.size() == static_cast<std::size_t>(K),
                      "multiband: one band signal and state per channel and band");
        out.reset(C, F);
        out.setFrames(F);
        const auto cells = static_cast<std::size_t>(C * K);
        stats.sumGainDb.assign(cells, 0.0);
        stats.minGainDb.assign(cells, 0.0);
        stats.stepReductionDb.assign(static_cast<std::size_t>(K), {});
        stats.firstStep = 0;
        if (F == 0) {
            return;
        }
        const kernels::HistorySteps history = kernels::historySteps(params, call.outputFrame, F);
        stats.firstStep = history.first;
        const Frames steps = history.count;
        DeviceCall held = begin();
        Lane& lane = *held.lane;
        const cudaStream_t stream = lane.stream.get();
        detail::PhaseTimer& timer = held.timer;
        // The bands: where the crossover left them on the device, else from the host.
        const float* bands = nullptr;
        if (call.bandsOn != nullptr) {
            bands = detail::residentOutput(*call.bandsOn, F);
        } else {
            lane.upload(bandsIn);
            bands = lane.samples.get();
        }
        lane.mbBands.reserve(params.band.size());
        LATHE_CUDA_TRY(cudaMemcpyAsync(lane.mbBands.get(), params.band.data(),
                                       params.band.size() * sizeof(MultibandBandParams),
                                       cudaMemcpyHostToDevice, stream));
        lane.mbState.reserve(cells);
        LATHE_CUDA_TRY(cudaMemcpyAsync(lane.mbState.get(), state.data(), cells * sizeof(BandDetectorState),
                                       cudaMemcpyHostToDevice, stream));
        timer.mark(detail::Phase::HostToDevice, call.bandsOn != nullptr ? 0 : bytesOf(bandsIn));

        kernels::MultibandLayout m = kernels::multibandLayout(params, F);
        m.band = lane.mbBands.get();
        m.x = bands;
        const std::size_t samples = cells * static_cast<std::size_t>(F);
        if (m.midSide) {
            lane.mbEncoded.reserve(samples);
            m.encoded = lane.mbEncoded.get();
        }
        if (m.rms) {
            lane.mbLevel.reserve(samples);
            m.level = lane.mbLevel.get();
        }
        lane.mbMaps.reserve(kernels::multibandMapBytes(m));
        m.maps = lane.mbMaps.get();
        lane.mbStart.reserve(2 * kernels::multibandStartCount(m));
        m.start = lane.mbStart.get();
        m.start2 = lane.mbStart.get() + kernels::multibandStartCount(m);
        m.state = lane.mbState.get();
        lane.mbGainDb.reserve(samples);
        m.gainDb = lane.mbGainDb.get();
        lane.mbBandOut.reserve(samples);
        m.bandOut = lane.mbBandOut.get();
        lane.mbOut.reserve(static_cast<std::size_t>(C) * static_cast<std::size_t>(F));
        m.out = lane.mbOut.get();
        lane.mbStats.reserve(2 * cells + static_cast<std::size_t>(K) *
                                             static_cast<std::size_t>(std::max<Frames>(1, steps)));
        double* sums = lane.mbStats.get();
        double* mins = sums + cells;
        double* stepMax = mins + cells;
        LATHE_CUDA_TRY(launched(kernels::launchMultiband(m, stream)));
        LATHE_CUDA_TRY(launched(kernels::launchMultibandStats(
            m, call.outputFrame, params.historyStep, stats.firstStep, steps, sums, mins, stepMax, stream)));
        timer.mark(detail::Phase::Kernels);

        LATHE_CUDA_TRY(cudaMemcpy2DAsync(
            out.channel(0), static_cast<std::size_t>(out.capacity()) * sizeof(float), m.out,
            static_cast<std::size_t>(F) * sizeof(float), static_cast<std::size_t>(F) * sizeof(float),
            static_cast<std::size_t>(C), cudaMemcpyDeviceToHost, stream));
        LATHE_CUDA_TRY(cudaMemcpyAsync(state.data(), lane.mbState.get(), cells * sizeof(BandDetectorState),
                                       cudaMemcpyDeviceToHost, stream));
        std::vector<double> figures(2 * cells +
                                    static_cast<std::size_t>(K) * static_cast<std::size_t>(steps));
        LATHE_CUDA_TRY(cudaMemcpyAsync(figures.data(), sums, figures.size() * sizeof(double),
                                       cudaMemcpyDeviceToHost, stream));
        timer.mark(detail::Phase::DeviceToHost,
                   static_cast<std::size_t>(C) * static_cast<std::size_t>(F) * sizeof(float) +
                       figures.size() * sizeof(double));
        timer.finish(*m_timing);
        std::copy_n(figures.begin(), cells, stats.sumGainDb.begin());
        std::copy_n(figures.begin() + static_cast<std::ptrdiff_t>(cells), cells, stats.minGainDb.begin());
        for (int k = 0; k < K; ++k) {
            if (!params.band[static_cast<std::size_t>(k)].active) {
                continue;
            }
            const auto first = figures.begin() + static_cast<std::ptrdiff_t>(2 * cells) +
                               static_cast<std::ptrdiff_t>(k) * static_cast<std::ptrdiff_t>(steps);
            stats.stepReductionDb[static_cast<std::size_t>(k)].assign(
                first, first + static_cast<std::ptrdiff_t>(steps));
        }
    }

    /// Room for the programme and for the trial's output beside it, within half the device memory
    /// free now (the rest is the stages', the meters' and cuFFT's); else nullptr — the trial then
    /// renders on the host, calling the device a block at a time. An hour of stereo at 48 kHz
    /// takes 2 × 1.4 GB.
    std::unique_ptr<ResidentAudio> makeResident(int channels, Frames frames) override {
        if (!supports(Capability::ResidentTrial) || channels <= 0 || frames < 0) {
            return nullptr;
        }
        LATHE_CUDA_TRY(cudaSetDevice(m_device));
        std::size_t free = 0;
        std::size_t total = 0;
        LATHE_CUDA_TRY(cudaMemGetInfo(&free, &total));
        constexpr double kMarginSeconds = 1.0; // the trial output's margins: 250 ms at most, at any rate
        const double samples =
            static_cast<double>(channels) * (2.0 * static_cast<double>(frames) + kMarginSeconds * 384000.0);
        if (samples * sizeof(float) > 0.5 * static_cast<double>(free)) {
            return nullptr;
        }
        return std::make_unique<CudaResident>(m_device, channels, frames, hostMemory(), m_timing);
    }

    /// The trial on the device (Backend::trialLoudness): each call's input driven from the held
    /// audio, the limiter's pass kernels, its output kept on the device with the meter's margins
    /// (zeros); then the loudness kernels over it chunk by chunk, only the records coming back.
    /// The same kernels, calls and chunks as the stage and the meter run block by block.
    std::vector<ChunkRecords> trialLoudness(const ResidentAudio& audio, const LimiterTrialPass& pass,
                                            const LoudnessParams& loudness, Frames chunkFrames) override {
        const auto* held = dynamic_cast<const CudaResident*>(&audio);
        LATHE_EXPECTS(held != nullptr && held->finished(),
                      "trialLoudness: finished audio this backend holds");
        const int C = audio.channels();
        const Frames N = audio.frames();
        const LimiterPassParams& lp = pass.params;
        const Frames L = lp.lookahead;
        kernels::TrialPlan plan = kernels::trialPlan(C, N, pass, chunkFrames);
        std::vector<ChunkRecords>& chunks = plan.chunks;
        const std::vector<kernels::TrialCall>& calls = plan.calls;
        const auto ch = static_cast<std::size_t>(C);
        DeviceCall call = begin();
        Lane& lane = *call.lane;
        const cudaStream_t stream = lane.stream.get();
        detail::PhaseTimer& timer = call.timer;
        lane.uploadInterpolator(*lp.search, lane.searchCoeffs, lane.searchFor);
        timer.mark(detail::Phase::HostToDevice, lp.search->coeffs.size() * sizeof(float));

        // The limiter's output, frame f at index warm + f of each channel, zeros around it.
        const Frames warm = loudness.warmupFrames;
        const Frames pitchY = warm + N + loudness.lookaheadFrames;
        DeviceBuffer<float> y;
        y.reserve(ch * static_cast<std::size_t>(pitchY));
        LATHE_CUDA_TRY(
            cudaMemsetAsync(y.get(), 0, ch * static_cast<std::size_t>(pitchY) * sizeof(float), stream));
        lane.limR.reserve(static_cast<std::size_t>(L + pass.callFrames));
        LATHE_CUDA_TRY(
            cudaMemsetAsync(lane.limR.get(), 0, static_cast<std::size_t>(L) * sizeof(double), stream));
        for (std::size_t k = 0; k < calls.size(); ++k) {
            const kernels::TrialCall& c = calls[k];
            const auto frames = static_cast<std::size_t>(c.frames);
            const Frames span = lp.before() + c.frames + lp.after();
            lane.samples.reserve(ch * static_cast<std::size_t>(span));
            const kernels::LimiterDriveLayout d{C,
                                                N,
                                                held->pitch(),
                                                c.a - lp.before(),
                                                span,
                                                pass.inputGain,
                                                held->samples(),
                                                lane.samples.get()};
            LATHE_CUDA_TRY(launched(kernels::launchLimiterDrive(d, stream)));
            kernels::LimiterLayout l = kernels::limiterLayout(lp, c.frames, span);
            lane.limiterBuffers(l, 0);
            l.x = lane.samples.get();
            l.statsFrom = c.frames; // no report statistics: the trial keeps only the loudness
            l.pieces = 0;
            LATHE_CUDA_TRY(launched(kernels::launchLimiterPass(l, stream)));
            // The call's frames from 0 on (the first call starts L before the programme).
            const Frames skip = std::clamp<Frames>(-c.a, 0, c.frames);
            if (c.frames > skip) {
                LATHE_CUDA_TRY(cudaMemcpy2DAsync(
                    y.get() + warm + c.a + skip, static_cast<std::size_t>(pitchY) * sizeof(float), l.y + skip,
                    frames * sizeof(float), static_cast<std::size_t>(c.frames - skip) * sizeof(float), ch,
                    cudaMemcpyDeviceToDevice, stream));
            }
            if (k + 1 < calls.size()) { // R of the call's last L frames: the next call's history
                LATHE_CUDA_TRY(cudaMemcpyAsync(l.r, l.r + c.frames,
                                               static_cast<std::size_t>(L) * sizeof(double),
                                               cudaMemcpyDeviceToDevice, stream));
            }
        }

        // The meter over y, every chunk's records into one array of each kind.
        std::size_t subsAll = 0;
        std::size_t stepsAll = 0;
        for (const ChunkRecords& r : chunks) {
            const kernels::LoudnessChunkLayout l =
                kernels::loudnessLayout(loudness, C, pitchY, r.start, r.frames);
            subsAll += ch * static_cast<std::size_t>(l.subs);
            stepsAll += ch * static_cast<std::size_t>(l.steps);
        }
        lane.reserveRecords(subsAll, stepsAll);
        if (loudness.truePeak) {
            lane.uploadInterpolator(*loudness.search, lane.searchCoeffs, lane.searchFor);
        }
        lane.uploadInterpolator(*loudness.refine, lane.refineCoeffs, lane.refineFor);
        std::size_t subsAt = 0;
        std::size_t stepsAt = 0;
        for (const ChunkRecords& r : chunks) {
            kernels::LoudnessChunkLayout l = kernels::loudnessLayout(loudness, C, pitchY, r.start, r.frames);
            l.audio = y.get() + r.start; // its warm-up's first frame: index warm + start − warm
            lane.loudnessKernels(loudness, l, subsAt, stepsAt, stepsAll);
            subsAt += ch * static_cast<std::size_t>(l.subs);
            stepsAt += ch * static_cast<std::size_t>(l.steps);
        }
        timer.mark(detail::Phase::Kernels);
        const Lane::Records records = lane.downloadRecords(subsAll, stepsAll);
        timer.mark(detail::Phase::DeviceToHost,
                   subsAll * sizeof(double) + stepsAll * (2 * sizeof(float) + sizeof(double)));
        timer.finish(*m_timing);
        subsAt = 0;
        stepsAt = 0;
        for (ChunkRecords& r : chunks) {
            const kernels::LoudnessChunkLayout l =
                kernels::loudnessLayout(loudness, C, pitchY, r.start, r.frames);
            kernels::splitRecords(l, records.energy.data() + subsAt, records.peaks.data() + stepsAt,
                                  records.peaks.data() + stepsAll + stepsAt,
                                  records.peakFrames.data() + stepsAt, r.records);
            subsAt += ch * static_cast<std::size_t>(l.subs);
            stepsAt += ch * static_cast<std::size_t>(l.steps);
        }
        return std::move(plan.chunks);
    }

    /// Long chunks (a launch covers a whole chunk; up to a minute, at most 2^23 samples ≈ 32 MB),
    /// two in flight: one measured while the next is read (each on a lane of its own).
    LoudnessFeed loudnessFeed(int channels, Frames stepFrames, unsigned threads) const override {
        constexpr Frames kMaxSamples = Frames{1} << 23;
        const Frames steps =
            std::clamp<Frames>(kMaxSamples / std::max<Frames>(1, stepFrames * channels), 100, 600);
        return LoudnessFeed{steps, std::clamp(threads, 1u, 2u)};
    }

    /// Each convolver has its own stream and buffers, so the jobs of batch and compare may make and
    /// run them in parallel on one backend.
    std::unique_ptr<Convolver> makeConvolver(const FilterMatrix& matrix,
                                             const ConvolverOptions& options) override {
        return detail::makeCudaConvolver(matrix, options, m_device, m_timing);
    }

    void accumulateStats(const AudioBuffer& block, Frames firstFrame,
                         std::span<math::SampleStats> stats) override {
        LATHE_EXPECTS(stats.size() == static_cast<std::size_t>(block.channels()), "stats per channel");
        if (block.frames() == 0) {
            return;
        }
        DeviceCall held = begin();
        Lane& lane = *held.lane;
        const cudaStream_t stream = lane.stream.get();
        detail::PhaseTimer& timer = held.timer;
        lane.upload(block);
        timer.mark(detail::Phase::HostToDevice, bytesOf(block));
        // Enough blocks to fill the device, few enough that the host combine is negligible.
        const int blocks =
            static_cast<int>(std::clamp<Frames>(block.frames() / (kernels::kStatsThreads * 16), 1, 256));
        const std::size_t partialCount =
            static_cast<std::size_t>(blocks) * static_cast<std::size_t>(block.channels());
        lane.partials.reserve(partialCount);
        LATHE_CUDA_TRY(launched(kernels::launchStats(lane.samples.get(), block.channels(), block.frames(),
                                                     firstFrame, lane.partials.get(), blocks, stream)));
        timer.mark(detail::Phase::Kernels);
        std::vector<math::SampleStats> host(partialCount);
        LATHE_CUDA_TRY(cudaMemcpyAsync(host.data(), lane.partials.get(),
                                       partialCount * sizeof(math::SampleStats), cudaMemcpyDeviceToHost,
                                       stream));
        timer.mark(detail::Phase::DeviceToHost, partialCount * sizeof(math::SampleStats));
        timer.finish(*m_timing);
        for (int c = 0; c < block.channels(); ++c) {
            for (int b = 0; b < blocks; ++b) {
                stats[static_cast<std::size_t>(c)] = math::combineStats(
                    stats[static_cast<std::size_t>(c)], host[static_cast<std::size_t>(c * blocks + b)]);
            }
        }
    }

    Frames sanitize(AudioBuffer& block) override {
        if (block.frames() == 0) {
            return 0;
        }
        DeviceCall held = begin();
        Lane& lane = *held.lane;
        const cudaStream_t stream = lane.stream.get();
        detail::PhaseTimer& timer = held.timer;
        lane.upload(block);
        timer.mark(detail::Phase::HostToDevice, bytesOf(block));
        LATHE_CUDA_TRY(cudaMemsetAsync(lane.counter.get(), 0, sizeof(unsigned long long), stream));
        const std::int64_t count = block.frames() * block.channels();
        LATHE_CUDA_TRY(
            launched(kernels::launchSanitize(lane.samples.get(), count, lane.counter.get(), stream)));
        timer.mark(detail::Phase::Kernels);
        lane.download(block);
        const auto replaced = static_cast<Frames>(lane.readCounter());
        timer.mark(detail::Phase::DeviceToHost, bytesOf(block) + sizeof(unsigned long long));
        timer.finish(*m_timing);
        return replaced;
    }

    Frames quantize(const AudioBuffer& block, Frames firstFrame, const math::QuantizeParams& params,
                    std::int32_t* out) override {
        if (block.frames() == 0) {
            return 0;
        }
        DeviceCall held = begin();
        Lane& lane = *held.lane;
        const cudaStream_t stream = lane.stream.get();
        detail::PhaseTimer& timer = held.timer;
        lane.upload(block);
        timer.mark(detail::Phase::HostToDevice, bytesOf(block));
        const std::size_t count =
            static_cast<std::size_t>(block.frames()) * static_cast<std::size_t>(block.channels());
        lane.codes.reserve(count);
        LATHE_CUDA_TRY(cudaMemsetAsync(lane.counter.get(), 0, sizeof(unsigned long long), stream));
        LATHE_CUDA_TRY(
            launched(kernels::launchQuantize(lane.samples.get(), block.channels(), block.frames(), firstFrame,
                                             params, lane.codes.get(), lane.counter.get(), stream)));
        timer.mark(detail::Phase::Kernels);
        LATHE_CUDA_TRY(cudaMemcpyAsync(out, lane.codes.get(), count * sizeof(std::int32_t),
                                       cudaMemcpyDeviceToHost, stream));
        const auto clipped = static_cast<Frames>(lane.readCounter());
        timer.mark(detail::Phase::DeviceToHost, count * sizeof(std::int32_t) + sizeof(unsigned long long));
        timer.finish(*m_timing);
        return clipped;
    }

private:
    /// One operation's hold on the device, in this order: a lane of its own (LanePool.h: the
    /// buffers, plans and events no other operation uses meanwhile), the device current on this
    /// thread, then the timer's first event on the lane's stream.
    struct DeviceCall {
        DeviceCall(detail::LanePool<Lane>& pool, int device)
            : lane(pool.take()), current(makeCurrent(device)), timer(lane->events, lane->stream.get()),
              unwinding(std::uncaught_exceptions()) {}
        /// A call that throws may leave copies queued from the caller's host buffers, which are
        /// about to go: they are waited for before the lane and the buffers are given back (a
        /// call that returns has waited for its last mark already).
        ~DeviceCall() {
            if (std::uncaught_exceptions() > unwinding) {
                (void)cudaStreamSynchronize(lane->stream.get());
                (void)cudaGetLastError(); // the error already thrown; not the next launch's
            }
        }
        DeviceCall(const DeviceCall&) = delete;
        DeviceCall& operator=(const DeviceCall&) = delete;
        static bool makeCurrent(int device) {
            LATHE_CUDA_TRY(cudaSetDevice(device));
            return true;
        }
        detail::LanePool<Lane>::Held lane;
        bool current;
        detail::PhaseTimer timer;
        int unwinding;
    };
    DeviceCall begin() { return DeviceCall(m_lanes, m_device); }

    /// LATHE_CUDA_LANES: how many operations may run on the device at once, each on its own lane
    /// (1 makes them take turns, as one lock did until the lanes came; a usage error outside 1–16).
    static unsigned laneLimit() {
        return detail::parseLaneLimit("LATHE_CUDA_LANES", std::getenv("LATHE_CUDA_LANES"), kDefaultLanes,
                                      kMaxLanes);
    }

    static std::size_t bytesOf(const AudioBuffer& block) {
        return static_cast<std::size_t>(block.frames()) * static_cast<std::size_t>(block.channels()) *
               sizeof(float);
    }

    int m_device;
    std::string m_description;
    /// The capabilities LATHE_CUDA_HOLD leaves to the CPU.
    std::vector<Capability> m_held;
    bool m_pageable = false; ///< LATHE_CUDA_PAGEABLE=1
    /// Device time of the calls above and of every convolver made here.
    std::shared_ptr<detail::TimingTotals> m_timing = std::make_shared<detail::TimingTotals>();
    /// The operations' lanes (LATHE_CUDA_LANES of them at most), made as calls first need them.
    detail::LanePool<Lane> m_lanes;
};

} // namespace

std::unique_ptr<Backend> makeCudaBackend(int device) {
    const ProbeResult& p = probe();
    if (!p.available) {
        throw BackendUnavailableError("backend 'cuda' is not available: " + p.reason);
    }
    if (device < 0 || device >= static_cast<int>(p.devices.size())) {
        throw BackendUnavailableError("CUDA device " + std::to_string(device) + " does not exist");
    }
    return std::make_unique<CudaBackend>(device);
}

void registerCudaBackend(BackendRegistry& registry) {
    registry.add(
        "cuda", 10,
        [] {
            const ProbeResult& p = probe();
            BackendStatus s;
            s.available = p.available;
            s.reason = p.reason;
            if (p.available) {
                const DeviceInfo& d = p.devices.front();
                s.description = "CUDA: " + d.name + " (sm_" + std::to_string(d.computeMajor) +
                                std::to_string(d.computeMinor) + ")";
            }
            return s;
        },
        [] { return makeCudaBackend(0); });
}

} // namespace lathe::gpu

// SPDX-License-Identifier: GPL-3.0-or-later
// The CUDA backend. Blocks are copied to the device, processed by kernels over lathe/math and
// copied back. Keeping audio resident across stages (and overlapping copies with compute) comes
// with the mastering chain (issue F); for the foundation's per-sample work the point is parity.
#include "CudaCheck.h"
#include "CudaConvolver.h"
#include "Cufft.h"
#include "DeviceBuffer.h"
#include "DeviceTiming.h"
#include "KernelPlans.h"
#include "Kernels.h"
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

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(int device) : m_device(device) {
        LATHE_CUDA_TRY(cudaSetDevice(device));
        const ProbeResult& p = probe();
        const DeviceInfo& d = p.devices.at(static_cast<std::size_t>(device));
        m_description =
            "CUDA: " + d.name + " (sm_" + std::to_string(d.computeMajor) + std::to_string(d.computeMinor) +
            ", " + std::to_string(d.totalMemoryBytes / (1024ull * 1024ull * 1024ull)) + " GiB, driver " +
            cudaVersionText(p.driverVersion) + ", runtime " + cudaVersionText(p.runtimeVersion) + ")";
        m_counter.reserve(1);
        m_events = std::make_unique<detail::PhaseTimer::Events>();
        // What the user asks to leave to the CPU: only capabilities whose stages have host code.
        if (const char* hold = std::getenv("LATHE_CUDA_HOLD"); hold != nullptr) {
            // Loudness too: every meter then measures on the CPU reference with the job's threads
            // (measureLoudness's fallback) instead of taking turns with the stages for this
            // backend's lock — the A/B that decides where the targeting's meters belong.
            static constexpr Capability kHoldable[] = {Capability::Loudness, Capability::Dynamics,
                                                       Capability::LimiterPass, Capability::Spectrum};
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
    /// spectrum two sessions later (all on 2026-11-26; bench/RESULTS.md). Those named
    /// in LATHE_CUDA_HOLD are left to the CPU (to compare timings, or to work around a device).
    bool supports(Capability c) const override {
        return std::find(m_held.begin(), m_held.end(), c) == m_held.end();
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
        detail::PhaseTimer& timer = held.timer;
        upload(x);
        m_specWindow.reserve(params.window.size());
        LATHE_CUDA_TRY(cudaMemcpy(m_specWindow.get(), params.window.data(),
                                  params.window.size() * sizeof(float), cudaMemcpyHostToDevice));
        m_specRows.reserve(3 * rows);
        for (const auto* table : {&params.rowFirstBin, &params.rowBinCount, &params.rowFallbackBin}) {
            const std::size_t at = table == &params.rowFirstBin   ? 0
                                   : table == &params.rowBinCount ? rows
                                                                  : 2 * rows;
            LATHE_CUDA_TRY(
                cudaMemcpy(m_specRows.get() + at, table->data(), rows * sizeof(int), cudaMemcpyHostToDevice));
        }
        timer.mark(detail::Phase::HostToDevice, bytesOf(x) + params.window.size() * sizeof(float));

        kernels::SpectrumLayout s = kernels::spectrumLayout(params, F, x.frames());
        s.rowFirstBin = m_specRows.get();
        s.rowBinCount = m_specRows.get() + rows;
        s.rowFallbackBin = m_specRows.get() + 2 * rows;
        s.window = m_specWindow.get();
        s.x = m_samples.get();
        const auto transforms = static_cast<std::size_t>(C) * static_cast<std::size_t>(F);
        m_specWindowed.reserve(transforms * static_cast<std::size_t>(params.n));
        s.windowed = m_specWindowed.get();
        m_specSpectra.reserve(transforms * bins * 2);
        s.spectra = m_specSpectra.get();
        m_specFigures.reserve(static_cast<std::size_t>(F) * bins + curves * bins +
                              2 * static_cast<std::size_t>(F) * rows);
        s.framePower = m_specFigures.get();
        s.powerSum = s.framePower + static_cast<std::size_t>(F) * bins;
        s.rowMax = s.powerSum + curves * bins;
        s.rowMean = s.rowMax + static_cast<std::size_t>(F) * rows;
        LATHE_CUDA_TRY(launched(kernels::launchSpectrumWindow(s, nullptr)));
        const detail::CufftPlan& plan = spectrumPlan(params.n, static_cast<int>(transforms));
        LATHE_CUFFT_TRY(
            detail::cufft().execR2C(plan.get(), s.windowed, reinterpret_cast<cufftComplex*>(s.spectra)));
        LATHE_CUDA_TRY(launched(kernels::launchSpectrumPower(s, nullptr)));
        timer.mark(detail::Phase::Kernels);

        std::vector<double> figures(curves * bins + 2 * static_cast<std::size_t>(F) * rows);
        LATHE_CUDA_TRY(
            cudaMemcpy(figures.data(), s.powerSum, figures.size() * sizeof(double), cudaMemcpyDeviceToHost));
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
        detail::PhaseTimer& timer = held.timer;
        upload(x);
        uploadInterpolator(*params.search, m_searchCoeffs, m_searchFor);
        const auto frames = static_cast<std::size_t>(F);
        m_limR.reserve(L + frames);
        LATHE_CUDA_TRY(cudaMemcpy(m_limR.get(), rHistory.data(), L * sizeof(double), cudaMemcpyHostToDevice));
        timer.mark(detail::Phase::HostToDevice, bytesOf(x) + L * sizeof(double));

        kernels::LimiterLayout l = kernels::limiterLayout(params, F, x.frames());
        l.coeffs = m_searchCoeffs.get();
        l.x = m_samples.get();
        m_limPeaks.reserve(frames + L);
        l.p = m_limPeaks.get();
        m_limD.reserve(2 * (frames + L));
        l.d = m_limD.get();
        l.h = m_limD.get() + frames + L;
        m_limMaps.reserve(static_cast<std::size_t>(l.segments));
        l.maps = m_limMaps.get();
        m_limStart.reserve(static_cast<std::size_t>(l.segments));
        l.start = m_limStart.get();
        l.r = m_limR.get();
        m_limG.reserve(frames);
        l.gainDb = m_limG.get();
        m_limY.reserve(frames * static_cast<std::size_t>(params.channels));
        l.y = m_limY.get();
        l.statsFrom = call.statsFrom;
        l.firstPiece = call.firstPiece;
        l.pieceFrames = call.pieceFrames;
        l.pieces = call.pieces();
        m_limPieceSums.reserve(2 * std::max<std::size_t>(P, 1));
        l.pieceMax = m_limPieceSums.get();
        l.pieceSum = m_limPieceSums.get() + P;
        m_limPieceCounts.reserve(std::max<std::size_t>(P, 1));
        l.pieceCount = m_limPieceCounts.get();
        LATHE_CUDA_TRY(launched(kernels::launchLimiterPass(l, nullptr)));
        timer.mark(detail::Phase::Kernels);

        LATHE_CUDA_TRY(cudaMemcpy2D(y.channel(0), static_cast<std::size_t>(y.capacity()) * sizeof(float), l.y,
                                    frames * sizeof(float), frames * sizeof(float),
                                    static_cast<std::size_t>(params.channels), cudaMemcpyDeviceToHost));
        std::vector<double> sums(2 * P);
        std::vector<std::int64_t> counts(P);
        if (P > 0) {
            LATHE_CUDA_TRY(
                cudaMemcpy(sums.data(), l.pieceMax, sums.size() * sizeof(double), cudaMemcpyDeviceToHost));
            LATHE_CUDA_TRY(cudaMemcpy(counts.data(), l.pieceCount, counts.size() * sizeof(std::int64_t),
                                      cudaMemcpyDeviceToHost));
        }
        LATHE_CUDA_TRY(cudaMemcpy(rHistory.data(), l.r + frames, L * sizeof(double), cudaMemcpyDeviceToHost));
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
        detail::PhaseTimer& timer = held.timer;
        upload(audio);
        l.audio = m_samples.get();
        uploadInterpolator(*params.search, m_searchCoeffs, m_searchFor);
        uploadInterpolator(*params.refine, m_refineCoeffs, m_refineFor);
        timer.mark(detail::Phase::HostToDevice, bytesOf(audio));
        const std::size_t subsAll = ch * static_cast<std::size_t>(l.subs);
        const std::size_t stepsAll = ch * static_cast<std::size_t>(l.steps);
        m_energy.reserve(subsAll);
        m_grid.reserve(ch * 4 * static_cast<std::size_t>(l.frames));
        m_peaks.reserve(2 * stepsAll);
        m_peakFrames.reserve(stepsAll);
        const std::int64_t segmentSubs = kernels::kScanSegmentSubs(l);
        m_kStates.reserve(kernels::kWeightScanStates(l, segmentSubs));
        LATHE_CUDA_TRY(launched(kernels::launchKWeightedEnergy(l, params.kWeighting, segmentSubs,
                                                               m_kStates.get(), m_energy.get(), nullptr)));
        if (params.truePeak) {
            LATHE_CUDA_TRY(launched(kernels::launchSearchGrid(l, m_searchCoeffs.get(), params.search->taps,
                                                              m_grid.get(), nullptr)));
        }
        LATHE_CUDA_TRY(launched(kernels::launchStepPeaks(
            l, m_grid.get(), params.truePeak, truePeakCandidateRatio(), m_refineCoeffs.get(),
            params.refine->taps, m_peaks.get(), m_peaks.get() + stepsAll, m_peakFrames.get(), nullptr)));
        timer.mark(detail::Phase::Kernels);
        std::vector<double> energy(subsAll);
        std::vector<float> peaks(2 * stepsAll);
        std::vector<double> frames(stepsAll);
        LATHE_CUDA_TRY(
            cudaMemcpy(energy.data(), m_energy.get(), subsAll * sizeof(double), cudaMemcpyDeviceToHost));
        LATHE_CUDA_TRY(
            cudaMemcpy(peaks.data(), m_peaks.get(), 2 * stepsAll * sizeof(float), cudaMemcpyDeviceToHost));
        LATHE_CUDA_TRY(
            cudaMemcpy(frames.data(), m_peakFrames.get(), stepsAll * sizeof(double), cudaMemcpyDeviceToHost));
        timer.mark(detail::Phase::DeviceToHost,
                   subsAll * sizeof(double) + stepsAll * (2 * sizeof(float) + sizeof(double)));
        timer.finish(*m_timing);
        for (std::size_t c = 0; c < ch; ++c) {
            const auto subs = static_cast<std::ptrdiff_t>(l.subs);
            const auto steps = static_cast<std::ptrdiff_t>(l.steps);
            std::copy_n(energy.begin() + static_cast<std::ptrdiff_t>(c) * subs, subs,
                        out.subBlockEnergy[c].begin());
            std::copy_n(peaks.begin() + static_cast<std::ptrdiff_t>(c) * steps, steps,
                        out.stepSamplePeak[c].begin());
            std::copy_n(peaks.begin() + static_cast<std::ptrdiff_t>(stepsAll) +
                            static_cast<std::ptrdiff_t>(c) * steps,
                        steps, out.stepTruePeak[c].begin());
            std::copy_n(frames.begin() + static_cast<std::ptrdiff_t>(c) * steps, steps,
                        out.stepTruePeakFrame[c].begin());
        }
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
        detail::PhaseTimer& timer = held.timer;
        // The bands: where the crossover left them on the device, else from the host.
        const float* bands = nullptr;
        if (call.bandsOn != nullptr) {
            bands = detail::residentOutput(*call.bandsOn, F);
        } else {
            upload(bandsIn);
            bands = m_samples.get();
        }
        m_mbBands.reserve(params.band.size());
        LATHE_CUDA_TRY(cudaMemcpy(m_mbBands.get(), params.band.data(),
                                  params.band.size() * sizeof(MultibandBandParams), cudaMemcpyHostToDevice));
        m_mbState.reserve(cells);
        LATHE_CUDA_TRY(cudaMemcpy(m_mbState.get(), state.data(), cells * sizeof(BandDetectorState),
                                  cudaMemcpyHostToDevice));
        timer.mark(detail::Phase::HostToDevice, call.bandsOn != nullptr ? 0 : bytesOf(bandsIn));

        kernels::MultibandLayout m = kernels::multibandLayout(params, F);
        m.band = m_mbBands.get();
        m.x = bands;
        const std::size_t samples = cells * static_cast<std::size_t>(F);
        if (m.midSide) {
            m_mbEncoded.reserve(samples);
            m.encoded = m_mbEncoded.get();
        }
        if (m.rms) {
            m_mbLevel.reserve(samples);
            m.level = m_mbLevel.get();
        }
        m_mbMaps.reserve(kernels::multibandMapBytes(m));
        m.maps = m_mbMaps.get();
        m_mbStart.reserve(2 * kernels::multibandStartCount(m));
        m.start = m_mbStart.get();
        m.start2 = m_mbStart.get() + kernels::multibandStartCount(m);
        m.state = m_mbState.get();
        m_mbGainDb.reserve(samples);
        m.gainDb = m_mbGainDb.get();
        m_mbBandOut.reserve(samples);
        m.bandOut = m_mbBandOut.get();
        m_mbOut.reserve(static_cast<std::size_t>(C) * static_cast<std::size_t>(F));
        m.out = m_mbOut.get();
        m_mbStats.reserve(2 * cells +
                          static_cast<std::size_t>(K) * static_cast<std::size_t>(std::max<Frames>(1, steps)));
        double* sums = m_mbStats.get();
        double* mins = sums + cells;
        double* stepMax = mins + cells;
        LATHE_CUDA_TRY(launched(kernels::launchMultiband(m, nullptr)));
        LATHE_CUDA_TRY(launched(kernels::launchMultibandStats(
            m, call.outputFrame, params.historyStep, stats.firstStep, steps, sums, mins, stepMax, nullptr)));
        timer.mark(detail::Phase::Kernels);

        LATHE_CUDA_TRY(cudaMemcpy2D(out.channel(0), static_cast<std::size_t>(out.capacity()) * sizeof(float),
                                    m.out, static_cast<std::size_t>(F) * sizeof(float),
                                    static_cast<std::size_t>(F) * sizeof(float), static_cast<std::size_t>(C),
                                    cudaMemcpyDeviceToHost));
        LATHE_CUDA_TRY(cudaMemcpy(state.data(), m_mbState.get(), cells * sizeof(BandDetectorState),
                                  cudaMemcpyDeviceToHost));
        std::vector<double> figures(2 * cells +
                                    static_cast<std::size_t>(K) * static_cast<std::size_t>(steps));
        LATHE_CUDA_TRY(
            cudaMemcpy(figures.data(), sums, figures.size() * sizeof(double), cudaMemcpyDeviceToHost));
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

    /// Long chunks (a launch covers a whole chunk; up to a minute, at most 2^23 samples ≈ 32 MB),
    /// two in flight: one measured while the next is read. The device serialises them anyway.
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
        detail::PhaseTimer& timer = held.timer;
        upload(block);
        timer.mark(detail::Phase::HostToDevice, bytesOf(block));
        // Enough blocks to fill the device, few enough that the host combine is negligible.
        const int blocks =
            static_cast<int>(std::clamp<Frames>(block.frames() / (kernels::kStatsThreads * 16), 1, 256));
        const std::size_t partialCount =
            static_cast<std::size_t>(blocks) * static_cast<std::size_t>(block.channels());
        m_partials.reserve(partialCount);
        LATHE_CUDA_TRY(launched(kernels::launchStats(m_samples.get(), block.channels(), block.frames(),
                                                     firstFrame, m_partials.get(), blocks)));
        timer.mark(detail::Phase::Kernels);
        std::vector<math::SampleStats> host(partialCount);
        LATHE_CUDA_TRY(cudaMemcpy(host.data(), m_partials.get(), partialCount * sizeof(math::SampleStats),
                                  cudaMemcpyDeviceToHost));
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
        detail::PhaseTimer& timer = held.timer;
        upload(block);
        timer.mark(detail::Phase::HostToDevice, bytesOf(block));
        LATHE_CUDA_TRY(cudaMemset(m_counter.get(), 0, sizeof(unsigned long long)));
        const std::int64_t count = block.frames() * block.channels();
        LATHE_CUDA_TRY(launched(kernels::launchSanitize(m_samples.get(), count, m_counter.get())));
        timer.mark(detail::Phase::Kernels);
        download(block);
        const auto replaced = static_cast<Frames>(readCounter());
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
        detail::PhaseTimer& timer = held.timer;
        upload(block);
        timer.mark(detail::Phase::HostToDevice, bytesOf(block));
        const std::size_t count =
            static_cast<std::size_t>(block.frames()) * static_cast<std::size_t>(block.channels());
        m_codes.reserve(count);
        LATHE_CUDA_TRY(cudaMemset(m_counter.get(), 0, sizeof(unsigned long long)));
        LATHE_CUDA_TRY(launched(kernels::launchQuantize(m_samples.get(), block.channels(), block.frames(),
                                                        firstFrame, params, m_codes.get(), m_counter.get())));
        timer.mark(detail::Phase::Kernels);
        LATHE_CUDA_TRY(cudaMemcpy(out, m_codes.get(), count * sizeof(std::int32_t), cudaMemcpyDeviceToHost));
        const auto clipped = static_cast<Frames>(readCounter());
        timer.mark(detail::Phase::DeviceToHost, count * sizeof(std::int32_t) + sizeof(unsigned long long));
        timer.finish(*m_timing);
        return clipped;
    }

private:
    /// One operation's hold on the device, in this order: the backend's lock (its buffers and
    /// events are shared), the device current on this thread, then the timer's first event.
    struct DeviceCall {
        DeviceCall(std::mutex& mutex, int device, const detail::PhaseTimer::Events& events)
            : lock(mutex), current(makeCurrent(device)), timer(events, nullptr) {}
        static bool makeCurrent(int device) {
            LATHE_CUDA_TRY(cudaSetDevice(device));
            return true;
        }
        std::lock_guard<std::mutex> lock;
        bool current;
        detail::PhaseTimer timer;
    };
    DeviceCall begin() { return DeviceCall(m_mutex, m_device, *m_events); }

    static std::size_t bytesOf(const AudioBuffer& block) {
        return static_cast<std::size_t>(block.frames()) * static_cast<std::size_t>(block.channels()) *
               sizeof(float);
    }

    /// Copies the planar block into channel-major device memory (pitch = frames).
    void upload(const AudioBuffer& block) {
        const std::size_t frames = static_cast<std::size_t>(block.frames());
        m_samples.reserve(frames * static_cast<std::size_t>(block.channels()));
        LATHE_CUDA_TRY(cudaMemcpy2D(m_samples.get(), frames * sizeof(float), block.channel(0),
                                    static_cast<std::size_t>(block.capacity()) * sizeof(float),
                                    frames * sizeof(float), static_cast<std::size_t>(block.channels()),
                                    cudaMemcpyHostToDevice));
    }

    void download(AudioBuffer& block) {
        const std::size_t frames = static_cast<std::size_t>(block.frames());
        LATHE_CUDA_TRY(cudaMemcpy2D(block.channel(0),
                                    static_cast<std::size_t>(block.capacity()) * sizeof(float),
                                    m_samples.get(), frames * sizeof(float), frames * sizeof(float),
                                    static_cast<std::size_t>(block.channels()), cudaMemcpyDeviceToHost));
    }

    /// The interpolator's coefficients on the device (uploaded again only for another one).
    static void uploadInterpolator(const design::Interpolator& it, DeviceBuffer<float>& buffer,
                                   const design::Interpolator*& uploaded) {
        if (uploaded == &it) {
            return;
        }
        buffer.reserve(it.coeffs.size());
        LATHE_CUDA_TRY(cudaMemcpy(buffer.get(), it.coeffs.data(), it.coeffs.size() * sizeof(float),
                                  cudaMemcpyHostToDevice));
        uploaded = &it;
    }

    /// A batched R2C plan of `batch` transforms of `n` points on the default stream, made once.
    const detail::CufftPlan& spectrumPlan(int n, int batch) {
        for (const auto& [key, plan] : m_specPlans) {
            if (key == std::pair{n, batch}) {
                return plan;
            }
        }
        // Full batches share one plan; the last batch of each file has its own size: a few kept.
        constexpr std::size_t kKept = 4;
        if (m_specPlans.size() >= kKept) {
            m_specPlans.erase(m_specPlans.begin());
        }
        m_specPlans.emplace_back(std::pair{n, batch}, detail::CufftPlan(n, batch, CUFFT_R2C, nullptr));
        // One work area for them all (they run one at a time, under m_mutex, on one stream): it
        // grows for the new plan if it must, and every kept plan is given it again.
        std::vector<const detail::CufftPlan*> kept;
        for (const auto& entry : m_specPlans) {
            kept.push_back(&entry.second);
        }
        try {
            m_specWorkArea.shareAll(kept);
        } catch (...) {
            // The area may have been freed for a larger one that could not be had: no kept plan
            // may point into it.
            m_specPlans.clear();
            throw;
        }
        return m_specPlans.back().second;
    }

    unsigned long long readCounter() {
        unsigned long long v = 0;
        LATHE_CUDA_TRY(cudaMemcpy(&v, m_counter.get(), sizeof v, cudaMemcpyDeviceToHost));
        return v;
    }

    int m_device;
    std::string m_description;
    /// The per-block operations share the buffers below; parallel jobs (batch) take turns.
    std::mutex m_mutex;
    DeviceBuffer<float> m_samples;
    DeviceBuffer<std::int32_t> m_codes;
    DeviceBuffer<math::SampleStats> m_partials;
    DeviceBuffer<unsigned long long> m_counter;
    // Loudness records (measureLoudnessChunk).
    DeviceBuffer<float> m_searchCoeffs;
    DeviceBuffer<float> m_refineCoeffs;
    const design::Interpolator* m_searchFor = nullptr; ///< whose coefficients m_searchCoeffs holds
    const design::Interpolator* m_refineFor = nullptr;
    DeviceBuffer<double> m_energy;
    DeviceBuffer<math::KWeightingState> m_kStates; ///< the K-weighting scan's segment states
    DeviceBuffer<float> m_grid;
    DeviceBuffer<float> m_peaks; ///< sample peaks, then true peaks
    DeviceBuffer<double> m_peakFrames;
    // Multiband dynamics (multibandDynamics).
    DeviceBuffer<MultibandBandParams> m_mbBands;
    DeviceBuffer<BandDetectorState> m_mbState;
    DeviceBuffer<float> m_mbEncoded;
    DeviceBuffer<double> m_mbLevel;
    DeviceBuffer<unsigned char> m_mbMaps;
    DeviceBuffer<double> m_mbStart;
    DeviceBuffer<double> m_mbGainDb;
    DeviceBuffer<float> m_mbBandOut;
    DeviceBuffer<float> m_mbOut;
    DeviceBuffer<double> m_mbStats;
    /// The capabilities LATHE_CUDA_HOLD leaves to the CPU.
    std::vector<Capability> m_held;
    bool m_pageable = false; ///< LATHE_CUDA_PAGEABLE=1
    // The spectral analysis (spectrumFrames).
    DeviceBuffer<float> m_specWindow;
    DeviceBuffer<int> m_specRows; ///< first bin, bin count and fallback bin of every row
    DeviceBuffer<float> m_specWindowed;
    DeviceBuffer<float> m_specSpectra;  ///< interleaved re/im
    DeviceBuffer<double> m_specFigures; ///< frame powers, power sums, row maxima and means
    std::vector<std::pair<std::pair<int, int>, detail::CufftPlan>> m_specPlans; ///< by (n, batch)
    detail::CufftWorkArea m_specWorkArea;                                       ///< m_specPlans' own
    // The limiter's pass (limiterPass).
    DeviceBuffer<float> m_limPeaks;
    DeviceBuffer<double> m_limD; ///< d, then h
    DeviceBuffer<math::MaxAffine> m_limMaps;
    DeviceBuffer<double> m_limStart;
    DeviceBuffer<double> m_limR;
    DeviceBuffer<double> m_limG;
    DeviceBuffer<float> m_limY;
    DeviceBuffer<double> m_limPieceSums;         ///< G's largest, then its sum, a piece each
    DeviceBuffer<std::int64_t> m_limPieceCounts; ///< frames of G above 0, a piece each
    /// Device time of the calls above and of every convolver made here.
    std::shared_ptr<detail::TimingTotals> m_timing = std::make_shared<detail::TimingTotals>();
    std::unique_ptr<detail::PhaseTimer::Events> m_events;
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

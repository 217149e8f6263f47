// SPDX-License-Identifier: GPL-3.0-or-later
// Uniformly partitioned overlap-save convolution on cuFFT: the CPU reference's algorithm
// (host/src/dsp/cpu/CpuConvolver.cpp), with every block of a call transformed in one batch.
//
// B = partition size, N = 2B, K = B + 1 bins (interleaved complex). Filter f's partitions are
// zero-padded to N, scaled by 1/N and transformed once, all filters in one batch. Per call of up
// to C blocks (C·B ≈ 2^19 frames), on one stream:
//   1. upload the input after the B frames kept from the previous call (ext = [last B | new]),
//   2. gather the overlap-save frames [x_{j−1} | x_j] of every input and block,
//   3. one batched R2C over inputs × C frames, then scatter the spectra into each input's ring
//      (the last P_max + C block spectra),
//   4. the spectral multiply-accumulate: one thread per (output, bin, 8 blocks), every path and
//      partition in the reference's order,
//   5. one batched C2R over outputs × C, keep the last B samples of each, download — or, with
//      ConvolverOptions::outputOnDevice, gather them into the process() call's output on the
//      device, where CudaBackend::multibandDynamics reads the crossover's bands (residentOutput).
// The output differs from the CPU's only by FFT rounding (tests/parity).
#include "CudaConvolver.h"

#include "CudaCheck.h"
#include "Cufft.h"
#include "DeviceBuffer.h"
#include "DeviceTiming.h"
#include "Kernels.h"

#include <lathe/Error.h>

#include <algorithm>
#include <string>
#include <vector>

namespace lathe::gpu::detail {
namespace {

/// Frames per call that fill the device well and keep the buffers small (2^19 frames = 11 s at
/// 48 kHz: 4 MB per channel of samples).
constexpr Frames kCallFrames = Frames{1} << 19;

cudaError_t launched(int status) {
    const cudaError_t injected = injectedFault(FaultSite::Kernel);
    return injected != cudaSuccess ? injected : static_cast<cudaError_t>(status);
}

class CudaConvolver final : public Convolver {
public:
    CudaConvolver(const FilterMatrix& m, const ConvolverOptions& o, int device,
                  std::shared_ptr<TimingTotals> timing)
        : m_device(device), m_inputs(m.inputs), m_outputs(m.outputs), m_block(o.blockFrames),
          m_resident(o.outputOnDevice), m_stream(validated(m, o, device)), m_timing(std::move(timing)) {
        m_capacity = static_cast<int>(std::max<Frames>(1, kCallFrames / m_block));
        m_bins = static_cast<int>(m_block) + 1;
        const int n = 2 * static_cast<int>(m_block);
        const std::size_t bins = static_cast<std::size_t>(m_bins);
        const std::size_t cap = static_cast<std::size_t>(m_capacity);
        const std::size_t B = static_cast<std::size_t>(m_block);

        // Plans first (cuFFT's advice: before the big allocations). Both run on this stream, one
        // after the other: one work area for the two.
        m_forward = CufftPlan(n, m_inputs * m_capacity, CUFFT_R2C, m_stream.get());
        m_inverse = CufftPlan(n, m_outputs * m_capacity, CUFFT_C2R, m_stream.get());
        m_workArea.share({&m_forward, &m_inverse});

        // Filter spectra, every partition of every filter in one batch.
        std::vector<int> first(m.filters.size());
        int total = 0;
        int maxParts = 1;
        for (std::size_t f = 0; f < m.filters.size(); ++f) {
            const int parts =
                static_cast<int>((static_cast<Frames>(m.filters[f].size()) + m_block - 1) / m_block);
            first[f] = total;
            total += parts;
            maxParts = std::max(maxParts, parts);
        }
        {
            const float scale = 1.0f / static_cast<float>(n);
            std::vector<float> padded(static_cast<std::size_t>(total) * static_cast<std::size_t>(n), 0.0f);
            for (std::size_t f = 0; f < m.filters.size(); ++f) {
                const auto& taps = m.filters[f];
                float* dst = padded.data() + static_cast<std::size_t>(first[f]) * static_cast<std::size_t>(n);
                for (std::size_t k = 0; k < taps.size(); ++k) {
                    // partition k / B, offset k % B within its N-point frame
                    dst[(k / B) * static_cast<std::size_t>(n) + k % B] = taps[k] * scale;
                }
            }
            DeviceBuffer<float> time;
            time.reserve(padded.size());
            LATHE_CUDA_TRY(cudaMemcpyAsync(time.get(), padded.data(), padded.size() * sizeof(float),
                                           cudaMemcpyHostToDevice, m_stream.get()));
            m_filters.reserve(static_cast<std::size_t>(total) * bins * 2);
            CufftPlan plan(n, total, CUFFT_R2C, m_stream.get());
            CufftWorkArea area; // its own: the filters' batch may be far larger than a call's
            area.share({&plan});
            exec(cufft().execR2C(plan.get(), time.get(), reinterpret_cast<cufftComplex*>(m_filters.get())),
                 "cufftExecR2C (filters)");
            m_stream.synchronize(); // `padded`, `time` and `area` go out of scope
        }

        // The paths, grouped by output in matrix order (the reference's summation order).
        std::vector<kernels::MacPath> paths;
        std::vector<int> start(static_cast<std::size_t>(m_outputs) + 1, 0);
        for (int out = 0; out < m_outputs; ++out) {
            start[static_cast<std::size_t>(out)] = static_cast<int>(paths.size());
            for (const FilterPath& p : m.paths) {
                if (p.output == out) {
                    const std::size_t f = static_cast<std::size_t>(p.filter);
                    const int parts =
                        static_cast<int>((static_cast<Frames>(m.filters[f].size()) + m_block - 1) / m_block);
                    paths.push_back({p.input, first[f], parts});
                }
            }
        }
        start.back() = static_cast<int>(paths.size());
        m_paths.reserve(std::max<std::size_t>(1, paths.size()));
        m_pathStart.reserve(start.size());
        if (!paths.empty()) {
            LATHE_CUDA_TRY(cudaMemcpy(m_paths.get(), paths.data(), paths.size() * sizeof(kernels::MacPath),
                                      cudaMemcpyHostToDevice));
        }
        LATHE_CUDA_TRY(
            cudaMemcpy(m_pathStart.get(), start.data(), start.size() * sizeof(int), cudaMemcpyHostToDevice));

        // Working buffers. The ring holds every block spectrum a call can reach back to.
        m_ringSlots = maxParts + m_capacity;
        m_extPitch = static_cast<std::int64_t>(cap + 1) * m_block;
        m_ext.reserve(static_cast<std::size_t>(m_inputs) * static_cast<std::size_t>(m_extPitch));
        // On this stream: a non-blocking stream does not wait for work on the legacy default one.
        LATHE_CUDA_TRY(cudaMemsetAsync(m_ext.get(), 0,
                                       static_cast<std::size_t>(m_inputs) *
                                           static_cast<std::size_t>(m_extPitch) * sizeof(float),
                                       m_stream.get()));
        m_frames.reserve(static_cast<std::size_t>(std::max(m_inputs, m_outputs)) * cap *
                         static_cast<std::size_t>(n));
        m_spectra.reserve(static_cast<std::size_t>(m_inputs) * cap * bins * 2);
        m_ring.reserve(static_cast<std::size_t>(m_inputs) * static_cast<std::size_t>(m_ringSlots) * bins * 2);
        m_y.reserve(static_cast<std::size_t>(m_outputs) * cap * bins * 2);
        if (!m_resident) { // else each process() call's output has a buffer of its own
            m_out.reserve(static_cast<std::size_t>(m_outputs) * cap * B);
        }
    }

    Frames blockFrames() const override { return m_block; }
    Frames preferredFrames() const override { return m_block * m_capacity; }
    int inputs() const override { return m_inputs; }
    int outputs() const override { return m_outputs; }
    bool outputOnDevice() const override { return m_resident; }

    /// The last process()'s output when it stays on the device: [output][frames], pitch `frames`.
    const float* residentOutput(Frames frames) const {
        LATHE_EXPECTS(m_resident && frames == m_residentFrames,
                      "the convolver's output on the device is not the call's (" +
                          std::to_string(m_residentFrames) + " frames where " + std::to_string(frames) +
                          " are asked for)");
        return m_residentOut.get();
    }

    void process(const AudioBuffer& in, AudioBuffer& out) override {
        prepareConvolverOutput(*this, in, out);
        m_residentFrames = 0;
        if (in.frames() == 0) {
            return;
        }
        LATHE_CUDA_TRY(cudaSetDevice(m_device)); // stages may run on any host thread
        if (m_resident) {
            m_residentOut.reserve(static_cast<std::size_t>(m_outputs) *
                                  static_cast<std::size_t>(in.frames()));
        }
        const Frames blocks = in.frames() / m_block;
        for (Frames firstBlock = 0; firstBlock < blocks; firstBlock += m_capacity) {
            PhaseTimer timer(m_events, m_stream.get());
            processCall(in, out, firstBlock,
                        static_cast<int>(std::min<Frames>(m_capacity, blocks - firstBlock)), timer);
            m_stream.synchronize();
            timer.finish(*m_timing);
        }
        m_residentFrames = m_resident ? in.frames() : 0;
    }

private:
    /// Checks the matrix and block size before anything is allocated; returns the device.
    static int validated(const FilterMatrix& m, const ConvolverOptions& o, int device) {
        validateConvolverSetup(m, o);
        return device;
    }

    static void exec(cufftResult r, const char* what) {
        const cudaError_t injected = injectedFault(FaultSite::Kernel);
        if (injected != cudaSuccess) {
            throwCudaError(injected, what, __FILE__, __LINE__);
        }
        if (r != CUFFT_SUCCESS) {
            throwCufftError(r, what, __FILE__, __LINE__);
        }
    }

    void processCall(const AudioBuffer& in, AudioBuffer& out, Frames firstBlock, int count,
                     PhaseTimer& timer) {
        cudaStream_t s = m_stream.get();
        const std::size_t B = static_cast<std::size_t>(m_block);
        const std::size_t frames = static_cast<std::size_t>(count) * B;
        const std::size_t inPitch = static_cast<std::size_t>(in.capacity()) * sizeof(float);
        const std::size_t extPitch = static_cast<std::size_t>(m_extPitch) * sizeof(float);
        // 1. New samples after the kept block.
        LATHE_CUDA_TRY(cudaMemcpy2DAsync(m_ext.get() + B, extPitch, in.channel(0) + firstBlock * m_block,
                                         inPitch, frames * sizeof(float), static_cast<std::size_t>(m_inputs),
                                         cudaMemcpyHostToDevice, s));
        timer.mark(Phase::HostToDevice, frames * sizeof(float) * static_cast<std::size_t>(m_inputs));
        // 2.–3. Frames, forward transforms, ring.
        LATHE_CUDA_TRY(
            launched(kernels::launchGatherFrames(m_ext.get(), m_extPitch, m_inputs, static_cast<int>(m_block),
                                                 count, m_capacity, m_frames.get(), s)));
        exec(cufft().execR2C(m_forward.get(), m_frames.get(),
                             reinterpret_cast<cufftComplex*>(m_spectra.get())),
             "cufftExecR2C");
        LATHE_CUDA_TRY(
            launched(kernels::launchScatterSpectra(m_spectra.get(), m_inputs, m_capacity, count, m_bins,
                                                   m_ring.get(), m_ringSlots, m_blocksDone, s)));
        // Keep the last B input samples for the next call's first frame (frames ≥ B: no overlap).
        LATHE_CUDA_TRY(cudaMemcpy2DAsync(m_ext.get(), extPitch, m_ext.get() + frames, extPitch,
                                         B * sizeof(float), static_cast<std::size_t>(m_inputs),
                                         cudaMemcpyDeviceToDevice, s));
        // 4. Y = Σ X · H.
        LATHE_CUDA_TRY(launched(kernels::launchSpectralMac(
            m_ring.get(), m_ringSlots, m_blocksDone, count, m_bins, m_filters.get(), m_paths.get(),
            m_pathStart.get(), m_outputs, m_y.get(), m_capacity, s)));
        // 5. Inverse transforms (blocks past `count` transform stale spectra; never read).
        exec(cufft().execC2R(m_inverse.get(), reinterpret_cast<cufftComplex*>(m_y.get()), m_frames.get()),
             "cufftExecC2R");
        if (m_resident) { // straight into the process() call's output, left on the device
            LATHE_CUDA_TRY(launched(kernels::launchTakeOutput(
                m_frames.get(), m_outputs, static_cast<int>(m_block), count, m_capacity,
                m_residentOut.get() + firstBlock * m_block, static_cast<std::int64_t>(in.frames()), s)));
            timer.mark(Phase::Kernels);
            m_blocksDone += count;
            return;
        }
        const std::int64_t outPitch = static_cast<std::int64_t>(m_capacity) * m_block;
        LATHE_CUDA_TRY(
            launched(kernels::launchTakeOutput(m_frames.get(), m_outputs, static_cast<int>(m_block), count,
                                               m_capacity, m_out.get(), outPitch, s)));
        timer.mark(Phase::Kernels);
        LATHE_CUDA_TRY(cudaMemcpy2DAsync(
            out.channel(0) + firstBlock * m_block, static_cast<std::size_t>(out.capacity()) * sizeof(float),
            m_out.get(), static_cast<std::size_t>(outPitch) * sizeof(float), frames * sizeof(float),
            static_cast<std::size_t>(m_outputs), cudaMemcpyDeviceToHost, s));
        timer.mark(Phase::DeviceToHost, frames * sizeof(float) * static_cast<std::size_t>(m_outputs));
        m_blocksDone += count;
    }

    int m_device;
    int m_inputs;
    int m_outputs;
    Frames m_block;
    bool m_resident;             // ConvolverOptions::outputOnDevice
    Frames m_residentFrames = 0; // frames of m_residentOut (the last process() call's)
    int m_capacity = 1;          // blocks per call (C)
    int m_bins = 0;
    int m_ringSlots = 0;
    std::int64_t m_extPitch = 0;
    Frames m_blocksDone = 0;
    DeviceStream m_stream;
    CufftPlan m_forward;
    CufftPlan m_inverse;
    CufftWorkArea m_workArea;      // m_forward's and m_inverse's
    DeviceBuffer<float> m_filters; // [partition][bin] complex
    DeviceBuffer<kernels::MacPath> m_paths;
    DeviceBuffer<int> m_pathStart;
    DeviceBuffer<float> m_ext;         // [input][B + C·B]
    DeviceBuffer<float> m_frames;      // [channel][C][2B]: forward input, then inverse output
    DeviceBuffer<float> m_spectra;     // [input][C][bin] complex
    DeviceBuffer<float> m_ring;        // [input][slot][bin] complex
    DeviceBuffer<float> m_y;           // [output][C][bin] complex
    DeviceBuffer<float> m_out;         // [output][C·B]
    DeviceBuffer<float> m_residentOut; // [output][the process() call's frames], when m_resident
    std::shared_ptr<TimingTotals> m_timing;
    PhaseTimer::Events m_events;
};

} // namespace

std::unique_ptr<Convolver> makeCudaConvolver(const FilterMatrix& matrix, const ConvolverOptions& options,
                                             int device, std::shared_ptr<TimingTotals> timing) {
    return std::make_unique<CudaConvolver>(matrix, options, device, std::move(timing));
}

const float* residentOutput(const Convolver& convolver, Frames frames) {
    const auto* cuda = dynamic_cast<const CudaConvolver*>(&convolver);
    LATHE_EXPECTS(cuda != nullptr, "a convolver's output on the device is only a CUDA convolver's");
    return cuda->residentOutput(frames);
}

} // namespace lathe::gpu::detail

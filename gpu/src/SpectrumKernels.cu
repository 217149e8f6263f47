// SPDX-License-Identifier: GPL-3.0-or-later
// The spectral analysis's frames on the device: SpectralAnalyzer's window, power sums and row
// pooling (the reference), the FFTs between them batched in cuFFT (CudaBackend::spectrumFrames).
#include "LaunchGrid.h"
#include "SpectrumKernels.cuh"

#include <cuda_runtime.h>

namespace lathe::gpu::kernels {
namespace {

unsigned spectrumBlocks(std::int64_t n) {
    return blocksOf(n, kSpectrumThreads);
}

} // namespace

int launchSpectrumWindow(const SpectrumLayout& s, void* stream) {
    const std::int64_t samples = static_cast<std::int64_t>(s.channels) * s.frames * s.n;
    if (samples == 0) {
        return 0;
    }
    spectrumWindowKernel<<<spectrumBlocks(samples), kSpectrumThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        s);
    return static_cast<int>(cudaGetLastError());
}

int launchSpectrumPower(const SpectrumLayout& s, void* stream) {
    if (s.frames == 0) {
        return 0;
    }
    const auto st = static_cast<cudaStream_t>(stream);
    spectrumPowerKernel<<<spectrumBlocks(s.bins), kSpectrumThreads, 0, st>>>(s);
    spectrumPoolKernel<<<spectrumBlocks(static_cast<std::int64_t>(s.frames) * s.rows), kSpectrumThreads, 0,
                         st>>>(s);
    return static_cast<int>(cudaGetLastError());
}

} // namespace lathe::gpu::kernels

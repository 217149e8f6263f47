// Lathe (private to gpu/src): the spectral analysis's frames on the device
// (CudaBackend::spectrumFrames; the reference is SpectralAnalyzer's own code). C++17 and CUDA-type
// free, like Kernels.h.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>

namespace lathe::gpu::kernels {

/// One call's device memory and geometry. Frame f of channel c is x[c·pitch + f·hop …], windowed
/// into windowed[(c·frames + f)·n …]; its transform (bins complex values, interleaved re/im) is
/// spectra[((c·frames + f)·bins + k)·2 …].
///   framePower[f·bins + k]: Σ over channels of the bin's sine-calibrated power / channels
///   powerSum[curve·bins + k]: Σ over the frames (curves: the channels, then mid and side for stereo)
///   rowMax/rowMean[f·rows + r]: the largest and the mean framePower of row r's bins
struct SpectrumLayout {
    int channels;
    bool stereo;
    int n;
    int bins;
    int frames;
    int hop;
    std::int64_t pitch;
    double sineScale;
    int rows;
    const int* rowFirstBin;
    const int* rowBinCount;
    const int* rowFallbackBin;
    const float* window;
    const float* x;
    float* windowed;
    float* spectra;
    double* framePower;
    double* powerSum;
    double* rowMax;
    double* rowMean;
};

/// Windows every frame of every channel into `windowed`.
int launchSpectrumWindow(const SpectrumLayout& s, void* stream);
/// From `spectra` (the R2C transforms of `windowed`): powerSum, framePower, rowMax and rowMean.
int launchSpectrumPower(const SpectrumLayout& s, void* stream);

} // namespace lathe::gpu::kernels

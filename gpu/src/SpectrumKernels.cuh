// Lathe (private to gpu/src): the spectrum kernels themselves, included by SpectrumKernels.cu
// (which launches them) and by tests/parity/EmulatedKernelsTest.cpp, which compiles them for the
// host with shims for CUDA's built-ins (and FFTW for cuFFT) and runs them against SpectralAnalyzer.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SpectrumKernels.h"

#include <cstdint>

namespace lathe::gpu::kernels {
namespace {

constexpr int kSpectrumThreads = 256;

__device__ std::int64_t spectrumIndex() {
    return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

/// windowed[(c·frames + f)·n + i] = x of that frame's sample i × window[i].
__global__ void spectrumWindowKernel(SpectrumLayout s) {
    const std::int64_t idx = spectrumIndex();
    const std::int64_t perChannel = static_cast<std::int64_t>(s.frames) * s.n;
    if (idx >= perChannel * s.channels) {
        return;
    }
    const std::int64_t c = idx / perChannel;
    const std::int64_t f = (idx - c * perChannel) / s.n;
    const int i = static_cast<int>(idx - c * perChannel - f * s.n);
    s.windowed[idx] = s.x[c * s.pitch + f * s.hop + i] * s.window[i];
}

/// Bin k's power, calibrated so that a full-scale sine centred on a bin reads 1 (DC and Nyquist
/// are real: a quarter of the scale).
__device__ double spectrumBinScale(const SpectrumLayout& s, int k) {
    return (k == 0 || k == s.n / 2) ? s.sineScale / 4.0 : s.sineScale;
}

/// One thread per bin: over the frames in order, each channel's power (and mid and side for
/// stereo) summed, and each frame's channel-averaged power — as SpectralAnalyzer::processWindowed.
__global__ void spectrumPowerKernel(SpectrumLayout s) {
    const std::int64_t kk = spectrumIndex();
    if (kk >= s.bins) {
        return;
    }
    const int k = static_cast<int>(kk);
    const double scale = spectrumBinScale(s, k);
    for (int c = 0; c < s.channels; ++c) {
        double sum = 0.0;
        for (int f = 0; f < s.frames; ++f) {
            const float* X = s.spectra + ((static_cast<std::int64_t>(c) * s.frames + f) * s.bins + k) * 2;
            sum += (static_cast<double>(X[0]) * X[0] + static_cast<double>(X[1]) * X[1]) * scale;
        }
        s.powerSum[static_cast<std::int64_t>(c) * s.bins + k] = sum;
    }
    for (int f = 0; f < s.frames; ++f) {
        double framePower = 0.0;
        for (int c = 0; c < s.channels; ++c) {
            const float* X = s.spectra + ((static_cast<std::int64_t>(c) * s.frames + f) * s.bins + k) * 2;
            const double p = (static_cast<double>(X[0]) * X[0] + static_cast<double>(X[1]) * X[1]) * scale;
            framePower += p / s.channels;
        }
        s.framePower[static_cast<std::int64_t>(f) * s.bins + k] = framePower;
    }
    if (s.stereo) {
        double mid = 0.0;
        double side = 0.0;
        for (int f = 0; f < s.frames; ++f) {
            const float* L = s.spectra + (static_cast<std::int64_t>(f) * s.bins + k) * 2;
            const float* R = s.spectra + ((static_cast<std::int64_t>(s.frames) + f) * s.bins + k) * 2;
            const double mr = 0.5 * (static_cast<double>(L[0]) + R[0]);
            const double mi = 0.5 * (static_cast<double>(L[1]) + R[1]);
            const double sr = 0.5 * (static_cast<double>(L[0]) - R[0]);
            const double si = 0.5 * (static_cast<double>(L[1]) - R[1]);
            mid += (mr * mr + mi * mi) * scale;
            side += (sr * sr + si * si) * scale;
        }
        s.powerSum[2 * static_cast<std::int64_t>(s.bins) + k] = mid;
        s.powerSum[3 * static_cast<std::int64_t>(s.bins) + k] = side;
    }
}

/// One thread per (frame, row): the row's largest and mean power, or its fallback bin's.
__global__ void spectrumPoolKernel(SpectrumLayout s) {
    const std::int64_t idx = spectrumIndex();
    if (idx >= static_cast<std::int64_t>(s.frames) * s.rows) {
        return;
    }
    const std::int64_t f = idx / s.rows;
    const int r = static_cast<int>(idx - f * s.rows);
    const double* power = s.framePower + f * s.bins;
    const int count = s.rowBinCount[r];
    double mx = 0.0;
    double mean = 0.0;
    if (count == 0) {
        mx = mean = power[s.rowFallbackBin[r]];
    } else {
        double sum = 0.0;
        for (int k = s.rowFirstBin[r]; k < s.rowFirstBin[r] + count; ++k) {
            mx = mx < power[k] ? power[k] : mx; // std::max(mx, p), as the reference
            sum += power[k];
        }
        mean = sum / count;
    }
    s.rowMax[idx] = mx;
    s.rowMean[idx] = mean;
}

} // namespace
} // namespace lathe::gpu::kernels

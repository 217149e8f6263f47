// SPDX-License-Identifier: GPL-3.0-or-later
// Kernels are thin wrappers over lathe/math: every per-sample formula is the one the CPU backend
// runs (STYLE.md "One set of math for both backends").
#include "Kernels.h"
#include "LaunchGrid.h"
#include "LoudnessKernels.cuh"

#include <lathe/math/Loudness.h>
#include <lathe/math/Quantize.h>
#include <lathe/math/SampleStats.h>
#include <lathe/math/Spectral.h>

#include <cuda_runtime.h>

namespace lathe::gpu::kernels {
namespace {

__global__ void probeKernel(int* flag) {
    *flag = 42;
}

__global__ void statsKernel(const float* samples, std::int64_t frames, std::int64_t firstFrame,
                            math::SampleStats* partials) {
    __shared__ math::SampleStats shared[kStatsThreads];
    const int channel = blockIdx.y;
    const float* x = samples + static_cast<std::int64_t>(channel) * frames;
    const std::int64_t perBlock = (frames + gridDim.x - 1) / gridDim.x;
    const std::int64_t begin = static_cast<std::int64_t>(blockIdx.x) * perBlock;
    const std::int64_t end = begin + perBlock < frames ? begin + perBlock : frames;

    math::SampleStats s = math::emptyStats();
    for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
        math::accumulateSample(s, x[i], firstFrame + i);
    }
    shared[threadIdx.x] = s;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (static_cast<int>(threadIdx.x) < stride) {
            shared[threadIdx.x] = math::combineStats(shared[threadIdx.x], shared[threadIdx.x + stride]);
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        partials[static_cast<std::int64_t>(channel) * gridDim.x + blockIdx.x] = shared[0];
    }
}

__global__ void sanitizeKernel(float* samples, std::int64_t count, unsigned long long* counter) {
    const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < count && !math::isFiniteSample(samples[i])) {
        samples[i] = 0.0f;
        atomicAdd(counter, 1ull);
    }
}

__global__ void quantizeKernel(const float* samples, int channels, std::int64_t frames,
                               std::int64_t firstFrame, math::QuantizeParams params, std::int32_t* out,
                               unsigned long long* clipped) {
    // One thread per output sample, in interleaved order so that the stores coalesce.
    const std::int64_t k = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (k >= frames * channels) {
        return;
    }
    const std::int64_t frame = k / channels;
    const int channel = static_cast<int>(k - frame * channels);
    const math::QuantizedSample q = math::quantizeSample(
        samples[static_cast<std::int64_t>(channel) * frames + frame], params,
        static_cast<std::uint32_t>(channel), static_cast<std::uint64_t>(firstFrame + frame));
    out[k] = q.leftJustified;
    if (q.clipped) {
        atomicAdd(clipped, 1ull);
    }
}

__global__ void gatherFramesKernel(const float* ext, std::int64_t extPitch, int blockFrames, int count,
                                   int capacity, float* frames) {
    // grid: x over the 2B samples of a frame, y = block, z = input
    const std::int64_t n = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const std::int64_t frameLength = 2 * static_cast<std::int64_t>(blockFrames);
    if (n >= frameLength) {
        return;
    }
    const int b = blockIdx.y;
    const int i = blockIdx.z;
    const std::int64_t at = (static_cast<std::int64_t>(i) * capacity + b) * frameLength + n;
    frames[at] = b < count ? ext[i * extPitch + static_cast<std::int64_t>(b) * blockFrames + n] : 0.0f;
}

__global__ void scatterSpectraKernel(const float2* spectra, int capacity, int bins, float2* ring,
                                     int ringSlots, std::int64_t firstBlock) {
    const int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= bins) {
        return;
    }
    const int b = blockIdx.y;
    const int i = blockIdx.z;
    const std::int64_t slot = (firstBlock + b) % ringSlots;
    ring[(static_cast<std::int64_t>(i) * ringSlots + slot) * bins + k] =
        spectra[(static_cast<std::int64_t>(i) * capacity + b) * bins + k];
}

/// Rows (blocks) per thread: each partition's H[k] is loaded once and used for kMacRows blocks,
/// and the X spectra the rows share come from L1 (row r at partition p reads block b0 + r − p).
constexpr int kMacRows = 8;
constexpr int kMacThreads = 128;

__global__ void spectralMacKernel(const float2* ring, int ringSlots, std::int64_t firstBlock, int count,
                                  int bins, const float2* filters, const MacPath* paths, const int* pathStart,
                                  float2* y, int capacity) {
    const int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= bins) {
        return;
    }
    const int o = blockIdx.z;
    const int b0 = blockIdx.y * kMacRows;
    float accRe[kMacRows];
    float accIm[kMacRows];
#pragma unroll
    for (int r = 0; r < kMacRows; ++r) {
        accRe[r] = 0.0f;
        accIm[r] = 0.0f;
    }
    for (int q = pathStart[o]; q < pathStart[o + 1]; ++q) {
        const MacPath path = paths[q];
        const float2* x = ring + static_cast<std::int64_t>(path.input) * ringSlots * bins + k;
        const float2* h = filters + static_cast<std::int64_t>(path.firstPartition) * bins + k;
        for (int p = 0; p < path.partitions; ++p) {
            const float2 hp = h[static_cast<std::int64_t>(p) * bins];
#pragma unroll
            for (int r = 0; r < kMacRows; ++r) {
                const std::int64_t j = firstBlock + b0 + r - p;
                if (b0 + r < count && j >= 0) {
                    const float2 xj = x[(j % ringSlots) * bins];
                    math::complexMac(xj.x, xj.y, hp.x, hp.y, accRe[r], accIm[r]);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < kMacRows; ++r) {
        if (b0 + r < count) {
            y[(static_cast<std::int64_t>(o) * capacity + b0 + r) * bins + k] =
                make_float2(accRe[r], accIm[r]);
        }
    }
}

__global__ void takeOutputKernel(const float* frames, int blockFrames, int capacity, float* out,
                                 std::int64_t outPitch) {
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= blockFrames) {
        return;
    }
    const int b = blockIdx.y;
    const int o = blockIdx.z;
    const std::int64_t frameLength = 2 * static_cast<std::int64_t>(blockFrames);
    out[o * outPitch + static_cast<std::int64_t>(b) * blockFrames + n] =
        frames[(static_cast<std::int64_t>(o) * capacity + b) * frameLength + blockFrames + n];
}

} // namespace

int launchProbe(int* deviceFlag) {
    probeKernel<<<1, 1>>>(deviceFlag);
    return static_cast<int>(cudaGetLastError());
}

int launchStats(const float* samples, int channels, std::int64_t frames, std::int64_t firstFrame,
                math::SampleStats* partials, int blocksPerChannel, void* stream) {
    if (frames <= 0 || channels <= 0) {
        return 0;
    }
    const dim3 grid(static_cast<unsigned>(blocksPerChannel), static_cast<unsigned>(channels));
    statsKernel<<<grid, kStatsThreads, 0, static_cast<cudaStream_t>(stream)>>>(samples, frames, firstFrame,
                                                                               partials);
    return static_cast<int>(cudaGetLastError());
}

int launchSanitize(float* samples, std::int64_t count, unsigned long long* counter, void* stream) {
    if (count <= 0) {
        return 0;
    }
    sanitizeKernel<<<blocksOf(count, 256), 256, 0, static_cast<cudaStream_t>(stream)>>>(samples, count,
                                                                                        counter);
    return static_cast<int>(cudaGetLastError());
}

int launchQuantize(const float* samples, int channels, std::int64_t frames, std::int64_t firstFrame,
                   math::QuantizeParams params, std::int32_t* out, unsigned long long* clipped,
                   void* stream) {
    if (frames <= 0 || channels <= 0) {
        return 0;
    }
    quantizeKernel<<<blocksOf(frames * channels, 256), 256, 0, static_cast<cudaStream_t>(stream)>>>(
        samples, channels, frames, firstFrame, params, out, clipped);
    return static_cast<int>(cudaGetLastError());
}

int launchGatherFrames(const float* ext, std::int64_t extPitch, int inputs, int blockFrames, int count,
                       int capacity, float* frames, void* stream) {
    const dim3 grid(blocksOf(2 * static_cast<std::int64_t>(blockFrames), 256),
                    static_cast<unsigned>(capacity), static_cast<unsigned>(inputs));
    gatherFramesKernel<<<grid, 256, 0, static_cast<cudaStream_t>(stream)>>>(ext, extPitch, blockFrames, count,
                                                                            capacity, frames);
    return static_cast<int>(cudaGetLastError());
}

int launchScatterSpectra(const float* spectra, int inputs, int capacity, int count, int bins, float* ring,
                         int ringSlots, std::int64_t firstBlock, void* stream) {
    const dim3 grid(blocksOf(bins, 256), static_cast<unsigned>(count), static_cast<unsigned>(inputs));
    scatterSpectraKernel<<<grid, 256, 0, static_cast<cudaStream_t>(stream)>>>(
        reinterpret_cast<const float2*>(spectra), capacity, bins, reinterpret_cast<float2*>(ring), ringSlots,
        firstBlock);
    return static_cast<int>(cudaGetLastError());
}

int launchSpectralMac(const float* ring, int ringSlots, std::int64_t firstBlock, int count, int bins,
                      const float* filters, const MacPath* paths, const int* pathStart, int outputs, float* y,
                      int capacity, void* stream) {
    const dim3 grid(blocksOf(bins, kMacThreads), blocksOf(count, kMacRows), static_cast<unsigned>(outputs));
    spectralMacKernel<<<grid, kMacThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        reinterpret_cast<const float2*>(ring), ringSlots, firstBlock, count, bins,
        reinterpret_cast<const float2*>(filters), paths, pathStart, reinterpret_cast<float2*>(y), capacity);
    return static_cast<int>(cudaGetLastError());
}

std::size_t kWeightScanStates(const LoudnessChunkLayout& l, std::int64_t segmentSubs) {
    return 2 * static_cast<std::size_t>(kScanOf(l, segmentSubs).segments) *
           static_cast<std::size_t>(l.channels);
}

int launchKWeightedEnergy(const LoudnessChunkLayout& l, const math::KWeighting& k, std::int64_t segmentSubs,
                          math::KWeightingState* states, double* energy, void* stream) {
    if (l.subs <= 0 || l.channels <= 0) {
        return 0;
    }
    const KScan g = kScanOf(l, segmentSubs);
    const auto st = static_cast<cudaStream_t>(stream);
    math::KWeightingState* rest = states;
    math::KWeightingState* start = states + g.segments * l.channels;
    constexpr int kThreads = 128;
    kWeightFromRestKernel<<<blocksOf(g.segments * l.channels, kThreads), kThreads, 0, st>>>(l, k, g, rest);
    kWeightCarryKernel<<<blocksOf(l.channels, 32), 32, 0, st>>>(l, math::kWeightingTransition(k, g.length), g,
                                                                rest, start);
    kWeightEnergyKernel<<<blocksOf((g.segments - g.lead) * l.channels, kThreads), kThreads, 0, st>>>(
        l, k, g, start, energy);
    return static_cast<int>(cudaGetLastError());
}

int launchSearchGrid(const LoudnessChunkLayout& l, const float* coeffs, int taps, float* grid, void* stream) {
    if (l.frames <= 0 || l.channels <= 0) {
        return 0;
    }
    const dim3 blocks(blocksOf(l.frames, 256), static_cast<unsigned>(l.channels));
    searchGridKernel<<<blocks, 256, 0, static_cast<cudaStream_t>(stream)>>>(l, coeffs, taps, grid);
    return static_cast<int>(cudaGetLastError());
}

int launchStepPeaks(const LoudnessChunkLayout& l, const float* grid, bool truePeak, float candidateRatio,
                    const float* refineCoeffs, int refineTaps, float* samplePeak, float* truePeakValue,
                    double* truePeakFrame, void* stream) {
    if (l.steps <= 0 || l.channels <= 0) {
        return 0;
    }
    const dim3 blocks(static_cast<unsigned>(l.steps), static_cast<unsigned>(l.channels));
    stepPeaksKernel<<<blocks, kPeakThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        l, grid, truePeak, candidateRatio, refineCoeffs, refineTaps, samplePeak, truePeakValue,
        truePeakFrame);
    return static_cast<int>(cudaGetLastError());
}

int launchTakeOutput(const float* frames, int outputs, int blockFrames, int count, int capacity, float* out,
                     std::int64_t outPitch, void* stream) {
    const dim3 grid(blocksOf(blockFrames, 256), static_cast<unsigned>(count), static_cast<unsigned>(outputs));
    takeOutputKernel<<<grid, 256, 0, static_cast<cudaStream_t>(stream)>>>(frames, blockFrames, capacity, out,
                                                                          outPitch);
    return static_cast<int>(cudaGetLastError());
}

} // namespace lathe::gpu::kernels

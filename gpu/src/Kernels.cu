// SPDX-License-Identifier: GPL-3.0-or-later
// Kernels are thin wrappers over lathe/math: every per-sample formula is the one the CPU backend
// runs (STYLE.md "One set of math for both backends").
#include "Kernels.h"

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

unsigned blocksFor(std::int64_t n, int threads) {
    return static_cast<unsigned>((n + threads - 1) / threads);
}

/// The segments of a chunk's K-weighting scan (math::KWeightingTransition): segment j starts at
/// warm + (j − lead)·length, clamped to 0 (segment 0 takes what the warm-up has left over), so the
/// segments from `lead` on cover whole groups of sub-blocks of the chunk itself.
struct KScan {
    std::int64_t length; ///< frames per segment (a whole number of sub-blocks)
    std::int64_t lead;   ///< segments of warm-up
    std::int64_t segments;
};

__device__ std::int64_t kScanStart(const LoudnessChunkLayout& l, const KScan& g, std::int64_t j) {
    const std::int64_t s = l.warm + (j - g.lead) * g.length;
    return s < 0 ? 0 : s;
}

__device__ std::int64_t kScanEnd(const LoudnessChunkLayout& l, const KScan& g, std::int64_t j) {
    return j + 1 < g.segments ? kScanStart(l, g, j + 1) : l.warm + l.frames;
}

/// Pass 1: every segment of every channel filtered from rest; its end state into rest[c·S + j].
__global__ void kWeightFromRestKernel(LoudnessChunkLayout l, math::KWeighting k, KScan g,
                                      math::KWeightingState* rest) {
    const std::int64_t idx = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= g.segments * l.channels) {
        return;
    }
    const int c = static_cast<int>(idx / g.segments);
    const std::int64_t j = idx - c * g.segments;
    const float* x = l.audio + c * l.pitch;
    math::KWeightingState state{};
    const std::int64_t end = kScanEnd(l, g, j);
    for (std::int64_t i = kScanStart(l, g, j); i < end; ++i) {
        math::kWeightSample(k, state, x[i]);
    }
    rest[idx] = state;
}

/// Pass 2, a thread per channel: the true state at every segment's start, carried in order.
__global__ void kWeightCarryKernel(LoudnessChunkLayout l, math::KWeightingTransition t, KScan g,
                                   const math::KWeightingState* rest, math::KWeightingState* start) {
    const int c = static_cast<int>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (c >= l.channels) {
        return;
    }
    const math::KWeightingState* r = rest + c * g.segments;
    math::KWeightingState* s = start + c * g.segments;
    s[0] = math::KWeightingState{}; // the chunk's warm-up starts at rest, as the reference's
    if (g.segments > 1) {
        s[1] = r[0]; // segment 0 started at rest (and may be shorter than the transition)
    }
    for (std::int64_t j = 2; j < g.segments; ++j) {
        s[j] = math::carryKWeighting(t, s[j - 1], r[j - 1]);
    }
}

/// Pass 3: the chunk's segments filtered again from their true starts, Σ y² per sub-block.
__global__ void kWeightEnergyKernel(LoudnessChunkLayout l, math::KWeighting k, KScan g,
                                    const math::KWeightingState* start, double* energy) {
    const std::int64_t own = g.segments - g.lead; // segments of the chunk itself
    const std::int64_t idx = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= own * l.channels) {
        return;
    }
    const int c = static_cast<int>(idx / own);
    const std::int64_t e = idx - c * own;
    const float* x = l.audio + c * l.pitch;
    math::KWeightingState state = start[c * g.segments + g.lead + e];
    const std::int64_t perSegment = g.length / l.subFrames;
    const std::int64_t firstSub = e * perSegment;
    const std::int64_t lastSub = firstSub + perSegment < l.subs ? firstSub + perSegment : l.subs;
    for (std::int64_t b = firstSub; b < lastSub; ++b) {
        const std::int64_t begin = l.warm + b * l.subFrames;
        const std::int64_t stop = (b + 1) * l.subFrames < l.frames ? (b + 1) * l.subFrames : l.frames;
        const std::int64_t end = l.warm + stop;
        double sum = 0.0;
        for (std::int64_t i = begin; i < end; ++i) {
            const double v = math::kWeightSample(k, state, x[i]);
            sum += v * v;
        }
        energy[c * l.subs + b] = sum;
    }
}

__global__ void searchGridKernel(LoudnessChunkLayout l, const float* coeffs, int taps, float* grid) {
    const std::int64_t n = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int c = blockIdx.y;
    if (n >= l.frames) {
        return;
    }
    const float* x = l.audio + c * l.pitch + l.warm + n; // x[0] is frame n
    float* g = grid + static_cast<std::int64_t>(c) * 4 * l.frames + n;
    g[0] = fabsf(x[0]);
    for (int p = 1; p < 4; ++p) {
        g[p * l.frames] = fabsf(math::interpolateAt(x - taps / 2 + 1, coeffs, taps, p));
    }
}

/// The larger of two (value, position) pairs; on equal values the earlier position.
struct PeakAt {
    float value;
    double at;
};
__device__ PeakAt largerPeak(PeakAt a, PeakAt b) {
    if (b.value > a.value || (b.value == a.value && b.at >= 0 && (a.at < 0 || b.at < a.at))) {
        return b;
    }
    return a;
}

constexpr int kPeakThreads = 256;

__global__ void stepPeaksKernel(LoudnessChunkLayout l, const float* grid, bool truePeak, float candidateRatio,
                                const float* refine, int refineTaps, float* samplePeak, float* truePeakValue,
                                double* truePeakFrame) {
    __shared__ unsigned int bitsShared[kPeakThreads];
    __shared__ long long atShared[kPeakThreads];
    __shared__ float maxShared[kPeakThreads];
    __shared__ PeakAt bestShared[kPeakThreads];
    const int c = blockIdx.y;
    const std::int64_t s = blockIdx.x;
    const int t = threadIdx.x;
    const std::int64_t begin = s * l.stepFrames; // chunk frames (without the warm-up)
    const std::int64_t end = (s + 1) * l.stepFrames < l.frames ? (s + 1) * l.stepFrames : l.frames;
    const float* x = l.audio + c * l.pitch + l.warm; // x[n]: chunk frame n
    const float* g = grid + static_cast<std::int64_t>(c) * 4 * l.frames;

    // Sample peak: the first largest |x| (compared as bits, as the reference does).
    unsigned int bits = 0;
    long long at = -1;
    float max4 = 0.0f;
    for (std::int64_t n = begin + t; n < end; n += kPeakThreads) {
        const unsigned int b = __float_as_uint(x[n]) & 0x7fffffffu;
        if (b > bits) {
            bits = b;
            at = n;
        }
        if (truePeak) { // the grid exists only then
            for (int p = 0; p < 4; ++p) {
                max4 = fmaxf(max4, g[p * l.frames + n]);
            }
        }
    }
    bitsShared[t] = bits;
    atShared[t] = at;
    maxShared[t] = max4;
    __syncthreads();
    for (int stride = kPeakThreads / 2; stride > 0; stride /= 2) {
        if (t < stride) {
            const unsigned int ob = bitsShared[t + stride];
            const long long oa = atShared[t + stride];
            if (ob > bitsShared[t] || (ob == bitsShared[t] && ob > 0 && oa < atShared[t])) {
                bitsShared[t] = ob;
                atShared[t] = oa;
            }
            maxShared[t] = fmaxf(maxShared[t], maxShared[t + stride]);
        }
        __syncthreads();
    }
    const float sp = __uint_as_float(bitsShared[0]);
    const long long spAt = atShared[0];
    max4 = maxShared[0];
    PeakAt best{sp, spAt >= 0 ? static_cast<double>(l.firstFrame + spAt) : -1.0};

    if (truePeak && sp > 0.0f) {
        // Local maxima of the ×4 sequence (… (n,3), (n+1,0) …) within the margin, refined at ×16
        // over ±3 points around each; the step's edges count as zero, as in the reference.
        const float threshold = max4 * candidateRatio;
        auto at4 = [&](long long n, int p) { return g[p * l.frames + n]; };
        PeakAt mine = best;
        for (std::int64_t n = begin + t; n < end; n += kPeakThreads) {
            for (int p = 0; p < 4; ++p) {
                const float v = at4(n, p);
                if (v < threshold) {
                    continue;
                }
                if (!math::isSearchLocalMax(at4, n, p, begin, end, v)) {
                    continue;
                }
                for (int d = -3; d <= 3; ++d) {
                    long long m = 0;
                    const int ph = math::refinePoint(n, p, d, &m);
                    const float r =
                        fabsf(math::interpolateAt(x + m - refineTaps / 2 + 1, refine, refineTaps, ph));
                    mine = largerPeak(mine, PeakAt{r, static_cast<double>(l.firstFrame + m) + ph / 16.0});
                }
            }
        }
        bestShared[t] = mine;
        __syncthreads();
        for (int stride = kPeakThreads / 2; stride > 0; stride /= 2) {
            if (t < stride) {
                bestShared[t] = largerPeak(bestShared[t], bestShared[t + stride]);
            }
            __syncthreads();
        }
        best = bestShared[0];
    }
    if (t == 0) {
        const std::int64_t k = static_cast<std::int64_t>(c) * l.steps + s;
        samplePeak[k] = sp;
        truePeakValue[k] = best.value;
        truePeakFrame[k] = best.at;
    }
}

} // namespace

int launchProbe(int* deviceFlag) {
    probeKernel<<<1, 1>>>(deviceFlag);
    return static_cast<int>(cudaGetLastError());
}

int launchStats(const float* samples, int channels, std::int64_t frames, std::int64_t firstFrame,
                math::SampleStats* partials, int blocksPerChannel) {
    if (frames <= 0 || channels <= 0) {
        return 0;
    }
    const dim3 grid(static_cast<unsigned>(blocksPerChannel), static_cast<unsigned>(channels));
    statsKernel<<<grid, kStatsThreads>>>(samples, frames, firstFrame, partials);
    return static_cast<int>(cudaGetLastError());
}

int launchSanitize(float* samples, std::int64_t count, unsigned long long* counter) {
    if (count <= 0) {
        return 0;
    }
    sanitizeKernel<<<blocksFor(count, 256), 256>>>(samples, count, counter);
    return static_cast<int>(cudaGetLastError());
}

int launchQuantize(const float* samples, int channels, std::int64_t frames, std::int64_t firstFrame,
                   math::QuantizeParams params, std::int32_t* out, unsigned long long* clipped) {
    if (frames <= 0 || channels <= 0) {
        return 0;
    }
    quantizeKernel<<<blocksFor(frames * channels, 256), 256>>>(samples, channels, frames, firstFrame, params,
                                                               out, clipped);
    return static_cast<int>(cudaGetLastError());
}

int launchGatherFrames(const float* ext, std::int64_t extPitch, int inputs, int blockFrames, int count,
                       int capacity, float* frames, void* stream) {
    const dim3 grid(blocksFor(2 * static_cast<std::int64_t>(blockFrames), 256),
                    static_cast<unsigned>(capacity), static_cast<unsigned>(inputs));
    gatherFramesKernel<<<grid, 256, 0, static_cast<cudaStream_t>(stream)>>>(ext, extPitch, blockFrames, count,
                                                                            capacity, frames);
    return static_cast<int>(cudaGetLastError());
}

int launchScatterSpectra(const float* spectra, int inputs, int capacity, int count, int bins, float* ring,
                         int ringSlots, std::int64_t firstBlock, void* stream) {
    const dim3 grid(blocksFor(bins, 256), static_cast<unsigned>(count), static_cast<unsigned>(inputs));
    scatterSpectraKernel<<<grid, 256, 0, static_cast<cudaStream_t>(stream)>>>(
        reinterpret_cast<const float2*>(spectra), capacity, bins, reinterpret_cast<float2*>(ring), ringSlots,
        firstBlock);
    return static_cast<int>(cudaGetLastError());
}

int launchSpectralMac(const float* ring, int ringSlots, std::int64_t firstBlock, int count, int bins,
                      const float* filters, const MacPath* paths, const int* pathStart, int outputs, float* y,
                      int capacity, void* stream) {
    const dim3 grid(blocksFor(bins, kMacThreads), blocksFor(count, kMacRows), static_cast<unsigned>(outputs));
    spectralMacKernel<<<grid, kMacThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        reinterpret_cast<const float2*>(ring), ringSlots, firstBlock, count, bins,
        reinterpret_cast<const float2*>(filters), paths, pathStart, reinterpret_cast<float2*>(y), capacity);
    return static_cast<int>(cudaGetLastError());
}

KScan kScanOf(const LoudnessChunkLayout& l, std::int64_t segmentSubs) {
    KScan g{};
    g.length = segmentSubs * l.subFrames;
    g.lead = (l.warm + g.length - 1) / g.length;
    g.segments = g.lead + (l.frames + g.length - 1) / g.length;
    return g;
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
    kWeightFromRestKernel<<<blocksFor(g.segments * l.channels, kThreads), kThreads, 0, st>>>(l, k, g, rest);
    kWeightCarryKernel<<<blocksFor(l.channels, 32), 32, 0, st>>>(l, math::kWeightingTransition(k, g.length),
                                                                 g, rest, start);
    kWeightEnergyKernel<<<blocksFor((g.segments - g.lead) * l.channels, kThreads), kThreads, 0, st>>>(
        l, k, g, start, energy);
    return static_cast<int>(cudaGetLastError());
}

int launchSearchGrid(const LoudnessChunkLayout& l, const float* coeffs, int taps, float* grid, void* stream) {
    if (l.frames <= 0 || l.channels <= 0) {
        return 0;
    }
    const dim3 blocks(blocksFor(l.frames, 256), static_cast<unsigned>(l.channels));
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
    const dim3 grid(blocksFor(blockFrames, 256), static_cast<unsigned>(count),
                    static_cast<unsigned>(outputs));
    takeOutputKernel<<<grid, 256, 0, static_cast<cudaStream_t>(stream)>>>(frames, blockFrames, capacity, out,
                                                                          outPitch);
    return static_cast<int>(cudaGetLastError());
}

} // namespace lathe::gpu::kernels

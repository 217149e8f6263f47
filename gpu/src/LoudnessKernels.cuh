// Lathe (private to gpu/src): the loudness kernels themselves (CudaBackend::measureLoudnessChunk;
// the reference is measureLoudnessChunkCpu), included by Kernels.cu (which launches them) and by
// tests/parity/EmulatedKernelsTest.cpp, which compiles them for the host and runs every thread of
// every launch against the reference on every CI run (see MultibandKernels.cuh).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Kernels.h"

#include <lathe/math/Loudness.h>

#include <cmath>
#include <cstdint>

namespace lathe::gpu::kernels {
namespace {

/// The segments of a chunk's K-weighting scan (math::KWeightingTransition): segment j starts at
/// warm + (j − lead)·length, clamped to 0 (segment 0 takes what the warm-up has left over), so the
/// segments from `lead` on cover whole groups of sub-blocks of the chunk itself.
struct KScan {
    std::int64_t length; ///< frames per segment (a whole number of sub-blocks)
    std::int64_t lead;   ///< segments of warm-up
    std::int64_t segments;
};

/// The scan's segments for a chunk: `segmentSubs` sub-blocks each, the warm-up in front.
KScan kScanOf(const LoudnessChunkLayout& l, std::int64_t segmentSubs) {
    KScan g{};
    g.length = segmentSubs * l.subFrames;
    g.lead = (l.warm + g.length - 1) / g.length;
    g.segments = g.lead + (l.frames + g.length - 1) / g.length;
    return g;
}

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
} // namespace lathe::gpu::kernels

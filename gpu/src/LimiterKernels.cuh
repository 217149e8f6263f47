// Lathe (private to gpu/src): the limiter pass's kernels themselves, included by LimiterKernels.cu
// (which launches them) and by tests/parity/EmulatedKernelsTest.cpp, which compiles them for the
// host with shims for CUDA's built-ins and runs every thread of every launch against LimiterStage.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "LimiterKernels.h"
#include "ScanCarry.cuh"

#include <lathe/math/Limiter.h>
#include <lathe/math/Loudness.h>

#include <cmath>
#include <cstdint>

namespace lathe::gpu::kernels {
namespace {

constexpr int kLimiterThreads = 128;

__device__ std::int64_t limiterIndex() {
    return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

/// Segment g's frames [begin, end) of the release scan; false past the last segment.
__device__ bool limiterSegment(const LimiterLayout& l, std::int64_t g, std::int64_t& begin,
                               std::int64_t& end) {
    if (g >= l.segments) {
        return false;
    }
    begin = g * l.segment;
    end = begin + l.segment < l.frames ? begin + l.segment : l.frames;
    return true;
}

/// p[j]: the ×4 peak of interval a − 1 + j (|x| at its first sample and the search interpolator's
/// |value| at phases 1 … 3), the largest channel's — LimiterStage's intervalPeaks, per interval.
__global__ void limiterPeaksKernel(LimiterLayout l) {
    const std::int64_t j = limiterIndex();
    if (j >= l.frames + l.lookahead) {
        return;
    }
    const int reach = l.taps / 2 - 1;
    float peak = 0.0f;
    for (int c = 0; c < l.channels; ++c) {
        const float* window = l.x + static_cast<std::int64_t>(c) * l.pitch + j;
        float v = fabsf(window[reach]);
        for (int ph = 1; ph < 4; ++ph) {
            const float s = fabsf(math::interpolateAt(window, l.coeffs, l.taps, ph));
            v = v < s ? s : v; // std::max(v, s), as the reference
        }
        peak = peak < v ? v : peak;
    }
    l.p[j] = peak;
}

/// A trial call's driven input (LimiterDriveLayout): one thread a frame, blockIdx.y the channel.
__global__ void limiterDriveKernel(LimiterDriveLayout d) {
    const std::int64_t i = limiterIndex();
    if (i >= d.span) {
        return;
    }
    const std::int64_t c = blockIdx.y;
    const std::int64_t f = d.first + i;
    d.out[c * d.span + i] = f >= 0 && f < d.frames ? d.x[c * d.pitch + f] * d.gain : 0.0f;
}

/// d[i] = the attenuation max(p[i], p[i + 1]) asks for.
__global__ void limiterAttenuationKernel(LimiterLayout l) {
    const std::int64_t i = limiterIndex();
    if (i >= l.frames + l.lookahead - 1) {
        return;
    }
    const double a = l.p[i];
    const double b = l.p[i + 1];
    l.d[i] = math::limiterAttenuationDb(a < b ? b : a, l.ceilingLinear);
}

/// h[i] = max d[i … i + L − 1] (the look-ahead maximum).
__global__ void limiterLookaheadKernel(LimiterLayout l) {
    const std::int64_t i = limiterIndex();
    if (i >= l.frames) {
        return;
    }
    double m = l.d[i];
    for (int k = 1; k < l.lookahead; ++k) {
        const double v = l.d[i + k];
        m = m < v ? v : m;
    }
    l.h[i] = m;
}

/// Each segment's release steps composed into one map (y ↦ max(h, aR·y), first frame first).
__global__ void limiterReleaseComposeKernel(LimiterLayout l) {
    const std::int64_t g = limiterIndex();
    std::int64_t begin = 0;
    std::int64_t end = 0;
    if (!limiterSegment(l, g, begin, end)) {
        return;
    }
    math::MaxAffine acc = math::identityMaxAffine();
    for (std::int64_t n = begin; n < end; ++n) {
        acc = math::compose(math::MaxAffine{l.h[n], l.releaseCoeff, 0.0}, acc);
    }
    l.maps[g] = acc;
}

/// The maps carried in order from R of the frame before the call: every segment's start (one thread).
__global__ void limiterReleaseCarryKernel(LimiterLayout l) {
    if (limiterIndex() != 0) {
        return;
    }
    carrySegments(l.maps, l.segments, l.r[l.lookahead - 1], l.start);
}

/// R of every frame: each segment from its start, step by step as the reference (with the snap).
__global__ void limiterReleaseKernel(LimiterLayout l) {
    const std::int64_t g = limiterIndex();
    std::int64_t begin = 0;
    std::int64_t end = 0;
    if (!limiterSegment(l, g, begin, end)) {
        return;
    }
    double r = l.start[g];
    for (std::int64_t n = begin; n < end; ++n) {
        r = math::limiterReleaseStep(l.h[n], r, l.releaseCoeff);
        l.r[l.lookahead + n] = r;
    }
}

/// G (the mean of R over the L frames ending at each frame; exactly 0 where they all are), the
/// gain, and y = x·gain for every channel.
__global__ void limiterGainKernel(LimiterLayout l) {
    const std::int64_t i = limiterIndex();
    if (i >= l.frames) {
        return;
    }
    const double* window = l.r + i + 1; // R of frames a + i − L + 1 … a + i
    double sum = 0.0;
    int nonZero = 0;
    for (int k = 0; k < l.lookahead; ++k) {
        sum += window[k];
        nonZero += window[k] > 0.0 ? 1 : 0;
    }
    const double mean = sum * (1.0 / static_cast<double>(l.lookahead));
    const double g = nonZero > 0 ? (mean > 0.0 ? mean : 0.0) : 0.0;
    l.gainDb[i] = g;
    const float gain = math::limiterGain(g);
    for (int c = 0; c < l.channels; ++c) {
        l.y[static_cast<std::int64_t>(c) * l.frames + i] =
            l.x[static_cast<std::int64_t>(c) * l.pitch + l.before + i] * gain;
    }
}

/// G's statistics over piece k (one thread a piece, its frames in order): the largest, the sum
/// and how many are above 0 — LimiterStage's tally, without G leaving the device.
__global__ void limiterPieceStatsKernel(LimiterLayout l) {
    const std::int64_t k = limiterIndex();
    if (k >= l.pieces) {
        return;
    }
    const std::int64_t begin = k == 0 ? l.statsFrom : l.statsFrom + l.firstPiece + (k - 1) * l.pieceFrames;
    const std::int64_t length = k == 0 ? l.firstPiece : l.pieceFrames;
    const std::int64_t end = begin + length < l.frames ? begin + length : l.frames;
    double largest = 0.0;
    double sum = 0.0;
    std::int64_t count = 0;
    for (std::int64_t n = begin; n < end; ++n) {
        const double g = l.gainDb[n];
        largest = largest < g ? g : largest;
        sum += g;
        count += g > 0.0 ? 1 : 0;
    }
    l.pieceMax[k] = largest;
    l.pieceSum[k] = sum;
    l.pieceCount[k] = count;
}

} // namespace
} // namespace lathe::gpu::kernels

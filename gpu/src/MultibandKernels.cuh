// Lathe (private to gpu/src): the multiband dynamics kernels themselves, included by
// MultibandKernels.cu (which launches them) and by tests/parity/EmulatedKernelsTest.cpp, which
// compiles them for the host with shims for CUDA's built-ins and runs every thread of every launch
// against MultibandStage's host code — so the kernels' logic is tested on every CI run, not only
// on a GPU machine.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "LaunchGrid.h"
#include "MultibandKernels.h"
#include "ScanCarry.cuh"

#include <lathe/math/Dynamics.h>

#include <cmath>
#include <cstdint>

namespace lathe::gpu::kernels {
namespace {

constexpr int kThreads = 128;
constexpr int kReduceThreads = 256;

__device__ std::int64_t offsetOf(const MultibandLayout& m, int c, int k) {
    return (static_cast<std::int64_t>(c) * m.bands + k) * m.frames;
}

/// What the detectors and gains see: the band, or its mid/side encoding.
__device__ const float* sourceOf(const MultibandLayout& m) {
    return m.midSide ? m.encoded : m.x;
}

/// A channel's level: |x| or √ of the RMS detector's mean square (as computed by the RMS pass).
__device__ double levelOf(const MultibandLayout& m, int c, int k, std::int64_t n) {
    const std::int64_t i = offsetOf(m, c, k) + n;
    return m.rms ? m.level[i] : fabs(static_cast<double>(sourceOf(m)[i]));
}

/// Detector d's input: its level blended with the loudest channel's by the stereo link.
__device__ double detectorInput(const MultibandLayout& m, int k, int d, std::int64_t n) {
    double loudest = 0.0;
    double mine = 0.0;
    for (int c = 0; c < m.channels; ++c) {
        const double l = levelOf(m, c, k, n);
        loudest = loudest < l ? l : loudest; // std::max(loudest, l), as the reference
        if (c == d) {
            mine = l;
        }
    }
    return m.link * loudest + (1.0 - m.link) * mine;
}

__device__ double gainDbOf(const MultibandBandParams& b, double level) {
    switch (b.kind) {
    case math::CurveKind::Compressor:
        return math::bandGainDb<math::CurveKind::Compressor>(b.curve, level);
    case math::CurveKind::Expander:
        return math::bandGainDb<math::CurveKind::Expander>(b.curve, level);
    case math::CurveKind::Upward:
        break;
    }
    return math::bandGainDb<math::CurveKind::Upward>(b.curve, level);
}

/// A (sequence, segment) thread's place: sequence index, segment, and its frames.
struct Segment {
    std::int64_t sequence;
    std::int64_t index; ///< sequence·segments + segment
    std::int64_t begin;
    std::int64_t end;
    bool last;
};

__device__ bool segmentOf(const MultibandLayout& m, std::int64_t sequences, Segment& s) {
    const std::int64_t idx = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= sequences * m.segments) {
        return false;
    }
    s.sequence = idx / m.segments;
    const std::int64_t g = idx - s.sequence * m.segments;
    s.index = idx;
    s.begin = g * m.segment;
    s.end = s.begin + m.segment < m.frames ? s.begin + m.segment : m.frames;
    s.last = g + 1 == m.segments;
    return true;
}

/// A (sequence, segment) thread of the detector passes: its band k and detector d; false past the
/// end or for a band that is not processed.
__device__ bool detectorSegmentOf(const MultibandLayout& m, Segment& s, int& k, int& d) {
    if (!segmentOf(m, static_cast<std::int64_t>(m.bands) * m.detectors, s)) {
        return false;
    }
    k = static_cast<int>(s.sequence / m.detectors);
    d = static_cast<int>(s.sequence % m.detectors);
    return m.band[k].active;
}

__global__ void encodeMidSideKernel(MultibandLayout m) {
    const std::int64_t n = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int k = static_cast<int>(blockIdx.y);
    if (n >= m.frames) {
        return;
    }
    const float l = m.x[offsetOf(m, 0, k) + n];
    const float r = m.x[offsetOf(m, 1, k) + n];
    m.encoded[offsetOf(m, 0, k) + n] = 0.5f * (l + r);
    m.encoded[offsetOf(m, 1, k) + n] = 0.5f * (l - r);
}

// --- RMS: sequences are (c, k), i = c·bands + k -----------------------------------------------

__global__ void rmsComposeKernel(MultibandLayout m) {
    Segment s;
    if (!segmentOf(m, static_cast<std::int64_t>(m.channels) * m.bands, s) ||
        !m.band[s.sequence % m.bands].active) {
        return;
    }
    const float* v = sourceOf(m) + s.sequence * m.frames;
    math::Affine acc = math::identityAffine();
    for (std::int64_t n = s.begin; n < s.end; ++n) {
        const double x = v[n];
        acc = math::compose(math::onePoleStep(x * x, m.aRms), acc);
    }
    static_cast<math::Affine*>(m.maps)[s.index] = acc;
}

__global__ void rmsCarryKernel(MultibandLayout m) {
    const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (i >= m.channels * m.bands || !m.band[i % m.bands].active) {
        return;
    }
    carrySegments(static_cast<const math::Affine*>(m.maps) + i * m.segments, m.segments, m.state[i].rms,
                  m.start + i * m.segments);
}

__global__ void rmsLevelKernel(MultibandLayout m) {
    Segment s;
    if (!segmentOf(m, static_cast<std::int64_t>(m.channels) * m.bands, s) ||
        !m.band[s.sequence % m.bands].active) {
        return;
    }
    const float* v = sourceOf(m) + s.sequence * m.frames;
    double* level = m.level + s.sequence * m.frames;
    double ms = m.start[s.index];
    for (std::int64_t n = s.begin; n < s.end; ++n) {
        const double x = v[n];
        ms = math::apply(math::onePoleStep(x * x, m.aRms), ms);
        level[n] = sqrt(ms);
    }
    if (s.last) {
        m.state[s.sequence].rms = ms;
    }
}

// --- The decoupled detector: sequences are (k, d), s = k·detectors + d -------------------------

__global__ void releaseComposeKernel(MultibandLayout m) {
    Segment s;
    int k = 0;
    int d = 0;
    if (!detectorSegmentOf(m, s, k, d)) {
        return;
    }
    const MultibandBandParams& b = m.band[k];
    math::MaxAffine acc = math::identityMaxAffine();
    for (std::int64_t n = s.begin; n < s.end; ++n) {
        acc = math::compose(math::releaseStep(detectorInput(m, k, d, n), b.aR), acc);
    }
    static_cast<math::MaxAffine*>(m.maps)[s.index] = acc;
}

/// One of the decoupled detector's stages at every segment's start, carried in order from detector
/// d's channel state: the release stage (MaxAffine maps, state y1, into start) or the attack stage
/// (Affine maps, state yL, into start2).
template <typename Map> __global__ void detectorCarryKernel(MultibandLayout m, bool attack) {
    const int seq = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (seq >= m.bands * m.detectors) {
        return;
    }
    const int k = seq / m.detectors;
    const int d = seq % m.detectors;
    if (!m.band[k].active) {
        return;
    }
    const BandDetectorState& state = m.state[d * m.bands + k];
    carrySegments(static_cast<const Map*>(m.maps) + seq * m.segments, m.segments,
                  attack ? state.yL : state.y1, (attack ? m.start2 : m.start) + seq * m.segments);
}

/// The release stage again from its true starts; the attack stage's maps of its output.
__global__ void attackComposeKernel(MultibandLayout m) {
    Segment s;
    int k = 0;
    int d = 0;
    if (!detectorSegmentOf(m, s, k, d)) {
        return;
    }
    const MultibandBandParams& b = m.band[k];
    double y1 = m.start[s.index];
    math::Affine acc = math::identityAffine();
    for (std::int64_t n = s.begin; n < s.end; ++n) {
        y1 = math::apply(math::releaseStep(detectorInput(m, k, d, n), b.aR), y1);
        acc = math::compose(math::onePoleStep(y1, b.aA), acc);
    }
    static_cast<math::Affine*>(m.maps)[s.index] = acc;
}

/// Both stages from their true starts, the gain, and the band after it for the channels this
/// detector serves (both of a linked pair); the last segment leaves the states for the next call.
__global__ void gainKernel(MultibandLayout m) {
    Segment s;
    int k = 0;
    int d = 0;
    if (!detectorSegmentOf(m, s, k, d)) {
        return;
    }
    const MultibandBandParams& b = m.band[k];
    const bool linked = m.detectors == 1 && m.channels > 1;
    const int c0 = linked ? 0 : d;
    const int c1 = linked ? m.channels - 1 : d;
    const float* src = sourceOf(m);
    double y1 = m.start[s.index];
    double yL = m.start2[s.index];
    for (std::int64_t n = s.begin; n < s.end; ++n) {
        y1 = math::apply(math::releaseStep(detectorInput(m, k, d, n), b.aR), y1);
        yL = math::apply(math::onePoleStep(y1, b.aA), yL);
        const double db = gainDbOf(b, yL);
        const double gain = math::dbToLinear(db);
        for (int c = c0; c <= c1; ++c) {
            const std::int64_t i = offsetOf(m, c, k) + n;
            m.bandOut[i] = static_cast<float>(gain * static_cast<double>(src[i]));
            m.gainDb[i] = db;
        }
    }
    if (s.last) {
        for (int c = c0; c <= c1; ++c) {
            m.state[c * m.bands + k].y1 = y1;
            m.state[c * m.bands + k].yL = yL;
        }
    }
}

/// The sum over the bands in band order (mid/side decoded first), as the reference adds them.
__global__ void sumBandsKernel(MultibandLayout m) {
    const std::int64_t n = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int c = static_cast<int>(blockIdx.y);
    if (n >= m.frames) {
        return;
    }
    float acc = 0.0f;
    for (int k = 0; k < m.bands; ++k) {
        const MultibandBandParams& b = m.band[k];
        if (!b.heard) {
            continue;
        }
        float v;
        if (!b.active) { // bypassed: the band as the crossover made it
            v = m.x[offsetOf(m, c, k) + n];
        } else if (m.midSide) {
            const float mid = m.bandOut[offsetOf(m, 0, k) + n];
            const float side = m.bandOut[offsetOf(m, 1, k) + n];
            v = c == 0 ? mid + side : mid - side;
        } else {
            v = m.bandOut[offsetOf(m, c, k) + n];
        }
        acc += v;
    }
    m.out[static_cast<std::int64_t>(c) * m.frames + n] = acc;
}

__global__ void gainStatsKernel(MultibandLayout m, double* sums, double* mins) {
    __shared__ double sumShared[kReduceThreads];
    __shared__ double minShared[kReduceThreads];
    const int i = static_cast<int>(blockIdx.x); // c·bands + k
    const int t = static_cast<int>(threadIdx.x);
    if (!m.band[i % m.bands].active) {
        if (t == 0) {
            sums[i] = 0.0;
            mins[i] = 0.0;
        }
        return;
    }
    const double* g = m.gainDb + static_cast<std::int64_t>(i) * m.frames;
    double sum = 0.0;
    double lo = HUGE_VAL;
    for (std::int64_t n = t; n < m.frames; n += kReduceThreads) {
        sum += g[n];
        lo = g[n] < lo ? g[n] : lo;
    }
    sumShared[t] = sum;
    minShared[t] = lo;
    __syncthreads();
    for (int stride = kReduceThreads / 2; stride > 0; stride /= 2) {
        if (t < stride) {
            sumShared[t] += sumShared[t + stride];
            minShared[t] = minShared[t + stride] < minShared[t] ? minShared[t + stride] : minShared[t];
        }
        __syncthreads();
    }
    if (t == 0) {
        sums[i] = sumShared[0];
        mins[i] = minShared[0];
    }
}

__global__ void stepReductionKernel(MultibandLayout m, std::int64_t outputFrame, std::int64_t historyStep,
                                    std::int64_t firstStep, std::int64_t steps, double* stepMax) {
    __shared__ double maxShared[kReduceThreads];
    const int k = static_cast<int>(blockIdx.y);
    const std::int64_t w = firstStep + blockIdx.x;
    const int t = static_cast<int>(threadIdx.x);
    const MultibandBandParams& b = m.band[k];
    if (!b.active) {
        return;
    }
    const std::int64_t first = outputFrame < 0 ? -outputFrame : 0;
    std::int64_t lo = w * historyStep - outputFrame;
    std::int64_t hi = (w + 1) * historyStep - outputFrame;
    lo = lo < first ? first : lo;
    hi = hi > m.frames ? m.frames : hi;
    double r = 0.0;
    for (std::int64_t n = lo + t; n < hi; n += kReduceThreads) {
        double red = 0.0;
        for (int c = 0; c < m.channels; ++c) {
            const double v = b.curve.makeupDb - m.gainDb[offsetOf(m, c, k) + n];
            red = red < v ? v : red;
        }
        r = r < red ? red : r;
    }
    maxShared[t] = r;
    __syncthreads();
    for (int stride = kReduceThreads / 2; stride > 0; stride /= 2) {
        if (t < stride) {
            maxShared[t] = maxShared[t] < maxShared[t + stride] ? maxShared[t + stride] : maxShared[t];
        }
        __syncthreads();
    }
    if (t == 0) {
        stepMax[static_cast<std::int64_t>(k) * steps + blockIdx.x] = maxShared[0];
    }
}

} // namespace
} // namespace lathe::gpu::kernels

// Lathe (private to gpu/src): the limiter's pass on the device (CudaBackend::limiterPass; the
// reference is LimiterStage's first pass). C++17 and CUDA-type free, like Kernels.h.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/math/Dynamics.h>

#include <cstdint>

namespace lathe::gpu::kernels {

/// One call's device memory and geometry. Frame i of the call is output frame a + i; the input x
/// is channel-major with `pitch` frames a channel, its frame `before` being frame a (before is
/// taps/2, so the ×4 window of the interval starting at frame a − 1 + j begins at x index j).
///   p[j], j < frames + L:      the ×4 peak of interval a − 1 + j, the largest channel's
///   d[i], i < frames + L − 1:  the attenuation (dB) that max(p[i], p[i + 1]) asks for
///   h[i], i < frames:          max d[i … i + L − 1]
///   r[L + i]:                  the release R of frame a + i (r[0 … L): the L frames before the
///                              call, given; afterwards r[frames … frames + L) are the next call's)
///   gainDb[i]:                 G, the mean of R over the L frames ending at a + i
///   y[c·frames + i]:           x·gain
///   pieceMax/Sum/Count[k]:     G's statistics over piece k of the call's frames (LimiterPassCall:
///                              the first from statsFrom, firstPiece long, then pieceFrames each)
/// The release is a scan over segments of `segment` frames: each segment's steps composed into
/// one max-affine map, the maps carried in order from r[L − 1], each segment run again from its
/// true start (lathe/math/Limiter.h: the snap to 0 commutes with the recursion).
struct LimiterLayout {
    int channels;
    int lookahead; ///< L
    int taps;      ///< of the ×4 search kernel (4 phases)
    int before;    ///< input frames before the call's first (LimiterPassParams::before(): taps/2)
    std::int64_t frames;
    std::int64_t pitch;
    std::int64_t segment;
    std::int64_t segments;
    double releaseCoeff;
    double ceilingLinear;
    const float* coeffs; ///< the ×4 kernel, 4 phases × taps
    const float* x;
    float* p;
    double* d;
    double* h;
    math::MaxAffine* maps; ///< per segment
    double* start;         ///< per segment: R before its first frame
    double* r;             ///< L + frames
    double* gainDb;
    float* y;
    std::int64_t statsFrom;
    std::int64_t firstPiece;
    std::int64_t pieceFrames;
    std::int64_t pieces;
    double* pieceMax;
    double* pieceSum;
    std::int64_t* pieceCount;
};

/// Runs the pass for the call.
int launchLimiterPass(const LimiterLayout& l, void* stream);

/// A trial call's input from audio held on the device (CudaBackend::trialLoudness):
/// out[c·span + i] = frame first + i of channel c, driven — x·gain, the float product
/// LimiterStage::append forms — and 0 outside the `frames` frames held (channel-major, `pitch`
/// frames a channel).
struct LimiterDriveLayout {
    int channels;
    std::int64_t frames;
    std::int64_t pitch;
    std::int64_t first;
    std::int64_t span;
    float gain;
    const float* x;
    float* out;
};

int launchLimiterDrive(const LimiterDriveLayout& d, void* stream);

} // namespace lathe::gpu::kernels

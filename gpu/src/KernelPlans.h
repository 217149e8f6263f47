// Lathe (private to gpu/src): the geometry of the loudness, multiband, limiter and spectrum launches — what
// the kernels are given besides device memory — computed in one place for CudaBackend and for
// tests/parity/EmulatedKernelsTest, which runs the same kernels on the host with the same plan.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Kernels.h"
#include "LimiterKernels.h"
#include "MultibandKernels.h"
#include "SpectrumKernels.h"

#include <lathe/LimiterKernel.h>
#include <lathe/LoudnessKernel.h>
#include <lathe/MultibandKernel.h>
#include <lathe/SpectrumKernel.h>

#include <algorithm>
#include <cstdint>

namespace lathe::gpu::kernels {

/// Frames per segment of the K-weighting scan (rounded down to whole sub-blocks): a minute of
/// stereo is some 6000 threads per pass.
inline constexpr std::int64_t kScanSegmentFrames = 1024;

/// Frames per segment of the multiband detectors' scans: a 2^19-frame call of a 4-band stereo
/// chain is 8192 threads per pass.
inline constexpr std::int64_t kDynamicsSegmentFrames = 256;

/// A chunk's loudness layout; `audio` is left for the caller (the chunk's samples, channel-major
/// with a pitch of the buffer's frames).
inline LoudnessChunkLayout loudnessLayout(const LoudnessParams& params, const LoudnessChunk& chunk) {
    LoudnessChunkLayout l{};
    l.pitch = chunk.audio->frames();
    l.channels = chunk.audio->channels();
    l.warm = params.warmupFrames;
    l.frames = chunk.frames;
    l.subFrames = params.subBlockFrames;
    l.subs = (chunk.frames + l.subFrames - 1) / l.subFrames;
    l.stepFrames = params.stepFrames;
    l.steps = (chunk.frames + l.stepFrames - 1) / l.stepFrames;
    l.firstFrame = chunk.firstFrame;
    return l;
}

/// Sub-blocks per segment of the K-weighting scan.
inline std::int64_t kScanSegmentSubs(const LoudnessChunkLayout& l) {
    return std::max<std::int64_t>(1, kScanSegmentFrames / l.subFrames);
}

/// A call's multiband geometry for `frames` frames; the device memory is left for the caller.
inline MultibandLayout multibandLayout(const MultibandParams& params, Frames frames) {
    MultibandLayout m{};
    m.channels = params.channels;
    m.bands = params.bands;
    // A fully linked stereo pair has one detector (on the louder channel) for both.
    m.detectors = params.channels == 2 && params.link == 1.0 ? 1 : params.channels;
    m.frames = frames;
    m.segment = kDynamicsSegmentFrames;
    m.segments = (frames + m.segment - 1) / m.segment;
    m.rms = params.rms;
    m.midSide = params.midSide && params.channels == 2;
    m.link = params.link;
    m.aRms = params.aRms;
    return m;
}

/// Frames per segment of the limiter's release scan: a 2^20-frame call is 4096 threads per pass.
inline constexpr std::int64_t kLimiterSegmentFrames = 256;

/// A limiter pass call's geometry for `frames` frames of output from an input of `pitch` frames a
/// channel; the device memory is left for the caller.
inline LimiterLayout limiterLayout(const LimiterPassParams& params, Frames frames, Frames pitch) {
    LimiterLayout l{};
    l.channels = params.channels;
    l.lookahead = static_cast<int>(params.lookahead);
    l.taps = params.search->taps;
    l.before = static_cast<int>(params.before());
    l.frames = frames;
    l.pitch = pitch;
    l.segment = kLimiterSegmentFrames;
    l.segments = (frames + l.segment - 1) / l.segment;
    l.releaseCoeff = params.releaseCoeff;
    l.ceilingLinear = params.ceilingLinear;
    return l;
}

/// A spectrum call's geometry for `frames` frames of an input of `pitch` samples a channel; the
/// device memory is left for the caller.
inline SpectrumLayout spectrumLayout(const SpectrumParams& params, int frames, Frames pitch) {
    SpectrumLayout s{};
    s.channels = params.channels;
    s.stereo = params.stereo;
    s.n = params.n;
    s.bins = params.bins;
    s.frames = frames;
    s.hop = params.n / 2;
    s.pitch = pitch;
    s.sineScale = params.sineScale;
    s.rows = params.rows;
    return s;
}

/// The 100 ms reduction-history steps a call touches: from `first`, `count` of them (output
/// frames from 0 on; the call's frame 0 is output frame `outputFrame`).
struct HistorySteps {
    Frames first = 0;
    Frames count = 0;
};
inline HistorySteps historySteps(const MultibandParams& params, Frames outputFrame, Frames frames) {
    HistorySteps h;
    const Frames firstN = std::max<Frames>(0, -outputFrame);
    if (firstN < frames) {
        h.first = (firstN + outputFrame) / params.historyStep;
        h.count = (frames - 1 + outputFrame) / params.historyStep - h.first + 1;
    }
    return h;
}

} // namespace lathe::gpu::kernels

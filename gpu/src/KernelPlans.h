// Lathe (private to gpu/src): the geometry of the loudness, multiband, limiter and spectrum launches — what
// the kernels are given besides device memory — computed in one place for CudaBackend and for
// tests/parity/EmulatedKernelsTest, which runs the same kernels on the host with the same plan.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Kernels.h"
#include "LimiterKernels.h"
#include "MultibandKernels.h"
#include "SpectrumKernels.h"

#include <lathe/Error.h>
#include <lathe/LimiterKernel.h>
#include <lathe/LoudnessKernel.h>
#include <lathe/MultibandKernel.h>
#include <lathe/SpectrumKernel.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace lathe::gpu::kernels {

/// Frames per segment of the K-weighting scan (rounded down to whole sub-blocks): a minute of
/// stereo is some 6000 threads per pass.
inline constexpr std::int64_t kScanSegmentFrames = 1024;

/// Frames per segment of the multiband detectors' scans: a 2^19-frame call of a 4-band stereo
/// chain is 8192 threads per pass.
inline constexpr std::int64_t kDynamicsSegmentFrames = 256;

/// The loudness layout of a chunk of `frames` frames from absolute frame `firstFrame`, its audio
/// channel-major with `pitch` frames a channel from warmupFrames before its first frame; `audio` is
/// left for the caller.
inline LoudnessChunkLayout loudnessLayout(const LoudnessParams& params, int channels, Frames pitch,
                                          Frames firstFrame, Frames frames) {
    LoudnessChunkLayout l{};
    l.pitch = pitch;
    l.channels = channels;
    l.warm = params.warmupFrames;
    l.frames = frames;
    l.subFrames = params.subBlockFrames;
    l.subs = (frames + l.subFrames - 1) / l.subFrames;
    l.stepFrames = params.stepFrames;
    l.steps = (frames + l.stepFrames - 1) / l.stepFrames;
    l.firstFrame = firstFrame;
    return l;
}

/// A chunk's loudness layout; `audio` is left for the caller (the chunk's samples, channel-major
/// with a pitch of the buffer's frames).
inline LoudnessChunkLayout loudnessLayout(const LoudnessParams& params, const LoudnessChunk& chunk) {
    return loudnessLayout(params, chunk.audio->channels(), chunk.audio->frames(), chunk.firstFrame,
                          chunk.frames);
}

/// A chunk's records from the kernels' arrays (channel-major: energy[c·subs + k], the peaks and
/// the true peaks' frames [c·steps + s]) into `out`.
inline void splitRecords(const LoudnessChunkLayout& l, const double* energy, const float* samplePeak,
                         const float* truePeak, const double* truePeakFrame, LoudnessRecords& out) {
    const auto ch = static_cast<std::size_t>(l.channels);
    out.subBlockEnergy.assign(ch, {});
    out.stepSamplePeak.assign(ch, {});
    out.stepTruePeak.assign(ch, {});
    out.stepTruePeakFrame.assign(ch, {});
    for (std::size_t c = 0; c < ch; ++c) {
        const std::int64_t s0 = static_cast<std::int64_t>(c) * l.subs;
        const std::int64_t p0 = static_cast<std::int64_t>(c) * l.steps;
        out.subBlockEnergy[c].assign(energy + s0, energy + s0 + l.subs);
        out.stepSamplePeak[c].assign(samplePeak + p0, samplePeak + p0 + l.steps);
        out.stepTruePeak[c].assign(truePeak + p0, truePeak + p0 + l.steps);
        out.stepTruePeakFrame[c].assign(truePeakFrame + p0, truePeakFrame + p0 + l.steps);
    }
}

/// measureLoudness's chunks of a programme of `frames` frames: from frame 0, `chunkFrames` each,
/// the last cut at the end (their records left empty).
inline std::vector<ChunkRecords> loudnessChunks(Frames frames, Frames chunkFrames) {
    std::vector<ChunkRecords> chunks;
    for (Frames start = 0; start < frames; start += chunkFrames) {
        ChunkRecords c;
        c.start = start;
        c.frames = std::min(chunkFrames, frames - start);
        chunks.push_back(std::move(c));
    }
    return chunks;
}

/// One call of the trial's limiter (Backend::trialLoudness): output frames [a, a + frames).
struct TrialCall {
    Frames a;
    Frames frames;
};

/// The calls LimiterStage makes on a backend over a programme of `frames` frames (LimiterTrialPass:
/// from pass.firstFrame on, pass.callFrames each, the last cut at the programme's end).
inline std::vector<TrialCall> trialCalls(const LimiterTrialPass& pass, Frames frames) {
    std::vector<TrialCall> calls;
    for (Frames a = pass.firstFrame; a < frames; a += pass.callFrames) {
        calls.push_back(TrialCall{a, std::min(pass.callFrames, frames - a)});
    }
    return calls;
}

/// Backend::trialLoudness's work over `channels` × `frames` held: the limiter's calls and the
/// meter's chunks (their records to fill). Throws Error(Internal) for a pass of other channels,
/// calls shorter than the look-ahead (the next call's history is the last L of R) or no chunks.
struct TrialPlan {
    std::vector<TrialCall> calls;
    std::vector<ChunkRecords> chunks;
};
inline TrialPlan trialPlan(int channels, Frames frames, const LimiterTrialPass& pass, Frames chunkFrames) {
    LATHE_EXPECTS(pass.params.channels == channels && chunkFrames > 0 &&
                      pass.callFrames >= pass.params.lookahead,
                  "trialLoudness: the audio's channels, calls longer than the look-ahead");
    return TrialPlan{trialCalls(pass, frames), loudnessChunks(frames, chunkFrames)};
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

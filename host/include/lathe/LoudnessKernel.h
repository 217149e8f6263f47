// Lathe: the per-sample half of a loudness measurement, as a backend operation.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// A file is measured in chunks (a whole number of 100 ms steps each). For every chunk a backend
// reduces the audio to records: per channel, the K-weighted energy of each sub-block (a few ms),
// and per 100 ms step the sample peak and the true peak with its position. Everything else (window
// sums, gating, LRA, maxima, history) is computed from the records on the host
// (analysis/LoudnessMeter.cpp), identically for every backend.
//
// Chunks are independent: each carries `warmupFrames` of audio before its start (the K-weighting
// filters start from zero there and settle; 250 ms leaves an error below 1e-12 of the signal energy
// at every supported rate) and `lookaheadFrames` after its end (interpolation). So chunks can be
// measured in parallel, and the result equals one pass from the file's start to within 1e-9 LU.
#pragma once

#include <lathe/AudioBuffer.h>
#include <lathe/Types.h>
#include <lathe/design/LoudnessDesign.h>
#include <lathe/math/Loudness.h>

#include <vector>

namespace lathe {

/// The fixed geometry and filters of one measurement.
struct LoudnessParams {
    SampleRate sampleRate = 48000;
    Frames stepFrames = 4800;    ///< 100 ms rounded to the nearest frame (libebur128's convention)
    Frames subBlockFrames = 120; ///< the largest divisor of stepFrames not above 2.5 ms: the hop at
                                 ///< which momentary and short-term maxima are evaluated
    Frames warmupFrames = 12000; ///< 250 ms (≥ half the refine interpolator)
    Frames lookaheadFrames = 24; ///< half the refine interpolator
    math::KWeighting kWeighting{};
    const design::Interpolator* search = nullptr; ///< ×4 candidate search
    const design::Interpolator* refine = nullptr; ///< ×16 measurement around candidates
    bool truePeak = true; ///< false: no interpolation (stepTruePeak = the sample peak), loudness only

    /// The parameters for a sample rate (throws UsageError outside 8–384 kHz).
    static LoudnessParams forRate(SampleRate fs);
};

/// A ×4 grid point closer than this to its step's ×4 maximum is refined at ×16. It covers the ×4
/// grid's worst under-read (0.69 dB for content at Nyquist) plus the search interpolator's
/// roll-off (≤ 0.17 dB up to 0.85·Nyquist): the true peak cannot hide further down.
inline constexpr float kTruePeakCandidateMarginDb = 2.0f;
/// That margin as a ratio of levels, computed once (every backend compares with this float).
float truePeakCandidateRatio();

/// One chunk of audio: `audio` frame 0 is `warmupFrames` before the chunk's first frame, and the
/// buffer extends `lookaheadFrames` after its last (zeros outside the file).
struct LoudnessChunk {
    const AudioBuffer* audio = nullptr;
    Frames firstFrame = 0; ///< absolute frame of the chunk's start (a multiple of stepFrames)
    Frames frames = 0;     ///< length; a multiple of stepFrames except for the file's last chunk
};

/// Records of one chunk, per channel.
struct LoudnessRecords {
    std::vector<std::vector<double>>
        subBlockEnergy; ///< Σ y² (K-weighted) per sub-block; the last may be partial
    std::vector<std::vector<float>> stepSamplePeak;     ///< max |x| per 100 ms step
    std::vector<std::vector<float>> stepTruePeak;       ///< max |x(t)| per step (interpolated)
    std::vector<std::vector<double>> stepTruePeakFrame; ///< where (absolute, fractional frame)
};

/// One chunk's records, where the chunk lies: a measurement made elsewhere (a device's, over audio
/// it holds: Backend::trialLoudness), in the chunks measureLoudness would have read.
struct ChunkRecords {
    LoudnessRecords records;
    Frames start = 0;  ///< absolute frame of the chunk's start
    Frames frames = 0; ///< its length
};

/// The reference implementation (CpuBackend uses it; tests compare other backends with it).
void measureLoudnessChunkCpu(const LoudnessParams& params, const LoudnessChunk& chunk, LoudnessRecords& out);

} // namespace lathe

// Lathe: the true-peak limiter's first pass, as a backend operation.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// LimiterStage (LimiterStage.h) computes a gain from the ×4 interval peaks (D), their look-ahead
// maximum (H), the release (R) and the attack mean (G), applies it, and then verifies the ×16
// true peak of the result, raising the attenuation where it exceeds the ceiling. The first part —
// the "pass" — is data-parallel but for the release, a max-affine recursion that a scan evaluates
// exactly (lathe/math/Limiter.h). A backend with Capability::LimiterPass runs that pass over a
// long call on its device, from the same lathe/math expressions; the stage keeps the state
// between calls. Without verification (the loudness targeting's trial: LimiterSpec::verify false)
// the pass is the whole limiter. (C++17, for nvcc: no AudioBuffer definition here.)
#pragma once

#include <lathe/Types.h>
#include <lathe/design/LoudnessDesign.h>

namespace lathe {

class AudioBuffer;

/// Everything fixed for a stream.
struct LimiterPassParams {
    int channels = 0;
    Frames lookahead = 1;      ///< L, frames
    double releaseCoeff = 0.0; ///< aR
    double ceilingLinear = 1.0;
    const design::Interpolator* search = nullptr; ///< the ×4 search kernel (the meter's)

    /// Input frames a call needs before its first frame (the ×4 window of the interval ending at
    /// it reaches taps/2 − 1 further back) and after its last (the look-ahead, and the ×4 window).
    Frames before() const { return search->taps / 2; }
    Frames after() const { return lookahead + search->taps / 2 - 1; }
};

/// One call computing frames [a, a + frames) of the output: `x` holds the driven input of frames
/// [a − before(), a + frames + after()) (zeros outside the signal), params.channels channels.
///
/// The report's reduction statistics are taken over the call's frames [statsFrom, frames) in
/// pieces (the 100 ms steps of the output's time axis): the first `firstPiece` frames long, the
/// others `pieceFrames`, the last cut at the call's end. The backend returns one ReductionStats a
/// piece, so the per-frame reductions need not leave the device.
struct LimiterPassCall {
    const AudioBuffer* x = nullptr;
    Frames frames = 0;
    Frames statsFrom = 0;
    Frames firstPiece = 1;
    Frames pieceFrames = 1;

    /// How many pieces, and where piece k starts (a frame of the call).
    Frames pieces() const {
        if (statsFrom >= frames) {
            return 0;
        }
        const Frames rest = frames - statsFrom - firstPiece;
        return 1 + (rest > 0 ? (rest + pieceFrames - 1) / pieceFrames : 0);
    }
    Frames pieceBegin(Frames k) const {
        return k == 0 ? statsFrom : statsFrom + firstPiece + (k - 1) * pieceFrames;
    }
    /// Where piece k ends (the next's start, the last cut at the call's end).
    Frames pieceEnd(Frames k) const {
        const Frames next = pieceBegin(k + 1);
        return next < frames ? next : frames;
    }
};

/// The whole unverified limiter as its stage runs it on a backend (LimiterStage::backendPass), for
/// a backend to run it over audio it holds (Backend::trialLoudness) with the stage's own output:
/// the input driven by `inputGain` (the float product x·gain the stage forms), the pass over
/// output frames from `firstFrame` on (−lookahead: the gain is down by frame 0) in calls of
/// `callFrames` (the last one cut at the programme's end), the frames before 0 not emitted.
struct LimiterTrialPass {
    LimiterPassParams params;
    float inputGain = 1.0f;
    Frames firstFrame = 0;
    Frames callFrames = 1;
};

/// The gain reductions G (dB, ≥ 0) of a run of frames: the largest, their sum and how many are
/// above 0 (LimiterStage's report: the largest, the mean while limiting, the time limited).
struct ReductionStats {
    double max = 0.0;
    double sum = 0.0;
    Frames count = 0;
};

} // namespace lathe

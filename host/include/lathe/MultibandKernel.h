// Lathe: the per-sample half of the multiband dynamics, as a backend operation.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// MultibandStage splits every channel into bands with its crossover (a Convolver) and then, per
// call, turns the bands into the stage's output: detector, gain computer, gains, sum
// (MultibandStage.h). On the CPU that is the stage's own code (the reference). A backend with
// Capability::Dynamics does the same on its device, from the same lathe/math expressions, given
// the parameters and the detector states below; the stage keeps the states, statistics and
// histories between calls. (C++17, for nvcc: no AudioBuffer definition here.)
#pragma once

#include <lathe/Types.h>
#include <lathe/math/Dynamics.h>

#include <vector>

namespace lathe {

class AudioBuffer;
class Convolver;

/// One band's setting, as the device needs it.
struct MultibandBandParams {
    math::CurveKind kind = math::CurveKind::Compressor;
    math::BandCurve curve{}; ///< math::bandCurveOf
    double aR = 0.0;         ///< release pole
    double aA = 0.0;         ///< attack pole
    bool active = true;      ///< processed: neither bypassed nor silenced by another band's solo
    bool heard = true;       ///< part of the sum (false: another band is soloed)
};

/// Everything fixed for a stream.
struct MultibandParams {
    int channels = 0;
    int bands = 0;
    bool rms = false; ///< RMS detector (10 ms mean square, pole aRms); else |x|
    double aRms = 0.0;
    double link = 1.0;         ///< stereo link, 0…1
    bool midSide = false;      ///< stereo only: detect and gain M and S, decode after
    Frames historyStep = 4800; ///< frames per 100 ms reduction-history step
    std::vector<MultibandBandParams> band;
};

/// A detector's state between calls, per channel and band ([c·bands + k]).
struct BandDetectorState {
    double rms = 0.0; ///< mean square (RMS detector)
    double y1 = 0.0;  ///< release stage
    double yL = 0.0;  ///< attack stage
};

/// What one call measured, for the report.
struct MultibandCallStats {
    std::vector<double> sumGainDb; ///< [c·bands + k]: Σ gain (dB) over the call's frames (active bands)
    std::vector<double> minGainDb; ///< [c·bands + k]: the smallest gain (dB)
    /// Per band: the largest reduction (dB, ≥ 0: makeup − gain, over channels) in each 100 ms
    /// step that the call touches, from step firstStep on (steps before the output's start are left
    /// out).
    std::vector<std::vector<double>> stepReductionDb;
    Frames firstStep = 0;
};

/// One call: `filtered` holds band k of channel c in channel c·bands + k (the crossover's
/// outputs); `outputFrame` is the output-time frame of its first frame (negative while the
/// crossover's latency is being skipped). Writes `out` (params.channels channels, same frames).
struct MultibandCall {
    const AudioBuffer* filtered = nullptr;
    Frames outputFrame = 0;
    /// When set, the bands' samples are this convolver's last output, left on its device
    /// (Convolver::outputOnDevice): `filtered` gives their shape only.
    const Convolver* bandsOn = nullptr;
};

} // namespace lathe

// Lathe: double-precision design of the linear-phase EQ (symmetric FIR by frequency sampling).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Types.h>

#include <functional>
#include <string>
#include <vector>

namespace lathe::design {

enum class EqBandType {
    Bell,      ///< peaking: gainDb at hz, bandwidth hz/q
    LowShelf,  ///< gainDb below hz (half of it at hz), transition steepness q (0.7071 = RBJ S = 1)
    HighShelf, ///< gainDb above hz
    LowPass,   ///< Butterworth magnitude of order slopeDbPerOctave / 6 (−3.01 dB at hz)
    HighPass,  ///< Butterworth magnitude of order slopeDbPerOctave / 6 (−3.01 dB at hz)
    Tilt,      ///< first-order tilt: −gainDb/2 in the lows, +gainDb/2 in the highs, 0 dB at hz
};

/// Which signal a band shapes. Mid = (L+R)/2 and side = (L−R)/2 exist for stereo input only.
enum class EqPlacement { Stereo, Mid, Side };

const char* bandTypeName(EqBandType t);
const char* placementName(EqPlacement p);

struct EqBand {
    EqBandType type = EqBandType::Bell;
    double hz = 1000.0;
    double gainDb = 0.0;
    double q = 0.7071067811865476;
    int slopeDbPerOctave = 12; ///< pass filters: 6, 12, 18, 24, 36 or 48
    EqPlacement placement = EqPlacement::Stereo;
    bool enabled = true;
};

/// A point of an arbitrary curve; gains are interpolated linearly in dB over log frequency and
/// held constant beyond the first and last point.
struct EqCurvePoint {
    double hz = 0;
    double gainDb = 0;
};

/// Design goal of the automatic length: 0.01 dB where the length allows (the bound is
/// 0.05 dB, kEqToleranceDb).
inline constexpr double kEqGoalDb = 0.01;

struct EqSpec {
    std::vector<EqBand> bands;
    std::vector<EqCurvePoint> curve; ///< applies to every channel
    int taps = 0;                    ///< FIR length (odd); 0 = chosen by design (autoTapCount)
    /// With taps == 0: the deviation from the target at which the length search stops. A speaker
    /// model's response drawn through points has kinks that 0.01 dB would chase to the longest
    /// FIR; it asks for less (Speakers.h).
    double goalDb = kEqGoalDb;
};

/// The analytic target: the analog prototypes (RBJ cookbook s-domain bell and shelves,
/// Butterworth magnitudes, a first-order tilt), evaluated at Ω = f / hz. A linear-phase FIR can
/// follow them up to Nyquist, so there is none of the bilinear transform's cramping near fs/2.
/// Linear magnitude of one band (1 when disabled).
double bandMagnitude(const EqBand& band, double hz);
/// Curve gain in dB at hz (0 for an empty curve).
double curveGainDb(const std::vector<EqCurvePoint>& curve, double hz);
/// Linear magnitude of everything that shapes `placement`: for Stereo the stereo bands and the
/// curve; for Mid/Side the stereo bands, the curve and the bands placed there.
double targetMagnitude(const EqSpec& spec, EqPlacement placement, double hz);

/// Whether any enabled band is placed on mid or side.
bool usesMidSide(const EqSpec& spec);

/// The verification band of every design: 20 Hz to min(20 kHz, 0.499·fs).
inline constexpr double kEqCheckLowHz = 20.0;
inline constexpr double kEqCheckHighHz = 20000.0;
/// The bound on a design's deviation from its target (above it, a warning). Where the
/// target is below −40 dB, the deviation is measured relative to −40 dB (0.05 dB of a −90 dB stop
/// band is not a meaningful requirement).
inline constexpr double kEqToleranceDb = 0.05;
inline constexpr double kEqFloorLinear = 0.01;
/// Longest FIR (odd, so the delay is a whole number of samples).
inline constexpr int kEqMaxTaps = 65535;

struct FirDesign {
    std::vector<double> taps;  ///< symmetric: taps[k] == taps[n−1−k] exactly
    Frames delay = 0;          ///< (n − 1) / 2: the group delay of every frequency
    double maxErrorDb = 0;     ///< largest deviation from the target over the verification band
    double maxErrorHz = 0;     ///< where it occurs
    double preRingSeconds = 0; ///< from the first tap ≥ −60 dB (re the largest) to the centre
};

/// A zero-phase target sampled on a dense grid, transformed, centred, Kaiser-windowed to `taps`
/// (odd) samples. The response is then evaluated exactly (Clenshaw sum of the cosine series) at
/// 1024 log-spaced frequencies of the verification band.
FirDesign designLinearPhaseFir(const std::function<double(double hz)>& magnitude, SampleRate fs, int taps);

/// Zero-phase amplitude Σ taps[k]·cos((k − delay)·ω) of a symmetric FIR at hz (exact, double).
double firAmplitude(const std::vector<double>& taps, SampleRate fs, double hz);

/// The automatic length rule shared by the EQ and the crossovers: the window's main lobe
/// (≈ 5.5·fs/n) a few times narrower than the narrowest feature (Hz), rounded up to 2^k + 1
/// (at least 257, at most kEqMaxTaps).
int tapsForFeature(double narrowestHz, SampleRate fs);
/// The next length tried when a design misses kEqGoalDb: 2(n − 1) + 1, capped at kEqMaxTaps.
int nextTapCount(int taps);

/// First length tried by the automatic choice: proportional to fs over the narrowest feature
/// (a bell's bandwidth hz/q, a shelf's or pass filter's transition), rounded up to 2^k + 1.
int autoTapCount(const EqSpec& spec, SampleRate fs);

struct EqDesign {
    bool midSide = false;
    FirDesign stereo; ///< every channel (when !midSide)
    FirDesign mid;    ///< when midSide
    FirDesign side;   ///< when midSide
    int taps = 0;
    double maxErrorDb = 0;
    double maxErrorHz = 0;
    bool automaticLength = true;
    std::vector<std::string> warnings;
};

/// Designs the EQ for `fs`. With spec.taps == 0, starts at autoTapCount and doubles the length
/// until the error is ≤ spec.goalDb or kEqMaxTaps is reached; a design that stays above
/// kEqToleranceDb gets a warning naming the error and its frequency. A band at or above Nyquist is
/// designed like any other (its analog prototype's skirt below Nyquist applies) with a warning.
/// Mid and side are designed on two threads when `threads` ≥ 2 (the same design to the bit).
EqDesign designEq(const EqSpec& spec, SampleRate fs, unsigned threads = 1);

} // namespace lathe::design

// Lathe: speaker models — how a phone, earbuds, a car or a club PA would play a master.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// A model (assets/speakers/*.json, schema "lathe-speaker" version 1) is:
// - a magnitude response: (Hz, dB) points, interpolated linearly in dB over log frequency and
//   held beyond the first and last point (design::curveGainDb), times optional low and high cuts
//   (Butterworth magnitudes of 6–48 dB/octave, design::bandMagnitude);
// - optional mono summing (both outputs play (L+R)/2: small devices with one driver);
// - optional small-driver protection: a compressor (threshold, ratio, attack, release) whose
//   threshold is in LU above the programme's integrated loudness — devices play streams
//   normalised, so a master's crest factor, not its absolute level, decides how hard the driver
//   protection works;
// - a listening level (dB SPL, informative), a description, and the rationale/source of the curve.
// A model can also be a measured response (CSV of Hz, dB) or an impulse-response file.
//
// Rendering through a model = [mono fold] → linear-phase FIR of the response (the EQ stage: the
// backend's convolution engine) → [driver compressor]. The FIR follows the curve within
// kSpeakerFitDb (tested against the curve's own points).
#pragma once

#include <lathe/Backend.h>
#include <lathe/Stage.h>
#include <lathe/design/EqDesign.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

inline constexpr int kSpeakerSchemaVersion = 1;
/// The FIR of a model follows its response within this (the bound) over 20 Hz–20 kHz
/// where the response is above kSpeakerFloorDb; the design lengthens the FIR until it does.
inline constexpr double kSpeakerFitDb = 0.5;
/// Below this (dB, as the curve is written) a deviation is measured relative to it: the depth of a
/// stop band below −40 dB is inaudible next to the pass band, as in the EQ's verification.
inline constexpr double kSpeakerFloorDb = -40.0;

struct SpeakerCut {
    double hz = 0;
    int slopeDbPerOctave = 12; ///< 6, 12, 18, 24, 36 or 48 (Butterworth order × 6)
};

struct DriverProtection {
    double thresholdLu = 6.0; ///< above the programme's integrated loudness
    double ratio = 4.0;       ///< ≥ 1; 1 disables
    double attackMs = 5.0;
    double releaseMs = 120.0;
};

struct SpeakerModel {
    std::string id;   ///< [a-z0-9-]+, used on the command line and in file names
    std::string name; ///< "Phone speaker"
    std::string description;
    std::string rationale;  ///< why the curve looks like this, and where it comes from
    std::string origin;     ///< "built-in", or the file it was loaded from
    bool reference = false; ///< the monitors every other model is compared with
    std::vector<design::EqCurvePoint> response;
    std::optional<SpeakerCut> lowCut;
    std::optional<SpeakerCut> highCut;
    bool mono = false;
    std::optional<DriverProtection> driver;
    double listeningLevelDbSpl = 75.0;
    std::optional<std::filesystem::path> impulseResponse; ///< a model measured as an IR
};

/// Parses a model. Throws UsageError naming `origin` and the offending field: wrong schema or
/// version, unknown keys, missing id/name, points not ascending or outside 1 Hz–100 kHz, gains
/// outside ±60 dB, an unsupported slope, a ratio below 1.
SpeakerModel parseSpeakerModel(const std::string& json, const std::string& origin);
/// A measured response as CSV text ("hz,db" lines; a first header line and #-comments skipped; ';'
/// and tabs also separate), named after `file`. Throws UsageError naming the line.
SpeakerModel parseSpeakerCsv(const std::string& text, const std::filesystem::path& file);
/// The model as its JSON file would hold it (parseSpeakerModel(toJson(m)) == m).
nlohmann::json toJson(const SpeakerModel& model);
/// A model from a file: .json (the schema above), .csv (measured response: lines "hz,db"; a header
/// line and #-comments are skipped), or an audio file (an impulse response). Throws InputError for
/// an unreadable file, UsageError for invalid content.
SpeakerModel loadSpeakerModel(const std::filesystem::path& file);
/// The built-in models (assets/speakers at build time), the reference first.
const std::vector<SpeakerModel>& builtinSpeakers();
/// "all", or a comma-separated list of built-in ids and model files; the reference monitors are
/// always included (first). Throws UsageError for an unknown id (listing the known ones).
std::vector<SpeakerModel> selectSpeakers(const std::string& list);

/// The model's response in dB at hz (points × cuts); 0 dB for an IR model (its response is
/// whatever the file holds).
double speakerResponseDb(const SpeakerModel& model, double hz);
/// The response as an EQ specification (curve + high-/low-pass bands) with `taps`. With 0, the
/// automatic length is the shortest 2^k + 1 whose design follows the response within
/// kSpeakerFitDb/2 (a margin under the bound; EqSpec::goalDb), at most design::kEqMaxTaps.
design::EqSpec speakerEqSpec(const SpeakerModel& model, int taps = 0);
/// The lowest frequency (20 Hz … 20 kHz) from which the response stays within 10 dB of its level
/// at 1 kHz — where the bass is "gone"; 20 Hz when it reaches down that far. Not defined for IR
/// models (nullopt).
std::optional<double> speakerBassLimitHz(const SpeakerModel& model);

/// What the model's own stages did in a render (filled as the stages run).
struct SpeakerStageStats {
    double foldInEnergy = 0;  ///< mono fold: Σ over channels of x², before
    double foldOutEnergy = 0; ///< and after
    double maxReductionDb = 0;
    Frames framesReduced = 0; ///< frames with more than kDriverActiveDb of gain reduction
    Frames frames = 0;
};
/// Gain reduction above which the driver protection counts as working.
inline constexpr double kDriverActiveDb = 1.0;

/// The stages of a model for a programme of integrated loudness `programmeLufs` (sets the driver
/// threshold); the FIR is designed for the stream's rate when the render prepares it. `stats`
/// must outlive the stages. `threads`: the convolution's workers (0 = all hardware threads).
std::vector<std::unique_ptr<Stage>> buildSpeakerStages(const SpeakerModel& model, double programmeLufs,
                                                       Backend& backend, unsigned threads,
                                                       SpeakerStageStats& stats);

} // namespace lathe

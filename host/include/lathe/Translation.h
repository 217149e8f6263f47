// Lathe: translation — how a master holds up on each speaker model, level-matched to the monitors.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Every model renders the file (lathe/Speakers.h) and the render is measured: integrated loudness
// and true peak (BS.1770), the long-term spectrum, and what the model's own stages did (mono fold,
// driver protection). The first model is the reference (the monitors). Each other model is then
// level-matched to it — a gain of (reference loudness − model loudness), so louder never wins —
// and compared:
// - loudness difference before matching (how much quieter the device plays the same signal);
// - energy per octave band vs the reference (dB, level-matched) and a 1/6-octave difference curve;
// - lost bass: the model's bass limit f10 (speakerBassLimitHz: where its response is 10 dB below
//   its 1 kHz level), the share of the reference's energy below f10 and how much of it the model
//   loses (percent of the whole mix's energy, and dB);
// - vocal/presence balance: the 1–4 kHz band of the level-matched render vs the reference's (dB):
//   after matching loudness, how much louder or quieter the vocals are;
// - spectral balance: RMS of the octave-band differences 63 Hz–8 kHz, and a score
//   100 − kBalanceScorePerDb × RMS (0 at a 20 dB RMS deviation);
// - sample peak after matching, the driver protection's largest reduction and how often it works;
// - mono loss where the model sums to mono: energy of the fold vs the stereo input (dB);
// and one verdict sentence built from those figures.
#pragma once

#include <lathe/AudioReader.h>
#include <lathe/Backend.h>
#include <lathe/Progress.h>
#include <lathe/Speakers.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lathe {

/// The balance score falls by this much per dB of RMS octave-band deviation: a phone's missing
/// bass (about 20 dB RMS over 63 Hz–8 kHz) scores 0, headphones' bass shelf (≈2 dB) about 90.
inline constexpr double kBalanceScorePerDb = 5.0;
/// A mono fold losing more than this is flagged: equal uncorrelated channels lose 3.01 dB, so more
/// means content that cancels (overall correlation below about −0.2).
inline constexpr double kMonoLossFlagDb = 4.0;
/// The vocal/presence band.
inline constexpr double kPresenceLowHz = 1000.0;
inline constexpr double kPresenceHighHz = 4000.0;
/// A presence change the verdict mentions: 3 dB is a clearly audible level change of a band.
inline constexpr double kPresenceVerdictDb = 3.0;

struct TranslationOptions {
    std::vector<SpeakerModel> models; ///< the reference first (selectSpeakers)
    unsigned jobs = 0;                ///< models measured at once; 0 = one per hardware thread
    AudioReader::Options reader;
    /// When set: each model's level-matched render is written there as <stem>.<model>.wav
    /// (24-bit, dithered), for listening.
    std::optional<std::filesystem::path> renderDir;
};

struct SpeakerMetrics {
    std::string id;
    std::string name;
    bool reference = false;
    bool mono = false;
    std::optional<double> loudnessLufs; ///< of the render, before matching
    double loudnessDifferenceLu = 0;    ///< loudnessLufs − the reference's
    double levelMatchDb = 0;            ///< gain that matches it to the reference
    std::optional<double> matchedLoudnessLufs;
    std::vector<double> bandDifferenceDb;  ///< per octave band (NaN: above Nyquist / no energy)
    std::vector<double> curveDifferenceDb; ///< at TranslationResult::curveHz (NaN where undefined)
    std::optional<double> bassLimitHz;
    double bassSharePercent = 0; ///< of the reference's energy below the bass limit
    double lostBassPercent = 0;  ///< of the reference's whole energy, lost below the bass limit
    std::optional<double> lostBassDb;
    std::optional<double> presenceBalanceDb;
    double balanceDeviationDb = 0;
    double balanceScore = 100;
    std::optional<double> matchedSamplePeakDbfs;
    double driverMaxReductionDb = 0;
    double driverActivePercent = 0;
    std::optional<double> monoLossDb;
    bool monoProblem = false;
    std::string verdict;
    std::optional<std::filesystem::path> render;
};

struct TranslationResult {
    std::string source;
    SampleRate sampleRate = 0;
    int channels = 0;
    double durationSeconds = 0;
    double programmeLufs = 0; ///< the file's integrated loudness (sets the driver thresholds)
    std::vector<double> bandCentresHz;
    std::vector<double> curveHz;
    std::vector<SpeakerMetrics> models; ///< the reference first
    std::string backend;
    double seconds = 0;
    std::vector<std::string> warnings;
};

/// Renders and measures `input` through every model. Throws InputError, AudioContentError (no
/// loudness to match: silence or shorter than 400 ms), UsageError (no models, the first not the
/// reference), OutputError (renderDir), CancelledError.
TranslationResult measureTranslation(const std::filesystem::path& input, const TranslationOptions& options,
                                     Backend& backend, const JobControl& control = {});

/// One sentence per model from its metrics (also set by measureTranslation).
std::string translationVerdict(const SpeakerMetrics& metrics);

nlohmann::json toJson(const TranslationResult& result);
/// Two files (mix vs master, master A vs master B) side by side: per model, each file's metrics
/// and the differences b − a.
nlohmann::json translationComparisonJson(const TranslationResult& a, const TranslationResult& b);

} // namespace lathe

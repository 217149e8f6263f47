// Lathe: the full analysis of a file in one pass — loudness, spectrum, spectrogram, stereo image and
// mix-readiness findings — as `lathe analyze` and the reports use it.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/AudioFormat.h>
#include <lathe/AudioSource.h>
#include <lathe/Backend.h>
#include <lathe/Loudness.h>
#include <lathe/Progress.h>
#include <lathe/Spectrum.h>

#include <filesystem>
#include <string>
#include <vector>

namespace lathe {

struct AnalysisOptions {
    LoudnessOptions loudness;
    bool spectral = true; ///< spectrum, spectrogram, stereo image (loudness alone when false)
    SpectrumSettings spectrum;
    int smoothingFraction = 6; ///< display smoothing of the spectrum: 1/N octave (0 = none)
};

enum class Severity { Info, Warning, Problem };
std::string_view severityName(Severity s); ///< "info", "warning", "problem"

struct TimeRange {
    double startSeconds = 0;
    double endSeconds = 0;
};

/// One thing a mastering engineer would tell the person who sent the mix.
struct Finding {
    std::string code; ///< stable identifier: "clipping", "inter-sample-overs", "dc-offset", …
    Severity severity = Severity::Info;
    std::string title;             ///< a few words
    std::string message;           ///< one or two sentences a musician understands
    std::vector<TimeRange> ranges; ///< where, when it is local (at most 100, merged)
};

/// Facts only a sample-by-sample scan can give (collected during the analysis pass).
struct SampleScan {
    std::int64_t clipRuns = 0; ///< runs of ≥ 3 samples within one 16-bit step of full scale
    std::int64_t clippedSamples = 0;
    std::vector<TimeRange> clipRanges;
    bool on16BitGrid = true; ///< every sample is a multiple of 2^−15
    bool on8BitGrid = true;
};

struct AnalysisResult {
    AudioFileInfo file;
    LoudnessResult loudness;
    bool spectral = false;
    LongTermSpectrum spectrum;
    Spectrogram spectrogram;
    StereoImage stereo;
    SampleScan scan;
    std::vector<Finding> findings;
    int smoothingFraction = 6;
};

/// Reads `path` once and runs every analysis. Throws as measureLoudness.
AnalysisResult analyzeFile(const std::filesystem::path& path, const AnalysisOptions& options,
                           Backend& backend, const JobControl& control = {});

/// analyzeFile's analyses of any source, read to its end — all but `file` and the findings, which
/// need the file's facts (assessReadiness of the result once `file` is set). A stream a render
/// reads or writes (a master's input and output, AnalysisTap) gives analyzeFile's figures for its
/// file exactly.
AnalysisResult analyzeSource(AudioSource& source, const AnalysisOptions& options, Backend& backend,
                             const JobControl& control = {});

/// The mix-readiness findings for a result (also run by analyzeFile). Thresholds and their reasons
/// are in analysis/Readiness.cpp.
std::vector<Finding> assessReadiness(const AnalysisResult& result);

} // namespace lathe

// Lathe: the self-contained HTML report (inline SVG plots, no scripts, no network).
// SPDX-License-Identifier: GPL-3.0-or-later
//
// One file a mastering engineer (or the artist) opens in any browser: summary, mix-readiness
// findings with time stamps, loudness history and distribution, spectrum (before/after and the
// difference when there is a comparison), spectrogram with its dB scale, stereo correlation over
// time and per band, the platform preview, and every parameter the analysis used. The markup is
// XHTML-compatible (well-formed XML), so it also parses as XML. Plot data carry data-series
// attributes so that tests (and tools) can find them.
#pragma once

#include <lathe/Analysis.h>
#include <lathe/CodecPreview.h>
#include <lathe/Platforms.h>
#include <lathe/RenderJob.h>
#include <lathe/Translation.h>

#include <string>
#include <utility>
#include <vector>

namespace lathe {

/// A gain-reduction series of a dynamics stage (a multiband band, the limiter), drawn as a line.
struct GainReductionSeries {
    std::string label;
    double stepSeconds = 0.1;
    std::vector<double> reductionDb; ///< ≥ 0: the largest reduction in each step
};

/// The gain-reduction history of every dynamics stage of a render (a multiband stage gives one
/// series per band, "multiband band 2"; the limiter one), from its stage records.
std::vector<GainReductionSeries> gainReductionSeries(const RenderReport& report);

struct HtmlReportInput {
    const AnalysisResult* result = nullptr;  ///< the file ("before" when comparing)
    const AnalysisResult* compare = nullptr; ///< optional second file ("after")
    std::vector<PlatformPreview> platforms;  ///< for `result`
    double targetLufs = -14.0;               ///< drawn as the target line of the loudness plot
    std::string targetLabel = "target −14 LUFS (streaming)";
    std::string backend;                                         ///< which backend ran, and why
    std::vector<std::pair<std::string, std::string>> parameters; ///< extra parameters (the command line)
    std::vector<GainReductionSeries> gainReduction; ///< a master's dynamics over time (empty: no section)
    /// Speaker translation of `result` (and of `compare`, same models): a small-multiples plot of
    /// each model's level-matched difference from the monitors and a table of metrics and verdicts.
    const TranslationResult* translation = nullptr;
    const TranslationResult* translationCompare = nullptr;
    /// Real codec round trips of `result`: the platform table gains the measured post-codec true
    /// peak (after each platform's gain) and a codec table follows it.
    const CodecPreviewResult* codecs = nullptr;
};

std::string renderHtmlReport(const HtmlReportInput& input);

} // namespace lathe

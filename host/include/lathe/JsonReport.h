// Lathe: machine-readable results (the CLI's --json, batch manifests, the UI's exports).
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Conventions: keys are snake_case; levels carry their unit in the key (_dbfs, _lufs, _db); times
// are seconds (_s); an undefined value (the level of silence, a missing position) is null, never
// NaN or ±Inf, which JSON cannot represent.
#pragma once

#include <lathe/Analysis.h>
#include <lathe/Backend.h>
#include <lathe/Inspect.h>
#include <lathe/Loudness.h>
#include <lathe/Platforms.h>
#include <lathe/RenderJob.h>

#include <nlohmann/json.hpp>

#include <optional>

namespace lathe {

/// A dB value, or null when it is not finite (silence is −∞ dBFS).
nlohmann::json dbOrNull(double db);
/// dbOrNull of a value that may be absent (null when absent).
nlohmann::json dbOrNull(const std::optional<double>& db);

nlohmann::json toJson(const ChannelLayout& layout);
/// `lathe info`: file, format, rate, channels, layout, frames, duration, peaks, warnings.
nlohmann::json toJson(const FileInspection& inspection);
/// `lathe convert`: input, output, formats, dither decision, clipping, statistics, backend, timing.
nlohmann::json toJson(const RenderReport& report);
nlohmann::json toJson(const BackendStatus& status);
/// `lathe analyze`: file facts and a "loudness" object (integrated_lufs, lra_lu, true_peak_dbtp,
/// sample_peak_dbfs, max_momentary_lufs, max_short_term_lufs, plr_db, …, null where undefined with
/// a note saying why), the histogram, and the 100 ms history when `withHistory`.
nlohmann::json toJson(const LoudnessResult& result, bool withHistory);
nlohmann::json toJson(const std::vector<PlatformPreview>& previews);
/// `lathe analyze` with every analysis: the loudness object above plus "spectrum" (display curves
/// in dB at 24 points per octave), "stereo", "readiness" (findings) and, with `withHistory`, the
/// time series (loudness, correlation) and the spectrogram grid.
nlohmann::json toJson(const AnalysisResult& result, bool withHistory);

} // namespace lathe

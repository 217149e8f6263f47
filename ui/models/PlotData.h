// Lathe Studio: plot-ready series from engine results (value snapshots; no DSP here — the engine
// computed every number, this only picks and converts them for display).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Analysis.h>
#include <lathe/Platforms.h>
#include <lathe/Spectrum.h>

#include <QList>
#include <QPointF>
#include <QString>
#include <vector>

namespace lathe::ui {

struct Series {
    QString name;
    QList<QPointF> points; ///< x, y; gaps (undefined values) are left out
};

/// Momentary and short-term loudness over time (x: seconds, y: LUFS); values below `floorLufs`
/// (silence) are clamped to it so the line stays on the plot.
QList<Series> loudnessSeries(const LoudnessResult& loudness, double floorLufs = -60.0);

/// The long-term spectrum curves as dB over Hz (x: 48 points per octave from 20 Hz to 20 kHz or
/// Nyquist), one per curve of the analysis (channels, then M and S), smoothed at 1/N octave by the
/// engine (lathe/Spectrum.h spectrumCurveDb; 0 = none).
QList<Series> spectrumSeries(const LongTermSpectrum& spectrum, int smoothingFraction = 6);

/// At most about `maxPoints` points for drawing a long line: the points are cut into buckets and
/// each bucket keeps its lowest and highest point in time order, so peaks and dips stay visible.
/// Shorter lines come back unchanged.
QList<QPointF> decimateMinMax(const QList<QPointF>& points, int maxPoints);

/// A platform loudness marker on the loudness history's right axis.
struct LevelMarker {
    double lufs = 0;
    QString label; ///< "−14 spotify +3": the value, the first platform's id, how many more share it
};

/// One marker per distinct target of `platforms` (those without one are left out), labelled
/// with the first platform's id (what --target takes) and how many more share the value. Markers closer than
/// `minSpacingLu` to one already kept are dropped, the value shared by more platforms winning (labels 1 LU
/// apart overlap on a 60 LU axis); sorted by level.
std::vector<LevelMarker> platformMarkers(const std::vector<Platform>& platforms, double minSpacingLu);

/// Seconds as "m:ss.s" or "h:mm:ss".
QString formatTime(double seconds);

/// "−14.2 LUFS" style text, "—" when absent.
QString formatLevel(const std::optional<double>& value, const char* unit, int decimals = 1);

} // namespace lathe::ui

// Lathe Studio: plot-ready series from engine results (value snapshots; no DSP here — the engine
// computed every number, this only picks and converts them for display).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Analysis.h>
#include <lathe/Spectrum.h>

#include <QList>
#include <QPointF>
#include <QString>

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

/// Seconds as "m:ss.s" or "h:mm:ss".
QString formatTime(double seconds);

/// "−14.2 LUFS" style text, "—" when absent.
QString formatLevel(const std::optional<double>& value, const char* unit, int decimals = 1);

} // namespace lathe::ui

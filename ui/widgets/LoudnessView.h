// Lathe Studio: loudness history (momentary, short-term, integrated and target lines over time).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/PlotData.h"

#include <lathe/Loudness.h>

#include <QAreaSeries>
#include <QCategoryAxis>
#include <QChartView>
#include <QLineSeries>
#include <QMouseEvent>
#include <optional>
#include <vector>

namespace lathe::ui {

class LoudnessView final : public QChartView {
    Q_OBJECT
public:
    explicit LoudnessView(QWidget* parent = nullptr);
    /// Draws `loudness` (and the master's short-term line when given) with a target line and,
    /// on the right axis, the platforms' loudness markers (faint lines across the plot).
    void show(const LoudnessResult& input, const LoudnessResult* master, std::optional<double> targetLufs,
              const std::vector<LevelMarker>& markers = {});
    /// The right axis' marker labels (for tests).
    QStringList markerLabels() const;
    /// Points drawn (for tests: a view with data has some).
    int pointCount() const;
    /// Marks the loop region (seconds); end ≤ begin clears it.
    void setRegion(double beginSeconds, double endSeconds);
    /// Draws the playhead at `seconds` (negative: none).
    void setPlayhead(double seconds);
    double playhead() const { return m_playhead; }
    /// The x pixel of a time (tests drive the mouse with it).
    double xOfSeconds(double seconds) const;

Q_SIGNALS:
    /// A drag across the plot: the region to loop (seconds).
    void regionSelected(double beginSeconds, double endSeconds);
    /// A click: play from there.
    void positionClicked(double seconds);

protected:
    void mousePressEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;

private:
    double secondsAt(const QPointF& pos) const;
    double m_pressSeconds = -1;
    double m_regionBegin = 0;
    double m_regionEnd = 0;
    QAreaSeries* m_regionSeries = nullptr;
    QLineSeries* m_playheadSeries = nullptr;
    QCategoryAxis* m_markerAxis = nullptr; ///< owned by the chart (deleted by clearChart)
    double m_playhead = -1;
};

} // namespace lathe::ui

// SPDX-License-Identifier: GPL-3.0-or-later
#include "LoudnessView.h"

#include "Theme.h"
#include "models/PlotData.h"

#include <QAreaSeries>
#include <QCategoryAxis>
#include <QChart>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>

namespace lathe::ui {
namespace {

/// Points per line drawn (the plot is ~1500 px wide: two per pixel keeps every peak).
constexpr int kMaxDrawnPoints = 4000;

} // namespace

LoudnessView::LoudnessView(QWidget* parent) : QChartView(new QChart, parent) {
    setRenderHint(QPainter::Antialiasing);
    styleChart(*chart());
    chart()->setTitle(QStringLiteral("Loudness history"));
}

void LoudnessView::show(const LoudnessResult& input, const LoudnessResult* master,
                        std::optional<double> targetLufs, const std::vector<LevelMarker>& markers) {
    QChart* c = chart();
    clearChart(*c);
    m_regionSeries = nullptr; // deleted with the other series
    m_playheadSeries = nullptr;
    constexpr double kFloor = -60.0;
    auto* x = new QValueAxis;
    auto* y = new QValueAxis;
    y->setRange(kFloor, 0);
    y->setTickCount(7);
    addAxis(*c, x, Qt::AlignBottom, QStringLiteral("Time (s)"));
    addAxis(*c, y, Qt::AlignLeft, QStringLiteral("Loudness (LUFS)"));
    if (!markers.empty()) {
        // Platform targets: labels on the right at their level, a faint grid line across.
        auto* platforms = new QCategoryAxis;
        platforms->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
        platforms->setRange(kFloor, 0);
        platforms->setStartValue(kFloor);
        for (const LevelMarker& m : markers) {
            if (m.lufs > kFloor && m.lufs < 0) {
                platforms->append(m.label, m.lufs);
            }
        }
        addAxis(*c, platforms, Qt::AlignRight, QStringLiteral("Platforms (LUFS)"));
        QPen grid(seriesColor(2).darker(150));
        grid.setStyle(Qt::DotLine);
        platforms->setGridLinePen(grid);
        platforms->setGridLineVisible(true);
        // Qt Charts draws an axis only with a series attached: an invisible one, not in the legend.
        auto* anchor = new QLineSeries;
        anchor->append(0, kFloor);
        anchor->setPen(Qt::NoPen);
        c->addSeries(anchor);
        anchor->attachAxis(x);
        anchor->attachAxis(platforms);
        for (QLegendMarker* marker : c->legend()->markers(anchor)) {
            marker->setVisible(false);
        }
        m_markerAxis = platforms;
    } else {
        m_markerAxis = nullptr;
    }
    auto add = [&](const Series& s, const QString& name, const QColor& colour, qreal width) {
        auto* line = new QLineSeries;
        line->setName(name);
        // An hour is 36 000 steps: drawn from at most ~4000 points (min and max per bucket).
        line->replace(decimateMinMax(s.points, kMaxDrawnPoints));
        QPen pen(colour);
        pen.setWidthF(width);
        line->setPen(pen);
        c->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
    };
    const QList<Series> in = loudnessSeries(input, kFloor);
    add(in[0], QStringLiteral("Momentary (mix)"), seriesColor(0).darker(160), 1.0);
    add(in[1], QStringLiteral("Short-term (mix)"), seriesColor(0), 2.0);
    if (master != nullptr) {
        const QList<Series> out = loudnessSeries(*master, kFloor);
        add(out[1], QStringLiteral("Short-term (master)"), seriesColor(1), 2.0);
    }
    const double end = input.durationSeconds > 0 ? input.durationSeconds : 1.0;
    x->setRange(0, end);
    auto level = [&](double lufs, const QString& name, const QColor& colour) {
        add(Series{name, {QPointF(0, lufs), QPointF(end, lufs)}}, name, colour, 1.0);
        QList<QAbstractSeries*> all = c->series();
        auto* line = static_cast<QLineSeries*>(all.back());
        QPen pen = line->pen();
        pen.setStyle(Qt::DashLine);
        line->setPen(pen);
    };
    if (input.integratedLufs) {
        level(*input.integratedLufs,
              QStringLiteral("Integrated (mix) %1 LUFS").arg(*input.integratedLufs, 0, 'f', 1),
              seriesColor(0).lighter(130));
    }
    if (targetLufs) {
        level(*targetLufs, QStringLiteral("Target %1 LUFS").arg(*targetLufs, 0, 'f', 1), seriesColor(2));
    }
    setRegion(m_regionBegin, m_regionEnd);
    if (m_playhead >= 0) {
        setPlayhead(m_playhead);
    }
}

QStringList LoudnessView::markerLabels() const {
    return m_markerAxis != nullptr ? m_markerAxis->categoriesLabels() : QStringList();
}

double LoudnessView::secondsAt(const QPointF& pos) const {
    if (chart()->series().isEmpty()) {
        return -1;
    }
    return chart()
        ->mapToValue(chart()->mapFromScene(mapToScene(pos.toPoint())), chart()->series().front())
        .x();
}

double LoudnessView::xOfSeconds(double seconds) const {
    if (chart()->series().isEmpty()) {
        return 0;
    }
    const QPointF scene =
        chart()->mapToScene(chart()->mapToPosition(QPointF(seconds, -30), chart()->series().front()));
    return mapFromScene(scene).x();
}

void LoudnessView::mousePressEvent(QMouseEvent* e) {
    m_pressSeconds = chart()->plotArea().contains(chart()->mapFromScene(mapToScene(e->position().toPoint())))
                         ? secondsAt(e->position())
                         : -1;
    QChartView::mousePressEvent(e);
}

void LoudnessView::mouseReleaseEvent(QMouseEvent* e) {
    QChartView::mouseReleaseEvent(e);
    if (m_pressSeconds < 0) {
        return;
    }
    const double t = std::max(0.0, secondsAt(e->position()));
    const double a = std::min(m_pressSeconds, t);
    const double b = std::max(m_pressSeconds, t);
    m_pressSeconds = -1;
    constexpr double kMinRegionSeconds = 0.2; // shorter: a click, not a drag
    if (b - a >= kMinRegionSeconds) {
        Q_EMIT regionSelected(a, b);
    } else {
        Q_EMIT positionClicked(a);
    }
}

void LoudnessView::setPlayhead(double seconds) {
    m_playhead = seconds;
    if (chart()->axes().size() < 2) {
        return;
    }
    if (m_playheadSeries == nullptr) {
        m_playheadSeries = new QLineSeries;
        m_playheadSeries->setName(QStringLiteral("Playhead"));
        m_playheadSeries->setPen(QPen(QColor(0xf0, 0xf0, 0xf0), 1.2));
        chart()->addSeries(m_playheadSeries);
        for (QAbstractAxis* a : chart()->axes()) {
            m_playheadSeries->attachAxis(a);
        }
    }
    m_playheadSeries->replace(seconds < 0 ? QList<QPointF>{}
                                          : QList<QPointF>{{seconds, -60.0}, {seconds, 0.0}});
}

void LoudnessView::setRegion(double beginSeconds, double endSeconds) {
    m_regionBegin = beginSeconds;
    m_regionEnd = endSeconds;
    if (m_regionSeries != nullptr) {
        chart()->removeSeries(m_regionSeries);
        delete m_regionSeries;
        m_regionSeries = nullptr;
    }
    if (endSeconds <= beginSeconds || chart()->axes().size() < 2) {
        return;
    }
    auto* upper = new QLineSeries;
    auto* lower = new QLineSeries;
    upper->append({{beginSeconds, 0}, {endSeconds, 0}});
    lower->append({{beginSeconds, -60}, {endSeconds, -60}});
    m_regionSeries = new QAreaSeries(upper, lower);
    m_regionSeries->setName(QStringLiteral("Loop"));
    m_regionSeries->setColor(QColor(0x5d, 0xa9, 0xe9, 40));
    m_regionSeries->setBorderColor(QColor(0x5d, 0xa9, 0xe9, 120));
    chart()->addSeries(m_regionSeries);
    for (QAbstractAxis* a : chart()->axes()) {
        m_regionSeries->attachAxis(a);
    }
}

int LoudnessView::pointCount() const {
    return linePointCount(*chart());
}

} // namespace lathe::ui

// SPDX-License-Identifier: GPL-3.0-or-later
#include "LoudnessView.h"

#include "Theme.h"
#include "models/PlotData.h"

#include <QChart>
#include <QLineSeries>
#include <QValueAxis>

namespace lathe::ui {

LoudnessView::LoudnessView(QWidget* parent) : QChartView(new QChart, parent) {
    setRenderHint(QPainter::Antialiasing);
    styleChart(*chart());
    chart()->setTitle(QStringLiteral("Loudness history"));
}

void LoudnessView::show(const LoudnessResult& input, const LoudnessResult* master,
                        std::optional<double> targetLufs) {
    QChart* c = chart();
    clearChart(*c);
    constexpr double kFloor = -60.0;
    auto* x = new QValueAxis;
    auto* y = new QValueAxis;
    y->setRange(kFloor, 0);
    y->setTickCount(7);
    addAxis(*c, x, Qt::AlignBottom, QStringLiteral("Time (s)"));
    addAxis(*c, y, Qt::AlignLeft, QStringLiteral("Loudness (LUFS)"));
    auto add = [&](const Series& s, const QString& name, const QColor& colour, qreal width) {
        auto* line = new QLineSeries;
        line->setName(name);
        line->replace(s.points);
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
}

int LoudnessView::pointCount() const {
    return linePointCount(*chart());
}

} // namespace lathe::ui

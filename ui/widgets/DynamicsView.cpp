// SPDX-License-Identifier: GPL-3.0-or-later
#include "DynamicsView.h"

#include "Theme.h"
#include "models/PlotData.h"

#include <QChart>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

namespace lathe::ui {

DynamicsView::DynamicsView(QWidget* parent) : QChartView(new QChart, parent) {
    setRenderHint(QPainter::Antialiasing);
    styleChart(*chart());
    chart()->setTitle(QStringLiteral("Gain reduction: master a file to see its dynamics"));
}

void DynamicsView::show(const std::vector<GainReductionSeries>& series) {
    QChart* c = chart();
    clearChart(*c);
    if (series.empty()) {
        c->setTitle(QStringLiteral("Gain reduction: master a file to see its dynamics"));
        return;
    }
    c->setTitle(QStringLiteral("Gain reduction of the master's dynamics stages"));
    auto* x = new QValueAxis;
    auto* y = new QValueAxis;
    addAxis(*c, x, Qt::AlignBottom, QStringLiteral("Time (s)"));
    addAxis(*c, y, Qt::AlignLeft, QStringLiteral("Gain reduction (dB)"));
    double end = 1;
    double most = 1;
    int n = 0;
    for (const GainReductionSeries& s : series) {
        auto* line = new QLineSeries;
        line->setName(QString::fromStdString(s.label));
        QList<QPointF> pts;
        pts.reserve(static_cast<qsizetype>(s.reductionDb.size()));
        for (std::size_t i = 0; i < s.reductionDb.size(); ++i) {
            // Drawn downwards, as meters show reduction.
            pts.append({static_cast<double>(i) * s.stepSeconds, -s.reductionDb[i]});
            most = std::max(most, s.reductionDb[i]);
        }
        end = std::max(end, static_cast<double>(s.reductionDb.size()) * s.stepSeconds);
        line->replace(decimateMinMax(pts, 4000)); // long files: min and max per bucket, ~2 per pixel
        QPen pen(seriesColor(n++));
        pen.setWidthF(1.4);
        line->setPen(pen);
        c->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
    }
    x->setRange(0, end);
    y->setRange(-std::ceil(most + 0.5), 0.0);
    y->applyNiceNumbers();
}

int DynamicsView::pointCount() const {
    return linePointCount(*chart());
}

} // namespace lathe::ui

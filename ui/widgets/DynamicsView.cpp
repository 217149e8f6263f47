// SPDX-License-Identifier: GPL-3.0-or-later
#include "DynamicsView.h"

#include "Theme.h"

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
    c->removeAllSeries();
    for (QAbstractAxis* a : c->axes()) {
        c->removeAxis(a);
        delete a;
    }
    if (series.empty()) {
        c->setTitle(QStringLiteral("Gain reduction: master a file to see its dynamics"));
        return;
    }
    c->setTitle(QStringLiteral("Gain reduction of the master's dynamics stages"));
    auto* x = new QValueAxis;
    x->setTitleText(QStringLiteral("Time (s)"));
    auto* y = new QValueAxis;
    y->setTitleText(QStringLiteral("Gain reduction (dB)"));
    for (QValueAxis* a : {x, y}) {
        a->setLabelsColor(QColor(0xb8, 0xbc, 0xc4));
        a->setTitleBrush(QColor(0xb8, 0xbc, 0xc4));
        a->setGridLineColor(QColor(0x33, 0x37, 0x3d));
        a->setLinePenColor(QColor(0x55, 0x5a, 0x62));
    }
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
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
        line->replace(pts);
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
    int n = 0;
    for (QAbstractSeries* s : chart()->series()) {
        n += static_cast<int>(static_cast<QLineSeries*>(s)->count());
    }
    return n;
}

} // namespace lathe::ui

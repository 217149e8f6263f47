// SPDX-License-Identifier: GPL-3.0-or-later
#include "CorrelationView.h"

#include "Theme.h"

#include <QChart>
#include <QLineSeries>
#include <QValueAxis>
#include <cmath>

namespace lathe::ui {

CorrelationView::CorrelationView(QWidget* parent) : QChartView(new QChart, parent) {
    setRenderHint(QPainter::Antialiasing);
    styleChart(*chart());
    chart()->setTitle(QStringLiteral("Stereo correlation (+1 mono, 0 wide, −1 out of phase)"));
}

void CorrelationView::show(const StereoImage& stereo, const QString& which) {
    QChart* c = chart();
    c->setTitle(QStringLiteral("Stereo correlation of the %1 (+1 mono, 0 wide, −1 out of phase)").arg(which));
    c->removeAllSeries();
    for (QAbstractAxis* a : c->axes()) {
        c->removeAxis(a);
        delete a;
    }
    auto* x = new QValueAxis;
    x->setTitleText(QStringLiteral("Time (s)"));
    auto* y = new QValueAxis;
    y->setTitleText(QStringLiteral("Correlation"));
    y->setRange(-1, 1);
    y->setTickCount(9);
    for (QValueAxis* a : {x, y}) {
        a->setLabelsColor(QColor(0xb8, 0xbc, 0xc4));
        a->setTitleBrush(QColor(0xb8, 0xbc, 0xc4));
        a->setGridLineColor(QColor(0x33, 0x37, 0x3d));
        a->setLinePenColor(QColor(0x55, 0x5a, 0x62));
    }
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    const std::vector<double>* curves[2] = {&stereo.correlation100ms, &stereo.correlation3s};
    const char* names[2] = {"100 ms", "3 s"};
    double end = 1;
    for (int k = 0; k < 2; ++k) {
        auto* line = new QLineSeries;
        line->setName(QString::fromLatin1(names[k]));
        QList<QPointF> pts;
        for (std::size_t i = 0; i < curves[k]->size(); ++i) {
            const double v = (*curves[k])[i];
            if (std::isfinite(v)) { // NaN: a silent channel, or before the window has filled
                pts.append({static_cast<double>(i + 1) * stereo.stepSeconds, v});
            }
        }
        end = std::max(end, static_cast<double>(curves[k]->size()) * stereo.stepSeconds);
        line->replace(pts);
        QPen pen(k == 0 ? seriesColor(0).darker(150) : seriesColor(2));
        pen.setWidthF(k == 0 ? 1.0 : 2.0);
        line->setPen(pen);
        c->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
    }
    x->setRange(0, end);
}

int CorrelationView::pointCount() const {
    int n = 0;
    for (QAbstractSeries* s : chart()->series()) {
        n += static_cast<int>(static_cast<QLineSeries*>(s)->count());
    }
    return n;
}

} // namespace lathe::ui

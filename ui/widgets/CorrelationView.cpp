// SPDX-License-Identifier: GPL-3.0-or-later
#include "CorrelationView.h"

#include "Theme.h"
#include "models/PlotData.h"

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
    clearChart(*c);
    auto* x = new QValueAxis;
    auto* y = new QValueAxis;
    y->setRange(-1, 1);
    y->setTickCount(9);
    addAxis(*c, x, Qt::AlignBottom, QStringLiteral("Time (s)"));
    addAxis(*c, y, Qt::AlignLeft, QStringLiteral("Correlation"));
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
        line->replace(decimateMinMax(pts, 4000)); // long files: min and max per bucket, ~2 per pixel
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
    return linePointCount(*chart());
}

} // namespace lathe::ui

// SPDX-License-Identifier: GPL-3.0-or-later
#include "HistogramView.h"

#include "Theme.h"

#include <QChart>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>

namespace lathe::ui {
namespace {

/// The share of time (percent) in each 1 LU bin of short-term loudness, as a step outline.
QList<QPointF> outline(const LoudnessHistogram& h, double& top) {
    double total = 0;
    for (std::int64_t n : h.shortTermCounts) {
        total += static_cast<double>(n);
    }
    QList<QPointF> pts;
    if (total <= 0) {
        return pts;
    }
    for (std::size_t k = 0; k < h.shortTermCounts.size(); ++k) {
        const double lo = h.lowLufs + static_cast<double>(k) * h.binLu;
        const double pct = 100.0 * static_cast<double>(h.shortTermCounts[k]) / total;
        pts.append({lo, pct});
        pts.append({lo + h.binLu, pct});
        top = std::max(top, pct);
    }
    return pts;
}

} // namespace

HistogramView::HistogramView(QWidget* parent) : QChartView(new QChart, parent) {
    setRenderHint(QPainter::Antialiasing);
    styleChart(*chart());
    chart()->setTitle(QStringLiteral("Short-term loudness distribution"));
}

void HistogramView::show(const LoudnessResult& input, const LoudnessResult* master) {
    QChart* c = chart();
    clearChart(*c);
    auto* x = new QValueAxis;
    auto* y = new QValueAxis;
    addAxis(*c, x, Qt::AlignBottom, QStringLiteral("Short-term loudness (LUFS)"));
    addAxis(*c, y, Qt::AlignLeft, QStringLiteral("Time (%)"));
    double top = 1;
    QPen mixPen(seriesColor(0));
    mixPen.setWidthF(1.6);
    addLine(*c, QStringLiteral("Mix"), outline(input.histogram, top), mixPen, x, y);
    if (master != nullptr) {
        QPen masterPen(seriesColor(1));
        masterPen.setWidthF(1.6);
        addLine(*c, QStringLiteral("Master"), outline(master->histogram, top), masterPen, x, y);
    }
    x->setRange(-50, 0);
    x->setTickCount(11);
    y->setRange(0, top * 1.1);
    y->applyNiceNumbers();
}

int HistogramView::pointCount() const {
    return linePointCount(*chart());
}

} // namespace lathe::ui

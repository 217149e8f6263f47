// SPDX-License-Identifier: GPL-3.0-or-later
#include "SpectrumView.h"

#include "Theme.h"
#include "models/PlotData.h"

#include <QChart>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <tuple>

namespace lathe::ui {

SpectrumView::SpectrumView(QWidget* parent) : QChartView(new QChart, parent) {
    setRenderHint(QPainter::Antialiasing);
    styleChart(*chart());
    chart()->setTitle(QStringLiteral("Long-term spectrum (mid)"));
}

void SpectrumView::show(const LongTermSpectrum& input, const LongTermSpectrum* master, const QString& curve,
                        int smoothing) {
    QChart* c = chart();
    clearChart(*c);
    m_differencePoints = 0;
    auto* x = new QLogValueAxis;
    x->setBase(10);
    x->setLabelFormat(QStringLiteral("%g"));
    x->setMinorTickCount(8);
    x->setRange(20, 20000);
    auto* y = new QValueAxis;
    addAxis(*c, x, Qt::AlignBottom, QStringLiteral("Frequency (Hz)"));
    addAxis(*c, y, Qt::AlignLeft, QStringLiteral("Level (dB, sine-calibrated)"));
    double top = -200;
    // The requested curve when the analysis has it, else the mid (or first) one.
    auto pick = [&](const QList<Series>& curves) -> const Series* {
        const Series* fallback = curves.isEmpty() ? nullptr : &curves.front();
        for (const Series& cv : curves) {
            if (cv.name == curve) {
                return &cv;
            }
            if (cv.name == QLatin1String("M")) {
                fallback = &cv;
            }
        }
        return fallback;
    };
    const QList<Series> mixCurves = spectrumSeries(input, smoothing);
    const Series* mix = pick(mixCurves);
    const QList<Series> masterCurves =
        master != nullptr ? spectrumSeries(*master, smoothing) : QList<Series>();
    const Series* mastered = pick(masterCurves);
    const QString which = mix != nullptr ? mix->name : curve;
    c->setTitle(QStringLiteral("Long-term spectrum (%1, %2)")
                    .arg(which == QLatin1String("M")   ? QStringLiteral("mid")
                         : which == QLatin1String("S") ? QStringLiteral("side")
                                                       : which,
                         smoothing > 0 ? QStringLiteral("1/%1-octave smoothing").arg(smoothing)
                                       : QStringLiteral("no smoothing")));
    for (const auto& [s, name, colour] : {std::tuple{mix, QStringLiteral("Mix"), seriesColor(0)},
                                          std::tuple{mastered, QStringLiteral("Master"), seriesColor(1)}}) {
        if (s == nullptr) {
            continue;
        }
        QPen pen(colour);
        pen.setWidthF(1.6);
        addLine(*c, name, s->points, pen, x, y);
        for (const QPointF& p : s->points) {
            top = std::max(top, p.y());
        }
    }
    const double upper = std::ceil((top + 3) / 10) * 10;
    y->setRange(upper - 90, upper);
    y->setTickCount(10);
    // Master − mix at the same frequencies (same rate: the same display grid and bin width).
    if (mix != nullptr && mastered != nullptr && mix->points.size() == mastered->points.size() &&
        input.binHz == master->binHz) {
        QList<QPointF> diff;
        for (qsizetype k = 0; k < mix->points.size(); ++k) {
            diff.append({mix->points[k].x(), mastered->points[k].y() - mix->points[k].y()});
        }
        auto* d = new QValueAxis;
        addAxis(*c, d, Qt::AlignRight, QStringLiteral("Master − mix (dB)"));
        d->setRange(-12, 12);
        d->setTickCount(9);
        d->setGridLineVisible(false);
        QPen pen(seriesColor(2));
        pen.setWidthF(1.2);
        pen.setStyle(Qt::DashLine);
        addLine(*c, QStringLiteral("Difference"), diff, pen, x, d);
        m_differencePoints = static_cast<int>(diff.size());
    }
}

int SpectrumView::pointCount() const {
    return linePointCount(*chart());
}

} // namespace lathe::ui

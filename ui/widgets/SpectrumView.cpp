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

namespace lathe::ui {

SpectrumView::SpectrumView(QWidget* parent) : QChartView(new QChart, parent) {
    setRenderHint(QPainter::Antialiasing);
    styleChart(*chart());
    chart()->setTitle(QStringLiteral("Long-term spectrum (mid)"));
}

void SpectrumView::show(const LongTermSpectrum& input, const LongTermSpectrum* master) {
    QChart* c = chart();
    clearChart(*c);
    auto* x = new QLogValueAxis;
    x->setBase(10);
    x->setLabelFormat(QStringLiteral("%g"));
    x->setMinorTickCount(8);
    x->setRange(20, 20000);
    auto* y = new QValueAxis;
    addAxis(*c, x, Qt::AlignBottom, QStringLiteral("Frequency (Hz)"));
    addAxis(*c, y, Qt::AlignLeft, QStringLiteral("Level (dB, sine-calibrated)"));
    double top = -200;
    auto add = [&](const LongTermSpectrum& s, const QString& name, const QColor& colour) {
        const QList<Series> curves = spectrumSeries(s);
        if (curves.isEmpty()) {
            return;
        }
        // The mid curve ("M") when there is one, else the first channel.
        const Series* pick = &curves.front();
        for (const Series& cv : curves) {
            if (cv.name == QLatin1String("M")) {
                pick = &cv;
            }
        }
        auto* line = new QLineSeries;
        line->setName(name);
        line->replace(pick->points);
        QPen pen(colour);
        pen.setWidthF(1.6);
        line->setPen(pen);
        c->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
        for (const QPointF& p : pick->points) {
            top = std::max(top, p.y());
        }
    };
    add(input, QStringLiteral("Mix"), seriesColor(0));
    if (master != nullptr) {
        add(*master, QStringLiteral("Master"), seriesColor(1));
    }
    const double upper = std::ceil((top + 3) / 10) * 10;
    y->setRange(upper - 90, upper);
    y->setTickCount(10);
}

int SpectrumView::pointCount() const {
    return linePointCount(*chart());
}

} // namespace lathe::ui

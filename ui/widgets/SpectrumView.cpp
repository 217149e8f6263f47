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
    c->removeAllSeries();
    for (QAbstractAxis* a : c->axes()) {
        c->removeAxis(a);
        delete a;
    }
    auto* x = new QLogValueAxis;
    x->setTitleText(QStringLiteral("Frequency (Hz)"));
    x->setBase(10);
    x->setLabelFormat(QStringLiteral("%g"));
    x->setMinorTickCount(8);
    x->setRange(20, 20000);
    auto* y = new QValueAxis;
    y->setTitleText(QStringLiteral("Level (dB, sine-calibrated)"));
    for (QAbstractAxis* a : {static_cast<QAbstractAxis*>(x), static_cast<QAbstractAxis*>(y)}) {
        a->setLabelsColor(QColor(0xb8, 0xbc, 0xc4));
        a->setTitleBrush(QColor(0xb8, 0xbc, 0xc4));
        a->setGridLineColor(QColor(0x33, 0x37, 0x3d));
        a->setMinorGridLineColor(QColor(0x26, 0x29, 0x2e));
        a->setLinePenColor(QColor(0x55, 0x5a, 0x62));
    }
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
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
    int n = 0;
    for (QAbstractSeries* s : chart()->series()) {
        n += static_cast<int>(static_cast<QLineSeries*>(s)->count());
    }
    return n;
}

} // namespace lathe::ui

// SPDX-License-Identifier: GPL-3.0-or-later
#include "TranslationView.h"

#include "Theme.h"

#include <QChart>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

namespace lathe::ui {

TranslationView::TranslationView(QWidget* parent) : QChartView(new QChart, parent) {
    setRenderHint(QPainter::Antialiasing);
    styleChart(*chart());
    chart()->setTitle(QStringLiteral("Translation: difference from the monitors, level-matched"));
}

void TranslationView::show(const TranslationResult& result, const QString& which) {
    QChart* c = chart();
    c->setTitle(
        QStringLiteral("Translation of the %1: each speaker vs the monitors, level-matched").arg(which));
    clearChart(*c);
    auto* x = new QLogValueAxis;
    x->setLabelFormat(QStringLiteral("%g"));
    x->setMinorTickCount(8);
    x->setRange(20, 20000);
    auto* y = new QValueAxis;
    y->setRange(-40, 12);
    y->setTickCount(14);
    addAxis(*c, x, Qt::AlignBottom, QStringLiteral("Frequency (Hz)"));
    addAxis(*c, y, Qt::AlignLeft, QStringLiteral("Difference (dB)"));
    int n = 0;
    for (const SpeakerMetrics& m : result.models) {
        if (m.reference) {
            continue;
        }
        auto* line = new QLineSeries;
        line->setName(QString::fromStdString(m.name));
        QList<QPointF> pts;
        for (std::size_t k = 0; k < result.curveHz.size() && k < m.curveDifferenceDb.size(); ++k) {
            const double d = m.curveDifferenceDb[k];
            if (std::isfinite(d) && result.curveHz[k] >= 20 && result.curveHz[k] <= 20000) {
                pts.append({result.curveHz[k], std::clamp(d, -40.0, 12.0)});
            }
        }
        line->replace(pts);
        QPen pen(n < 6 ? seriesColor(n) : seriesColor(n).lighter(150));
        pen.setWidthF(1.6);
        if (n >= 6) {
            pen.setStyle(Qt::DashLine);
        }
        line->setPen(pen);
        c->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
        ++n;
    }
}

int TranslationView::pointCount() const {
    return linePointCount(*chart());
}

} // namespace lathe::ui

// SPDX-License-Identifier: GPL-3.0-or-later
#include "StereoBandsView.h"

#include "Theme.h"

#include <QChart>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QValueAxis>
#include <cmath>

namespace lathe::ui {

StereoBandsView::StereoBandsView(QWidget* parent) : QChartView(new QChart, parent) {
    setRenderHint(QPainter::Antialiasing);
    styleChart(*chart());
    chart()->setTitle(QStringLiteral("Width per octave band: side energy relative to mid (0 dB: side as loud "
                                     "as mid; −40 dB and below: mono)"));
}

void StereoBandsView::show(const StereoImage& mix, const StereoImage* master) {
    QChart* c = chart();
    clearChart(*c);
    auto* x = new QLogValueAxis;
    x->setLabelFormat(QStringLiteral("%g"));
    x->setRange(20, 20000);
    auto* y = new QValueAxis;
    addAxis(*c, x, Qt::AlignBottom, QStringLiteral("Octave band centre (Hz)"));
    addAxis(*c, y, Qt::AlignLeft, QStringLiteral("Side − mid (dB)"));
    y->setRange(-40, 5);
    y->setTickCount(10);
    int n = 0;
    for (const StereoImage* s : {&mix, master}) {
        if (s == nullptr) {
            continue;
        }
        QList<QPointF> pts;
        for (std::size_t k = 0; k < s->bandCentreHz.size() && k < s->sideToMidDb.size(); ++k) {
            if (std::isfinite(s->sideToMidDb[k])) {
                pts.append({s->bandCentreHz[k], std::max(-40.0, s->sideToMidDb[k])});
            }
        }
        QPen pen(seriesColor(n));
        pen.setWidthF(1.6);
        addLine(*c, n == 0 ? QStringLiteral("Mix") : QStringLiteral("Master"), pts, pen, x, y);
        ++n;
    }
}

int StereoBandsView::pointCount() const {
    return linePointCount(*chart());
}

} // namespace lathe::ui

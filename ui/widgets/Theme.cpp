// SPDX-License-Identifier: GPL-3.0-or-later
#include "Theme.h"

#include <QAbstractAxis>
#include <QApplication>
#include <QChart>
#include <QLineSeries>
#include <QPalette>
#include <QStyleFactory>

namespace lathe::ui {

void applyStudioTheme(QApplication& app) {
    app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QPalette p;
    const QColor window(0x20, 0x22, 0x26);
    const QColor base(0x17, 0x19, 0x1c);
    const QColor text(0xdc, 0xde, 0xe2);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x1d, 0x20, 0x24));
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x2b, 0x2e, 0x33));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x7e, 0xc4));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::PlaceholderText, QColor(0x8a, 0x8f, 0x98));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x70, 0x74, 0x7a));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x70, 0x74, 0x7a));
    app.setPalette(p);
}

void styleChart(QChart& chart) {
    chart.setBackgroundBrush(QColor(0x17, 0x19, 0x1c));
    chart.setPlotAreaBackgroundBrush(QColor(0x12, 0x14, 0x17));
    chart.setPlotAreaBackgroundVisible(true);
    chart.setTitleBrush(QColor(0xdc, 0xde, 0xe2));
    chart.legend()->setLabelColor(QColor(0xdc, 0xde, 0xe2));
    chart.setBackgroundRoundness(0);
    chart.setMargins(QMargins(6, 6, 6, 6));
}

QColor seriesColor(int n) {
    static const QColor colors[] = {QColor(0x5d, 0xa9, 0xe9), QColor(0xf0, 0x9a, 0x3e),
                                    QColor(0x7c, 0xc4, 0x7f), QColor(0xd0, 0x6c, 0xc4),
                                    QColor(0xe0, 0x5a, 0x4f), QColor(0xc8, 0xc8, 0x70)};
    return colors[n % 6];
}

void clearChart(QChart& chart) {
    chart.removeAllSeries();
    for (QAbstractAxis* a : chart.axes()) {
        chart.removeAxis(a);
        delete a;
    }
}

void addAxis(QChart& chart, QAbstractAxis* axis, Qt::Alignment alignment, const QString& title) {
    axis->setTitleText(title);
    axis->setLabelsColor(QColor(0xb8, 0xbc, 0xc4));
    axis->setTitleBrush(QColor(0xb8, 0xbc, 0xc4));
    axis->setGridLineColor(QColor(0x33, 0x37, 0x3d));
    axis->setMinorGridLineColor(QColor(0x26, 0x29, 0x2e));
    axis->setLinePenColor(QColor(0x55, 0x5a, 0x62));
    chart.addAxis(axis, alignment);
}

QLineSeries* addLine(QChart& chart, const QString& name, const QList<QPointF>& points, const QPen& pen,
                     QAbstractAxis* x, QAbstractAxis* y) {
    auto* line = new QLineSeries;
    line->setName(name);
    line->replace(points);
    line->setPen(pen);
    chart.addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
    return line;
}

int linePointCount(const QChart& chart) {
    int n = 0;
    for (QAbstractSeries* s : chart.series()) {
        if (auto* line = qobject_cast<QLineSeries*>(s)) {
            n += static_cast<int>(line->count());
        }
    }
    return n;
}

} // namespace lathe::ui

// SPDX-License-Identifier: GPL-3.0-or-later
#include "Theme.h"

#include <QApplication>
#include <QChart>
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

} // namespace lathe::ui

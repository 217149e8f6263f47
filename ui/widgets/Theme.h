// Lathe Studio: the dark studio theme (Fusion style, a dark palette, chart colours).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QColor>

class QApplication;
class QChart;

namespace lathe::ui {

void applyStudioTheme(QApplication& app);
/// Dark background, light axes and labels, the app's series colours.
void styleChart(QChart& chart);
/// The n-th series colour (before, after, channels …).
QColor seriesColor(int n);

} // namespace lathe::ui

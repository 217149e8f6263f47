// Lathe Studio: the dark studio theme (Fusion style, a dark palette, chart colours).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QColor>
#include <QList>
#include <QPointF>
#include <QString>

class QAbstractAxis;
class QApplication;
class QChart;
class QLineSeries;
class QPen;

namespace lathe::ui {

void applyStudioTheme(QApplication& app);
/// Dark background, light axes and labels, the app's series colours.
void styleChart(QChart& chart);
/// The n-th series colour (before, after, channels …).
QColor seriesColor(int n);

/// Removes every series and axis of `chart` (a view redrawn with new data).
void clearChart(QChart& chart);
/// Titles `axis`, styles it for the dark theme and adds it to `chart` at `alignment`.
void addAxis(QChart& chart, QAbstractAxis* axis, Qt::Alignment alignment, const QString& title);
/// A line through `points`, attached to the axes `x` and `y`.
QLineSeries* addLine(QChart& chart, const QString& name, const QList<QPointF>& points, const QPen& pen,
                     QAbstractAxis* x, QAbstractAxis* y);
/// The points of every line series of `chart` (tests: a view with data has some).
int linePointCount(const QChart& chart);

} // namespace lathe::ui

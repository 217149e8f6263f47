// Lathe Studio: what the master's dynamics stages did over time — gain reduction per multiband
// band and of the limiter (dB, the largest reduction in each step).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/HtmlReport.h>

#include <QChartView>
#include <vector>

namespace lathe::ui {

class DynamicsView final : public QChartView {
    Q_OBJECT
public:
    explicit DynamicsView(QWidget* parent = nullptr);
    /// Empty `series`: says there is no master yet.
    void show(const std::vector<GainReductionSeries>& series);
    int pointCount() const;
};

} // namespace lathe::ui

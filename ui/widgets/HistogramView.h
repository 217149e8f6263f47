// Lathe Studio: the distribution of short-term loudness (share of time per 1 LU), mix and master.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Loudness.h>

#include <QChartView>

namespace lathe::ui {

class HistogramView final : public QChartView {
    Q_OBJECT
public:
    explicit HistogramView(QWidget* parent = nullptr);
    void show(const LoudnessResult& input, const LoudnessResult* master);
    int pointCount() const;
};

} // namespace lathe::ui

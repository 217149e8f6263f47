// Lathe Studio: loudness history (momentary, short-term, integrated and target lines over time).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Loudness.h>

#include <QChartView>
#include <optional>

namespace lathe::ui {

class LoudnessView final : public QChartView {
    Q_OBJECT
public:
    explicit LoudnessView(QWidget* parent = nullptr);
    /// Draws `loudness` (and the master's short-term line when given) with a target line.
    void show(const LoudnessResult& input, const LoudnessResult* master, std::optional<double> targetLufs);
    /// Points drawn (for tests: a view with data has some).
    int pointCount() const;
};

} // namespace lathe::ui

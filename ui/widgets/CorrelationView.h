// Lathe Studio: stereo correlation over time (100 ms and 3 s windows), −1 … +1.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Spectrum.h>

#include <QChartView>

namespace lathe::ui {

class CorrelationView final : public QChartView {
    Q_OBJECT
public:
    explicit CorrelationView(QWidget* parent = nullptr);
    /// `which` names the file in the title ("mix", "master").
    void show(const StereoImage& stereo, const QString& which);
    int pointCount() const;
};

} // namespace lathe::ui

// Lathe Studio: stereo width per octave band — side energy relative to mid (dB).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Spectrum.h>

#include <QChartView>

namespace lathe::ui {

class StereoBandsView final : public QChartView {
    Q_OBJECT
public:
    explicit StereoBandsView(QWidget* parent = nullptr);
    void show(const StereoImage& mix, const StereoImage* master);
    int pointCount() const;
};

} // namespace lathe::ui

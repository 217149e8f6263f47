// Lathe Studio: the long-term spectrum, mix and master overlaid, on a log frequency axis.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Spectrum.h>

#include <QChartView>

namespace lathe::ui {

class SpectrumView final : public QChartView {
    Q_OBJECT
public:
    explicit SpectrumView(QWidget* parent = nullptr);
    /// The mid curve of each (or the first channel for mono); `master` may be null.
    void show(const LongTermSpectrum& input, const LongTermSpectrum* master);
    int pointCount() const;
};

} // namespace lathe::ui

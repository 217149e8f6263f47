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
    /// Curve `curve` ("M", "S", "L", "R", … as the analysis labels them; the mid — or first —
    /// curve when absent) of each file at 1/`smoothing` octave (0: none); with a master, also the
    /// difference master − mix on a right-hand axis. `master` may be null.
    void show(const LongTermSpectrum& input, const LongTermSpectrum* master,
              const QString& curve = QStringLiteral("M"), int smoothing = 6);
    /// Points of the difference curve (0 without a master).
    int differencePoints() const { return m_differencePoints; }
    int pointCount() const;

private:
    int m_differencePoints = 0;
};

} // namespace lathe::ui

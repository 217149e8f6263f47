// Lathe Studio: each speaker model's level-matched difference from the monitors (1/6 octave).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Translation.h>

#include <QChartView>

namespace lathe::ui {

class TranslationView final : public QChartView {
    Q_OBJECT
public:
    explicit TranslationView(QWidget* parent = nullptr);
    void show(const TranslationResult& result, const QString& which);
    int pointCount() const;
};

} // namespace lathe::ui

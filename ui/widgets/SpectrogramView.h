// Lathe Studio: the spectrogram (time × log frequency, colour = level) with its dB scale.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <lathe/Spectrum.h>

#include <QImage>
#include <QWidget>

namespace lathe::ui {

class SpectrogramView final : public QWidget {
    Q_OBJECT
public:
    explicit SpectrogramView(QWidget* parent = nullptr);
    /// `which` names the file in the title ("mix", "master").
    void show(const Spectrogram& s, const QString& which);
    bool hasData() const { return !m_image.isNull(); }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    QImage m_image; ///< one pixel per cell, row 0 at the bottom
    QString m_which;
    double m_seconds = 0;
    double m_lowHz = 20;
    double m_highHz = 20000;
};

} // namespace lathe::ui

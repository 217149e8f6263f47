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
    /// The time span shown (seconds): all of it until the wheel zooms in.
    std::pair<double, double> visibleSeconds() const { return {m_viewBegin, m_viewEnd}; }
    /// The frequency span shown (Hz): all of it until Ctrl+wheel zooms in.
    std::pair<double, double> visibleHz() const { return {m_viewLowHz, m_viewHighHz}; }
    /// The frequency at height `y` of the widget (log axis; tests drive the wheel with it).
    double hzAt(double y) const;

protected:
    void paintEvent(QPaintEvent*) override;
    /// The wheel zooms the time axis around the mouse (down to 1 s), Ctrl+wheel the frequency
    /// axis (down to one octave); a double click shows it all.
    void wheelEvent(QWheelEvent* e) override;
    void mouseDoubleClickEvent(QMouseEvent* e) override;

private:
    QImage m_image; ///< one pixel per cell, row 0 at the bottom
    QString m_which;
    double m_seconds = 0;
    double m_viewBegin = 0;
    double m_viewEnd = 0;
    QRect plotRect() const;
    double m_lowHz = 20; ///< the image's rows span [m_lowHz, m_highHz], log-spaced
    double m_highHz = 20000;
    double m_viewLowHz = 20;
    double m_viewHighHz = 20000;
};

} // namespace lathe::ui

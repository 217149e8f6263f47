// SPDX-License-Identifier: GPL-3.0-or-later
#include "SpectrogramView.h"

#include "models/PlotData.h"

#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace lathe::ui {
namespace {

/// The displayed range: 0 dBFS down to −120 dB (below: black).
constexpr double kTopDb = 0.0;
constexpr double kRangeDb = 120.0;

/// A perceptually ordered dark-to-bright palette (black → blue → magenta → orange → yellow).
QRgb colourFor(double t) {
    t = std::clamp(t, 0.0, 1.0);
    static const QColor stops[] = {QColor(0, 0, 4),      QColor(40, 11, 84),   QColor(101, 21, 110),
                                   QColor(159, 42, 99),  QColor(212, 72, 66),  QColor(245, 125, 21),
                                   QColor(250, 193, 39), QColor(252, 255, 164)};
    const double x = t * 7.0;
    const int i = std::min(6, static_cast<int>(x));
    const double f = x - i;
    const QColor& a = stops[i];
    const QColor& b = stops[i + 1];
    return qRgb(static_cast<int>(a.red() + f * (b.red() - a.red())),
                static_cast<int>(a.green() + f * (b.green() - a.green())),
                static_cast<int>(a.blue() + f * (b.blue() - a.blue())));
}

} // namespace

SpectrogramView::SpectrogramView(QWidget* parent) : QWidget(parent) {
    setMinimumSize(400, 240);
    setToolTip(QStringLiteral("Wheel: zoom time · Ctrl+wheel: zoom frequency · double click: show all"));
}

void SpectrogramView::show(const Spectrogram& s, const QString& which) {
    m_which = which;
    if (s.rows <= 0 || s.columns <= 0 || s.maxDb.size() < static_cast<std::size_t>(s.rows) * s.columns) {
        m_image = QImage();
        update();
        return;
    }
    m_image = QImage(s.columns, s.rows, QImage::Format_RGB32);
    for (int r = 0; r < s.rows; ++r) {
        auto* line = reinterpret_cast<QRgb*>(m_image.scanLine(s.rows - 1 - r));
        for (int c = 0; c < s.columns; ++c) {
            const float db = s.maxDb[static_cast<std::size_t>(r) * s.columns + c];
            line[c] = colourFor(std::isfinite(db) ? (db - (kTopDb - kRangeDb)) / kRangeDb : 0.0);
        }
    }
    m_seconds = s.secondsPerColumn * s.columns;
    m_viewBegin = 0;
    m_viewEnd = m_seconds;
    m_lowHz = s.rowLowHz.empty() ? 20.0 : std::max(1.0, s.rowLowHz.front());
    m_highHz = s.rowHighHz.empty() ? 20000.0 : s.rowHighHz.back();
    m_viewLowHz = m_lowHz;
    m_viewHighHz = m_highHz;
    update();
}

void SpectrogramView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), QColor(0x17, 0x19, 0x1c));
    p.setPen(QColor(0xb8, 0xbc, 0xc4));
    if (m_image.isNull()) {
        p.drawText(rect(), Qt::AlignCenter, QStringLiteral("No spectrogram yet: open a file."));
        return;
    }
    const QRect plot = plotRect();
    p.drawText(QRect(0, 4, width(), 22), Qt::AlignHCenter,
               QStringLiteral("Spectrogram of the %1 (peak level per cell)").arg(m_which));
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    const double c0 = m_viewBegin / m_seconds * m_image.width();
    const double c1 = m_viewEnd / m_seconds * m_image.width();
    // Image rows are log-spaced from m_lowHz (bottom) to m_highHz (top).
    const double octaves = std::log(m_highHz / m_lowHz);
    const double r0 = m_image.height() * (1.0 - std::log(m_viewHighHz / m_lowHz) / octaves);
    const double r1 = m_image.height() * (1.0 - std::log(m_viewLowHz / m_lowHz) / octaves);
    p.drawImage(QRectF(plot), m_image, QRectF(c0, r0, std::max(1e-3, c1 - c0), std::max(1e-3, r1 - r0)));
    // Frequency axis: labels wherever there is room for them (more appear as it zooms in).
    const QFontMetrics fm = p.fontMetrics();
    int lastY = plot.bottom() + fm.height();
    for (double hz : {20.0, 30.0, 50.0, 70.0, 100.0, 150.0, 200.0, 300.0, 500.0, 700.0, 1000.0, 1500.0,
                      2000.0, 3000.0, 5000.0, 7000.0, 10000.0, 15000.0, 20000.0}) {
        if (hz < m_viewLowHz || hz > m_viewHighHz) {
            continue;
        }
        const double f = std::log(hz / m_viewLowHz) / std::log(m_viewHighHz / m_viewLowHz);
        const int y = plot.bottom() - static_cast<int>(f * plot.height());
        if (lastY - y < fm.height() + 2) {
            continue; // would overlap the label below
        }
        lastY = y;
        p.drawLine(plot.left() - 5, y, plot.left(), y);
        const QString label = hz >= 1000 ? QStringLiteral("%1k").arg(hz / 1000) : QString::number(hz);
        p.drawText(QRect(0, y - fm.height() / 2, plot.left() - 8, fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter, label);
    }
    p.save();
    p.translate(14, plot.center().y());
    p.rotate(-90);
    p.drawText(QRect(-80, -10, 160, 20), Qt::AlignCenter, QStringLiteral("Frequency (Hz)"));
    p.restore();
    // Time axis.
    const int ticks = 8;
    for (int k = 0; k <= ticks; ++k) {
        const int x = plot.left() + plot.width() * k / ticks;
        p.drawLine(x, plot.bottom(), x, plot.bottom() + 5);
        p.drawText(QRect(x - 40, plot.bottom() + 6, 80, fm.height()), Qt::AlignHCenter,
                   formatTime(m_viewBegin + (m_viewEnd - m_viewBegin) * k / ticks));
    }
    p.drawText(QRect(plot.left(), plot.bottom() + 8 + fm.height(), plot.width(), fm.height()),
               Qt::AlignHCenter, QStringLiteral("Time (m:ss)"));
    // dB scale.
    const QRect bar(plot.right() + 20, plot.top(), 16, plot.height());
    for (int y = 0; y < bar.height(); ++y) {
        p.setPen(QColor(colourFor(1.0 - static_cast<double>(y) / bar.height())));
        p.drawLine(bar.left(), bar.top() + y, bar.right(), bar.top() + y);
    }
    p.setPen(QColor(0xb8, 0xbc, 0xc4));
    for (int k = 0; k <= 6; ++k) {
        const int y = bar.top() + bar.height() * k / 6;
        p.drawText(QRect(bar.right() + 4, y - fm.height() / 2, 60, fm.height()),
                   Qt::AlignLeft | Qt::AlignVCenter,
                   QStringLiteral("%1 dB").arg(kTopDb - kRangeDb * k / 6, 0, 'f', 0));
    }
}

QRect SpectrogramView::plotRect() const {
    return rect().adjusted(70, 30, -110, -50);
}

double SpectrogramView::hzAt(double y) const {
    const QRect plot = plotRect();
    const double f = std::clamp((plot.bottom() - y) / std::max(1, plot.height()), 0.0, 1.0);
    return m_viewLowHz * std::pow(m_viewHighHz / m_viewLowHz, f);
}

void SpectrogramView::wheelEvent(QWheelEvent* e) {
    if (m_image.isNull() || e->angleDelta().y() == 0) {
        return;
    }
    const QRect plot = plotRect();
    if (e->modifiers() & Qt::ControlModifier) {
        // Frequency, on the log axis around the mouse's frequency, down to one octave.
        const double f =
            std::clamp((plot.bottom() - e->position().y()) / std::max(1, plot.height()), 0.0, 1.0);
        const double lo = std::log2(m_viewLowHz);
        const double hi = std::log2(m_viewHighHz);
        const double at = lo + f * (hi - lo);
        const double all = std::log2(m_highHz / m_lowHz);
        const double span =
            std::clamp((hi - lo) * (e->angleDelta().y() > 0 ? 0.8 : 1.25), std::min(1.0, all), all);
        const double newLo = std::clamp(at - f * span, std::log2(m_lowHz), std::log2(m_highHz) - span);
        m_viewLowHz = std::exp2(newLo);
        m_viewHighHz = std::exp2(newLo + span);
        update();
        e->accept();
        return;
    }
    const double f = std::clamp((e->position().x() - plot.left()) / std::max(1, plot.width()), 0.0, 1.0);
    const double at = m_viewBegin + f * (m_viewEnd - m_viewBegin);
    const double scale = e->angleDelta().y() > 0 ? 0.8 : 1.25;
    const double span = std::clamp((m_viewEnd - m_viewBegin) * scale, std::min(1.0, m_seconds), m_seconds);
    m_viewBegin = std::clamp(at - f * span, 0.0, m_seconds - span);
    m_viewEnd = m_viewBegin + span;
    update();
    e->accept();
}

void SpectrogramView::mouseDoubleClickEvent(QMouseEvent*) {
    m_viewBegin = 0;
    m_viewEnd = m_seconds;
    m_viewLowHz = m_lowHz;
    m_viewHighHz = m_highHz;
    update();
}

} // namespace lathe::ui

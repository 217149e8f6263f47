// SPDX-License-Identifier: GPL-3.0-or-later
#include "EqCurveView.h"

#include "Theme.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

namespace lathe::ui {
namespace {

constexpr double kLowHz = 20.0;
constexpr double kHighHz = 20000.0;
constexpr double kRangeDb = 15.0; ///< the plot shows ±15 dB (mastering EQ moves a few dB)
constexpr double kGrabPixels = 12.0;

double roundSignificant(double v, int digits) {
    const double scale = std::pow(10.0, std::floor(std::log10(v)) - (digits - 1));
    return std::round(v / scale) * scale;
}

} // namespace

EqCurveView::EqCurveView(ChainModel& chain, QWidget* parent) : QWidget(parent), m_chain(chain) {
    setMinimumSize(400, 200);
    setMouseTracking(false);
    connect(&m_chain, &ChainModel::documentChanged, this, &EqCurveView::reload);
    reload();
}

void EqCurveView::reload() {
    m_stage = -1;
    m_spec.reset();
    m_nodes.clear();
    Preset preset;
    try {
        preset = m_chain.preset();
    } catch (const std::exception&) {
        update();
        return;
    }
    for (std::size_t s = 0; s < preset.stages.size(); ++s) {
        if (const auto* eq = std::get_if<design::EqSpec>(&preset.stages[s].spec)) {
            m_stage = static_cast<int>(s);
            m_spec = *eq;
            break;
        }
    }
    if (m_spec) {
        for (std::size_t b = 0; b < m_spec->bands.size(); ++b) {
            const design::EqBand& band = m_spec->bands[b];
            const bool pass =
                band.type == design::EqBandType::HighPass || band.type == design::EqBandType::LowPass;
            m_nodes.push_back({static_cast<int>(b), band.hz, pass ? 0.0 : band.gainDb, !pass});
        }
    }
    update();
}

QRectF EqCurveView::plot() const {
    return QRectF(rect()).adjusted(56, 28, -16, -34);
}

double EqCurveView::xOf(double hz) const {
    const QRectF p = plot();
    return p.left() + p.width() * std::log(hz / kLowHz) / std::log(kHighHz / kLowHz);
}

double EqCurveView::yOf(double db) const {
    const QRectF p = plot();
    return p.center().y() - p.height() / 2 * std::clamp(db, -kRangeDb, kRangeDb) / kRangeDb;
}

double EqCurveView::hzAt(double x) const {
    const QRectF p = plot();
    const double f = std::clamp((x - p.left()) / p.width(), 0.0, 1.0);
    return kLowHz * std::exp(f * std::log(kHighHz / kLowHz));
}

double EqCurveView::dbAt(double y) const {
    const QRectF p = plot();
    return std::clamp((p.center().y() - y) / (p.height() / 2) * kRangeDb, -kRangeDb, kRangeDb);
}

std::optional<QPointF> EqCurveView::nodePosition(int band) const {
    for (const Node& n : m_nodes) {
        if (n.band == band) {
            return QPointF(xOf(n.hz), yOf(n.gainDb));
        }
    }
    return std::nullopt;
}

std::optional<double> EqCurveView::curveDbAt(double hz) const {
    if (!m_spec) {
        return std::nullopt;
    }
    return 20.0 * std::log10(design::targetMagnitude(*m_spec, design::EqPlacement::Stereo, hz));
}

void EqCurveView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), QColor(0x17, 0x19, 0x1c));
    const QRectF area = plot();
    p.fillRect(area, QColor(0x12, 0x14, 0x17));
    const QColor label(0xb8, 0xbc, 0xc4);
    p.setPen(label);
    p.drawText(QRectF(0, 4, width(), 20), Qt::AlignHCenter,
               m_spec ? QStringLiteral("EQ response (drag a node: frequency and gain)")
                      : QStringLiteral("This chain has no EQ stage"));
    const QFontMetrics fm = p.fontMetrics();
    for (double hz : {20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0}) {
        const double x = xOf(hz);
        p.setPen(QColor(0x33, 0x37, 0x3d));
        p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()));
        p.setPen(label);
        const QString t = hz >= 1000 ? QStringLiteral("%1k").arg(hz / 1000) : QString::number(hz);
        p.drawText(QRectF(x - 30, area.bottom() + 4, 60, fm.height()), Qt::AlignHCenter, t);
    }
    p.drawText(QRectF(area.left(), area.bottom() + 4 + fm.height(), area.width(), fm.height()),
               Qt::AlignHCenter, QStringLiteral("Frequency (Hz)"));
    for (double db = -kRangeDb; db <= kRangeDb; db += 5) {
        const double y = yOf(db);
        p.setPen(db == 0 ? QColor(0x55, 0x5a, 0x62) : QColor(0x33, 0x37, 0x3d));
        p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y));
        p.setPen(label);
        p.drawText(QRectF(0, y - fm.height() / 2.0, area.left() - 6, fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter, QStringLiteral("%1 dB").arg(db, 0, 'f', 0));
    }
    if (!m_spec) {
        return;
    }
    QPainterPath curve;
    for (int i = 0; i <= 400; ++i) {
        const double hz = kLowHz * std::pow(kHighHz / kLowHz, i / 400.0);
        const QPointF pt(xOf(hz), yOf(*curveDbAt(hz)));
        i == 0 ? curve.moveTo(pt) : curve.lineTo(pt);
    }
    p.setPen(QPen(seriesColor(1), 2.0));
    p.drawPath(curve);
    for (std::size_t k = 0; k < m_nodes.size(); ++k) {
        const Node& n = m_nodes[k];
        const QPointF c(xOf(n.hz), yOf(n.gainDb));
        p.setPen(QPen(Qt::white, 1.2));
        p.setBrush(static_cast<int>(k) == m_dragging ? seriesColor(1) : seriesColor(0));
        p.drawEllipse(c, 6, 6);
        p.drawText(QRectF(c.x() - 20, c.y() - 24, 40, 16), Qt::AlignHCenter, QString::number(n.band + 1));
    }
}

void EqCurveView::mousePressEvent(QMouseEvent* e) {
    m_dragging = -1;
    double best = kGrabPixels;
    for (std::size_t k = 0; k < m_nodes.size(); ++k) {
        const QPointF c(xOf(m_nodes[k].hz), yOf(m_nodes[k].gainDb));
        const double d = std::hypot(c.x() - e->position().x(), c.y() - e->position().y());
        if (d < best) {
            best = d;
            m_dragging = static_cast<int>(k);
        }
    }
    update();
}

void EqCurveView::mouseMoveEvent(QMouseEvent* e) {
    if (m_dragging < 0 || m_stage < 0) {
        return;
    }
    const Node n = m_nodes[static_cast<std::size_t>(m_dragging)];
    // Round to what an engineer would type: 3 significant figures in Hz, 0.1 dB.
    const double hz = roundSignificant(hzAt(e->position().x()), 3);
    const nlohmann::json::json_pointer band = nlohmann::json::json_pointer("/stages") /
                                              static_cast<std::size_t>(m_stage) / "bands" /
                                              static_cast<std::size_t>(n.band);
    ChainModel::Edits edits{{band / "hz", hz}};
    if (n.hasGain) {
        edits.emplace_back(band / "gain_db", std::round(dbAt(e->position().y()) * 10.0) / 10.0);
    }
    m_chain.setValues(edits); // one edit: one validation, one redraw
    // reload() (documentChanged) rebuilt the nodes; keep the same one under the mouse.
    m_dragging = std::min<int>(m_dragging, static_cast<int>(m_nodes.size()) - 1);
}

void EqCurveView::mouseReleaseEvent(QMouseEvent*) {
    m_dragging = -1;
    update();
}

} // namespace lathe::ui

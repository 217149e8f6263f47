// Lathe Studio: the EQ's response curve (the engine's analytic target, lathe/design/EqDesign.h)
// with a node per band. Dragging a node moves the band's frequency and gain in the chain editor's
// document (validated by the engine like any edit); the curve follows.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/ChainModel.h"

#include <QPointF>
#include <QWidget>
#include <optional>
#include <vector>

namespace lathe::ui {

class EqCurveView final : public QWidget {
    Q_OBJECT
public:
    explicit EqCurveView(ChainModel& chain, QWidget* parent = nullptr);

    /// Where band `band` (0-based) of the first EQ stage is drawn, if it has a node.
    std::optional<QPointF> nodePosition(int band) const;
    /// The curve's gain in dB at `hz` as drawn (the engine's target for the stereo placement).
    std::optional<double> curveDbAt(double hz) const;

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;

private:
    struct Node {
        int band = 0;
        double hz = 0;
        double gainDb = 0;
        bool hasGain = false; ///< bells, shelves, tilt: drag moves gain too; pass filters: frequency only
    };
    void reload();
    QRectF plot() const;
    double xOf(double hz) const;
    double yOf(double db) const;
    double hzAt(double x) const;
    double dbAt(double y) const;

    ChainModel& m_chain;
    int m_stage = -1; ///< index of the first EQ stage in the document, −1 without one
    std::optional<design::EqSpec> m_spec;
    std::vector<Node> m_nodes;
    int m_dragging = -1; ///< index into m_nodes
};

} // namespace lathe::ui

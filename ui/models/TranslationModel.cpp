// SPDX-License-Identifier: GPL-3.0-or-later
#include "TranslationModel.h"

#include "PlotData.h"

#include <QColor>

namespace lathe::ui {

void TranslationModel::setResult(const TranslationResult* result) {
    beginResetModel();
    m_result = result;
    endResetModel();
}

int TranslationModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() || m_result == nullptr ? 0 : static_cast<int>(m_result->models.size());
}

int TranslationModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant TranslationModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const SpeakerMetrics& m = m_result->models[static_cast<std::size_t>(index.row())];
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (index.column()) {
        case Speaker:
            return QString::fromStdString(m.name);
        case PlaysAt:
            return m.reference ? QStringLiteral("reference")
                               : QStringLiteral("%1 LU").arg(m.loudnessDifferenceLu, 0, 'f', 1);
        case LostBass:
            return m.reference ? QString() : QStringLiteral("%1 %").arg(m.lostBassPercent, 0, 'f', 0);
        case Presence:
            return m.reference ? QString() : formatLevel(m.presenceBalanceDb, "dB");
        case Balance:
            return m.reference ? QString() : QString::number(m.balanceScore, 'f', 0);
        case MonoLoss:
            return formatLevel(m.monoLossDb, "dB");
        case Verdict:
            return QString::fromStdString(m.verdict);
        default:
            return {};
        }
    }
    if (role == Qt::TextAlignmentRole && index.column() >= PlaysAt && index.column() <= MonoLoss) {
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    }
    if (role == Qt::ForegroundRole && index.column() == MonoLoss && m.monoProblem) {
        return QColor(0xe0, 0x5a, 0x4f);
    }
    return {};
}

QVariant TranslationModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= ColumnCount) {
        return QAbstractTableModel::headerData(section, orientation, role);
    }
    static const char* const names[] = {"Speaker",        "Plays at (vs monitors)", "Bass lost",
                                        "Vocals 1–4 kHz", "Balance (0–100)",        "Mono loss",
                                        "Verdict"};
    return QString::fromUtf8(names[section]);
}

} // namespace lathe::ui

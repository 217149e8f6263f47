// SPDX-License-Identifier: GPL-3.0-or-later
#include "PlatformTableModel.h"

#include "PlotData.h"

#include <QColor>

namespace lathe::ui {

void PlatformTableModel::setPreviews(std::vector<PlatformPreview> previews) {
    beginResetModel();
    m_rows = std::move(previews);
    endResetModel();
}

int PlatformTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int PlatformTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PlatformTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const PlatformPreview& p = m_rows[static_cast<std::size_t>(index.row())];
    const bool ok = p.compliant.value_or(p.truePeakOk.value_or(true));
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (index.column()) {
        case Platform:
            return QString::fromStdString(p.name);
        case Gain:
            return p.gainDb
                       ? QStringLiteral("%1%2 dB").arg(*p.gainDb > 0 ? "+" : "").arg(*p.gainDb, 0, 'f', 1)
                       : QStringLiteral("—");
        case Loudness:
            return formatLevel(p.loudnessLufs, "LUFS");
        case TruePeak:
            return formatLevel(p.truePeakDbtp, "dBTP");
        case Verdict:
            return ok ? QStringLiteral("OK") : QStringLiteral("Check");
        case Note:
            return QString::fromStdString(p.note);
        default:
            return {};
        }
    }
    if (role == Qt::TextAlignmentRole && index.column() >= Gain && index.column() <= TruePeak) {
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    }
    if (role == Qt::ForegroundRole && index.column() == Verdict) {
        return ok ? QColor(0x7c, 0xc4, 0x7f) : QColor(0xe8, 0xb0, 0x3c);
    }
    return {};
}

QVariant PlatformTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= ColumnCount) {
        return QAbstractTableModel::headerData(section, orientation, role);
    }
    static const char* const names[] = {"Platform",  "Playback gain", "Heard at",
                                        "True peak", "Verdict",       "What happens"};
    return QString::fromLatin1(names[section]);
}

} // namespace lathe::ui
